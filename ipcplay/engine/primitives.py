"""Instrumented shared state and synchronisation: Value, Array, locks, Event, Barrier.

The same discipline as `channels.py`: each wrapper drives the real
multiprocessing object and adds only counting, into the (process, object)
slots of the board that this process alone writes.

* An acquire first tries without blocking (the cost of an uncontended
  acquire); only when that fails does it read the clock, stamp the "blocked
  on" marker and block for real. So contended waits are measured exactly and
  free acquires pay no clock read.
* Who holds a lock is written by the holder itself: its HELD slot goes up
  just *after* acquire returns and down just *before* release, so the board
  never shows two holders of a Lock, only, for an instant, none.
* A Value's lost updates are counted, not guessed: every `add` also adds its
  amount to this process's ADDED slot, so expected = initial + the sum of
  ADDED, and the observer reads the real value to compare.
* Waits on an Event or a Barrier are rare and can be long, so they are always
  stamped and timed.

Updates of a Value or an Array are not journalled one by one (a race demo
makes a million a second); their counts are in the slots. Explicit acquire,
release, set, clear and the end of every wait are.
"""

from __future__ import annotations

import functools
import struct
import threading
from collections.abc import Callable
from time import monotonic_ns
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine.endpoints import SharedEndpoint
from ipcplay.engine.journal import JournalWriter


class _Slots:
    """The board slots of one (process, shared object) pair, and the marker."""

    def __init__(
        self,
        ep: SharedEndpoint,
        mv: memoryview,
        layout: B.Layout,
        proc: int,
        journal: JournalWriter | None,
    ) -> None:
        self.ep = ep
        self.mv = mv
        self.j = journal
        pbase = layout.proc(proc)
        self.mark = pbase + B.P_MARK
        self.since = pbase + B.P_SINCE
        self.base = layout.shared(proc, ep.index)
        self.ops = mv[self.base + B.S_OPS]
        self.sync_code = B.mark(0, ep.code, B.OP_SYNC)
        self.wait_code = B.mark(0, ep.code, B.OP_WAIT)

    def log(self, sub: int, value: int = 0) -> None:
        if self.j is not None:
            self.j.log(self.sync_code, sub, value)

    def bump(self, slot: int) -> None:
        self.mv[self.base + slot] += 1

    def begin_wait(self, op: int) -> int:
        t0 = monotonic_ns()
        self.mv[self.since] = t0
        self.mv[self.mark] = B.mark(self.ops, self.ep.code, op, timed=True)
        return t0

    def end_wait(self, op: int, t0: int, journal: bool) -> None:
        mv = self.mv
        mv[self.mark] = 0
        ns = monotonic_ns() - t0
        mv[self.base + B.S_WAIT_NS] += ns
        if journal and self.j is not None:
            self.j.log(self.wait_code, op, ns)

    def returned(self) -> None:
        self.ops += 1
        self.mv[self.base + B.S_OPS] = self.ops


