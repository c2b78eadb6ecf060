"""The journal as a readable, bounded, filterable log.

A tail view with a fixed height: new events shift the visible lines, and
each line's rendering is cached by the event it shows, so appending costs a
repaint of a few cached strips, not a layout pass (Textual's Log widget
recomputed its size and scrolled on every write: ~4 % of a core at 4 Hz).
"""

from __future__ import annotations

from collections import deque

from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from ipcplay.engine.journal import PIPE_WORDS, Event, mid_text
from ipcplay.engine.snapshot import Snapshot
from ipcplay.tui import format as F
from ipcplay.tui.widgets.rows import Pieces, pieces_strip
from ipcplay.tui.widgets.style import CachedStyle

MAX_LINES = 500


def _op_style(op: str) -> str:
    if "pill" in op:
        return "magenta"
    return "yellow" if op.startswith("wait") else "cyan"


class EventLog(CachedStyle, Widget):
    DEFAULT_CSS = """
    EventLog { height: 1fr; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.filter: str | None = None  # a process or channel name
        self._seen = 0
        self._events: deque[Event] = deque(maxlen=MAX_LINES)
        self._lines: deque[tuple[int, Event]] = deque(maxlen=MAX_LINES)
        self._strips: dict[int, Strip] = {}
        self._serial = 0
        self._names: list[str] = []
        self._who_w = 14  # the process column: wider for longer names ("ForkPoolWorker-12")
        self._chans: list[str] = []
        self.pipes: set[str] = set()  # channels whose put/get are send/recv
        # Conditions: their waits share the Event's op on the board (the op bits are full).
        self.conditions: set[str] = set()
        self._t0 = 0
        self._last_write = 0.0

    def reset(self) -> None:
        self._seen = 0
        self._last_write = 0.0
        self._events.clear()
        self._lines.clear()
        self._strips.clear()
        self.refresh()

    @property
    def lines(self) -> list[str]:
        return ["".join(t for t, _ in self._line(e)) for _, e in self._lines]

    def _line(self, event: Event) -> Pieces:
        who = self._names[event.proc] if event.proc < len(self._names) else str(event.proc)
        chan = self._chans[event.chan] if 0 <= event.chan < len(self._chans) else ""
        if event.mid == -2:
            msg = "pill"
        elif event.mid >= 0:
            msg = mid_text(event.mid)
        else:
            msg = ""
        if event.wait_ns:
            # The caller's blocked time (not a message's age: that is the channel
            # table's), less the time ipcplay kept it stopped inside the call.
            size = f"blocked {F.wait((event.wait_ns - event.stopped_ns) / 1e9)}"
            if event.stopped_ns:
                size += f" (and stopped {F.wait(event.stopped_ns / 1e9)})"
        elif event.op == "exit":
            size = f"code {event.nbytes}"
        else:
            size = f"{event.nbytes} B" if event.nbytes else ""
        op = event.op
        if chan in self.pipes:
            op = PIPE_WORDS.get(op, op)
        elif op == "wait-event" and chan in self.conditions:
            op = "wait-notify"
        line = [
            (f"{(event.t_ns - self._t0) / 1e9:9.3f}  ", "grey62"),
            (f"{who:<{self._who_w}} ", "bold"),
            (f"{op:<13}", _op_style(op)),
            (f" {chan:<10} {msg:<10} {size}", ""),
        ]
        if event.preview:  # neutralised and bounded by the engine (engine/preview.py)
            line.append((f"  {event.preview}", "green"))
        return line

    def _keep(self, event: Event) -> bool:
        if self.filter is None:
            return True
        if event.proc < len(self._names) and self._names[event.proc] == self.filter:
            return True
        return 0 <= event.chan < len(self._chans) and self._chans[event.chan] == self.filter

    def _append(self, events: list[Event]) -> None:
        for event in events:
            if self._keep(event):
                self._serial += 1
                self._lines.append((self._serial, event))  # rendered only if it is shown
        live = {key for key, _ in self._lines}
        if len(self._strips) > 2 * MAX_LINES:
            self._strips = {k: value for k, value in self._strips.items() if k in live}
        self.refresh()

    def update_snapshot(
        self, snap: Snapshot, names: list[str], chans: list[str], t0_ns: int
    ) -> None:
        """Append what is new, at most twice a second: a log scrolling faster
        is unreadable, and each scroll repaints every visible line."""
        if names is not self._names:
            width = max(14, min(20, max((len(name) for name in names), default=0)))
            if width != self._who_w:  # rendered lines are cached: redraw them at the new width
                self._who_w = width
                self._strips.clear()
                self.refresh()
        self._names, self._chans, self._t0 = names, chans, t0_ns
        new = snap.events_released - self._seen
        if new <= 0 or (snap.t - self._last_write < 0.5 and not snap.finished):
            return
        self._last_write = snap.t
        self._seen = snap.events_released
        # In time order already, each get after its put (engine/order.py); the
        # sort is stable, so it only places an event that reached the observer late.
        recent = snap.recent_events
        fresh = sorted(recent[-new:] if new < len(recent) else recent, key=lambda e: e.t_ns)
        self._events.extend(fresh)
        self._append(fresh)

    def set_filter(self, name: str | None) -> None:
        self.filter = name
        self._lines.clear()
        self._strips.clear()
        self._append(list(self._events))

    def _line_strip(self, y: int, size: Size) -> Strip:
        width, height = size
        n = len(self._lines)
        index = n - height + y if n > height else y
        if index < 0 or index >= n:
            return Strip.blank(width, self._rgb()(self._base_style()))
        key, event = self._lines[index]
        strip = self._strips.get(key)
        if strip is None or strip.cell_length != width:
            strip = pieces_strip(self._line(event), self._base_style(), width, self._rgb())
            self._strips[key] = strip
        return strip

    def _forget_strips(self) -> None:
        if hasattr(self, "_strips"):
            self._strips.clear()
