"""Moments worth a chapter mark in a recording: tour steps and what the run
did by itself (a queue filling up, a deadlock found).

The TUI runs in a terminal the recorder only reads, so marks travel on a side
pipe whose descriptor the recorder passes in `IPCPLAY_MARKER_FD`; each is one
JSON line with the time on the monotonic clock both processes share. No
Textual here: the app calls it, tests read it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time

from ipcplay.engine.snapshot import Snapshot

ENV = "IPCPLAY_MARKER_FD"
FINISHED = "every process has exited"
"""The mark of a run's end: a recording of a program ends a little after it."""


class MarkerOut:
    """Writes marks to the recorder, or nowhere when not recording."""

    def __init__(self, fd: int | None = None) -> None:
        if fd is None:
            raw = os.environ.get(ENV, "")
            fd = int(raw) if raw.isdigit() else None
        self.fd = fd

    def mark(self, label: str) -> None:
        if self.fd is None:
            return
        line = json.dumps({"t": time.monotonic(), "label": label}) + "\n"
        try:
            os.write(self.fd, line.encode())
        except OSError:  # the recorder is gone: stop trying
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None


class StateMarks:
    """Turns snapshots into marks: each queue the first time it fills (again
    after it has drained to half), a deadlock or hang when found, and the
    moment every process has exited. A queue
    counts as full when a sample sees it at maxsize or when a put found it
    full since the last sample (the exact counter: it can fill and drain
    between two samples), as tour steps judge it."""

    def __init__(self) -> None:
        self._full: set[str] = set()
        self._hits: dict[str, int] = {}
        self._stuck = False
        self._finished = False

    def feed(self, snap: Snapshot) -> list[str]:
        out = []
        for c in snap.channels:
            if not c.maxsize:
                continue
            hit = c.full_hits > self._hits.get(c.name, 0)
            self._hits[c.name] = c.full_hits
            if (c.depth >= c.maxsize or hit) and c.name not in self._full:
                self._full.add(c.name)
                out.append(f"queue '{c.name}' full ({c.maxsize}/{c.maxsize})")
            elif c.depth <= c.maxsize // 2 and not hit:
                self._full.discard(c.name)
        if snap.stuck is not None and not self._stuck:
            self._stuck = True
            out.append(snap.stuck.description.split("; ")[0])
        if snap.finished and snap.processes and not self._finished:
            self._finished = True
            out.append(FINISHED)
        return out
