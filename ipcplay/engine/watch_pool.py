"""A watched program's Pool and ProcessPoolExecutor: their queues, counted.

A Pool is a task queue and a result queue between the program's process and
its workers (two SimpleQueues), and threads in the program's process that
feed and drain them. So a Pool shows as two channels, `pool tasks` and
`pool results` (named for what the program binds the Pool to), and its
workers as processes (role `pool-worker`, so that the Pool's own
terminate() at exit is not taken for a crash). Every task message sent (a
chunk of a map is one message, as on the wire) and every result is counted.

The Pool's threads send and receive with the raw connection calls
(`_quick_put`, `_quick_get`); they are replaced by counting ones that mark
no wait: a helper thread waiting for results is not the program's process
being blocked. The workers use the queues' own put and get: counted and
marked as any watched SimpleQueue, so an idle worker shows blocked in get
on `pool tasks`, as it is.

A ProcessPoolExecutor is the same in other words: a call queue (a Queue)
and a result queue (a SimpleQueue), fed and drained by its manager thread.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec, PathFinder
from time import monotonic_ns
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine import watch_runtime
from ipcplay.engine.channels_base import dumps, loads
from ipcplay.engine.watch_objects import WatchedQueue, WatchedSimpleQueue
from ipcplay.engine.watch_runtime import Runtime, runtime

WORKER_TARGETS = {"worker", "_process_worker"}  # multiprocessing.pool's, concurrent.futures'


class _Counter:
    """Counts one direction of one channel in this process's slots, with
    no marker and no clock: for a Pool's or an executor's helper thread."""

    def __init__(self, rt: Runtime, index: int, slot: int, op: str) -> None:
        self.mv = rt.mv
        self.at = rt.layout.chan(rt.proc, index)
        self.count = self.mv[self.at + (B.OUT_N if op == "writes" else B.IN_N)]
        self.nbytes = self.mv[self.at + (B.OUT_BYTES if op == "writes" else B.IN_BYTES)]
        rt.use(slot, op)

    def sent(self, nbytes: int) -> None:
        self.count += 1
        self.nbytes += nbytes
        self.mv[self.at + B.OUT_N] = self.count
        self.mv[self.at + B.OUT_BYTES] = self.nbytes

    def received(self, nbytes: int) -> None:
        self.count += 1
        self.nbytes += nbytes
        self.mv[self.at + B.IN_N] = self.count
        self.mv[self.at + B.IN_BYTES] = self.nbytes


def counting_send(conn: Any, counter: _Counter) -> Callable[[Any], None]:
    def send(obj: Any) -> None:
        data = dumps(obj)
        conn.send_bytes(data)
        counter.sent(len(data))

    return send


def counting_recv(conn: Any, counter: _Counter) -> Callable[[], Any]:
    def recv() -> Any:
        data = conn.recv_bytes()
        counter.received(len(data))
        return loads(data)

    return recv


class _CountingReader:
    """A connection whose recv() counts: the executor's manager thread reads
    results straight from the result queue's `_reader`."""

    def __init__(self, conn: Any, counter: _Counter) -> None:
        self._conn = conn
        self.recv = counting_recv(conn, counter)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def _register(rt: Runtime, raw: Any, kind: str, name: str, cls: type, maxsize: int = 0) -> Any:
    from ipcplay.engine.watch_names import unique

    name = unique(rt, name)
    index, slot = rt.register_object("channel", kind, name, maxsize=maxsize)
    return cls(raw, kind, name, index, slot, maxsize)


def _owner_name(default: str) -> str:
    from ipcplay.engine.watch_names import binding_name

    name = binding_name(default)
    return default.lower() if "@" in name else name


