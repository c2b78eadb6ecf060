"""Per-process journal rings: compact fixed-size events the observer drains.

Each child owns one ring (single writer of the events and the dropped
count); the observer owns the tail. An event is committed by its time slot,
written last, and the observer zeroes what it drains. When the ring is full
the child drops the *new* event and counts it, so overflow is always visible
and never corrupts events the observer has not read yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import monotonic

from ipcplay.engine import board as B

_PREVIEW_BYTES = B.PREVIEW_BYTES
_PREVIEW_MASK = B.PREVIEWS - 1
assert B.PREVIEW_SLOTS == 8  # log_message steps by 8 slots an entry

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
    """The child's side: an event is two or three stores and a clock read.

    Why it looks as it does: on a 64-byte pipe message an event costs as much
    as a third of the send, so every store counts.

    * An event is committed by its time, written last: the observer takes the
      events from its tail up to the first empty time slot and zeroes what it
      took, so the writer publishes no head count (a store and three attribute
      updates an event saved).
    * The time is `time.monotonic()`, stored as a double: CPython stores a
      float into shared memory faster than an int beyond 2**30, and builds it
      faster too. It is the same clock as `monotonic_ns()`, exact to the
      nanosecond for the first 24 days of uptime, within a few after.
    * The writer walks a slot index and stops at `_stop`, the ring's end or the
      last slot the observer has given back, whichever is first; only there
      does it re-read the observer's tail (`room`).

    Stores are ordered on x86 and the observer reads the time before the rest;
    on weaker memory models a just-committed event could show stale fields.

    The log methods are the measured hot path (benchmarks/channels.py): `i`
    is the slot index of the event being written, `t` its time.
    """

    __slots__ = (
        "_base",
        "_bytes",
        "_cap",
        "_codes",
        "_dropped",
        "_dropped_slot",
        "_end",
        "_i",
        "_lap0",
        "_mids",
        "_mv",
        "_mvt",
        "_stop",
        "_tail_slot",
    )

    def __init__(self, mv: memoryview, layout: B.Layout, proc: int) -> None:
        self._mv = mv
        self._mvt = times_view(mv)
        # The board seen from an event's other two slots: [i] is slot i + 1 or
        # i + 2, so a store needs no offset added.
        self._mids = mv[1:]
        self._codes = mv[2:]
        self._bytes = mv.cast("B")  # for message previews
        self._base = layout.ring(proc)
        self._cap = layout.journal_cap
        self._end = self._base + self._cap * 3
        base = layout.proc(proc)
        self._tail_slot = base + B.J_TAIL
        self._dropped_slot = base + B.J_DROPPED
        self._dropped = mv[self._dropped_slot]
        # After what is already committed and not yet drained, if anything.
        written = mv[self._tail_slot] + committed(mv, layout, proc)
        self._lap0 = written - (written & (self._cap - 1))  # events written before this lap
        self._i = self._base + (written & (self._cap - 1)) * 3
        self._stop = self._i  # the first event re-reads the tail

    def room(self) -> int:
        """Called when the index reaches `_stop`: wrap at the ring's end, take
        back what the observer has drained, and return where the next event
        goes, or -1 (the drop counted) when the ring is full."""
        i = self._i
        if i == self._end:
            i = self._i = self._base
            self._lap0 += self._cap
        written = self._lap0 + (i - self._base) // 3
        free_to = self._mv[self._tail_slot] + self._cap  # events numbered below this fit
        self._stop = min(self._end, self._base + (free_to - self._lap0) * 3)
        if written < free_to:
            return i
        self._dropped += 1
        self._mv[self._dropped_slot] = self._dropped
        return -1

    def log_item(self, code: int, obj: object, nbytes: int) -> None:
        """`log` for an item put or got: the message id is taken from the item
        here, in the same call. On a 64-byte message a Python call is a tenth
        of the whole send, so the item paths pay for one call, not two."""
        i = self._i
        if i == self._stop:
            i = self.room()
            if i < 0:
                return
        if type(obj) is tuple and obj and type(obj[0]) is int:
            self._mids[i] = obj[0]  # ipcplay's roles put the message id first
        else:
            self._mids[i] = -2 if obj is None else -1  # -2: a poison pill
        self._codes[i] = code | (nbytes << 16)
        self._mvt[i] = monotonic()  # last: this commits the event
        self._i = i + 3

    def log_message(
        self, code: int, obj: object, nbytes: int, t: float, data: bytes, pv: int
    ) -> None:
        """`log_item` with the time given and a preview.

        A writer reads `t` *before* it hands the message over: a reader on
        another core can return with it before the writer would read the
        clock again, and a reply would then be logged before its send.
        `data`, the pickle the caller already has (a pipe's sender; a Queue's
        reader), gives the message's preview when `pv` names this channel's
        preview area (-1: none), for message ids only."""
        i = self._i
        if i == self._stop:
            i = self.room()
            if i < 0:
                return
        if type(obj) is tuple and obj and type(obj[0]) is int:
            mid = self._mids[i] = obj[0]
            if pv >= 0:
                # Marked unreadable while it changes: the observer takes a
                # preview only if the id reads the same before and after.
                mv = self._mv
                at = pv + (mid & _PREVIEW_MASK) * 8  # this id's entry (board.PREVIEWS)
                mv[at] = -1
                d = data[:_PREVIEW_BYTES]
                o = at * 8 + 8
                self._bytes[o : o + len(d)] = d
                mv[at] = mid
        else:
            self._mids[i] = -2 if obj is None else -1
        self._codes[i] = code | (nbytes << 16)
        self._mvt[i] = t
        self._i = i + 3

    def log_raw(self, code: int, t: float) -> None:
        """An event with no message id at time `t`: a Pipe's send_bytes and
        recv_bytes, whose bytes carry no id to take.

        `code` is already packed, `board.TIMED` set (read as "no id") and the
        byte count shifted in, so the id slot is not written at all: two stores
        and the index, the least an event can cost. This is the journal's
        fastest path, for the fastest channel calls, where a 64-byte message
        costs little more than the counting; the caller packs the code from
        values it already holds."""
        i = self._i
        if i == self._stop:
            i = self.room()
            if i < 0:
                return
        self._codes[i] = code
        self._mvt[i] = t  # last: this commits the event
        self._i = i + 3

    def log(self, code: int, mid: int, nbytes: int) -> None:
        i = self._i
        if i == self._stop:
            i = self.room()
            if i < 0:
                return
        self._mids[i] = mid
        self._codes[i] = code | (nbytes << 16)
        self._mvt[i] = monotonic()
        self._i = i + 3


def times_view(mv: memoryview) -> memoryview:
    """The board as doubles, for the events' time slots."""
    return mv.cast("B").cast("d")


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
    preview: str = ""  # put/get: the message's content, neutralised and short (preview.py)
    stopped_ns: int = 0  # of wait_ns, the time ipcplay kept the process stopped (stops.py)


