"""How a watched program's processes are followed and its objects counted.

`install()` runs in every process of the program before any of the
program's code: in the main process from watch_boot, in a spawned child
or a fork server from the `-c` command line its parent starts it with
(`spawnv_passfds` is patched to put it first, as VizTracer does), and a
forked child inherits it. It changes only what the program gets from
multiprocessing:

* each factory of a `BaseContext` (`Queue`, `Pipe`, `Lock`...), and the
  module-level names bound to the default context's methods, return
  watched objects (watch_objects) registered under the name the program
  binds them to (`tasks = mp.JoinableQueue()` is `tasks`);
* `BaseProcess.start` registers the process in its parent, and gives it a
  ticket to carry into the child, and `BaseProcess._bootstrap` (the first
  and last thing every child runs, by any start method, as coverage.py
  patches it) enters the child's index and says its exit status.

Nothing else changes: the objects are the real ones underneath, the
processes are the program's own.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ipcplay.engine import watch_objects as W
from ipcplay.engine import watch_runtime
from ipcplay.engine.watch_names import binding_name, unique
from ipcplay.engine.watch_pool import install_pools, worker_role
from ipcplay.engine.watch_runtime import _NOT_THE_PROGRAM, Runtime, gate, runtime
from ipcplay.engine.watch_shared import SHARED_CLASSES as DATA_CLASSES

_installed = False
SHARED_CLASSES = {**W.SHARED_CLASSES, **DATA_CLASSES}
FACTORIES = (*W.CHANNEL_CLASSES, *SHARED_CLASSES)

BOOT_LINE = "import ipcplay.engine.watch_hooks as _w; _w.install()\n"


def _from_inside() -> bool:
    """Is the factory's caller multiprocessing itself (a Queue makes a Lock
    and a Pipe; a Pool makes SimpleQueues)? Those parts are the object's
    own, counted as the object, never on their own."""
    return sys._getframe(2).f_code.co_filename.startswith(_NOT_THE_PROGRAM)


def _channel(rt: Runtime | None, raw: Any, kind: str, name: str, maxsize: int = 0, **shape: Any):
    cls = W.CHANNEL_CLASSES[kind]
    if rt is None:
        return cls(raw, kind, name, -1, -1, maxsize)
    name = unique(rt, name)
    index, slot = rt.register_object("channel", kind, name, maxsize=maxsize, **shape)
    return cls(raw, kind, name, index, slot, maxsize)


def _shared(rt: Runtime | None, raw: Any, kind: str, name: str, **shape: Any):
    cls = SHARED_CLASSES[kind]
    if rt is None:
        return cls(raw, kind, name, -1, -1)
    name = unique(rt, name)
    index, slot = rt.register_object("shared", kind, name, **shape)
    return cls(raw, kind, name, index, slot)


def _patch_context(ctx_class: Any) -> dict[str, Any]:
    """Replace the context's factories; the originals, by name."""
    orig = {
        name: getattr(ctx_class, name)
        for name in (
            "Queue",
            "JoinableQueue",
            "SimpleQueue",
            "Pipe",
            "Lock",
            "RLock",
            "Semaphore",
            "BoundedSemaphore",
            "Value",
            "Array",
            "Event",
            "Barrier",
            "Condition",
        )
    }

    def Queue(self: Any, maxsize: int = 0) -> Any:
        raw = orig["Queue"](self, maxsize)
        if _from_inside():
            return raw
        return _channel(runtime(), raw, "Queue", binding_name("Queue"), maxsize)

    def JoinableQueue(self: Any, maxsize: int = 0) -> Any:
        raw = orig["JoinableQueue"](self, maxsize)
        if _from_inside():
            return raw
        return _channel(runtime(), raw, "JoinableQueue", binding_name("JoinableQueue"), maxsize)

    def SimpleQueue(self: Any) -> Any:
        raw = orig["SimpleQueue"](self)
        if _from_inside():
            return raw
        return _channel(runtime(), raw, "SimpleQueue", binding_name("SimpleQueue"))

    def Pipe(self: Any, duplex: bool = True) -> Any:
        a, b = orig["Pipe"](self, duplex)
        if _from_inside():
            return a, b
        rt = runtime()
        name = binding_name("Pipe", pair=True)
        if rt is None:
            return W.WatchedConnection(a, "Pipe", name, -1, -1), W.WatchedConnection(
                b, "Pipe", name, -1, -1
            )
        name = unique(rt, name)
        index, slot = rt.register_object("channel", "Pipe", name, duplex=duplex, pipe_like=True)
        return (
            W.WatchedConnection(a, "Pipe", name, index, slot),
            W.WatchedConnection(b, "Pipe", name, index, slot),
        )

    def lock_factory(kind: str) -> Any:
        def make(self: Any, *args: Any, **kwargs: Any) -> Any:
            raw = orig[kind](self, *args, **kwargs)
            if _from_inside():
                return raw
            initial = 0
            if kind in ("Semaphore", "BoundedSemaphore"):
                initial = int(args[0] if args else kwargs.get("value", 1))
            return _shared(runtime(), raw, kind, binding_name(kind), initial=initial)

        make.__name__ = kind
        return make

    ctx_class.Queue = Queue
    ctx_class.JoinableQueue = JoinableQueue
    ctx_class.SimpleQueue = SimpleQueue
    ctx_class.Pipe = Pipe
    for kind in ("Lock", "RLock", "Semaphore", "BoundedSemaphore"):
        setattr(ctx_class, kind, lock_factory(kind))
    _patch_data(ctx_class, orig)
    return orig


