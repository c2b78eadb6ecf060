"""The telemetry board: one shared-memory array of int64 slots.

Every (process, channel) pair owns its own slots and is their only writer, so
the hot path takes no lock and makes no IPC round trip: a counter update is a
plain 8-byte store, atomic on every platform CPython supports. The observer is
the only writer of the command slots. It reads everything and sums.

The array is a `multiprocessing.sharedctypes.RawArray`, not a named
`shared_memory.SharedMemory` segment: its backing file is unlinked the moment
it is created, so nothing is left in /dev/shm even if the observer is killed
with SIGKILL, and no resource tracker has to clean up after us.
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from multiprocessing.sharedctypes import RawArray
from typing import Any

MAGIC = 0x1BC_01A7

# Global slots, before the first process: 0 magic, 1 nproc, 2 nchan.
G_SPEED_MICRO = 3  # command, observer-written: the scenario's speed x 1e6 (engine/tempo.py); 0 = 1

# Per-process header slots.
P_PID = 0
P_PHASE = 1  # see PHASE_*
P_MARK = 2  # what the process is blocked in; see mark()
P_SINCE = 3  # monotonic ns when a timed wait began
P_ACTIVITY = 4  # see ACT_*
P_ITEMS = 5  # items the role has finished (produced / consumed)
P_PILLS_SENT = 6
P_PILLS_RECEIVED = 7
C_RATE_MILLI = 8  # command, observer-written: items/s x 1000, -1 = as the scenario says
C_PILLS = 9  # command, observer-written: poison pills requested so far
C_STOP = 10  # command, observer-written: 1 = finish the current item and end
J_HEAD = 11  # unused: journal events commit by their time slot (engine/journal.py)
J_TAIL = 12  # journal events read (observer)
J_DROPPED = 13  # journal events dropped because the ring was full (child)
P_STARTED_NS = 14
P_ENDED_NS = 15
P_ERRLEN = 16
P_ERR = 17  # error text, ERR_SLOTS * 8 bytes of UTF-8
ERR_SLOTS = 29
P_WAITS_ON = 46  # ACT_FLUSHING: the channel; ACT_JOINING: the process index
P_CPU_NS = 47  # the child's own CPU time when its role ended (psutil cannot read a reaped pid)
P_NOTE_SET = 48  # bit i: note i has been written (see demos.py)
P_NOTE = 49  # NOTE_SLOTS numbers a role reports about itself, labelled by role
NOTE_SLOTS = 5
# command, observer-written: 1 = a pause came before this process had armed its
# death signal. The observer stops a process only once it is armed (P_PID set):
# one stopped earlier could never die with a SIGKILLed observer. Until then the
# process waits here instead of running its role.
C_HOLD = 54
# The main thread's context switches when the role ended: the OS's count is
# read about once a second and cannot be read from a reaped pid.
P_CTX_SWITCHES = 55
# Where in the program's own source the process is blocked (a watched
# program, issue 17): "consumer.py:17", written on the slow path only.
P_AT = 56
AT_SLOTS = 5  # a length, then 32 bytes of UTF-8
# A watched program's process says its own exit status as it ends, and its
# parent says it again when it reaps it (the only word on a process killed by
# a signal): the observer is not their parent. Stored + EXIT_SAID (0: not said).
P_EXIT_STATUS = 61
EXIT_SAID = 1 << 20
# Step mode (engine/gate.py says the protocol): the observer writes C_GATE
# (1: stop before each operation) and C_GRANT (gates this process may pass);
# the child writes P_ARRIVED (gates reached), P_NEXT (the operation it waits
# to do, 0: not at a gate) and P_NEXT_ARG (the number it will write).
C_GATE = 62
C_GRANT = 63
P_ARRIVED = 64
P_NEXT = 65
P_NEXT_ARG = 66
HEADER_SLOTS = 67

# Per (process, channel) slots, after the header.
OUT_N = 0  # puts / sends that returned
OUT_BYTES = 1  # pickled bytes sent, where the sender sees them (Pipe, SimpleQueue)
IN_N = 2  # gets / recvs that returned an item
IN_BYTES = 3  # pickled bytes received
BLOCK_OUT_NS = 4  # time spent blocked in put/send, measured on the slow path
BLOCK_IN_NS = 5  # time spent blocked in get/recv, measured on the slow path
TASK_DONE = 6
FULL_HITS = 7  # puts that found a bounded queue full
JOINS = 8  # JoinableQueue.join() calls that returned
BLOCK_JOIN_NS = 9
LAST_WAIT_NS = 10  # how long the last item this reader took had waited in the channel
MAX_WAIT_NS = 11  # the longest such wait so far
LOST = 12  # items put that the Queue's feeder thread could not send (pickling failed)
CHAN_SLOTS = 13

# Per (process, shared object) slots, after the channel slots. A process writes
# only its own, so "who holds lock_a" is read from the HELD slots of every
# process: the holder is the one that says so.
S_OPS = 0  # acquires that returned (locks; a Value's get_lock()), waits that returned
S_RELEASES = 1
S_HELD = 2  # how many times this process holds it now (RLock: recursion; Semaphore: permits)
S_HELD_SINCE = 3  # monotonic ns when HELD went from 0 to 1
S_WAIT_NS = 4  # time spent blocked in acquire / wait, measured
S_HOLD_NS = 5  # time spent holding it, summed at each last release
S_CONTENDED = 6  # acquires that found it taken and had to wait
S_UPDATES = 7  # Value / Array updates done
S_ADDED = 8  # integer amounts added to a Value, summed: expected = initial + sum
S_SETS = 9  # Event.set() calls
S_CLEARS = 10  # Event.clear() calls
S_BROKEN = 11  # BrokenBarrierError seen
SHARED_SLOTS = 12
# A Condition has no set/clear: its slots count notify() calls and the waiters
# those calls asked to wake (notify(n) counts n; notify_all counts 0 here).
S_NOTIFIES = S_SETS
S_NOTIFY_N = S_CLEARS
# A SharedMemory block never blocks: OPS counts reads, UPDATES writes and
# fills, ADDED holds the byte sum the last read found.
S_READS = S_OPS
S_WRITES = S_UPDATES
S_READ_SUM = S_ADDED
# A watched program's Event says its state at each set and clear, in slots an
# Event does not otherwise use: the time (monotonic ns), then 1 set / 0 clear.
S_EVENT_AT = S_UPDATES
S_EVENT_STATE = S_ADDED
# ... and its Value says each value it writes (the time, then the number; a
# float's bits): the observer maps a Value's memory, but a Value made and
# dropped within one tick is gone before it looks.
S_VALUE_AT = S_SETS
S_VALUE = S_CLEARS

EVENT_SLOTS = 3  # time (a double, s), message id, code | bytes << 16 (TIMED: no message id)
# Message previews, per (process, channel), after the journal ring: PREVIEWS
# entries, message id m in entry m % PREVIEWS (a writer's ids are consecutive,
# so its last PREVIEWS messages are there), each the id of the message it
# shows (-1 while being written), then the first PREVIEW_BYTES of its pickle
# (engine/preview.py turns them into text).
PREVIEW_SLOTS = 8
PREVIEW_BYTES = (PREVIEW_SLOTS - 1) * 8
PREVIEWS = 8  # a power of two

PHASE_NEW, PHASE_RUNNING, PHASE_DONE, PHASE_FAILED, PHASE_STOPPED = range(5)

ACT_BUSY, ACT_CPU, ACT_SLEEP, ACT_PACING, ACT_ENDING, ACT_FLUSHING, ACT_JOINING = range(7)
ACTIVITY_WORDS = (
    "running",
    "working",
    "sleeping",
    "waiting for its rate",
    "ending",
    "flushing its queue",
    "joining",
)

# Marker: low 4 bits the op, bit 4 "timed" (P_SINCE is valid), bits 5..15 the
# channel, bits 16.. the op's sequence number (the count before the call), so
# the observer can tell "still inside this call" from "finished, doing other
# work" without the child ever clearing the marker on the fast path.
OP_PUT, OP_GET, OP_JOIN, OP_PUT_FULL = 1, 2, 3, 4
OP_TASK_DONE, OP_CLOSE, OP_PILL_OUT, OP_PILL_IN, OP_START, OP_EXIT = 5, 6, 7, 8, 9, 10
OP_WAIT = 11  # journal only: a call waited; message-id slot = the op, bytes = the wait in ns
OP_SYNC = 12  # journal only: an op on a shared object; message-id slot = one of SYNC_*
OP_ACQUIRE, OP_EVENT_WAIT, OP_BARRIER_WAIT = 13, 14, 15  # blocked-on markers (and OP_WAIT ids)
SYNC_ACQUIRE, SYNC_RELEASE, SYNC_SET, SYNC_CLEAR, SYNC_WAITED, SYNC_PASSED, SYNC_BROKEN = range(
    1, 8
)
SYNC_NOTIFY, SYNC_NOTIFY_ALL, SYNC_NOTIFIED = 8, 9, 10  # on a Condition
# The four op bits are all taken: a wait in Condition.wait() uses the Event's
# op, and the shared object's kind tells the two apart.
OP_COND_WAIT = OP_EVENT_WAIT
TIMED = 16
MAX_CHANNELS = 2047


def mark(seq: int, chan: int, op: int, timed: bool = False) -> int:
    return (seq << 16) | (chan << 5) | (TIMED if timed else 0) | op


def unmark(value: int) -> tuple[int, int, int, bool]:
    """(seq, chan, op, timed) of a marker value; op 0 means none."""
    return value >> 16, (value >> 5) & 0x7FF, value & 0xF, bool(value & TIMED)


@dataclass(frozen=True)
class Layout:
    """Where each slot lives; pure arithmetic shared by children and observer."""

    nproc: int
    nchan: int
    journal_cap: int  # events per process ring; a power of two, or 0 for off
    nshared: int = 0  # shared objects: their markers use index nchan + s
    pool_slots: int = 0  # after every process: the pool regions (engine/pool.py)
    previews: bool = False  # with a journal: each channel's last message preview

    @property
    def preview_slots(self) -> int:
        return self.nchan * PREVIEWS * PREVIEW_SLOTS if self.previews and self.journal_cap else 0

    @property
    def proc_slots(self) -> int:
        return self.counter_slots + self.journal_cap * EVENT_SLOTS + self.preview_slots

    @property
    def counter_slots(self) -> int:
        """Slots of one process that the sampler copies every tick (no journal)."""
        return HEADER_SLOTS + self.nchan * CHAN_SLOTS + self.nshared * SHARED_SLOTS

    @property
    def total_slots(self) -> int:
        return 8 + self.nproc * self.proc_slots + self.pool_slots

    @property
    def pool_base(self) -> int:
        """Where the pool regions begin: after the last process's journal."""
        return 8 + self.nproc * self.proc_slots

    def proc(self, p: int) -> int:
        return 8 + p * self.proc_slots

    def chan(self, p: int, c: int) -> int:
        return self.proc(p) + HEADER_SLOTS + c * CHAN_SLOTS

    def shared(self, p: int, s: int) -> int:
        return self.proc(p) + HEADER_SLOTS + self.nchan * CHAN_SLOTS + s * SHARED_SLOTS

    def ring(self, p: int) -> int:
        return self.proc(p) + self.counter_slots

    def preview(self, p: int, c: int) -> int:
        """The preview area of process p's channel c (needs `previews`)."""
        return self.ring(p) + self.journal_cap * EVENT_SLOTS + c * PREVIEWS * PREVIEW_SLOTS