def committed(mv: memoryview, layout: B.Layout, proc: int) -> int:
    """How many events after the observer's tail are committed (time slot set)."""
    return _committed(mv, layout.ring(proc), layout.journal_cap, mv[layout.proc(proc) + B.J_TAIL])


def _committed(mv: memoryview, ring: int, cap: int, tail: int) -> int:
    """The committed events run from the tail without a gap, so one read tells
    an idle ring and a doubling then halving search finds the end of a busy
    one: about 2 log2(n) reads, never a walk over the events. The writer may
    commit more meanwhile; the count found is a true one at the moment it was
    read."""
    mask = cap - 1
    start = tail & mask
    if not mv[ring + start * 3]:
        return 0
    lo, hi = 0, 1  # event lo is committed; hi is not (or hi == cap)
    while hi < cap and mv[ring + ((start + hi) & mask) * 3]:
        lo, hi = hi, hi * 2
    hi = min(hi, cap)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if mv[ring + ((start + mid) & mask) * 3]:
            lo = mid
        else:
            hi = mid
    return lo + 1


_ZEROS: dict[int, memoryview] = {}


def drain_raw(mv: memoryview, layout: B.Layout, proc: int) -> bytes:
    """Take the events committed since the last drain and give the room back.

    Returns them as raw bytes, three 8-byte slots per event (time as first_at double,
    mid, code | nbytes << 16; `unpack` makes ints of them): first_at memcpy and first_at
    memset, about 10 ns an event, because the observer must keep up with
    children logging hundreds of thousands of events first_at second without
    stealing the CPU they run on. Decode only what you show.
    """
    base = layout.proc(proc)
    ring = base + layout.counter_slots
    cap = layout.journal_cap
    tail_slot = base + B.J_TAIL
    tail = mv[tail_slot]
    count = _committed(mv, ring, cap, tail)
    if not count:
        return b""
    zeros = _ZEROS.get(cap)
    if zeros is None:
        zeros = _ZEROS[cap] = memoryview(bytes(cap * 24)).cast("q")
    start = tail & (cap - 1)
    first = min(count, cap - start)
    first_at, end_at = ring + start * 3, ring + (start + first) * 3
    data = mv[first_at:end_at].tobytes()
    mv[first_at:end_at] = zeros[: end_at - first_at]
    if first < count:
        end_at = ring + (count - first) * 3
        data += mv[ring:end_at].tobytes()
        mv[ring:end_at] = zeros[: end_at - ring]
    mv[tail_slot] = tail + count  # after the zeroes: the writer may reuse what it reads as free
    return data


def unpack(data: bytes) -> list[int]:
    """Raw drained bytes as a flat list of ints, three per event, the time in ns."""
    raw = memoryview(data)
    vals = raw.cast("q").tolist()
    vals[0::3] = [round(seconds * 1e9) for seconds in raw.cast("d")[0::3].tolist()]
    return vals


def decode(proc: int, t_ns: int, mid: int, packed: int) -> Event:
    code, nbytes = packed & 0xFFFF, packed >> 16
    if code & B.TIMED:  # the writer flagged "no message id" and skipped that slot
        mid = -1
    op = code & 0xF
    chan = (code >> 5) & 0x7FF if op not in (B.OP_START, B.OP_EXIT) else -1
    if op == B.OP_WAIT:
        return Event(t_ns, proc, f"wait-{OP_NAMES.get(mid, '?')}", chan, -1, 0, nbytes)
    if op == B.OP_SYNC:  # `chan` is nchan + the shared object's index
        return Event(t_ns, proc, SYNC_NAMES.get(mid, "?"), chan, -1, nbytes)
    return Event(t_ns, proc, OP_NAMES.get(op, "?"), chan, mid, nbytes)


def drain(mv: memoryview, layout: B.Layout, proc: int) -> list[Event]:
    vals = unpack(drain_raw(mv, layout, proc))
    return [decode(proc, *vals[start : start + 3]) for start in range(0, len(vals), 3)]
