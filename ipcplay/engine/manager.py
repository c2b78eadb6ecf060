"""Manager-backed objects: a list, a dict, a Namespace and queues in a server process.

A `multiprocessing.Manager()` (a SyncManager) is a real process that holds the
objects; every other process holds *proxies* and each method call is a round
trip over a connection to it. ipcplay starts that server itself, as a child of
the observer tied to its life like every other child, and shows it as its own
panel.

Counting follows the board's rule: each calling process counts the calls it
makes through its own instrumented proxy wrapper, in its own (process, object)
slots, so per-method counts are exact and cost a store per call (next to a
round trip of tens of microseconds). The observer sums them per method.

A `ManagerQueue` channel is a `queue.Queue` in a server; its wrapper keeps the
very counters and "blocked on" markers of an instrumented Queue, so depth,
blocked time and the wait-for graph (a get whose every producer has exited is a
hang) work unchanged. With `remote = true` the queue is served by a
`BaseManager` subclass on 127.0.0.1 with a random port and a random authkey,
and each process `connect()`s to it by address and authkey, as two programs on
two machines would (the seeds' "remote concurrency").

This module is what runs in the children and the servers; the observer's side
(starting the servers, reading live values, the panels) is manager_watch.py.
"""

from __future__ import annotations

import queue
import signal
import threading
from dataclasses import dataclass
from multiprocessing.managers import BaseManager
from time import monotonic_ns
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine import lifeline
from ipcplay.engine.channels_base import dumps
from ipcplay.engine.channels_queue import InstrumentedQueue
from ipcplay.engine.endpoints import Endpoint
from ipcplay.engine.journal import JournalWriter

# The proxy methods each kind's wrapper calls, in the order of their count slots.
METHODS: dict[str, tuple[str, ...]] = {
    "ManagerList": ("append", "__setitem__", "__getitem__"),
    "ManagerDict": ("__setitem__", "__getitem__"),
    "ManagerNamespace": ("__setattr__", "__getattribute__"),
}
# The (process, object) board slots that hold those counts: any slot but HELD,
# which the lock code reads as "this process holds it" for every kind.
CALL_SLOTS = (B.S_OPS, B.S_RELEASES, B.S_WAIT_NS, B.S_HOLD_NS, B.S_CONTENDED)
CALL_NS = B.S_UPDATES  # time spent in those calls, round trips included


