"""Time a process spent stopped (SIGSTOP by ipcplay) is not time it was blocked.

A child measures a wait as its end minus its start, and a process paused
inside `get()` for ten seconds would come back "blocked 10 s" though nothing
kept it waiting but the pause. The observer knows when it stopped and
continued a process, and what the process was inside then (its "blocked on"
marker, which cannot change while it is stopped): a stop that began inside a
timed wait lies wholly inside that wait. So each such stop is taken off that
wait — off its start (`since`) while the wait goes on, and off the process's
and the channel's blocked totals once it has ended.

A stop by someone else (`kill -STOP` from a shell) is not known here: the
process's state says "stopped", and its wait keeps counting.
"""

from __future__ import annotations

import time
from collections import defaultdict

import psutil

from ipcplay.engine import board as B

_NOT_RUNNING = (psutil.STATUS_STOPPED, psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)


def until_stopped(pids: list[int], timeout: float = 0.2) -> None:
    """Return once every pid is really stopped, or gone, or `timeout` has passed.

    Why: kill() only queues SIGSTOP; the process stops when it next runs,
    which on a busy machine can be a while. Until then it shows as running,
    and a tour step or a test that acts on "paused" would act too early.
    """
    deadline = time.monotonic() + timeout
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                if psutil.Process(pid).status() in _NOT_RUNNING:
                    break
            except psutil.Error:
                break
            time.sleep(0.001)


def _direction(mark: int) -> str:
    op = B.unmark(mark)[2]
    return "in" if op == B.OP_GET else "join" if op == B.OP_JOIN else "out"


class Stops:
    """Kept by the sampler; `stopped`/`continued` are called by the engine's
    controls (another thread: each call is a few dict operations)."""

    def __init__(self) -> None:
        self._stopped: dict[int, tuple[float, int]] = {}  # p -> (stopped at, the wait's mark or 0)
        self._shift: dict[int, tuple[int, float]] = {}  # p -> (mark, stopped seconds in that wait)
        self.done_proc: defaultdict[int, float] = defaultdict(float)  # taken off ended waits
        self.done_chan: defaultdict[tuple[int, str], float] = defaultdict(float)
        self._spans: defaultdict[int, list[tuple[float, float]]] = defaultdict(list)

    def stopped(self, p: int, mark: int, since_ns: int, t: float) -> None:
        """Process p is stopped now; `mark`/`since_ns` are its board's marker and wait start."""
        timed = B.unmark(mark)[3] and since_ns > 0
        self._stopped[p] = (t, mark if timed else 0)

    def continued(self, p: int, t: float) -> None:
        got = self._stopped.pop(p, None)
        if got is not None:
            self._spans[p].append((got[0], t))
        if got is None or not got[1]:
            return
        began, mark = got
        prev = self._shift.get(p)
        before = prev[1] if prev is not None and prev[0] == mark else 0.0
        if prev is not None and prev[0] != mark:
            self._settle(p, prev)
        self._shift[p] = (mark, before + max(0.0, t - began))

    def shift(self, p: int, mark: int, now: float) -> float:
        """Seconds to add to the start of p's current wait (marker `mark`):
        the stops inside it so far. A wait that has ended is settled into
        the totals."""
        shifted = self._shift.get(p)
        if shifted is not None and shifted[0] != mark:
            self._settle(p, shifted)
            del self._shift[p]
            shifted = None
        extra = shifted[1] if shifted is not None else 0.0
        stop = self._stopped.get(p)
        if stop is not None and stop[1] and stop[1] == mark:
            extra += max(0.0, now - stop[0])  # stopped right now, inside this wait
        return extra

    def is_stopped(self, p: int) -> bool:
        """Stopped by ipcplay right now (its wait's time stands still)."""
        return p in self._stopped

    def within(self, p: int, start: float, end: float) -> float:
        """Seconds process p spent stopped by ipcplay between two monotonic
        times: what a journal wait event of `end - start` seconds holds of it."""
        total = 0.0
        for began, ended in self._spans.get(p, ()):
            total += max(0.0, min(end, ended) - max(start, began))
        stop = self._stopped.get(p)
        if stop is not None:
            total += max(0.0, end - max(start, stop[0]))
        return total

    def _settle(self, p: int, shifted: tuple[int, float]) -> None:
        mark, seconds = shifted
        self.done_proc[p] += seconds
        chan = B.unmark(mark)[1]
        self.done_chan[(chan, _direction(mark))] += seconds
