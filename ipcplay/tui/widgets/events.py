"""The journal as a readable, bounded, filterable log."""

from __future__ import annotations

from textual.widgets import Log

from ipcplay.engine.journal import Event
from ipcplay.engine.snapshot import Snapshot

MAX_LINES = 500


class EventLog(Log):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_lines=MAX_LINES, **kwargs)  # type: ignore[arg-type]
        self.filter: str | None = None  # a process or channel name
        self._seen = 0
        self._events: list[Event] = []
        self._names: list[str] = []
        self._chans: list[str] = []
        self._t0 = 0

    def reset(self) -> None:
        self._seen = 0
        self._events = []
        self.clear()

    def _line(self, e: Event) -> str:
        who = self._names[e.proc] if e.proc < len(self._names) else str(e.proc)
        chan = self._chans[e.chan] if 0 <= e.chan < len(self._chans) else ""
        msg = (
            "pill"
            if e.mid == -2
            else (f"#{e.mid >> 32}:{e.mid & 0xFFFFFFFF}" if e.mid >= 0 else "")
        )
        size = f"{e.nbytes} B" if e.nbytes and e.op not in ("exit",) else ""
        if e.op == "exit":
            size = f"code {e.nbytes}"
        return f"{(e.t_ns - self._t0) / 1e9:9.3f}  {who:<14} {e.op:<10} {chan:<10} {msg:<10} {size}"

    def _keep(self, e: Event) -> bool:
        if self.filter is None:
            return True
        if e.proc < len(self._names) and self._names[e.proc] == self.filter:
            return True
        return 0 <= e.chan < len(self._chans) and self._chans[e.chan] == self.filter

    def update_snapshot(
        self, snap: Snapshot, names: list[str], chans: list[str], t0_ns: int
    ) -> None:
        self._names, self._chans, self._t0 = names, chans, t0_ns
        new = snap.events_total - self._seen
        if new <= 0:
            return
        self._seen = snap.events_total
        fresh = (
            list(snap.recent_events[-new:])
            if new < len(snap.recent_events)
            else list(snap.recent_events)
        )
        self._events = (self._events + fresh)[-MAX_LINES:]
        lines = [self._line(e) for e in fresh if self._keep(e)]
        if lines:
            self.write_lines(lines)

    def set_filter(self, name: str | None) -> None:
        self.filter = name
        self.clear()
        self.write_lines([self._line(e) for e in self._events if self._keep(e)])
