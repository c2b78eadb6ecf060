"""The wait-for graph in text: one line per waiting process, who it waits for.

A deadlock's cycle comes first, in the order its processes wait for each
other, in red, so it reads as a loop; every other wait follows. The text is
rebuilt only when the edges change, or once a second for the times shown.
A line too long for the tab wraps under its arrow, never inside a name, a pid
or an object, so "held by …, which …" is read in full on a projector.
"""

from __future__ import annotations

from rich.text import Text

from ipcplay.engine.snapshot import Snapshot, WaitEdge
from ipcplay.tui.format import duration
from ipcplay.tui.widgets.wrap import WrappedView

NOBODY = "no process is waiting"


def edge_label(edge: WaitEdge, now: float) -> str:
    """What the waiter is doing, as the label on its arrow."""
    label = f"{edge.op} {edge.obj}"
    if edge.where:  # a watched program's own line: "at dead.py:7"
        label += f" at {edge.where}"
    if edge.reason:
        label += f" ({edge.reason})"
    if edge.holder:
        label += f" · held by {edge.holder}"
    if edge.since:
        label += f" · {duration(max(0.0, now - edge.since))}"
    return label


def graph_lines(edges: tuple[WaitEdge, ...], now: float) -> list[tuple[Text, int]]:
    """The graph as (line, indent of its continuation lines): a wrapped edge
    continues under the start of its arrow, right of the waiter's name."""
    if not edges:
        return [(Text(NOBODY, style="dim"), 0)]
    width = max(len(e.waiter) for e in edges)
    cycle = [edge for edge in edges if edge.in_cycle]
    rest = [e for e in edges if not e.in_cycle]
    indent = width + 3
    lines: list[tuple[Text, int]] = []
    if cycle:
        loop = " → ".join([*(e.waiter for e in cycle), cycle[0].waiter])
        lines.append((Text(f"deadlock cycle: {loop}", style="bold red"), 16))
        lines += [(_line(e, width, now, "red"), indent) for e in cycle]
        if rest:
            lines.append((Text("also waiting:", style="bold"), 0))
    lines += [(_line(e, width, now, ""), indent) for e in rest]
    return lines


def _line(edge: WaitEdge, width: int, now: float, style: str) -> Text:
    line = Text(style=style)
    line.append(edge.waiter.ljust(width), style="bold")
    line.append(f" ──{edge_label(edge, now)}──▶ ")
    if edge.waits_for:
        line.append(", ".join(edge.waits_for), style="bold")
    else:
        line.append("no live process: it can never go on", style="bold red")
    return line


class WaitGraph(WrappedView):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(Text(NOBODY, style="dim"), **kwargs)
        self._key: tuple[object, ...] | None = None

    def update_snapshot(self, snap: Snapshot, now: float) -> None:
        # Rebuilt when a shown figure changes (a tenth of a second), so a wait
        # reads the same here as in the process panel at the same moment.
        key = (snap.waits, round(now, 1) if snap.waits else 0)
        if key == self._key:
            return
        self._key = key
        self.set_lines(graph_lines(snap.waits, now))