def patch_pool(pool: Any) -> None:
    """multiprocessing.pool.Pool, however it is reached (mp.Pool, ctx.Pool,
    multiprocessing.pool.Pool): its queues are set up in one method."""
    setup = pool.Pool._setup_queues

    def watched_setup(self: Any) -> None:
        setup(self)
        rt = runtime()
        if rt is None or rt.proc < 0:
            return
        name = _owner_name("Pool")
        tasks = _register(rt, self._inqueue, "SimpleQueue", f"{name} tasks", WatchedSimpleQueue)
        results = _register(
            rt, self._outqueue, "SimpleQueue", f"{name} results", WatchedSimpleQueue
        )
        if tasks._index < 0 or results._index < 0:
            return
        self._inqueue, self._outqueue = tasks, results
        put = _Counter(rt, tasks._index, tasks._slot, "writes")
        got = _Counter(rt, results._index, results._slot, "reads")
        self._quick_put = counting_send(tasks._raw._writer, put)
        self._quick_get = counting_recv(results._raw._reader, got)
        self._ipcplay_results = results._index

    pool.Pool._setup_queues = watched_setup
    _patch_results(pool)


def _awaiting(rt: Runtime, index: int) -> tuple[int, int, int]:
    """Mark this process waiting for a Pool's results (results channel
    `index`): a timed join marker, which no result arriving meanwhile makes
    stale, and the program's line. (slot, the wait's number, its start)."""
    mv, base = rt.mv, rt.base
    at = rt.layout.chan(rt.proc, index)
    seq = mv[at + B.JOINS]
    rt.where()
    t0 = monotonic_ns()
    mv[base + B.P_SINCE] = t0
    mv[base + B.P_MARK] = B.mark(seq, index, B.OP_JOIN, timed=True)
    return at, seq, t0


def _awaited(rt: Runtime, at: int, seq: int, t0: int) -> None:
    mv = rt.mv
    mv[rt.base + B.P_MARK] = 0
    mv[at + B.BLOCK_JOIN_NS] += monotonic_ns() - t0
    mv[at + B.JOINS] = seq + 1


def _patch_results(pool: Any) -> None:
    """map(), apply() and a result's get() wait in ApplyResult.wait, imap's
    in IMapIterator.next: there the program's process is waiting for its
    Pool (a worker that died with a task leaves it waiting for ever,
    cpython#96062), so it says so, with its line."""
    wait = pool.ApplyResult.wait
    next_item = pool.IMapIterator.next

    def results_of(result: Any) -> tuple[Runtime | None, int]:
        owner = getattr(result, "_pool", None)
        index = getattr(owner, "_ipcplay_results", -1) if owner is not None else -1
        rt = runtime()
        if rt is None or rt.base < 0:
            return None, -1
        return rt, index

    def watched_wait(self: Any, timeout: float | None = None) -> None:
        rt, index = results_of(self)
        if rt is not None and watch_runtime.gate_on[0]:  # step mode: waiting for a result
            watch_runtime.gate("get", index)
        if rt is None or index < 0 or self.ready():
            return wait(self, timeout)
        at, seq, t0 = _awaiting(rt, index)
        try:
            return wait(self, timeout)
        finally:
            _awaited(rt, at, seq, t0)

    def watched_next(self: Any, timeout: float | None = None) -> Any:
        rt, index = results_of(self)
        if rt is None or index < 0:
            return next_item(self, timeout)
        if watch_runtime.gate_on[0]:
            watch_runtime.gate("get", index)
        at, seq, t0 = _awaiting(rt, index)
        try:
            return next_item(self, timeout)
        finally:
            _awaited(rt, at, seq, t0)

    pool.ApplyResult.wait = watched_wait
    pool.IMapIterator.next = watched_next
    pool.IMapIterator.__next__ = watched_next


