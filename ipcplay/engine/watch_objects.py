"""The objects a watched program gets when it asks multiprocessing for one.

`multiprocessing.Queue()` in a watched program returns a `WatchedQueue`: the
real queue, registered under the name the program binds it to, with the API
of the real one. Each process binds it, on its first put (or get), to
its own instrumented end (the scenario's wrappers, channels*.py and
primitives.py, so a program's counts are a scenario's), and says so in the
registry: "this process writes (reads) this queue". A process that is not
registered (os.fork) or an object made past the caps gets the raw object:
it works, uncounted.

What differs from a scenario's ends: nobody declared who writes what, so no
peer counter proves that a get will find an item. A get first asks the pipe
itself (one poll): only a call that will wait takes the timed path, and
only that path looks up the program's line (`Runtime.where`).

In step mode (issue 18) each operation first waits at the process's gate
(watch_runtime.gate): the check is one read of the board, in the wrapper's
own Python code, before the end is reached.

Pickling (spawn, forkserver, or a Pipe end sent over a Pipe) carries the raw
object, the index and the slot; the child rebuilds the watched object
around its own copy of the raw one.
"""

from __future__ import annotations

import select
from time import monotonic_ns
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine import watch_runtime as _rt
from ipcplay.engine.channels_pipe import InstrumentedConnection, InstrumentedSimpleQueue
from ipcplay.engine.channels_queue import InstrumentedJoinableQueue, InstrumentedQueue
from ipcplay.engine.endpoints import Endpoint, SharedEndpoint
from ipcplay.engine.primitives import InstrumentedLock, _Slots
from ipcplay.engine.watch_runtime import Runtime, runtime


def _where() -> None:
    rt = runtime()
    if rt is not None:
        rt.where()


def _poller(fd_of: Any) -> Any:
    """A poll object on the end's reading descriptor, made once: asking
    Connection.poll() builds a selector each time (7 us a get, more than a
    small send and recv together); this asks the kernel alone (0.7 us)."""
    try:
        fd = fd_of()
        if fd is None:  # a write-only end: nothing to read
            return None
        poller = select.poll()
        poller.register(fd, select.POLLIN)
    except (OSError, ValueError, AttributeError):
        return None
    return poller


def _program_end(base: type, reader_fd: Any, fallback: Any) -> type:
    """A program's end of one kind: the scenario's wrapper `base`, whose
    readiness check asks the kernel (a poll object on `reader_fd(raw)`,
    made once; else `fallback(end)`), and whose timed path (a call that
    will wait) says the program's line. One recipe for every kind; each
    class keeps its own __slots__ for the poll object."""

    def __init__(self: Any, raw: Any, *args: Any) -> None:
        base.__init__(self, raw, *args)
        self._poll = _poller(lambda: reader_fd(raw))

    def _more(self: Any, seq: int) -> bool:
        poll = self._poll
        return bool(poll.poll(0)) if poll is not None else bool(fallback(self))

    def _timed(self: Any, op: int, seq: int) -> int:
        _where()
        return base._timed(self, op, seq)

    return type(
        "Program" + base.__name__.removeprefix("Instrumented") + "End",
        (base,),
        {"__slots__": ("_poll",), "__init__": __init__, "_more": _more, "_timed": _timed},
    )


ProgramQueueEnd = _program_end(
    InstrumentedQueue, lambda q: q._reader.fileno(), lambda end: end._q._poll()
)
ProgramJoinableQueueEnd = _program_end(
    InstrumentedJoinableQueue, lambda q: q._reader.fileno(), lambda end: end._q._poll()
)
ProgramSimpleQueueEnd = _program_end(
    InstrumentedSimpleQueue, lambda q: q._reader.fileno(), lambda end: end._reader.poll()
)
ProgramConnectionEnd = _program_end(
    InstrumentedConnection,
    lambda conn: conn.fileno() if conn.readable else None,
    lambda end: end._c.poll(),
)


END_CLASSES: dict[str, type] = {
    "Queue": ProgramQueueEnd,
    "JoinableQueue": ProgramJoinableQueueEnd,
    "SimpleQueue": ProgramSimpleQueueEnd,
    "Pipe": ProgramConnectionEnd,
}


def _endpoint(index: int, name: str, kind: str, maxsize: int) -> Endpoint:
    return Endpoint(index, name, kind, maxsize, True, True, (), (), False, False)


