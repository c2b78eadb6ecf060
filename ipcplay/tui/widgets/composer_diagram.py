"""The composer's diagram: the same lines the run screen draws, from a draft.

It is drawn from what is typed, valid or not, so the picture follows every
keystroke; the run screen's diagram is drawn from live snapshots instead.
"""

from __future__ import annotations

from rich.text import Text

from ipcplay.scenario import kinds
from ipcplay.scenario.draft import Draft, Entry, parse_steps
from ipcplay.tui.widgets.flow import link


def _who(p: Entry) -> str:
    """'worker ×3' for replicas, as the run screen groups them."""
    replicas = str(p.get("replicas")).strip()
    if replicas == "cpu_count":
        return f"{p.name} ×cpu"
    if replicas.isdigit() and int(replicas) > 1:
        return f"{p.name} ×{int(replicas)}"
    return p.name or "(unnamed)"


def channel_kind_label(c: Entry) -> str:
    """The kind's one label (scenario/kinds.py), from what is typed."""
    return kinds.channel_label(str(c.get("kind")), c.get("maxsize"), bool(c.get("duplex")))


def _label(c: Entry) -> str:
    return f"{c.name} · {channel_kind_label(c)}"


def steps_targets(p: Entry) -> list[str]:
    """The shared objects and channels a process's steps name, in order, as typed."""
    if not str(p.get("steps")).strip():
        return []
    tables = parse_steps(p.get("steps"))[0]
    return [str(t.get("on", next(iter(t.values())))) for t in tables if "sleep" not in t]


def _shared_targets(p: Entry) -> list[str]:
    """steps_targets without the channels a put or get names."""
    channels = {*_step_ends(p, "put"), *_step_ends(p, "get")}
    return [n for n in steps_targets(p) if n not in channels]


def _step_ends(p: Entry, verb: str) -> list[str]:
    """The channels a steps process's put (or get) steps name, as typed."""
    if p.get("role") != "steps" or not str(p.get("steps")).strip():
        return []
    return [str(t[verb]) for t in parse_steps(p.get("steps"))[0] if verb in t]


def _verbs(p: Entry, name: str) -> list[str]:
    tables = parse_steps(p.get("steps"))[0]
    out = []
    for t in tables:
        if t.get("on") == name:
            verbs = ("add", "multiply", "value", "append", "setitem", "setattr")
            verb = next(k for k in verbs if k in t)
            out.append(f"{verb}{' locked' if t.get('locked') else ''}")
        elif "on" not in t and name in t.values():
            out.append(next(iter(t)))
    return out


def shared_kind(o: Entry) -> str:
    """'Value i = 0', 'Barrier(2)': the kind and what it starts with."""
    kind = o.get("kind")
    value = str(o.get("value")).strip()
    if kind == "Value":
        return f"Value {o.get('typecode')} = {value or 0}"
    if kind == "Array":
        return f"Array {o.get('typecode')} [{o.get('values')}]"
    if kind in ("Semaphore", "BoundedSemaphore"):
        return f"{kind}({value or 1})"
    if kind == "Barrier":
        return f"Barrier({str(o.get('parties')).strip()})"
    if kind == "ManagerList":
        return f"man.list([{str(o.get('values')).strip()}])"
    if kind == "ManagerDict":
        return f"man.dict({{ {str(o.get('items')).strip()} }})"
    if kind == "ManagerNamespace":
        return "man.Namespace()"
    return str(kind)


def topology(draft: Draft) -> Text:
    """Writers ──▶ [channel] ──▶ readers for every channel, then the loose ends."""
    t = Text()
    for c in draft.channels:
        writers = [
            _who(p)
            for p in draft.processes
            if c.uid in p.get("out") or c.name in _step_ends(p, "put")
        ]
        readers = [
            _who(p)
            for p in draft.processes
            if c.uid in p.get("in") or c.name in _step_ends(p, "get")
        ]
        if kinds.channel_has(c.get("kind"), "pipe_like") and c.get("duplex"):
            ends = list(dict.fromkeys(writers + readers))
            left = ends[0] if ends else "(nobody)"
            right = ", ".join(ends[1:]) or "(nobody)"
            t.append_text(link(left, _label(c), right, " ◀──▶ "))
        else:
            t.append_text(
                link(", ".join(writers) or "(nobody)", _label(c), ", ".join(readers) or "(nobody)")
            )
    for o in draft.shared:  # users ──▶ [object] what they do with it
        users = [p for p in draft.processes if o.name in _shared_targets(p)]
        verbs = list(dict.fromkeys(v for p in users for v in _verbs(p, o.name)))
        t.append(f" {', '.join(_who(p) for p in users) or '(nobody)'}", style="bold")
        t.append(" ──▶ ", style="grey62")
        t.append(f"[{o.name} · {shared_kind(o)}]", style="bold cyan")
        t.append(f"  {', '.join(verbs)}\n" if verbs else "\n", style="grey62")
    for p in draft.processes:
        if p.get("in") or p.get("out") or steps_targets(p):
            continue
        t.append(f" {_who(p)}", style="bold")
        if p.get("role") == "steps":
            t.append(" (its steps use no shared object)\n", style="grey62")
        else:
            t.append(" (not connected to a channel)\n", style="grey62")
    if not draft.channels and not draft.processes and not draft.shared:
        t.append(" Nothing yet: a adds a process, c a channel, o a shared object.", style="grey62")
    t.rstrip()
    return t
