"""Step mode on a watched program (issue 18): the scenario's Stepper, whose
processes are the ones the program has started so far.

A scenario's processes are known before it runs; a program's appear as it
starts them, from any of its processes, at any time. So the names grow:
each look at the board (held, step) first takes in the processes registered
since the last (the board's process counter moved), by their registry
names, the names the snapshot shows. And a process registered while step
mode is on must stop before its first operation: its parent sets its gate
as it registers it (watch_runtime.Runtime.register_child), from the board's
T_STEP, which this turns on and off under the same allocation lock. So no
process slips between "step mode is on" and "every process is told".
"""

from __future__ import annotations

import time
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine.registry import Registry
from ipcplay.engine.stepper import Held, Stepper
from ipcplay.engine.watch_board import G_NEXT_PROC, T_STEP, WatchBoard


class ProgramStepper(Stepper):
    """Stepper over a program's board; names as registered so far."""

    def __init__(self, board: WatchBoard) -> None:
        super().__init__(board.mv, board.layout, [])
        self._board = board
        # Its own view of the registry: the sampler's thread caches its own.
        self._registry = Registry(board.registry_raw)
        self.ever_on = False  # a process can be at a gate only once step mode was on
        # The program's processes as the sampler sees them (exit codes), once it runs.
        self.procs: Any = None

    @property
    def names(self) -> list[str]:
        """The program's processes registered so far, by index."""
        self._grow()
        return list(self._names)

    def _grow(self) -> None:
        """Take in the processes registered since the last look."""
        if self._mv[G_NEXT_PROC] <= len(self._names):
            return
        names = self._registry.read().names
        if len(names) > len(self._names):
            self._names.extend(names[len(self._names) :])

    def set_mode(self, on: bool) -> None:
        """As Stepper.set_mode, for every process allocated so far, and for
        every one registered from now on (T_STEP), under the lock the
        program's processes register under."""
        board = self._board
        mv = board.mv
        with board.locked():
            mv[board.layout.pool_base + T_STEP] = int(on)
            for index in range(min(mv[G_NEXT_PROC], board.layout.nproc)):
                mv[board.layout.proc(index) + B.C_GATE] = int(on)
        self._grow()
        self.ever_on = self.ever_on or on
        super().set_mode(on)

    def forget_the_dead(self) -> None:
        """A process killed at its gate (SIGKILL, from `kill` or the user's
        shell) is no longer held: it stays a zombie until its parent reaps
        it, and its parent may be held itself. Its gate slots say it is
        waiting there; the observer clears P_NEXT for it, which is safe: a
        dead process writes nothing any more. Once per sample, and only for
        the processes at a gate."""
        if not self.ever_on:
            return
        mv, layout = self._mv, self._layout
        for index in range(len(self._names)):
            base = layout.proc(index)
            if mv[base + B.P_NEXT] and _dead(mv[base + B.P_PID]):
                mv[base + B.P_NEXT] = 0

    def settle(self, name: str, arrived: int, timeout: float) -> str:
        """As Stepper.settle, and the ways a program's step can be over that
        its slots do not show: a process that waits in join() for another
        (`p.join()`: "blocked", as the row shows it); the main process that
        ended (it is the observer's child: its end is its exit code), or a
        process killed meanwhile, a zombie its parent has not reaped; and a
        process asleep in the kernel, neither at a gate nor marked, for
        ASLEEP_S (a Pool's worker waiting for the lock its pool's terminate()
        holds: a wait inside multiprocessing that no wrapper sees). Looked at
        between short rounds of Stepper.settle."""
        start = time.monotonic()
        end = start + timeout
        index = self._names.index(name)
        base = self._layout.proc(index)
        asleep = 0.0  # since when /proc has said it sleeps
        while True:
            left = end - time.monotonic()
            outcome = super().settle(name, arrived, max(0.0, min(SETTLE_ROUND_S, left)))
            if outcome != "timeout":
                return outcome
            if self._mv[base + B.P_ACTIVITY] == B.ACT_JOINING:
                return "blocked"
            view = self.procs[index] if self.procs is not None else None
            if view is not None and view.exitcode is not None:
                return "ended"
            now = time.monotonic()
            state = _state(self._mv[base + B.P_PID])
            if state in (b"Z", b"X", b""):  # killed meanwhile (a Pool's terminate())
                return "ended"
            if state in (b"S", b"D"):
                asleep = asleep or now
                if now - asleep >= ASLEEP_S:
                    return "blocked"
            else:
                asleep = 0.0
            if now >= end:
                return "timeout"

    def held(self) -> list[Held]:
        self._grow()
        return super().held()

    def step(self, name: str) -> int:
        self._grow()
        if name not in self._names:
            return 0
        return super().step(name)


# How long each round of a settle is before a program's own endings are looked at.
SETTLE_ROUND_S = 0.05


# How long a stepped process may sleep in the kernel, outside its gate and
# any marked wait, before its step counts as blocked.
ASLEEP_S = 0.2


def _state(pid: int) -> bytes:
    """Its state letter in /proc (R, S, D, Z...); b"" if it is gone."""
    if not pid:
        return b"?"
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return b""


def _dead(pid: int) -> bool:
    """Gone, or a zombie (its parent has not reaped it)."""
    return bool(pid) and _state(pid) in (b"Z", b"X", b"")