class InstrumentedLock:
    """acquire/release on a Lock, RLock, Semaphore, BoundedSemaphore, or on the
    get_lock() of a Value or an Array; `log` False for the get_lock() of
    updates, which can run a million times a second."""

    __slots__ = ("_held", "_lock", "_s")

    def __init__(self, lock: Any, slots: _Slots) -> None:
        self._lock = lock
        self._s = slots
        self._held = slots.mv[slots.base + B.S_HELD]

    def acquire(self, log: bool = True) -> None:
        slots = self._s
        if not self._lock.acquire(False):
            slots.bump(B.S_CONTENDED)
            t0 = slots.begin_wait(B.OP_ACQUIRE)
            try:
                self._lock.acquire()
            finally:
                slots.end_wait(B.OP_ACQUIRE, t0, log)
        mv, base = slots.mv, slots.base
        if self._held == 0:
            mv[base + B.S_HELD_SINCE] = monotonic_ns()
        self._held += 1
        mv[base + B.S_HELD] = self._held
        slots.returned()
        if log:
            slots.log(B.SYNC_ACQUIRE)

    def release(self, log: bool = True) -> None:
        slots = self._s
        mv, base = slots.mv, slots.base
        self._held -= 1
        mv[base + B.S_HELD] = self._held
        if self._held == 0:
            mv[base + B.S_HOLD_NS] += monotonic_ns() - mv[base + B.S_HELD_SINCE]
        if log:  # stamped before the call, so it precedes the acquire it lets through
            slots.log(B.SYNC_RELEASE)
        self._lock.release()
        mv[base + B.S_RELEASES] += 1

    @property
    def held(self) -> int:
        return self._held

    def __enter__(self) -> InstrumentedLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class InstrumentedCondition(InstrumentedLock):
    """A Condition: acquire/release as a lock (its RLock), plus wait, wait_for,
    notify and notify_all, counted.

    wait() gives the lock up, every level of it, until it returns, and so does
    the board: HELD drops to 0 just *before* the call (so the board never shows
    the waiter and a notifier holding it at once) and comes back just *after*
    the call returns, when the lock is really ours again. The hold time stops
    while it waits. The wait is stamped and timed like an Event's; while it
    lasts the waiter waits for whoever can notify it (see stuck.py).
    """

    __slots__ = ()

    def wait(self, until: Any = None, at_least: Any = 0) -> None:
        """cond.wait(), or cond.wait_for(lambda: until.value >= at_least)."""
        slots = self._s
        mv, base = slots.mv, slots.base
        depth = self._held
        self._held = 0
        mv[base + B.S_HELD] = 0
        mv[base + B.S_HOLD_NS] += monotonic_ns() - mv[base + B.S_HELD_SINCE]
        t0 = slots.begin_wait(B.OP_COND_WAIT)
        try:
            if until is None:
                self._lock.wait()
            else:
                raw = until.raw  # we hold the Condition; the Value's own lock is not needed
                self._lock.wait_for(lambda: raw.value >= at_least)
        finally:
            slots.end_wait(B.OP_COND_WAIT, t0, True)
            mv[base + B.S_HELD_SINCE] = monotonic_ns()
            self._held = depth
            mv[base + B.S_HELD] = depth
        slots.returned()
        slots.log(B.SYNC_NOTIFIED)

    def notify(self, count: int = 1) -> None:
        self._s.log(B.SYNC_NOTIFY, count)  # before the call, so it precedes the wakes it causes
        self._lock.notify(count)
        self._s.bump(B.S_NOTIFIES)
        self._s.mv[self._s.base + B.S_NOTIFY_N] += count

    def notify_all(self) -> None:
        self._s.log(B.SYNC_NOTIFY_ALL)
        self._lock.notify_all()
        self._s.bump(B.S_NOTIFIES)


class InstrumentedBlock:
    """A shared_memory.SharedMemory block: plain memory, so nothing blocks.

    write puts an 8-byte little-endian integer at an offset, fill sets every
    byte, read sums the bytes (what seed-style readers print); each is counted
    in this process's slots, and the last sum read is kept there too.
    """

    __slots__ = ("_buf", "_s", "_shm")

    def __init__(self, shm: Any, slots: _Slots) -> None:
        self._shm = shm
        self._buf = shm.buf
        self._s = slots

    def write(self, offset: int, number: int) -> None:
        struct.pack_into("<q", self._buf, offset, number)
        self._s.bump(B.S_WRITES)

    def fill(self, byte: int) -> None:
        self._buf[:] = bytes((byte,)) * len(self._buf)
        self._s.bump(B.S_WRITES)

    def read(self) -> int:
        total = sum(self._buf)
        slots = self._s
        slots.mv[slots.base + B.S_READ_SUM] = total
        slots.returned()
        return total


def create_block(size: int) -> Any:
    """A new named block, created (and later unlinked) by the observer only.

    Children attach by name (spawn pickles the block as its name). Each
    attach registers the name with the resource tracker, as in CPython 3.11
    and 3.12 (gh-82300); every child shares the observer's tracker and its
    registry is a set, so that adds nothing, and the observer's unlink()
    unregisters the name once: no warning and no second unlink. If the
    observer is SIGKILLed, that same tracker unlinks the block."""
    from multiprocessing import shared_memory

    return shared_memory.SharedMemory(create=True, size=size)


def close_block(shm: Any) -> None:
    """Close and unlink a block this observer created; safe to call twice."""
    import contextlib

    with contextlib.suppress(Exception):
        shm.close()
    with contextlib.suppress(FileNotFoundError):
        shm.unlink()


class InstrumentedShareableList:
    """A shared_memory.ShareableList: a fixed number of items in one named
    block, read and written by index without pickling, with no lock.

    setitem stores one item in place and read copies every item out; each is
    counted in this process's slots as a block's are (WRITES, READS). A write
    that raises stored nothing and is not counted: a str or bytes longer than
    the room its item was made with (ValueError "exceeds available storage"),
    an index past the end. Neither is journalled, as a block's are not.
    """

    __slots__ = ("_items", "_s")

    def __init__(self, items: Any, slots: _Slots) -> None:
        self._items = items
        self._s = slots

    def setitem(self, index: int, item: Any) -> None:
        self._items[index] = item
        self._s.bump(B.S_WRITES)

    def read(self) -> list[Any]:
        items = list(self._items)
        self._s.returned()
        return items


