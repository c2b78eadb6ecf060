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

    def held(self) -> list[Held]:
        self._grow()
        return super().held()

    def step(self, name: str) -> int:
        self._grow()
        if name not in self._names:
            return 0
        return super().step(name)


def _dead(pid: int) -> bool:
    """Gone, or a zombie (its parent has not reaped it)."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except (OSError, IndexError):
        return True
