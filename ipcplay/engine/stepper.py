"""The observer's side of step mode: turn it on and off, let one held
process do one operation, and remember the order the user chose (the
schedule, schedule.py writes and reads it).

Everything here is a board write (gate.py says the protocol), so a step
never waits on a child: a process that blocks in its operation shows as
blocked in the next sample, and one that was killed at its gate is simply
gone. Safe from the UI thread and the sampling thread alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ipcplay.engine import board as B

GO = "go"  # a schedule's word for "everything ran freely from here"


@dataclass(frozen=True)
class Held:
    """A process at its gate, as the stepper reads the board."""

    index: int
    name: str
    arrived: int  # gates it has reached; this one is number `arrived`


class Stepper:
    def __init__(self, mv: memoryview, layout: B.Layout, names: list[str]) -> None:
        self._mv = mv
        self._layout = layout
        self._names = names
        self._lock = threading.Lock()
        self.on = False
        self.schedule: list[str] = []  # process names stepped, and GO
        self.next_code_at_grant: dict[str, int] = {}  # the object each one's last step acted on

    def _base(self, index: int) -> int:
        return self._layout.proc(index)

    def set_mode(self, on: bool) -> None:
        """Step mode on: every process stops at its next gate (a process that
        has not armed its gate yet arms it before its next operation). Off:
        every held process goes on, and the rest run freely (`g`)."""
        with self._lock:
            if on == self.on:
                return
            self.on = on
            if not on and self.schedule:
                self.schedule.append(GO)
            for index in range(len(self._names)):
                self._mv[self._base(index) + B.C_GATE] = 1 if on else 0

    def held(self) -> list[Held]:
        """The processes waiting at their gate now, in process order."""
        mv = self._mv
        out = []
        for index, name in enumerate(self._names):
            base = self._base(index)
            arrived = mv[base + B.P_ARRIVED]
            if mv[base + B.P_NEXT] and mv[base + B.C_GRANT] < arrived:
                out.append(Held(index, name, arrived))
        return out

    def is_held(self, name: str) -> bool:
        return any(held.name == name for held in self.held())

    def step(self, name: str) -> int:
        """Let `name` do the one operation it is held before: the number of
        the gate it passes (for `settle`), or 0 (and nothing recorded) when
        it is not at its gate."""
        with self._lock:
            if not self.on:
                return 0
            index = self._names.index(name)
            base = self._base(index)
            mv = self._mv
            arrived = mv[base + B.P_ARRIVED]
            if not mv[base + B.P_NEXT] or mv[base + B.C_GRANT] >= arrived:
                return 0
            self.next_code_at_grant[name] = mv[base + B.P_NEXT] >> 8
            mv[base + B.C_GRANT] = arrived
            self.schedule.append(name)
            return arrived

    def step_many(self, names: list[str]) -> list[str]:
        """Let several held processes go at once, each for one operation: the
        ones it could step."""
        return [name for name in names if self.step(name)]

    def passed(self, name: str, arrived: int) -> bool:
        """True once `name` has left gate number `arrived`: it is at a later
        gate, inside its operation, or gone."""
        base = self._base(self._names.index(name))
        mv = self._mv
        return mv[base + B.P_ARRIVED] > arrived or not mv[base + B.P_NEXT]

    def wait_held(self, name: str, timeout: float) -> bool:
        """Wait (polling the board) until `name` is at its gate; False on timeout."""
        end = time.monotonic() + timeout
        while not self.is_held(name):
            if time.monotonic() >= end:
                return False
            time.sleep(0.001)
        return True

    def states(self, exited: Sequence[bool] = ()) -> list[str]:
        """held / blocked / ended / running for each process, read from the
        board now (the next sample may be 100 ms away): what a replayer or
        an explorer waits on. `exited[i]` True says process i is gone
        whatever its slots say (killed before it could write them)."""
        mv = self._mv
        out = []
        for index in range(len(self._names)):
            base = self._base(index)
            if (
                mv[base + B.P_ENDED_NS]
                or mv[base + B.P_PHASE] >= B.PHASE_DONE
                or (index < len(exited) and exited[index])
            ):
                out.append("ended")
            elif mv[base + B.P_NEXT] and mv[base + B.C_GRANT] < mv[base + B.P_ARRIVED]:
                out.append("held")
            elif mv[base + B.P_MARK] & B.TIMED or mv[base + B.P_ACTIVITY] == B.ACT_JOINING:
                out.append("blocked")
            else:
                out.append("running")
        return out

    def next_of(self, name: str) -> tuple[str, int] | None:
        """(operation, target code) `name` is held before, or None: what an
        explorer needs to tell which steps touch the same object."""
        from ipcplay.engine.gate import decode

        base = self._base(self._names.index(name))
        code = self._mv[base + B.P_NEXT]
        if not code:
            return None
        op, target, _ = decode(code)
        return op, target

    def settle(self, name: str, arrived: int, timeout: float) -> str:
        """After `step(name)` at gate `arrived`: wait until its operation is
        over: "held" (at its next gate), "blocked" (inside the operation),
        "ended", or "timeout". Then give every process that was blocked on
        the same object a moment to wake (a release, a put, a set lets one
        go), so the next step starts from the state this one made."""
        mv = self._mv
        base = self._base(self._names.index(name))
        end = time.monotonic() + timeout
        target = self.next_code_at_grant.get(name, -1)
        waiters = [i for i in range(len(self._names)) if self._blocked_on(i, target)]
        outcome = "timeout"
        while time.monotonic() < end:
            if mv[base + B.P_ENDED_NS] or mv[base + B.P_PHASE] >= B.PHASE_DONE:
                outcome = "ended"
                break
            if mv[base + B.P_ARRIVED] > arrived and mv[base + B.P_NEXT]:
                outcome = "held"
                break
            if mv[base + B.P_MARK] & B.TIMED or mv[base + B.P_ACTIVITY] == B.ACT_JOINING:
                outcome = "blocked"  # inside its operation (a join carries no mark)
                break
            time.sleep(0.0005)
        wake_end = min(end, time.monotonic() + WAKE_S)
        while waiters and time.monotonic() < wake_end:
            waiters = [i for i in waiters if self._blocked_on(i, target)]
            time.sleep(0.0005)
        return outcome

    def _blocked_on(self, index: int, target: int) -> bool:
        base = self._base(index)
        mark = self._mv[base + B.P_MARK]
        return (
            bool(mark & B.TIMED)
            and B.unmark(mark)[1] == target
            and not self._mv[base + B.P_ENDED_NS]
        )


# How long a process blocked on the object a step acted on may take to wake
# before the next step goes: a wake takes well under a millisecond; a waiter
# the step did not free waits this long for nothing.
WAKE_S = 0.1
