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
    B.OP_WAIT: "wait",
    B.OP_ACQUIRE: "acquire",  # as the op of a wait: "wait-acquire"
    B.OP_EVENT_WAIT: "event",
    B.OP_BARRIER_WAIT: "barrier",
}
SYNC_NAMES = {
    B.SYNC_ACQUIRE: "acquire",
    B.SYNC_RELEASE: "release",
    B.SYNC_SET: "set",
    B.SYNC_CLEAR: "clear",
    B.SYNC_WAITED: "event-passed",
    B.SYNC_PASSED: "barrier-passed",
    B.SYNC_BROKEN: "barrier-broken",
    B.SYNC_NOTIFY: "notify",
    B.SYNC_NOTIFY_ALL: "notify_all",
    B.SYNC_NOTIFIED: "condition-passed",
}


PIPE_WORDS = {"put": "send", "get": "recv", "wait-put": "wait-send", "wait-get": "wait-recv"}
"""A Pipe's put and get are its send and recv: the words the log and traces show."""


def mid_text(mid: int) -> str:
    """A message id as `#writer:seq`, the way the log and traces show it."""
    return f"#{mid >> 32}:{mid & 0xFFFFFFFF}"


class JournalWriter:
    """The child's side. `log` costs one clock read and four stores."""

    __slots__ = (
        "_base",
        "_cap",
        "_dropped",
        "_dropped_slot",
        "_head",
        "_head_slot",
        "_i",
        "_last",
        "_limit",
        "_mv",
        "_tail_slot",
    )

    def __init__(self, mv: memoryview, layout: B.Layout, proc: int) -> None:
        self._mv = mv
        self._base = layout.ring(proc)
        self._cap = layout.journal_cap
        base = layout.proc(proc)
        self._head_slot = base + B.J_HEAD
        self._tail_slot = base + B.J_TAIL
        self._dropped_slot = base + B.J_DROPPED
        self._head = mv[self._head_slot]
        self._dropped = mv[self._dropped_slot]
        self._limit = 0  # head may grow up to this before we re-read the tail
        # The next event's first slot, walked by +3 and wrapped at _last:
        # cheaper on the hot path than (head & mask) * 3 + base each time.
        self._i = self._base + (self._head & (self._cap - 1)) * 3
        self._last = self._base + (self._cap - 1) * 3

    def room(self) -> bool:
        """True if one more event fits; else the drop is counted. Re-reads the
        observer's tail only when the room cached from last time runs out."""
        if self._head < self._limit:
            return True
        mv = self._mv
        self._limit = mv[self._tail_slot] + self._cap
        if self._head < self._limit:
            return True
        self._dropped += 1
        mv[self._dropped_slot] = self._dropped
        return False

    def log_item(self, code: int, obj: object, nbytes: int) -> None:
        """`log` for an item put or got: the message id is taken from the item
        here, in the same call. On a 64-byte message a Python call is a tenth
        of the whole send, so the item paths pay for one call, not two."""
        head = self._head
        if head >= self._limit and not self.room():
            return
        mv = self._mv
        i = self._i
        mv[i] = monotonic_ns()
        if type(obj) is tuple and obj and type(obj[0]) is int:
            mv[i + 1] = obj[0]  # ipcplay's roles put the message id first
        else:
            mv[i + 1] = -2 if obj is None else -1  # -2: a poison pill
        mv[i + 2] = code | (nbytes << 16)
        self._i = i + 3 if i != self._last else self._base
        head += 1
        self._head = head
        mv[self._head_slot] = head

    def log(self, code: int, mid: int, nbytes: int) -> None:
        if self._head >= self._limit and not self.room():
            return
        mv = self._mv
        i = self._i
        mv[i] = monotonic_ns()
        mv[i + 1] = mid
        mv[i + 2] = code | (nbytes << 16)
        self._i = i + 3 if i != self._last else self._base
        head = self._head + 1
        self._head = head
        mv[self._head_slot] = head


@dataclass(frozen=True)
class Event:
    """One journal event as the observer reports it."""

    t_ns: int
    proc: int
    op: str
    chan: int  # -1 when the event is not about a channel; nchan + s for shared object s
    mid: int  # message id, -1 when unknown, -2 for a poison pill
    nbytes: int
    wait_ns: int = 0  # for "wait-put", "wait-get", "wait-join": how long the call waited


def drain_raw(mv: memoryview, layout: B.Layout, proc: int) -> bytes:
    """Take the events written since the last drain and give the room back.

    Returns them as raw bytes, three int64 per event (t_ns, mid,
    code | nbytes << 16): a memcpy, about 10 ns an event, because the observer
    must keep up with children logging hundreds of thousands of events a
    second without stealing the CPU they run on. Decode only what you show.
    """
    base = layout.proc(proc)
    head = mv[base + B.J_HEAD]
    tail = mv[base + B.J_TAIL]
    n = head - tail
    if n <= 0:
        return b""
    cap = layout.journal_cap
    ring = layout.ring(proc)
    start = tail & (cap - 1)
    first = min(n, cap - start)
    data = mv[ring + start * 3 : ring + (start + first) * 3].tobytes()
    if first < n:
        data += mv[ring : ring + (n - first) * 3].tobytes()
    mv[base + B.J_TAIL] = head
    return data


def unpack(data: bytes) -> list[int]:
    """Raw drained bytes as a flat list of ints, three per event."""
    return memoryview(data).cast("q").tolist()


def decode(proc: int, t: int, mid: int, packed: int) -> Event:
    code, nbytes = packed & 0xFFFF, packed >> 16
    if code & B.TIMED:  # the writer flagged "no message id" and skipped that slot
        mid = -1
    op = code & 0xF
    chan = (code >> 5) & 0x7FF if op not in (B.OP_START, B.OP_EXIT) else -1
    if op == B.OP_WAIT:
        return Event(t, proc, f"wait-{OP_NAMES.get(mid, '?')}", chan, -1, 0, nbytes)
    if op == B.OP_SYNC:  # `chan` is nchan + the shared object's index
        return Event(t, proc, SYNC_NAMES.get(mid, "?"), chan, -1, nbytes)
    return Event(t, proc, OP_NAMES.get(op, "?"), chan, mid, nbytes)


def drain(mv: memoryview, layout: B.Layout, proc: int) -> list[Event]:
    vals = unpack(drain_raw(mv, layout, proc))
    return [decode(proc, *vals[i : i + 3]) for i in range(0, len(vals), 3)]