# ----------------------------------------------------------------- server side
def serve_init(observer_pid: int, quiet: bool) -> None:
    """Runs first in a manager's server process: die with the observer (even on
    SIGKILL, as every child does), let SIGTERM terminate it, stay off the TUI."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    lifeline.die_with_observer(observer_pid)
    if quiet:
        lifeline.quiet()


_SERVED: dict[str, queue.Queue] = {}
_SERVED_LOCK = threading.Lock()


def served_queue(name: str, maxsize: int = 0) -> queue.Queue:
    """The remote manager's queue `name`, made on first use. The server runs
    one thread per connection, so making it is locked: two first callers must
    get one queue."""
    with _SERVED_LOCK:
        served = _SERVED.get(name)
        if served is None:
            served = _SERVED[name] = queue.Queue(maxsize)
        return served


class RemoteQueueManager(BaseManager):
    """The BaseManager subclass a remote ManagerQueue is served by. Registered at
    import, so a spawned server and every client know `get_queue`."""


RemoteQueueManager.register("get_queue", callable=served_queue)


@dataclass(frozen=True)
class RemoteQueueRef:
    """What a process needs to reach a remote queue: address, authkey, name.
    Passed instead of a proxy, so the process connects by itself."""

    address: tuple[str, int]
    authkey: bytes
    name: str
    maxsize: int


def connect_queue(ref: RemoteQueueRef) -> tuple[Any, Any]:
    """(manager, queue proxy): `manager = QueueManager(address, authkey); manager.connect()`."""
    manager = RemoteQueueManager(address=ref.address, authkey=ref.authkey)
    manager.connect()
    return manager, manager.get_queue(ref.name, ref.maxsize)


# ----------------------------------------------------------------- client side
class InstrumentedManagerObject:
    """A proxy to a Manager list, dict or Namespace; each call counted by method."""

    __slots__ = ("_calls", "_mv", "_ns", "_proxy", "_slot")

    def __init__(self, proxy: Any, kind: str, mv: memoryview, base: int) -> None:
        self._proxy = proxy
        self._mv = mv
        self._slot = {
            method: base + CALL_SLOTS[position] for position, method in enumerate(METHODS[kind])
        }
        self._calls = {method: mv[slot] for method, slot in self._slot.items()}
        self._ns = base + CALL_NS

    def _count(self, method: str, t0: int) -> None:
        calls = self._calls[method] + 1
        self._calls[method] = calls
        mv = self._mv
        mv[self._slot[method]] = calls
        mv[self._ns] += monotonic_ns() - t0

    def append(self, item: Any) -> None:
        t0 = monotonic_ns()
        self._proxy.append(item)
        self._count("append", t0)

    def append_at(self, key: Any, item: Any, assign: bool) -> None:
        """`target[key].append(item)`: the proxy's __getitem__ returns a *copy* of
        the inner list, so the append changes only that copy; with `assign`, the
        copy goes back with __setitem__ (the fix the docs give)."""
        t0 = monotonic_ns()
        row = self._proxy[key]
        self._count("__getitem__", t0)
        row.append(item)
        if assign:
            t0 = monotonic_ns()
            self._proxy[key] = row
            self._count("__setitem__", t0)

    def setitem(self, key: Any, item: Any) -> None:
        t0 = monotonic_ns()
        self._proxy[key] = item
        self._count("__setitem__", t0)

    def setattr(self, name: str, item: Any) -> None:
        t0 = monotonic_ns()
        setattr(self._proxy, name, item)
        self._count("__setattr__", t0)


class _SizedProxy:
    """A reader's queue proxy that also counts each item's pickled size, as a
    Queue's reader does; the proxy's own frames (method name, ids) are not
    counted, so the bytes mean the same as on a Queue."""

    __slots__ = ("_owner", "_proxy", "put")

    def __init__(self, proxy: Any, owner: InstrumentedManagerQueue) -> None:
        self._proxy = proxy
        self._owner = owner
        self.put = proxy.put

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        obj = self._proxy.get(block, timeout)
        owner = self._owner
        owner._last_buf = data = dumps(obj)
        owner._bin += len(data)
        owner._mvc[B.IN_BYTES] = owner._bin
        return obj


class InstrumentedManagerQueue(InstrumentedQueue):
    """A Manager's queue proxy with an instrumented Queue's counters and markers.

    The proxy raises queue.Full and queue.Empty as the server's queue does, so
    the bounded-put and get paths of `InstrumentedQueue` apply as they are.
    """

    __slots__ = ("_manager",)

    def _hook_recv(self) -> None:
        """The queue lives in the server: a reader measures what each get returns
        (pickled again: a few µs beside a round trip of tens)."""
        self._q = _SizedProxy(self._q, self)

    def close(self) -> None:
        """A proxy has nothing to close; the server keeps the queue."""

    def join_thread(self) -> None:
        """No feeder thread: put returns once the server has the item."""

    def cancel_join_thread(self) -> None:
        """No feeder thread to cancel."""


def instrument_queue(
    handle: Any,
    ep: Endpoint,
    mv: memoryview,
    layout: B.Layout,
    proc: int,
    journal: JournalWriter | None,
) -> InstrumentedManagerQueue:
    """Wrap a queue proxy; a `RemoteQueueRef` is connected to first, by address."""
    manager = None
    if isinstance(handle, RemoteQueueRef):
        manager, handle = connect_queue(handle)
    wrapper = InstrumentedManagerQueue(handle, ep, mv, layout, proc, journal)
    wrapper._manager = manager  # the connection's owner lives as long as the queue
    return wrapper


def instrument_object(
    proxy: Any, kind: str, mv: memoryview, layout: B.Layout, proc: int, index: int
) -> Any:
    return InstrumentedManagerObject(proxy, kind, mv, layout.shared(proc, index))


__all__ = [
    "CALL_NS",
    "CALL_SLOTS",
    "METHODS",
    "InstrumentedManagerObject",
    "InstrumentedManagerQueue",
    "RemoteQueueManager",
    "RemoteQueueRef",
    "connect_queue",
    "instrument_object",
    "instrument_queue",
]