def patch_executor(module: Any) -> None:
    """concurrent.futures.process.ProcessPoolExecutor: its call queue and
    result queue, once made (in __init__)."""
    executor_class = module.ProcessPoolExecutor
    init = executor_class.__init__

    def watched_init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        rt = runtime()
        if rt is None or rt.proc < 0:
            return
        name = _owner_name("executor")
        calls = _register(
            rt,
            self._call_queue,
            "Queue",
            f"{name} calls",
            WatchedQueue,
            self._call_queue._maxsize,
        )
        results = _register(
            rt, self._result_queue, "SimpleQueue", f"{name} results", WatchedSimpleQueue
        )
        if calls._index < 0 or results._index < 0:
            return
        self._call_queue = calls
        got = _Counter(rt, results._index, results._slot, "reads")
        reader = _CountingReader(results._raw._reader, got)
        raw_results = results._raw
        self._result_queue = _ResultQueue(raw_results, reader)
        self._ipcplay_results = results  # the workers get the watched one

    executor_class.__init__ = watched_init
    spawn = executor_class._spawn_process

    def watched_spawn(self: Any) -> None:
        watched = self.__dict__.get("_ipcplay_results")
        if watched is None:
            return spawn(self)
        # The workers put results through the watched queue; the manager
        # thread reads them through the counting reader.
        kept = self._result_queue
        self._result_queue = watched
        try:
            return spawn(self)
        finally:
            self._result_queue = kept

    executor_class._spawn_process = watched_spawn


class _ResultQueue:
    """The executor's result queue as its manager thread sees it: `_reader`
    counts; everything else is the raw queue's."""

    def __init__(self, raw: Any, reader: _CountingReader) -> None:
        self._raw = raw
        self._reader = reader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _AfterImport(MetaPathFinder, Loader):
    """Patch concurrent.futures.process when the program imports it, not
    before: most programs never do, and it costs an import."""

    def __init__(self, name: str, patch: Callable[[Any], None]) -> None:
        self.name = name
        self.patch = patch
        self.spec: ModuleSpec | None = None

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> ModuleSpec | None:
        if fullname != self.name:
            return None
        spec = PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        self.spec = spec
        self.inner = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec: ModuleSpec) -> Any:
        return self.inner.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.inner.exec_module(module)
        sys.meta_path[:] = [f for f in sys.meta_path if f is not self]
        self.patch(module)


def after_import(name: str, patch: Callable[[Any], None]) -> None:
    """Patch module `name` now if it is loaded, else as soon as it is."""
    if name in sys.modules:
        patch(sys.modules[name])
    else:
        sys.meta_path.insert(0, _AfterImport(name, patch))


def install_pools() -> None:
    from ipcplay.engine.watch_manager import patch_managers

    after_import("multiprocessing.pool", patch_pool)
    after_import("concurrent.futures.process", patch_executor)
    after_import("multiprocessing.managers", patch_managers)
    after_import("multiprocessing.shared_memory", patch_shared_memory)


def patch_shared_memory(module: Any) -> None:
    """A block the program creates (SharedMemory(create=True)) registers
    itself where it is made, with its descriptor: the observer maps the very
    block and shows its bytes. Its reads and writes are plain memory,
    uncounted; a block attached by name is the same block, not registered
    again."""
    block_class = module.SharedMemory
    init = block_class.__init__

    def watched_init(self: Any, name: Any = None, create: bool = False, size: int = 0) -> None:
        init(self, name, create, size)
        rt = runtime()
        if not create or rt is None or rt.proc < 0:
            return
        from ipcplay.engine.watch_names import binding_name, unique

        label = unique(rt, binding_name("SharedMemory"))
        memory = (os.getpid(), getattr(self, "_fd", -1), 0, self.size)
        _, slot = rt.register_object("shared", "SharedMemory", label, size=self.size, memory=memory)
        rt.use(slot, "uses")

    block_class.__init__ = watched_init


def worker_role(process: Any) -> str:
    """`pool-worker` for a Pool's or an executor's worker, `manager` for a
    Manager's server, else `process`."""
    target = getattr(getattr(process, "_target", None), "__name__", "")
    if target in WORKER_TARGETS:
        return "pool-worker"
    return "manager" if target == "_run_server" else "process"