def create(layout: Layout) -> Any:
    """Allocate a zeroed board; pass it to children as a Process argument."""
    if layout.nchan + layout.nshared > MAX_CHANNELS:
        raise ValueError(f"at most {MAX_CHANNELS} channels")
    raw = RawArray(ctypes.c_int64, layout.total_slots)
    init(raw, layout)
    return raw


def init(raw: Any, layout: Layout) -> None:
    """Write a board's header into zeroed memory of layout.total_slots slots."""
    mv = view(raw)
    mv[0] = MAGIC
    mv[1] = layout.nproc
    mv[2] = layout.nchan
    for p in range(layout.nproc):
        mv[layout.proc(p) + C_RATE_MILLI] = -1


def view(raw: Any) -> memoryview:
    """An int64 view: the fastest way CPython has to store into shared memory."""
    return memoryview(raw).cast("B").cast("q")


def write_text(mv: memoryview, base: int, text: str) -> None:
    data = text.encode("utf-8", "replace")[: ERR_SLOTS * 8]
    padded = data.ljust(ERR_SLOTS * 8, b"\0")
    words = memoryview(padded).cast("q")
    for i in range(ERR_SLOTS):
        mv[base + P_ERR + i] = words[i]
    mv[base + P_ERRLEN] = len(data)


