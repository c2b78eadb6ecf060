"""The gate: where a process in step mode waits, before each operation on a
channel or a shared object, until the user (or a schedule) lets it go.

The protocol is four slots in each process's header (board.py), so it costs
no lock and no IPC round trip, and a held process is an ordinary process
sleeping in a loop: `ps` shows it, `kill` ends it, SIGSTOP pauses it.

* The observer writes C_GATE (1: stop at gates) and C_GRANT (the number of
  gates this process may pass).
* The child, at a gate, writes P_NEXT (the operation it is about to do, and
  P_NEXT_ARG, what it will write) and then P_ARRIVED (gates reached); it
  passes once C_GRANT has caught up, or C_GATE is 0 again (`go`), or it is
  told to stop. Then it clears P_NEXT.

So "process p is held" is P_NEXT != 0, and the observer lets it do exactly
one operation by writing C_GRANT = P_ARRIVED. No slot is written by both
sides.

The operations themselves are gated by swapping the class of each
instrumented object for a subclass whose methods call the gate first
(gate_classes.py): with step mode off the objects are the plain classes, so
the gate costs nothing at all on the hot path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ipcplay.engine import board as B

# An operation's word, by its code (P_NEXT's low byte). "join process" waits
# for another process to exit (Process.join()); "join" is JoinableQueue.join().
OPS = (
    "",
    "put",
    "get",
    "send",
    "recv",
    "task_done",
    "join",
    "acquire",
    "release",
    "wait",
    "set",
    "clear",
    "read",
    "write",
    "notify",
    "notify_all",
    "join process",
)
OP = {word: code for code, word in enumerate(OPS) if word}

# P_NEXT_ARG holds a number to write when HAS_ARG is set in P_NEXT.
HAS_ARG = 1 << 7


def encode(op: int, target: int, has_arg: bool = False) -> int:
    """P_NEXT: the object's code (a channel, nchan + a shared object, or a
    process for "join process") above the op."""
    return (target << 8) | op | (HAS_ARG if has_arg else 0)


def decode(value: int) -> tuple[str, int, bool]:
    """(op word, target code, has an argument) of a P_NEXT value."""
    return (
        OPS[value & 0x7F] if (value & 0x7F) < len(OPS) else "?",
        value >> 8,
        bool(value & HAS_ARG),
    )


# The first sleep of a held process, then doubling up to the last: a step
# granted to a process that has just arrived passes within a fraction of a
# millisecond, and one held for minutes wakes 200 times a second.
FIRST_NAP_S = 0.0002
LAST_NAP_S = 0.005


class Gate:
    """One process's gate, and the objects it arms when step mode comes on."""

    def __init__(self, mv: memoryview, base: int) -> None:
        self.mv = mv
        self.base = base
        self.armed = False
        self._codes: dict[int, int] = {}  # id(object) -> its target code
        self._arm: list[Callable[[], None]] = []

    def adopt(self, obj: Any, code: int, arm: Callable[[], None]) -> None:
        """Remember an instrumented object: its target code, and how to arm it."""
        self._codes[id(obj)] = code
        self._arm.append(arm)

    def code_of(self, obj: Any) -> int:
        return self._codes.get(id(obj), 0)

    def wanted(self) -> bool:
        """True when the observer asks for step mode (read between operations)."""
        return bool(self.mv[self.base + B.C_GATE])

    def arm(self) -> None:
        """Swap every adopted object for its gated class; once per process."""
        if self.armed:
            return
        self.armed = True
        for arm in self._arm:
            arm()

    def stop(self, op: int, target: int, arg: int | None = None) -> None:
        """Wait here until this operation is granted (a no-op with step mode off)."""
        mv, base = self.mv, self.base
        if not mv[base + B.C_GATE]:
            return
        if arg is not None:
            mv[base + B.P_NEXT_ARG] = arg
        mv[base + B.P_NEXT] = encode(op, target, arg is not None)
        arrived = mv[base + B.P_ARRIVED] + 1
        mv[base + B.P_ARRIVED] = arrived
        nap = FIRST_NAP_S
        while mv[base + B.C_GATE] and mv[base + B.C_GRANT] < arrived and not mv[base + B.C_STOP]:
            time.sleep(nap)
            nap = min(nap * 2, LAST_NAP_S)
        mv[base + B.P_NEXT] = 0

    def stop_at(self, word: str, obj: Any, arg: int | None = None) -> None:
        self.stop(OP[word], self.code_of(obj), arg)


# The gate of this process, once its role has one: the gated classes find it
# here (a child is one process with one gate; None in the observer).
current: Gate | None = None


def install(gate: Gate | None) -> None:
    global current
    current = gate