def _patch_data(ctx_class: Any, orig: dict[str, Any]) -> None:
    """Value, Array, Event, Barrier, Condition (watch_shared)."""

    def data(kind: str, raw: Any, typecode_or_type: Any, lock: Any) -> Any:
        rt = runtime()
        shape = _data_shape(raw, typecode_or_type, lock, array=kind == "Array")
        if lock is False:  # a bare ctypes object: its value is shown, its updates not counted
            if rt is not None:
                rt.register_object("shared", kind, unique(rt, binding_name(kind)), **shape)
            return raw
        return _shared(rt, raw, kind, binding_name(kind), **shape)

    def Value(self: Any, typecode_or_type: Any, *args: Any, lock: Any = True) -> Any:
        raw = orig["Value"](self, typecode_or_type, *args, lock=lock)
        return raw if _from_inside() else data("Value", raw, typecode_or_type, lock)

    def Array(self: Any, typecode_or_type: Any, size_or_initializer: Any, *, lock: Any = True):
        raw = orig["Array"](self, typecode_or_type, size_or_initializer, lock=lock)
        return raw if _from_inside() else data("Array", raw, typecode_or_type, lock)

    def Event(self: Any) -> Any:
        raw = orig["Event"](self)
        return raw if _from_inside() else _shared(runtime(), raw, "Event", binding_name("Event"))

    def Barrier(self: Any, parties: int, action: Any = None, timeout: Any = None) -> Any:
        raw = orig["Barrier"](self, parties, action, timeout)
        if _from_inside():
            return raw
        return _shared(runtime(), raw, "Barrier", binding_name("Barrier"), parties=parties)

    def Condition(self: Any, lock: Any = None) -> Any:
        raw = orig["Condition"](self, lock)
        if _from_inside():
            return raw
        return _shared(runtime(), raw, "Condition", binding_name("Condition"))

    for kind, factory in (
        ("Value", Value),
        ("Array", Array),
        ("Event", Event),
        ("Barrier", Barrier),
        ("Condition", Condition),
    ):
        setattr(ctx_class, kind, factory)


def _data_shape(raw: Any, typecode_or_type: Any, lock: Any, array: bool = False) -> dict[str, Any]:
    """What the registry needs to show a Value or an Array: its typecode,
    its first value, its length, and where its memory is (the heap arena's
    descriptor in this process, and the offset), so the observer can map it."""
    from multiprocessing.sharedctypes import typecode_to_type

    obj = raw if lock is False else raw.get_obj()
    if isinstance(typecode_or_type, str):
        typecode = typecode_or_type
    else:
        typecode = next((c for c, t in typecode_to_type.items() if t is typecode_or_type), "")
    shape: dict[str, Any] = {"typecode": typecode if len(typecode) == 1 else ""}
    first = obj[0] if array and len(obj) else getattr(obj, "value", 0)
    shape["is_float"] = isinstance(first, float)
    if not array and type(first) is int:
        shape["initial"] = first
    if array:
        shape["size"] = len(obj)
    try:
        (arena, start, _stop), size = obj._wrapper._state
        shape["memory"] = (os.getpid(), arena.fd, start, size)
    except (AttributeError, TypeError, ValueError):
        pass
    return shape


def _helper_thread() -> bool:
    """A thread that is not the process's main one (a Pool's handler reaping
    its workers): its joins are not the process waiting, and must not
    overwrite what the main thread is blocked in."""
    import threading

    return threading.current_thread() is not threading.main_thread()