class _Watched:
    """What every watched object holds: the raw object, where it is on the
    board and in the registry, and this process's ends (None: not bound
    yet here). `_w` serves the writing calls, `_r` the reading ones."""

    __slots__ = ("__weakref__", "_index", "_kind", "_maxsize", "_name", "_r", "_raw", "_slot", "_w")

    def __init__(self, raw: Any, kind: str, name: str, index: int, slot: int, maxsize: int = 0):
        self._raw = raw
        self._kind = kind
        self._name = name
        self._index = index
        self._slot = slot
        self._maxsize = maxsize
        self._w: Any = None
        self._r: Any = None
        rt = runtime()
        if rt is not None:
            rt.objects.add(self)

    def _unbind(self) -> None:
        """A new process: the ends bound in the old one count in its slots."""
        self._w = self._r = None

    def _end(self, rt: Runtime | None) -> Any:
        """This process's instrumented end, or the raw object if uncounted."""
        end = self._w or self._r
        if end is not None:
            return end
        if rt is None or rt.proc < 0 or self._index < 0:
            return self._raw
        raw = self._raw
        if self._kind in ("Queue", "JoinableQueue"):
            # A forked child inherits the hook its parent put on the queue:
            # count on the queue's own reader, not on the parent's counter.
            raw._recv_bytes = raw._reader.recv_bytes
            # ... and the feeder's error hook its parent set: the class's own again.
            raw.__dict__.pop("_on_queue_feeder_error", None)
        return END_CLASSES[self._kind](
            raw,
            _endpoint(self._index, self._name, self._kind, self._maxsize),
            rt.mv,
            rt.layout,
            rt.proc,
            rt.journal,
        )

    def _bind_w(self) -> Any:
        rt = runtime()
        end = self._w = self._end(rt)
        if rt is not None and end is not self._raw:
            rt.use(self._slot, "writes")
        return end

    def _bind_r(self) -> Any:
        rt = runtime()
        end = self._r = self._end(rt)
        if rt is not None and end is not self._raw:
            rt.use(self._slot, "reads")
        return end

    def __reduce__(self) -> Any:
        return (
            _rebuild,
            (type(self), self._raw, self._kind, self._name, self._index, self._slot, self._maxsize),
        )

    def __getattr__(self, name: str) -> Any:
        # Anything the wrapper does not count is the raw object's own.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._raw, name)

    def __repr__(self) -> str:
        return repr(self._raw)


def _rebuild(cls: type, raw: Any, kind: str, name: str, index: int, slot: int, maxsize: int) -> Any:
    return cls(raw, kind, name, index, slot, maxsize)


class WatchedQueue(_Watched):
    """multiprocessing.Queue (and JoinableQueue), counted."""

    __slots__ = ()

    def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        if _rt.gate_on[0]:
            _rt.gate("put", self._index)
        (self._w or self._bind_w()).put(obj, block, timeout)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if _rt.gate_on[0]:
            _rt.gate("get", self._index)
        return (self._r or self._bind_r()).get(block, timeout)

    def put_nowait(self, obj: Any) -> None:
        if _rt.gate_on[0]:
            _rt.gate("put", self._index)
        (self._w or self._bind_w()).put(obj, False)

    def get_nowait(self) -> Any:
        if _rt.gate_on[0]:
            _rt.gate("get", self._index)
        return (self._r or self._bind_r()).get(False)

    def qsize(self) -> int:
        return self._raw.qsize()

    def empty(self) -> bool:
        return self._raw.empty()

    def full(self) -> bool:
        return self._raw.full()

    def close(self) -> None:
        self._raw.close()

    def join_thread(self) -> None:
        self._raw.join_thread()

    def cancel_join_thread(self) -> None:
        self._raw.cancel_join_thread()


class WatchedJoinableQueue(WatchedQueue):
    __slots__ = ()

    def task_done(self) -> None:
        if _rt.gate_on[0]:
            _rt.gate("task_done", self._index)
        (self._r or self._bind_r()).task_done()

    def join(self) -> None:
        if _rt.gate_on[0]:
            _rt.gate("join", self._index)
        (self._w or self._bind_w()).join()


class WatchedSimpleQueue(_Watched):
    __slots__ = ()

    def put(self, obj: Any) -> None:
        if _rt.gate_on[0]:
            _rt.gate("put", self._index)
        (self._w or self._bind_w()).put(obj)

    def get(self) -> Any:
        if _rt.gate_on[0]:
            _rt.gate("get", self._index)
        return (self._r or self._bind_r()).get()

    def empty(self) -> bool:
        return self._raw.empty()

    def close(self) -> None:
        self._raw.close()


