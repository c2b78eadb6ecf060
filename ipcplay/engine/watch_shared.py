"""A watched program's Value, Array, Event, Barrier and Condition.

As watch_objects does for channels and locks: the real object underneath,
counted per process in that process's slots of the board, the program's
line said only where a call waits.

A Value's lost updates are counted, not guessed. `v.value += 1` is a read
then a write; each process remembers what it last read, and a write counts
as an add of (new - what this process read): what the program meant to add.
A write with no read before it counts the change it really made. So the
expected value is the initial one plus every counted add, and expected -
actual is exactly the updates that other processes' writes overwrote.

In step mode (issue 18) `v.value += 1` is the two operations it is, a
read and then a write, each waiting at the process's gate: so another
process may be let write in between, and an update be lost by hand. A
lock's acquire and release are gated in ProgramLock.

An Event's state is said on the board at each set and clear (the time, then
the flag): the observer takes the newest, since it cannot read the
semaphore of a program's Event itself.
"""

from __future__ import annotations

import struct
import threading
from time import monotonic_ns
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine import watch_runtime as _rt
from ipcplay.engine.endpoints import SharedEndpoint
from ipcplay.engine.primitives import _Slots
from ipcplay.engine.watch_objects import ProgramLock, _Watched, _where
from ipcplay.engine.watch_runtime import Runtime, runtime

_FLOAT_BITS_IN = struct.Struct("d")  # a float Value's number, said as the int64 of its bits
_FLOAT_BITS = struct.Struct("q")


def _slots(obj: _Watched, rt: Runtime) -> _Slots:
    ep = SharedEndpoint(obj._index, rt.layout.nchan + obj._index, obj._name, obj._kind)
    return _Slots(ep, rt.mv, rt.layout, rt.proc, rt.journal)


class _WatchedShared(_Watched):
    """One end per process, bound on first use, with its use bits."""

    __slots__ = ()

    def _make_end(self, rt: Runtime) -> Any:
        raise NotImplementedError

    def _user(self) -> Any:
        end = self._w
        if end is not None:
            return end
        rt = runtime()
        if rt is None or rt.proc < 0 or self._index < 0:
            return None
        end = self._w = self._make_end(rt)
        rt.use(self._slot, "uses")
        return end

    def _mark(self, op: str) -> None:
        rt = runtime()
        if rt is not None:
            rt.use(self._slot, op)


# ---------------------------------------------------------------- Value, Array


class ValueEnd:
    __slots__ = ("_added", "_float", "_last", "_raw", "_s", "_updates", "_wrote", "lock")

    def __init__(self, raw: Any, slots: _Slots, owner: _WatchedShared) -> None:
        self._raw = raw
        self._s = slots
        self.lock = ProgramLock(raw.get_lock(), slots)
        mv, base = slots.mv, slots.base
        self._updates = mv[base + B.S_UPDATES]
        self._added = mv[base + B.S_ADDED]
        self._last: Any = None
        self._wrote = False
        self._float = isinstance(raw.get_obj().value, float)

    def read(self) -> Any:
        value = self._last = self._raw.value
        return value

    def write(self, new: Any, owner: _WatchedShared) -> None:
        raw = self._raw
        before = self._last if self._last is not None else raw.get_obj().value
        raw.value = new
        self._last = None
        mv, base = self._s.mv, self._s.base
        said = raw.get_obj().value  # as stored (a c_int wraps what Python would not)
        mv[base + B.S_VALUE] = (
            _FLOAT_BITS.unpack(_FLOAT_BITS_IN.pack(said))[0] if self._float else int(said)
        )
        mv[base + B.S_VALUE_AT] = monotonic_ns()
        self._updates += 1
        mv[base + B.S_UPDATES] = self._updates
        if not self._float and type(new) is int and type(before) is int:
            self._added += new - before
            mv[base + B.S_ADDED] = self._added
        if not self._wrote:
            self._wrote = True
            owner._mark("add")


class WatchedValue(_WatchedShared):
    """multiprocessing.Value (with its lock), counted: reads, writes, adds."""

    __slots__ = ()

    def _make_end(self, rt: Runtime) -> Any:
        return ValueEnd(self._raw, _slots(self, rt), self)

    @property
    def value(self) -> Any:
        end = self._w or self._user()
        if end is None:
            return self._raw.value
        if _rt.gate_on[0]:
            _rt.gate("read", _rt.shared_code(self._index))
        return end.read()

    @value.setter
    def value(self, new: Any) -> None:
        end = self._w or self._user()
        if end is None:
            self._raw.value = new
            return
        if _rt.gate_on[0]:
            _rt.gate("write", _rt.shared_code(self._index), new)
        end.write(new, self)

    def get_lock(self) -> Any:
        end = self._w or self._user()
        return self._raw.get_lock() if end is None else end.lock

    def get_obj(self) -> Any:
        return self._raw.get_obj()

    def acquire(self, *args: Any) -> bool:
        return self.get_lock().acquire(*args)

    def release(self) -> None:
        self.get_lock().release()

    def __enter__(self) -> bool:
        return self.get_lock().acquire()

    def __exit__(self, *exc: object) -> None:
        self.get_lock().release()


