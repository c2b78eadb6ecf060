"""The topology as a diagram: who writes to which channel, who reads it,
and what flows through it right now."""

from __future__ import annotations

from itertools import groupby

from rich.text import Text

from ipcplay.engine.snapshot import ChannelSample, Snapshot
from ipcplay.scenario import kinds
from ipcplay.tui import format as F
from ipcplay.tui.widgets.text import TextView


def _group(names: tuple[str, ...], templates: dict[str, str]) -> str:
    """'worker-1, worker-2, worker-3' -> 'worker ×3'."""
    parts = []
    for tmpl, members in groupby(names, key=lambda n: templates.get(n, n)):
        n = len(list(members))
        parts.append(tmpl if n == 1 else f"{tmpl} ×{n}")
    return ", ".join(parts) or "(nobody)"


def link(left: str, label: str, right: str, arrow: str = " ──▶ ") -> Text:
    """One line of the diagram: writers ──▶ [channel] ──▶ readers."""
    t = Text()
    t.append(f" {left}", style="bold")
    t.append(arrow, style="grey62")
    t.append(f"[{label}]", style="bold cyan")
    t.append(arrow, style="grey62")
    t.append(f"{right}\n", style="bold")
    return t


def channel_lines(c: ChannelSample, templates: dict[str, str], topology_only: bool = False) -> Text:
    """A channel's diagram lines. `topology_only` (the channel table is beside
    it): who writes and reads, and a pipe's directions, with no figure at all,
    since those lines are redrawn only when the topology changes and the table
    has the live figures."""
    w = _group(c.writers, templates)
    r = _group(c.readers, templates)
    t = Text()
    if kinds.channel_has(c.kind, "pipe_like"):
        duplex = any(d.src in c.readers for d in c.directions) and len(c.directions) > 1
        arrow = " ◀──▶ " if duplex else " ──▶ "
        ends = sorted(set(c.writers) | set(c.readers))
        left = _group(tuple(ends[:1]), templates) if duplex else w
        right = _group(tuple(ends[1:]), templates) if duplex else r
        t.append_text(
            link(left, f"{c.name} · Pipe {'duplex' if duplex else 'one-way'}", right, arrow)
        )
        if not c.directions:
            t.append("   (no traffic)\n", style="grey62")
        for d in c.directions:
            if topology_only:  # drawn once: figures here would freeze at their first value
                t.append(f"   {d.src}→{d.dst}\n")
                continue
            t.append(f"   {d.src}→{d.dst} ")
            t.append(f"{F.rate(d.rate)} {F.size(d.bytes_rate)}/s", style="green")
            t.append(f" · {d.in_flight} in flight · {d.received} got\n")
        return t
    t.append_text(link(w, f"{c.name} · {kinds.channel_label(c.kind, c.maxsize)}", r))
    if topology_only:
        return t
    t.append("   ")
    if c.maxsize:
        t.append_text(F.fill_bar(c.depth, c.maxsize, 10))
        t.append(f" {c.depth}/{c.maxsize}", style=F.fill_style(c.depth, c.maxsize))
    else:
        t.append(f"depth {c.depth}", style="cyan")
    t.append(f"  put {F.rate(c.put_rate)}  get {F.rate(c.get_rate)}  max {c.max_depth}")
    if c.wait_s:
        t.append(f"  age {F.wait(c.wait_s)}")
    if kinds.channel_has(c.kind, "joinable"):
        t.append(f"  unfinished {c.unfinished}")
    if c.lost:
        t.append(f"  lost {c.lost}: could not be pickled", style="bold red")
    t.append("\n")
    return t


class FlowView(TextView):
    """Re-renders only when the diagram's text or styles actually change."""

    MAX_CHANNELS_SHOWN = 8

    topology_only = False
    """True when the channel table is on screen: it has the live figures, and
    a diagram that does not change costs nothing to keep up."""

    _topology: object = None

    def update_snapshot(self, snap: Snapshot) -> None:
        """The first channels, as many as the panel can show; the channel table
        lists them all."""
        if self.topology_only:
            # Names, kinds and ends only: nothing to redo unless they change.
            key = (
                tuple(
                    (
                        c.name,
                        c.kind,
                        c.maxsize,
                        c.writers,
                        c.readers,
                        [(d.src, d.dst) for d in c.directions],
                    )
                    for c in snap.channels
                ),
                tuple((p.name, p.template) for p in snap.processes),
            )
            if key == self._topology:
                return
            self._topology = key
        else:
            self._topology = None
        templates = {p.name: p.template for p in snap.processes}
        t = Text()
        shown = snap.channels[: self.MAX_CHANNELS_SHOWN]
        for c in shown:
            t.append_text(channel_lines(c, templates, self.topology_only))
        rest = len(snap.channels) - len(shown)
        if rest > 0:
            t.append(f" … and {rest} more channels (the channel table lists all)\n", style="grey62")
        t.rstrip()
        self.set(t)