class WatchedConnection(_Watched):
    """One end of a multiprocessing.Pipe, counted. Both ends share the
    Pipe's one channel index: what one sent the other may receive."""

    __slots__ = ()

    def send(self, obj: Any) -> None:
        if _rt.gate_on[0]:
            _rt.gate("send", self._index)
        (self._w or self._bind_w()).send(obj)

    def recv(self) -> Any:
        if _rt.gate_on[0]:
            _rt.gate("recv", self._index)
        return (self._r or self._bind_r()).recv()

    def send_bytes(self, buf: Any, offset: int = 0, size: int | None = None) -> None:
        if _rt.gate_on[0]:
            _rt.gate("send", self._index)
        (self._w or self._bind_w()).send_bytes(buf, offset, size)

    def recv_bytes(self, maxlength: int | None = None) -> bytes:
        if _rt.gate_on[0]:
            _rt.gate("recv", self._index)
        return (self._r or self._bind_r()).recv_bytes(maxlength)

    def recv_bytes_into(self, buf: Any, offset: int = 0) -> int:
        if _rt.gate_on[0]:  # uncounted, but an operation all the same
            _rt.gate("recv", self._index)
        return self._raw.recv_bytes_into(buf, offset)

    def poll(self, timeout: float | None = 0.0) -> bool:
        return self._raw.poll(timeout)

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:
        self._raw.close()

    @property
    def closed(self) -> bool:
        return self._raw.closed

    @property
    def readable(self) -> bool:
        return self._raw.readable

    @property
    def writable(self) -> bool:
        return self._raw.writable

    def __enter__(self) -> WatchedConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self._raw.close()


# ---------------------------------------------------------------- locks


class ProgramLock(InstrumentedLock):
    """A program's lock end, with the real API: acquire(block, timeout)
    returns whether it got the lock; the wait's line is said on the slow
    path only. Every lock of a program is one (a Lock, a Semaphore, a
    Value's get_lock(), a Condition's), so its gate is here."""

    __slots__ = ()

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:  # type: ignore[override]
        slots = self._s
        if _rt.gate_on[0]:
            _rt.gate("acquire", slots.ep.code)
        lock = self._lock
        if not lock.acquire(False):
            if not block:
                return False
            slots.bump(B.S_CONTENDED)
            _where()
            t0 = slots.begin_wait(B.OP_ACQUIRE)
            try:
                got = lock.acquire(True) if timeout is None else lock.acquire(True, timeout)
            finally:
                slots.end_wait(B.OP_ACQUIRE, t0, True)
            if not got:
                return False
        mv, base = slots.mv, slots.base
        if self._held == 0:
            mv[base + B.S_HELD_SINCE] = monotonic_ns()
        self._held += 1
        mv[base + B.S_HELD] = self._held
        slots.returned()
        slots.log(B.SYNC_ACQUIRE)
        return True

    def release(self) -> None:  # type: ignore[override]
        slots = self._s
        if _rt.gate_on[0]:
            _rt.gate("release", slots.ep.code)
        mv, base = slots.mv, slots.base
        if self._held > 0:
            self._held -= 1
            mv[base + B.S_HELD] = self._held
            if self._held == 0:
                mv[base + B.S_HOLD_NS] += monotonic_ns() - mv[base + B.S_HELD_SINCE]
        slots.log(B.SYNC_RELEASE)
        try:
            self._lock.release()
        except BaseException:
            # Not ours to release (ValueError, AssertionError): as it was.
            self._held = max(0, self._held)
            raise
        mv[base + B.S_RELEASES] += 1


class WatchedLock(_Watched):
    """multiprocessing.Lock (and RLock, Semaphore, BoundedSemaphore), counted:
    who holds it, who waits for it and where."""

    __slots__ = ()

    def _end(self, rt: Runtime | None) -> Any:
        end = self._w
        if end is not None:
            return end
        if rt is None or rt.proc < 0 or self._index < 0:
            return self._raw
        nchan = rt.layout.nchan
        ep = SharedEndpoint(self._index, nchan + self._index, self._name, self._kind)
        return ProgramLock(self._raw, _Slots(ep, rt.mv, rt.layout, rt.proc, rt.journal))

    def _user(self) -> Any:
        rt = runtime()
        end = self._w = self._r = self._end(rt)
        if rt is not None and end is not self._raw:
            rt.use(self._slot, "uses", "acquire", "release")
        return end

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        return (self._w or self._user()).acquire(block, timeout)

    def release(self) -> None:
        (self._w or self._user()).release()

    def __enter__(self) -> bool:
        return (self._w or self._user()).acquire()

    def __exit__(self, *exc: object) -> None:
        (self._w or self._user()).release()

    def get_value(self) -> int:
        return self._raw.get_value()


# The watched class of each kind the hooks make (watch_hooks).
CHANNEL_CLASSES: dict[str, type] = {
    "Queue": WatchedQueue,
    "JoinableQueue": WatchedJoinableQueue,
    "SimpleQueue": WatchedSimpleQueue,
    "Pipe": WatchedConnection,
}
SHARED_CLASSES: dict[str, type] = {
    "Lock": WatchedLock,
    "RLock": WatchedLock,
    "Semaphore": WatchedLock,
    "BoundedSemaphore": WatchedLock,
}