class ArrayEnd:
    __slots__ = ("_raw", "_s", "_updates", "_wrote", "lock")

    def __init__(self, raw: Any, slots: _Slots, owner: _WatchedShared) -> None:
        self._raw = raw
        self._s = slots
        self.lock = ProgramLock(raw.get_lock(), slots)
        self._updates = slots.mv[slots.base + B.S_UPDATES]
        self._wrote = False

    def wrote(self, owner: _WatchedShared) -> None:
        self._updates += 1
        self._s.mv[self._s.base + B.S_UPDATES] = self._updates
        if not self._wrote:
            self._wrote = True
            owner._mark("write")


class WatchedArray(WatchedValue):
    """multiprocessing.Array (with its lock), counted: element writes."""

    __slots__ = ()

    def _make_end(self, rt: Runtime) -> Any:
        return ArrayEnd(self._raw, _slots(self, rt), self)

    def __len__(self) -> int:
        return len(self._raw)

    def __getitem__(self, i: Any) -> Any:
        end = self._w or self._user()
        if end is not None and _rt.gate_on[0]:
            _rt.gate("read", _rt.shared_code(self._index))
        return self._raw[i]

    def __setitem__(self, i: Any, value: Any) -> None:
        end = self._w or self._user()
        if end is not None and _rt.gate_on[0]:
            _rt.gate("write", _rt.shared_code(self._index), value)
        self._raw[i] = value
        if end is not None:
            end.wrote(self)

    def __iter__(self) -> Any:
        end = self._w or self._user()
        if end is not None and _rt.gate_on[0]:
            _rt.gate("read", _rt.shared_code(self._index))
        return iter(self._raw[:])

    @property
    def value(self) -> Any:  # a char Array's bytes
        if self._w is not None and _rt.gate_on[0]:
            _rt.gate("read", _rt.shared_code(self._index))
        return self._raw.value

    @value.setter
    def value(self, new: Any) -> None:
        end = self._w or self._user()
        if end is not None and _rt.gate_on[0]:
            _rt.gate("write", _rt.shared_code(self._index))
        self._raw.value = new
        if end is not None:
            end.wrote(self)


# ---------------------------------------------------------------- Event


class EventEnd:
    __slots__ = ("_ev", "_marked", "_s")

    def __init__(self, event: Any, slots: _Slots) -> None:
        self._ev = event
        self._s = slots
        self._marked: set[str] = set()

    def said(self, state: int) -> None:
        mv, base = self._s.mv, self._s.base
        mv[base + B.S_EVENT_AT] = monotonic_ns()
        mv[base + B.S_EVENT_STATE] = state


class WatchedEvent(_WatchedShared):
    """multiprocessing.Event, counted: set, clear, and waits, timed."""

    __slots__ = ()

    def _make_end(self, rt: Runtime) -> Any:
        return EventEnd(self._raw, _slots(self, rt))

    def _op(self, op: str) -> Any:
        end = self._w or self._user()
        if end is not None:
            if op not in end._marked:
                end._marked.add(op)
                self._mark(op)
            if _rt.gate_on[0]:
                _rt.gate(op, _rt.shared_code(self._index))
        return end

    def set(self) -> None:
        end = self._op("set")
        if end is None:
            return self._raw.set()
        end._s.log(B.SYNC_SET)  # before the call, so it precedes the waits it ends
        self._raw.set()
        end._s.bump(B.S_SETS)
        end.said(1)

    def clear(self) -> None:
        end = self._op("clear")
        self._raw.clear()
        if end is not None:
            end._s.bump(B.S_CLEARS)
            end.said(0)
            end._s.log(B.SYNC_CLEAR)

    def is_set(self) -> bool:
        return self._raw.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        end = self._op("wait")
        if end is None or self._raw.is_set():
            got = self._raw.wait(timeout)
            if end is not None:
                end._s.returned()
            return got
        slots = end._s
        _where()
        t0 = slots.begin_wait(B.OP_EVENT_WAIT)
        try:
            got = self._raw.wait(timeout)
        finally:
            slots.end_wait(B.OP_EVENT_WAIT, t0, True)
        slots.returned()
        slots.log(B.SYNC_WAITED)
        return got


# ---------------------------------------------------------------- Barrier