class Ticket:
    """What a child carries from the parent that registered it: its index.
    Unpickling it in a spawned child installs the hooks, if the command
    line has not already."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __reduce__(self) -> Any:
        return (_arrive, (self.index,))


def _arrive(index: int) -> Ticket:
    install()
    return Ticket(index)


def _patch_process(base: Any) -> None:
    start = base.start
    bootstrap = base._bootstrap

    def watched_start(self: Any) -> None:
        rt = runtime()
        if rt is None or "_ipcplay" in self.__dict__:
            return start(self)
        index = rt.register_child(self.name, worker_role(self))
        self._ipcplay = Ticket(index)
        try:
            start(self)
        except BaseException as exc:
            rt.not_started(index, f"{type(exc).__name__}: {exc}")
            raise
        rt.started(index, self._popen.pid)
        self._popen._ipcplay_index = index

    def watched_bootstrap(self: Any, *args: Any, **kwargs: Any) -> int:
        rt = runtime()
        ticket = self.__dict__.get("_ipcplay")
        if rt is None or ticket is None:
            return bootstrap(self, *args, **kwargs)
        rt.enter(ticket.index)
        rt.capture_output()
        errors: list[str] = []
        run = self.run

        def run_noting() -> None:
            try:
                run()
            except SystemExit:
                raise
            except BaseException as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                raise

        self.run = run_noting
        status = 1
        try:
            status = bootstrap(self, *args, **kwargs)
        finally:
            rt.leave(status, errors[0] if errors else "")
        return status

    join = base.join

    def watched_join(self: Any, timeout: float | None = None) -> None:
        """p.join(): the parent waits for p, as the wait-for graph shows."""
        rt = runtime()
        ticket = self.__dict__.get("_ipcplay")
        if rt is None or rt.base < 0 or ticket is None or ticket.index < 0 or _helper_thread():
            return join(self, timeout)
        if watch_runtime.gate_on[0]:  # step mode: a join is an operation too
            gate("join process", ticket.index)
        rt.joining(ticket.index)
        try:
            return join(self, timeout)
        finally:
            rt.joined()

    base.start = watched_start
    base._bootstrap = watched_bootstrap
    base.join = watched_join


def _patch_reaping() -> None:
    """Where a parent learns a child's exit code (Popen.poll, which join,
    is_alive and exitcode all call), say it on the board for that child."""
    import multiprocessing.popen_fork as popen_fork

    classes = [popen_fork.Popen]
    try:
        import multiprocessing.popen_forkserver as popen_forkserver

        classes.append(popen_forkserver.Popen)
    except ImportError:  # a platform without it
        pass
    for cls in classes:
        poll = cls.poll

        def watched_poll(self: Any, *args: Any, _poll: Any = poll) -> int | None:
            code = _poll(self, *args)
            index = self.__dict__.get("_ipcplay_index", -1)
            if code is not None and index >= 0:
                rt = runtime()
                if rt is not None:
                    rt.reaped(index, code)
            return code

        cls.poll = watched_poll


def _patch_spawn_command() -> None:
    """Every interpreter multiprocessing starts (a spawned child, a fork
    server) runs BOOT_LINE first, before it imports the program's main
    module: so that module's `from multiprocessing import Queue` gets ours."""
    import multiprocessing.util as util

    spawnv = util.spawnv_passfds

    def watched_spawnv(path: Any, args: Any, passfds: Any) -> int:
        args = list(args)
        if "-c" in args:
            at = args.index("-c") + 1
            if at < len(args) and "resource_tracker" not in args[at]:
                args[at] = "try:\n " + BOOT_LINE + "except ImportError:\n pass\n" + args[at]
        return spawnv(path, args, passfds)

    util.spawnv_passfds = watched_spawnv


def install() -> Runtime | None:
    """Hook multiprocessing in this process, once; the Runtime (None: this
    process is not watched, and nothing is changed)."""
    global _installed
    rt = runtime()
    if rt is None or _installed:
        return rt
    _installed = True
    import multiprocessing
    import multiprocessing.context as context
    import multiprocessing.process as process

    _patch_context(context.BaseContext)
    _patch_process(process.BaseProcess)
    _patch_spawn_command()
    _patch_reaping()
    install_pools()
    # `from multiprocessing import Queue` binds the default context's bound
    # method as the package saw it at import: bind ours in its place.
    default = context._default_context
    for name in FACTORIES:
        if name in multiprocessing.__dict__:
            setattr(multiprocessing, name, getattr(default, name))
    os.register_at_fork(after_in_child=rt.forked)
    return rt
