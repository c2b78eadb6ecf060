"""Per-process journal rings: compact fixed-size events the observer drains.

Each child owns one ring (single writer of the head and the dropped count);
the observer owns the tail. When the ring is full the child drops the *new*
event and counts it, so overflow is always visible and never corrupts events
the observer has not read yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import monotonic_ns

from ipcplay.engine import board as B

OP_NAMES = {
    B.OP_PUT: "put",
    B.OP_GET: "get",
    B.OP_JOIN: "join",
    B.OP_PUT_FULL: "put-full",
    B.OP_TASK_DONE: "task_done",
    B.OP_CLOSE: "close",
    B.OP_PILL_OUT: "pill-sent",
    B.OP_PILL_IN: "pill-received",
    B.OP_START: "start",
    B.OP_EXIT: "exit",
}


class JournalWriter:
    """The child's side. `log` costs one clock read and four stores."""

    __slots__ = (
        "_base",
        "_dropped",
        "_dropped_slot",
        "_free",
        "_head",
        "_head_slot",
        "_mask",
        "_mv",
        "_tail_slot",
    )

    def __init__(self, mv: memoryview, layout: B.Layout, proc: int) -> None:
        self._mv = mv
        self._base = layout.ring(proc)
        self._mask = layout.journal_cap - 1
        base = layout.proc(proc)
        self._head_slot = base + B.J_HEAD
        self._tail_slot = base + B.J_TAIL
        self._dropped_slot = base + B.J_DROPPED
        self._head = mv[self._head_slot]
        self._dropped = mv[self._dropped_slot]
        self._free = 0

    def log(self, code: int, mid: int, nbytes: int) -> None:
        if not self._free:
            # Re-read the observer's tail only when our cached room runs out.
            self._free = self._mask + 1 - (self._head - self._mv[self._tail_slot])
            if self._free <= 0:
                self._free = 0
                self._dropped += 1
                self._mv[self._dropped_slot] = self._dropped
                return
        mv = self._mv
        head = self._head
        i = self._base + (head & self._mask) * 3
        mv[i] = monotonic_ns()
        mv[i + 1] = mid
        mv[i + 2] = code | (nbytes << 16)
        head += 1
        self._head = head
        mv[self._head_slot] = head
        self._free -= 1


@dataclass(frozen=True)
class Event:
    """One journal event as the observer reports it."""

    t_ns: int
    proc: int
    op: str
    chan: int  # -1 when the event is not about a channel
    mid: int  # message id, -1 when unknown
    nbytes: int


def drain(mv: memoryview, layout: B.Layout, proc: int, limit: int = 1 << 30) -> list[Event]:
    """Read the events written since the last drain and give the room back."""
    base = layout.proc(proc)
    head = mv[base + B.J_HEAD]
    tail = mv[base + B.J_TAIL]
    n = min(head - tail, limit)
    if n <= 0:
        return []
    mask = layout.journal_cap - 1
    ring = layout.ring(proc)
    out: list[Event] = []
    for k in range(tail, tail + n):
        i = ring + (k & mask) * 3
        t, mid, packed = mv[i], mv[i + 1], mv[i + 2]
        code, nbytes = packed & 0xFFFF, packed >> 16
        op = code & 0xF
        chan = (code >> 5) & 0x7FF if op not in (B.OP_START, B.OP_EXIT) else -1
        out.append(Event(t, proc, OP_NAMES.get(op, "?"), chan, mid, nbytes))
    mv[base + B.J_TAIL] = tail + n
    return out