class WatchedBarrier(_WatchedShared):
    """multiprocessing.Barrier, counted: each wait stamped, timed and said where."""

    __slots__ = ()

    def _make_end(self, rt: Runtime) -> Any:
        self._mark("wait")
        return _slots(self, rt)

    def wait(self, timeout: float | None = None) -> int:
        slots = self._w or self._user()
        if slots is None:
            return self._raw.wait(timeout)
        if _rt.gate_on[0]:
            _rt.gate("wait", _rt.shared_code(self._index))
        _where()
        t0 = slots.begin_wait(B.OP_BARRIER_WAIT)
        try:
            arrival = self._raw.wait(timeout)
        except threading.BrokenBarrierError:
            slots.bump(B.S_BROKEN)
            slots.log(B.SYNC_BROKEN)
            raise
        finally:
            slots.end_wait(B.OP_BARRIER_WAIT, t0, True)
        slots.returned()
        slots.log(B.SYNC_PASSED, arrival)
        return arrival

    def reset(self) -> None:
        self._raw.reset()

    def abort(self) -> None:
        self._raw.abort()

    @property
    def parties(self) -> int:
        return self._raw.parties

    @property
    def n_waiting(self) -> int:
        return self._raw.n_waiting

    @property
    def broken(self) -> bool:
        return self._raw.broken


# ---------------------------------------------------------------- Condition


class ConditionEnd(ProgramLock):
    """A Condition's lock, counted as a lock, and its waits and notifies."""

    __slots__ = ()

    def _give_up(self) -> int:
        slots = self._s
        mv, base = slots.mv, slots.base
        depth = self._held
        if depth:
            self._held = 0
            mv[base + B.S_HELD] = 0
            mv[base + B.S_HOLD_NS] += monotonic_ns() - mv[base + B.S_HELD_SINCE]
        return depth

    def _take_back(self, depth: int) -> None:
        slots = self._s
        mv, base = slots.mv, slots.base
        mv[base + B.S_HELD_SINCE] = monotonic_ns()
        self._held = depth
        mv[base + B.S_HELD] = depth

    def wait_on(self, call: Any, *args: Any) -> Any:
        slots = self._s
        depth = self._give_up()
        _where()
        t0 = slots.begin_wait(B.OP_COND_WAIT)
        try:
            result = call(*args)
        finally:
            slots.end_wait(B.OP_COND_WAIT, t0, True)
            self._take_back(depth)
        slots.returned()
        slots.log(B.SYNC_NOTIFIED)
        return result

    def notify(self, count: int = 1) -> None:
        self._s.log(B.SYNC_NOTIFY, count)
        self._lock.notify(count)
        self._s.bump(B.S_NOTIFIES)
        self._s.mv[self._s.base + B.S_NOTIFY_N] += count

    def notify_all(self) -> None:
        self._s.log(B.SYNC_NOTIFY_ALL)
        self._lock.notify_all()
        self._s.bump(B.S_NOTIFIES)


class WatchedCondition(_WatchedShared):
    """multiprocessing.Condition, counted: as a lock, plus waits and notifies."""

    __slots__ = ()

    def _make_end(self, rt: Runtime) -> Any:
        for op in ("acquire", "release", "wait", "notify", "notify_all"):
            self._mark(op)
        return ConditionEnd(self._raw, _slots(self, rt))

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        end = self._w or self._user()
        return self._raw.acquire(block, timeout) if end is None else end.acquire(block, timeout)

    def release(self) -> None:
        end = self._w or self._user()
        if end is None:
            self._raw.release()
        else:
            end.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _gate(self, word: str) -> None:
        if _rt.gate_on[0]:
            _rt.gate(word, _rt.shared_code(self._index))

    def wait(self, timeout: float | None = None) -> bool:
        end = self._w or self._user()
        if end is None:
            return self._raw.wait(timeout)
        self._gate("wait")
        return end.wait_on(self._raw.wait, timeout)

    def wait_for(self, predicate: Any, timeout: float | None = None) -> Any:
        end = self._w or self._user()
        if end is not None:
            self._gate("wait")
        if end is None or predicate():
            return self._raw.wait_for(predicate, timeout)
        return end.wait_on(self._raw.wait_for, predicate, timeout)

    def notify(self, n: int = 1) -> None:
        end = self._w or self._user()
        if end is None:
            self._raw.notify(n)
        else:
            self._gate("notify")
            end.notify(n)

    def notify_all(self) -> None:
        end = self._w or self._user()
        if end is None:
            self._raw.notify_all()
        else:
            self._gate("notify_all")
            end.notify_all()


SHARED_CLASSES: dict[str, type] = {
    "Value": WatchedValue,
    "Array": WatchedArray,
    "Event": WatchedEvent,
    "Barrier": WatchedBarrier,
    "Condition": WatchedCondition,
}
