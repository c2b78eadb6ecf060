"""The composer's diagram: the same lines the run screen draws, from a draft.

It is drawn from what is typed, valid or not, so the picture follows every
keystroke; the run screen's diagram is drawn from live snapshots instead.
"""

from __future__ import annotations

from rich.text import Text

from ipcplay.scenario.draft import Draft, Entry
from ipcplay.tui.widgets.flow import link


def _who(p: Entry) -> str:
    """'worker ×3' for replicas, as the run screen groups them."""
    replicas = str(p.get("replicas")).strip()
    if replicas == "cpu_count":
        return f"{p.name} ×cpu"
    if replicas.isdigit() and int(replicas) > 1:
        return f"{p.name} ×{int(replicas)}"
    return p.name or "(unnamed)"


def _label(c: Entry) -> str:
    kind = c.get("kind")
    if kind == "Pipe":
        return f"{c.name} · Pipe {'duplex' if c.get('duplex') else 'one-way'}"
    size = str(c.get("maxsize")).strip()
    bound = f"({size})" if kind != "SimpleQueue" and size not in ("", "0") else ""
    return f"{c.name} · {kind}{bound}"


def topology(draft: Draft) -> Text:
    """Writers ──▶ [channel] ──▶ readers for every channel, then the loose ends."""
    t = Text()
    for c in draft.channels:
        writers = [_who(p) for p in draft.processes if c.uid in p.get("out")]
        readers = [_who(p) for p in draft.processes if c.uid in p.get("in")]
        if c.get("kind") == "Pipe" and c.get("duplex"):
            ends = list(dict.fromkeys(writers + readers))
            left = ends[0] if ends else "(nobody)"
            right = ", ".join(ends[1:]) or "(nobody)"
            t.append_text(link(left, _label(c), right, " ◀──▶ "))
        else:
            t.append_text(
                link(", ".join(writers) or "(nobody)", _label(c), ", ".join(readers) or "(nobody)")
            )
    for p in draft.processes:
        if not p.get("in") and not p.get("out"):
            t.append(f" {_who(p)}", style="bold")
            t.append(" (not connected to a channel)\n", style="grey62")
    if not draft.channels and not draft.processes:
        t.append(" Nothing yet: a adds a process, c adds a channel.", style="grey62")
    t.rstrip()
    return t