def create_shareable_list(values: tuple[Any, ...]) -> Any:
    """A new ShareableList, made by the observer only, as a block is
    (create_block): children attach by name, the observer unlinks it."""
    from multiprocessing import shared_memory

    return shared_memory.ShareableList(list(values))


def close_shareable_list(items: Any) -> None:
    """Close and unlink the block under a ShareableList; safe to call twice."""
    close_block(items.shm)


def read_items(items: Any) -> tuple[Any, ...] | None:
    """The observer's copy of a ShareableList's items, taken without a lock (it
    has none): None when a write in flight tore it (an item's format and its
    bytes are stored apart) or the block is closed."""
    try:
        return tuple(items)
    except Exception:  # UnicodeDecodeError, struct.error, TypeError once closed
        return None


class InstrumentedData:
    """A Value or an Array (made with lock=True), updated the way a student writes it.

    Without `locked`, `v.value += 1` is a read and a write, each taking the
    wrapper's lock on its own, so two processes can read the same old value
    and one update is lost. With `locked`, the whole update runs inside
    `with v.get_lock():`. The lock is the same RLock that explicit
    acquire/release steps on this object take.
    """

    __slots__ = ("_added", "_array", "_obj", "_s", "_updates", "lock")

    def __init__(self, obj: Any, slots: _Slots, is_array: bool) -> None:
        self._obj = obj
        self._s = slots
        self._array = is_array
        self.lock = InstrumentedLock(obj.get_lock(), slots)
        self._updates = slots.mv[slots.base + B.S_UPDATES]
        self._added = slots.mv[slots.base + B.S_ADDED]

    @property
    def raw(self) -> Any:
        """The ctypes object itself, read without the Value's lock (a predicate's read)."""
        return self._obj.get_obj()

    def update(self, op: str, amount: Any, locked: bool) -> None:
        if locked:
            self.lock.acquire(False)
            try:
                self._apply(op, amount)
            finally:
                self.lock.release(False)
        else:
            self._apply(op, amount)
        self._count(op, amount)

    def _count(self, op: str, amount: Any) -> None:
        """Count one update done: its amount goes into ADDED (lost = expected - value)."""
        mv, base = self._s.mv, self._s.base
        self._updates += 1
        mv[base + B.S_UPDATES] = self._updates
        if op == "add" and type(amount) is int:
            self._added += amount
            mv[base + B.S_ADDED] = self._added

    def _apply(self, op: str, amount: Any) -> None:
        obj = self._obj
        if not self._array:
            if op == "add":
                obj.value += amount
            elif op == "multiply":
                obj.value *= amount
            else:
                obj.value = amount
            return
        for position in range(len(obj)):
            if op == "add":
                obj[position] = obj[position] + amount
            elif op == "multiply":
                obj[position] = obj[position] * amount
            else:
                obj[position] = amount


class InstrumentedEvent:
    """Event: set, clear and wait, counted; a wait is always stamped and timed."""

    __slots__ = ("_ev", "_s")

    def __init__(self, event: Any, slots: _Slots) -> None:
        self._ev = event
        self._s = slots

    def set(self) -> None:
        self._s.log(B.SYNC_SET)  # stamped before the call, so it precedes the waits it ends
        self._ev.set()
        self._s.bump(B.S_SETS)

    def clear(self) -> None:
        self._ev.clear()
        self._s.bump(B.S_CLEARS)
        self._s.log(B.SYNC_CLEAR)

    def wait(self) -> None:
        slots = self._s
        t0 = slots.begin_wait(B.OP_EVENT_WAIT)
        try:
            self._ev.wait()
        finally:
            slots.end_wait(B.OP_EVENT_WAIT, t0, True)
        slots.returned()
        slots.log(B.SYNC_WAITED)


class InstrumentedBarrier:
    """Barrier.wait(), stamped and timed; a broken barrier is counted and re-raised."""

    __slots__ = ("_b", "_s")

    def __init__(self, barrier: Any, slots: _Slots) -> None:
        self._b = barrier
        self._s = slots

    def wait(self) -> int:
        slots = self._s
        t0 = slots.begin_wait(B.OP_BARRIER_WAIT)
        try:
            arrival = self._b.wait()
        except threading.BrokenBarrierError:
            slots.bump(B.S_BROKEN)
            slots.log(B.SYNC_BROKEN)
            raise
        finally:
            slots.end_wait(B.OP_BARRIER_WAIT, t0, True)
        slots.returned()
        slots.log(B.SYNC_PASSED, arrival)
        return arrival