def write_at(mv: memoryview, base: int, text: str) -> None:
    """Say where the process is (P_AT): the length last, so a reader that
    sees the new length sees the new words."""
    data = text.encode("utf-8", "replace")[: (AT_SLOTS - 1) * 8]
    data = data.decode("utf-8", "ignore").encode("utf-8")
    words = memoryview(data.ljust((AT_SLOTS - 1) * 8, b"\0")).cast("q")
    mv[base + P_AT] = 0
    for i in range(AT_SLOTS - 1):
        mv[base + P_AT + 1 + i] = words[i]
    mv[base + P_AT] = len(data)


def read_at(values: list[int]) -> str:
    """Where a process said it is blocked ("" if it never said)."""
    length = values[P_AT]
    if length <= 0:
        return ""
    words = values[P_AT + 1 : P_AT + AT_SLOTS]
    raw = b"".join(word.to_bytes(8, sys.byteorder, signed=True) for word in words)
    return raw[:length].decode("utf-8", "replace")


def read_text(values: list[int], base: int) -> str:
    length = values[base + P_ERRLEN]
    if length <= 0:
        return ""
    words = values[base + P_ERR : base + P_ERR + ERR_SLOTS]
    raw = b"".join(word.to_bytes(8, sys.byteorder, signed=True) for word in words)
    return raw[:length].decode("utf-8", "replace")