def _on_slots(wrap: Callable[[Any, _Slots], Any]) -> Callable[..., Any]:
    """A wrapper that counts in this process's slots for the object, as WRAPPERS calls it."""

    def wrapper(
        obj: Any,
        ep: SharedEndpoint,
        mv: memoryview,
        layout: B.Layout,
        proc: int,
        journal: JournalWriter | None,
    ) -> Any:
        return wrap(obj, _Slots(ep, mv, layout, proc, journal))

    return wrapper


def _manager_object(
    proxy: Any,
    ep: SharedEndpoint,
    mv: memoryview,
    layout: B.Layout,
    proc: int,
    journal: JournalWriter | None,
) -> Any:
    """A proxy to a Manager's list, dict or Namespace: counted by method (manager.py)."""
    # Imported here: multiprocessing.managers is a tenth of a watched child's
    # start-up, and only a scenario with a Manager needs it.
    from ipcplay.engine.manager import instrument_object

    return instrument_object(proxy, ep.kind, mv, layout, proc, ep.index)


# A shared kind's instrumented wrapper, called as wrapper(raw object, endpoint,
# board, layout, process, journal). A new kind is one entry here (and one in
# CONSTRUCTORS, unless the observer makes it another way).
WRAPPERS: dict[str, Callable[..., Any]] = {
    "Value": _on_slots(functools.partial(InstrumentedData, is_array=False)),
    "Array": _on_slots(functools.partial(InstrumentedData, is_array=True)),
    "Lock": _on_slots(InstrumentedLock),
    "RLock": _on_slots(InstrumentedLock),
    "Semaphore": _on_slots(InstrumentedLock),
    "BoundedSemaphore": _on_slots(InstrumentedLock),
    "Event": _on_slots(InstrumentedEvent),
    "Barrier": _on_slots(InstrumentedBarrier),
    "Condition": _on_slots(InstrumentedCondition),
    "SharedMemory": _on_slots(InstrumentedBlock),
    "ShareableList": _on_slots(InstrumentedShareableList),
    "ManagerList": _manager_object,
    "ManagerDict": _manager_object,
    "ManagerNamespace": _manager_object,
}


def instrument_shared(
    obj: Any,
    ep: SharedEndpoint,
    mv: memoryview,
    layout: B.Layout,
    proc: int,
    journal: JournalWriter | None,
) -> Any:
    """Wrap a raw multiprocessing shared object for use in process `proc`."""
    return WRAPPERS[ep.kind](obj, ep, mv, layout, proc, journal)


# How the observer makes the real object of a [shared.NAME] table from its
# context and (typecode, value, values, parties). A block and a Manager's objects
# are made elsewhere: `create_block` and manager_watch.Managers.
CONSTRUCTORS: dict[str, Callable[[Any, str, Any, tuple, int], Any]] = {
    "Value": lambda ctx, typecode, value, values, parties: ctx.Value(typecode, value),
    "Array": lambda ctx, typecode, value, values, parties: ctx.Array(typecode, list(values)),
    "Lock": lambda ctx, typecode, value, values, parties: ctx.Lock(),
    "RLock": lambda ctx, typecode, value, values, parties: ctx.RLock(),
    "Semaphore": lambda ctx, typecode, value, values, parties: ctx.Semaphore(value),
    "BoundedSemaphore": lambda ctx, typecode, value, values, parties: ctx.BoundedSemaphore(value),
    "Event": lambda ctx, typecode, value, values, parties: ctx.Event(),
    "Barrier": lambda ctx, typecode, value, values, parties: ctx.Barrier(parties),
    "Condition": lambda ctx, typecode, value, values, parties: ctx.Condition(),
    "ShareableList": lambda ctx, typecode, value, values, parties: create_shareable_list(values),
}


# What the observer undoes at the end of a run for an object it made, however
# the run ends: a block of shared memory is closed and unlinked from /dev/shm.
# A kind not here leaves nothing behind (a named semaphore is unlinked when it
# is collected).
CLOSERS: dict[str, Callable[[Any], None]] = {
    "SharedMemory": close_block,
    "ShareableList": close_shareable_list,
}


def close_shared(kind: str, obj: Any) -> None:
    """Undo what making a shared object of `kind` left behind; safe to call twice."""
    closer = CLOSERS.get(kind)
    if closer is not None:
        closer(obj)


def make(ctx: Any, kind: str, typecode: str, value: Any, values: tuple, parties: int) -> Any:
    """The real multiprocessing object for a [shared.NAME] table."""
    return CONSTRUCTORS[kind](ctx, typecode, value, values, parties)
