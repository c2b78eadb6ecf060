"""`multiprocessing.Pool`, counted: the pool process, its workers, the observer's view.

A `pool` process owns a real `ctx.Pool(processes, maxtasksperchild=...)` and runs
one pool method over a list of tasks with a function from a small fixed
library (`FUNCTIONS`; presets never bring code). Its workers are real
grandchildren of ipcplay, started and replaced by the Pool itself.

Why an initializer and board slots rather than psutil's children of the pool
process: the pool's `initializer` runs in every worker, including each
replacement under `maxtasksperchild`, before it takes a task. There it claims
a worker slot on the telemetry board (under a lock, once per worker life) and
from then on is that slot's only writer: its PID, the task it is on, tasks
taken, done and failed, and how it ended. That is exact (psutil could only
guess which task a worker runs, and would miss a worker that lived and died
between two samples) and cheap (a few 8-byte stores per task, no IPC). The OS
figures (cpu, rss, state) come from /proc like every other panel's.

Each task is submitted wrapped as `(task index, args, kwds)` to `run_task`
(`run_star` for starmap), which stamps the task's slots and returns
`(task index, result)`, so the owner can tell which task a result belongs to
and the order results arrived in is visible next to the order submitted.
`ipcplay export` writes the same pool without the wrapper.

Region of one pool process on the board (after every process's slots):
a header the owner writes, a record per task (written by the worker running
it), a record per result in arrival order (written by whoever collects it),
and one slot per worker life.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import multiprocessing.pool
import multiprocessing.util
import os
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing import context as mpcontext
from typing import TYPE_CHECKING, Any

from ipcplay.engine import board as B
from ipcplay.engine import tempo
from ipcplay.engine.child import exit_when_gone
from ipcplay.engine.snapshot import exit_words
from ipcplay.scenario.model import PoolCall, PoolSpec, Work

if TYPE_CHECKING:
    from ipcplay.engine.plan import Instance
    from ipcplay.engine.roles import RoleContext
    from ipcplay.engine.snapshot import BlockedOn, PoolSample, ProcessSample
    from ipcplay.engine.stuck import Wait

# --------------------------------------------------------------------------- task functions


def sum_range(n: int) -> int:
    """Seed 004's `action(max)`: the sum of 0 .. n-1 (1225, 4950, 11175 for 50, 100, 150)."""
    my_sum = 0
    for i in range(n):
        my_sum += i
    return my_sum


def square(x: int) -> int:
    return x * x


def sleep_ms(ms: int) -> int:
    """Sleep `ms` milliseconds and return them: tasks that end out of order.
    In a pool worker, milliseconds of the scenario's time (slow motion)."""
    mv = _W.get("mv")
    if mv is None:
        time.sleep(ms / 1000.0)
    else:
        tempo.sleep(mv, ms / 1000.0)
    return ms


def add(a: int, b: int) -> int:
    return a + b


def action(name: str = "default") -> None:
    """Seed 004's apply_async example: say who runs it, with which argument."""
    print(f"({os.getpid()}) running, argument: {name}")


FUNCTIONS = {
    "sum_range": sum_range,
    "square": square,
    "sleep_ms": sleep_ms,
    "add": add,
    "action": action,
}

# --------------------------------------------------------------------------- the region

H_SUBMITTED = 0  # tasks handed to the pool (owner)
H_COLLECTED = 1  # results the owner has in hand (get, next, or a callback)
H_CALLBACKS = 2
H_ERR_CALLBACKS = 3
H_ERRORS = 4  # worker exceptions the owner saw raised at get()
H_WAIT_OP = 5  # index into WAIT_OPS + 1 while the owner waits; 0 = not waiting
H_WAIT_FOR = 6  # how many results it waits for
H_WAIT_SINCE = 7  # monotonic ns
H_WAIT_TASK = 8  # task index + 1 it waits for; 0 = every outstanding task
H_WAIT_TIMED = 9  # 1 when the wait has a timeout (it always ends: never a hang)
H_CLAIMED = 10  # worker slots claimed (workers, under the claim lock)
H_OVERFLOW = 11  # workers that found no free slot
H_STATE = 12  # see POOL_STATES
H_TIMEOUTS = 13
H_RESUBMITTED = 14
H_NRESULTS = 15  # arrival records written
HEAD = 16

T_BY = 0  # worker slot + 1 that took it last
T_TRIES = 1
T_STATE = 2  # see TASK_*
T_SLOTS = 3
TASK_QUEUED, TASK_RUNNING, TASK_DONE, TASK_FAILED = range(4)

R_TASK = 0
R_VALUE = 1
R_KIND = 2  # see KIND_*
R_SLOTS = 3
KIND_INT, KIND_NONE, KIND_OTHER, KIND_ERROR = 1, 2, 3, 4

W_PID = 0
W_STARTED_NS = 1
W_ENDED_NS = 2
W_STATE = 3  # see WORKER_*
W_CURRENT = 4  # task index + 1 it is running; 0 = none
W_TAKEN = 5
W_DONE = 6
W_FAILED = 7
W_SINCE = 8  # monotonic ns the current task began
W_CPU_NS = 9
W_PPID = 10  # its parent, as it saw it at start: the pool process
W_EXIT = 11  # EXIT_BASE + its exit status, as the pool process reaped it; 0 = not yet
W_SLOTS = 12
EXIT_BASE = 1000  # so that status 0 and "not known" differ
WORKER_NEW, WORKER_IDLE, WORKER_BUSY, WORKER_EXITED, WORKER_KILLED = range(5)

POOL_STATES = ("", "running", "closed", "terminated", "joined", "stopped")
WAIT_OPS = ("apply", "get", "map", "imap", "join")
MAX_WORKER_SLOTS = 128


def _caps(spec: PoolSpec) -> tuple[int, int, int]:
    """(tasks, results, workers) a region holds. Every worker life but the
    first `processes` follows a worker that ran a task or died, so
    processes + tasks + resubmits bounds them; overflow is counted."""
    n = len(spec.calls)
    workers = min(MAX_WORKER_SLOTS, 2 * spec.processes + 2 * n)
    return n, 2 * n, workers


def region_size(spec: PoolSpec | None) -> int:
    if spec is None:
        return 0
    n, r, w = _caps(spec)
    return HEAD + n * T_SLOTS + r * R_SLOTS + w * W_SLOTS


@dataclass(frozen=True)
class Region:
    """Offsets of one pool's region on the board; pure arithmetic."""

    at: int
    tasks: int
    results: int
    workers: int

    @classmethod
    def of(cls, at: int, spec: PoolSpec) -> Region:
        n, r, w = _caps(spec)
        return cls(at, n, r, w)

    def task(self, i: int) -> int:
        return self.at + HEAD + i * T_SLOTS

    def result(self, k: int) -> int:
        return self.at + HEAD + self.tasks * T_SLOTS + k * R_SLOTS

    def worker(self, k: int) -> int:
        return self.at + HEAD + self.tasks * T_SLOTS + self.results * R_SLOTS + k * W_SLOTS

    @property
    def size(self) -> int:
        return self.worker(self.workers) - self.at


def call_words(function: str, call: PoolCall) -> str:
    """A task as Python would write it: sum_range(100), action(name='x')."""
    parts = [repr(a) for a in call.args] + [f"{k}={v!r}" for k, v in call.kwds]
    return f"{function}({', '.join(parts)})"


def first_arg(call: PoolCall | tuple[tuple[Any, ...], dict[str, Any]]) -> Any:
    if isinstance(call, PoolCall):
        args, kwds = call.args, dict(call.kwds)
    else:
        args, kwds = call
    if args:
        return args[0]
    return next(iter(kwds.values()), None)


# --------------------------------------------------------------------------- worker side


@dataclass(frozen=True)
class WorkerConf:
    """What every pool worker needs; frozen and picklable for spawn."""

    region: Region
    function: str
    fail_on: tuple[Any, ...]
    die_on: tuple[Any, ...]
    work: Work
    observer_pid: int


_W: dict[str, Any] = {}  # this worker's board view, slot and configuration


def worker_init(raw_board: Any, lock: Any, conf: WorkerConf) -> None:
    """Pool initializer: tie this worker to the observer's life, claim a slot.

    Its parent is the pool process, which dies with the observer; the
    PR_SET_PDEATHSIG that die_with_observer sets makes the worker follow it
    even when the pool process is SIGKILLed and never runs terminate().
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    mv = B.view(raw_board)
    reg = conf.region
    with lock:
        k = mv[reg.at + H_CLAIMED]
        mv[reg.at + H_CLAIMED] = k + 1
        if k >= reg.workers:
            mv[reg.at + H_OVERFLOW] += 1
    ws = reg.worker(k) if k < reg.workers else -1
    _W.update(mv=mv, conf=conf, slot=k, ws=ws)
    if ws < 0:
        return
    mv[ws + W_PID] = os.getpid()
    mv[ws + W_PPID] = os.getppid()
    mv[ws + W_STARTED_NS] = time.monotonic_ns()
    mv[ws + W_STATE] = WORKER_IDLE
    multiprocessing.util.Finalize(None, _worker_exit, exitpriority=100)


def _die_with_parent() -> None:
    """Exit as soon as the pool process does (it itself dies with the observer).

    Not PR_SET_PDEATHSIG: Linux ties that to the *thread* that forked us, and
    a Pool forks replacement workers (maxtasksperchild) from its worker-handler
    thread, which ends once the last result is in. The signal then killed
    workers in the middle of putting a result, holding the result queue's
    lock, and the Pool's close() waited on that lock for ever. So the worker
    watches the pool process itself, as a forkserver child watches the observer."""
    parent = os.getppid()
    if parent == 1:  # the pool process died before we got here
        os._exit(1)
    exit_when_gone(parent)


def _worker_exit() -> None:
    """Runs as a worker returns from its loop (maxtasksperchild, close)."""
    mv, ws = _W["mv"], _W["ws"]
    mv[ws + W_CPU_NS] = time.process_time_ns()
    mv[ws + W_ENDED_NS] = time.monotonic_ns()
    mv[ws + W_STATE] = WORKER_EXITED


def _run(i: int, args: tuple[Any, ...], kwds: dict[str, Any]) -> Any:
    mv, conf, ws = _W["mv"], _W["conf"], _W["ws"]
    t = conf.region.task(i)
    tries = mv[t + T_TRIES] + 1
    mv[t + T_TRIES] = tries
    mv[t + T_BY] = _W["slot"] + 1 if ws >= 0 else 0
    mv[t + T_STATE] = TASK_RUNNING
    if ws >= 0:
        mv[ws + W_SINCE] = time.monotonic_ns()
        mv[ws + W_CURRENT] = i + 1
        mv[ws + W_TAKEN] += 1
        mv[ws + W_STATE] = WORKER_BUSY
    key = first_arg((args, kwds))
    if key in conf.die_on and tries == 1:
        # The OOM killer's way: no exception, no result, no goodbye.
        if ws >= 0:
            mv[ws + W_ENDED_NS] = time.monotonic_ns()
            mv[ws + W_STATE] = WORKER_KILLED
        os.kill(os.getpid(), signal.SIGKILL)
    try:
        w = conf.work
        if w.kind == "sleep" and w.ms > 0:
            tempo.sleep(mv, w.ms / 1000.0)
        elif w.kind == "cpu" and w.ms > 0:
            tempo.spin(mv, w.ms / 1000.0)
        if key in conf.fail_on:
            raise ValueError(f"{conf.function}({key!r}): bad input {key!r}")
        value = FUNCTIONS[conf.function](*args, **kwds)
    except BaseException:
        mv[t + T_STATE] = TASK_FAILED
        if ws >= 0:
            mv[ws + W_FAILED] += 1
            mv[ws + W_CURRENT] = 0
            mv[ws + W_STATE] = WORKER_IDLE
        raise
    mv[t + T_STATE] = TASK_DONE
    if ws >= 0:
        mv[ws + W_DONE] += 1
        mv[ws + W_CURRENT] = 0
        mv[ws + W_STATE] = WORKER_IDLE
    return value


def run_task(job: tuple[int, tuple[Any, ...], tuple[tuple[str, Any], ...]]) -> tuple[int, Any]:
    """map / imap / apply: one (task index, args, kwds) job -> (task index, result)."""
    i, args, kwds = job
    return i, _run(i, args, dict(kwds))


def run_chunk(
    jobs: list[tuple[int, tuple[Any, ...], tuple[tuple[str, Any], ...]]],
) -> list[tuple[int, Any]]:
    """imap with a chunksize: one message carries `chunksize` jobs, as in CPython."""
    return [run_task(job) for job in jobs]


def run_star(i: int, *args: Any) -> tuple[int, Any]:
    """starmap: the task index comes first, then the task's own arguments."""
    return i, _run(i, args, {})


# --------------------------------------------------------------------------- owner side


class Stop(Exception):
    """The observer asked the pool process to stop."""


class Owner:
    """The pool process's side: submit, wait (in slices, so a stop command is
    seen within 50 ms), collect, record every result in arrival order."""

    def __init__(self, ctx: RoleContext) -> None:
        self.ctx = ctx
        self.spec: PoolSpec = ctx.spec.pool  # type: ignore[assignment]
        self.mv = ctx.mv
        self.reg = Region.of(ctx.plan.pool_at, self.spec)
        self.at = self.reg.at
        self._results_lock = threading.Lock()  # callbacks and main thread both record
        self.got: set[int] = set()
        self.clean = True  # False once terminate() had to be finished by hand

    # ------------------------------------------------------------ recording
    def head(self, slot: int, value: int) -> None:
        self.mv[self.at + slot] = value

    def bump(self, slot: int, n: int = 1) -> None:
        self.mv[self.at + slot] += n

    def arrived(self, i: int, value: Any, error: bool = False) -> None:
        """One result in hand: record which task, its value, in arrival order."""
        with self._results_lock:
            if i in self.got:
                return
            self.got.add(i)
            k = self.mv[self.at + H_NRESULTS]
            if k < self.reg.results:
                r = self.reg.result(k)
                if error:
                    kind, v = KIND_ERROR, 0
                elif value is None:
                    kind, v = KIND_NONE, 0
                elif type(value) is int and -(1 << 63) <= value < (1 << 63):
                    kind, v = KIND_INT, value
                else:
                    kind, v = KIND_OTHER, 0
                self.mv[r + R_TASK] = i
                self.mv[r + R_VALUE] = v
                self.mv[r + R_KIND] = kind
                self.mv[self.at + H_NRESULTS] = k + 1
            self.bump(H_ERRORS if error else H_COLLECTED)

    def on_result(self, pair: tuple[int, Any]) -> None:
        self.bump(H_CALLBACKS)
        self.arrived(*pair)

    def on_results(self, pairs: list[tuple[int, Any]]) -> None:
        self.bump(H_CALLBACKS)
        for pair in pairs:
            self.arrived(*pair)

    def on_error(self, i: int | None, exc: BaseException) -> None:
        self.bump(H_ERR_CALLBACKS)
        if i is not None:
            self.arrived(i, None, error=True)

    # ------------------------------------------------------------ waiting
    def wait(
        self,
        ready: Any,
        op: str,
        n: int,
        task: int = -1,
        timeout: float = 0.0,
    ) -> bool:
        """Block until `ready(slice)` is true, saying so on the board; False
        if `timeout` passed first. Raises Stop on a stop command."""
        mv, at = self.mv, self.at
        mv[at + H_WAIT_FOR] = n
        mv[at + H_WAIT_TASK] = task + 1
        mv[at + H_WAIT_TIMED] = 1 if timeout else 0
        mv[at + H_WAIT_SINCE] = time.monotonic_ns()
        mv[at + H_WAIT_OP] = WAIT_OPS.index(op) + 1
        waited = 0.0  # scenario seconds: a timeout is the role's own time (slow motion)
        try:
            while True:
                t = time.monotonic()
                if ready(0.05):
                    break
                if self.ctx.commands():
                    raise Stop
                waited += (time.monotonic() - t) * tempo.speed_of(mv)
                if timeout and waited >= timeout:
                    return False
            return True
        finally:
            mv[at + H_WAIT_OP] = 0

    def get(self, ar: Any, i: int, op: str = "get") -> None:
        """`ar.get()` for task `i`: its result, or its worker's exception."""
        self.wait(_waiter(ar), op, 1, i)
        try:
            _, value = ar.get(0)
        except Exception:
            if self.spec.on_error == "raise":
                self.bump(H_ERRORS)
                raise
            self.arrived(i, None, error=True)
            return
        self.arrived(i, value)


def _waiter(ar: Any) -> Any:
    def ready(t: float) -> bool:
        ar.wait(t)
        return ar.ready()

    return ready


def jobs(spec: PoolSpec) -> list[tuple[int, tuple[Any, ...], tuple[tuple[str, Any], ...]]]:
    return [(i, c.args, c.kwds) for i, c in enumerate(spec.calls)]


def owner(ctx: RoleContext) -> str | None:
    """Role "pool": `with ctx.Pool(...) as pool:` run the method, then the endings."""
    from ipcplay.engine.roles import STOPPED

    spec: PoolSpec = ctx.spec.pool  # type: ignore[assignment]
    o = Owner(ctx)
    mp = multiprocessing.get_context(ctx.plan.start_method or None)
    conf = WorkerConf(
        o.reg, spec.function, spec.fail_on, spec.die_on, ctx.spec.work, ctx.plan.observer_pid
    )
    _REAPED.update(mv=o.mv, reg=o.reg)
    pool = _ReportingPool(
        spec.processes,
        initializer=worker_init,
        initargs=(ctx.mv.obj, mp.Lock(), conf),
        maxtasksperchild=spec.maxtasksperchild or None,
        context=mp,
    )
    o.head(H_STATE, 1)
    try:
        _drive(o, pool, spec)
    except Stop:  # asked to stop: the observer gives us 0.3 s
        o.clean = _terminate(pool, 0.15)
        o.head(H_STATE, 3 if o.clean else 5)
        return STOPPED
    finally:
        ctx.done(o.mv[o.at + H_COLLECTED])
        if o.mv[o.at + H_STATE] not in (3, 5) and o.clean:
            # what `with Pool() as pool:` does on the way out; it joins the workers
            o.clean = _terminate(pool)
        if not o.clean:
            _forget_terminate(pool)
        if o.mv[o.at + H_STATE] not in (4, 5):
            o.head(H_STATE, 3)
    return None


_REAPED: dict[str, Any] = {}  # the pool process's board view and region, for _reaped


class _ExitReporting:
    """A worker Process whose exit status, once the pool process has it, goes
    on the board. Named classes, not made on the fly: spawn pickles them."""

    @property
    def exitcode(self) -> int | None:
        code = super().exitcode  # type: ignore[misc]
        if code is not None:
            _reaped(self.pid, code)  # type: ignore[attr-defined]
        return code


class _ReportingFork(_ExitReporting, mpcontext.ForkProcess):
    pass


class _ReportingSpawn(_ExitReporting, mpcontext.SpawnProcess):
    pass


class _ReportingForkServer(_ExitReporting, mpcontext.ForkServerProcess):
    pass


_REPORTING: dict[type, type] = {
    mpcontext.ForkProcess: _ReportingFork,
    mpcontext.SpawnProcess: _ReportingSpawn,
    mpcontext.ForkServerProcess: _ReportingForkServer,
}


class _ReportingPool(multiprocessing.pool.Pool):
    """`ctx.Pool`, whose workers say on the board how they ended.

    Why: the pool process reaps its workers, so only it learns that one was
    killed from outside (`kill -9`); the observer saw "gone". `Pool.Process`
    is the Pool's own hook for making its workers."""

    @staticmethod
    def Process(ctx: Any, *args: Any, **kwds: Any) -> Any:
        proc = ctx.Process(*args, **kwds)
        reporting = _REPORTING.get(type(proc))
        if reporting is not None:
            proc.__class__ = reporting
        return proc


def _reaped(pid: int, code: int) -> None:
    """Write a reaped worker's exit status into its slot (found by pid), once."""
    mv, reg = _REAPED.get("mv"), _REAPED.get("reg")
    if mv is None or reg is None:
        return
    for k in range(min(mv[reg.at + H_CLAIMED], reg.workers)):
        ws = reg.worker(k)
        if mv[ws + W_PID] == pid:
            if not mv[ws + W_EXIT]:
                mv[ws + W_EXIT] = EXIT_BASE + code
            return


def _terminate(pool: Any, timeout: float = 1.0) -> bool:
    """pool.terminate(), bounded: after one of its workers was SIGKILLed,
    terminate() sometimes never returns here, blocked in CPython's
    _help_stuff_finish on the task queue's read lock (seen about one run in
    three under ipcplay; not in the exported plain script). After a second
    the pool process kills and reaps its workers itself and goes on; False
    then, and join() must be skipped (its handler threads never end)."""
    t = threading.Thread(target=pool.terminate, name="ipcplay-terminate", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        _kill_children()
        return False
    return True


def _kill_children() -> None:
    """SIGKILL this process's workers by PID and reap them, until none is left
    (the Pool's handler may start a replacement meanwhile)."""
    for _ in range(5):
        pids = _worker_children()
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)
        time.sleep(0.05)


def _worker_children() -> list[int]:
    """This process's children as the kernel lists them, but the resource
    tracker (which must outlive us to unlink the semaphores we leave)."""
    out: list[int] = []
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError), open(f"/proc/self/task/{tid}/children") as f:
            out += [int(x) for x in f.read().split()]
    keep = []
    for pid in dict.fromkeys(out):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"resource_tracker" in f.read():
                continue
        keep.append(pid)
    return keep


def _forget_terminate(pool: Any) -> None:
    """After the pool process has killed and reaped its workers by hand, the
    Pool's exit-time finalizer would call terminate() again and block the
    same way. Cancel it (util.Finalize.cancel; the finalizer is the Pool's
    private `_terminate`), so the process exits normally and its other
    finalizers unlink the named semaphores spawn creates. Where the attribute
    is missing, skip every finalizer with os._exit (the resource tracker
    then unlinks those semaphores when the run ends)."""
    fin = getattr(pool, "_terminate", None)
    if fin is not None and hasattr(fin, "cancel"):
        fin.cancel()
        return
    os._exit(0)


def _drive(o: Owner, pool: Any, spec: PoolSpec) -> None:
    m = spec.method
    n = len(spec.calls)
    js = jobs(spec)
    chunk = spec.chunksize or None
    pending: list[tuple[int, Any]] = []  # (task, AsyncResult) to get() after the endings
    if m == "apply":
        for i, job in enumerate(js):
            o.bump(H_SUBMITTED)
            o.get(pool.apply_async(run_task, (job,)), i, "apply")
            o.ctx.done(o.mv[o.at + H_COLLECTED])
    elif m == "apply_async":
        for i, job in enumerate(js):
            o.bump(H_SUBMITTED)
            kw: dict[str, Any] = {}
            if spec.callback:
                kw["callback"] = o.on_result
            if spec.error_callback:
                kw["error_callback"] = functools.partial(o.on_error, i)
            pending.append((i, pool.apply_async(run_task, (job,), **kw)))
        if spec.timeout:
            pending = _timed_gets(o, pool, js, pending, spec)
    elif m in ("map", "starmap"):
        o.bump(H_SUBMITTED, n)
        ar = _map_async(pool, m, js, chunk, {})
        o.wait(_waiter(ar), "map", n)
        for i, value in ar.get(0):
            o.arrived(i, value)
    elif m in ("map_async", "starmap_async"):
        o.bump(H_SUBMITTED, n)
        kw = {}
        if spec.callback:
            kw["callback"] = o.on_results
        if spec.error_callback:
            kw["error_callback"] = functools.partial(o.on_error, None)
        pending.append((-1, _map_async(pool, m, js, chunk, kw)))
    else:  # imap, imap_unordered
        o.bump(H_SUBMITTED, n)
        # With chunksize > 1 CPython's imap returns a plain generator over
        # chunks, which has no next(timeout); the owner must never block
        # without a timeout, so it sends the chunks itself, one job list per
        # task message: the same messages imap(chunksize) would send.
        size = chunk or 1
        if size > 1:
            it = getattr(pool, m)(run_chunk, [js[k : k + size] for k in range(0, n, size)], 1)
        else:
            it = getattr(pool, m)(run_task, js, 1)
        got = 0
        while got < n:
            box: list[Any] = []

            def ready(t: float, box: list[Any] = box) -> bool:
                try:
                    box.append(it.next(t))
                except multiprocessing.TimeoutError:
                    return False
                return True

            o.wait(ready, "imap", n - got)
            for i, value in box[0] if size > 1 else box:
                o.arrived(i, value)
                got += 1
                o.ctx.done(got)
    _endings(o, pool, spec, pending)
    for i, ar in pending:
        if i < 0:
            o.wait(_waiter(ar), "get", n)
            try:
                pairs = ar.get(0)
            except Exception:
                if spec.on_error == "raise" and not spec.error_callback:
                    o.bump(H_ERRORS)
                    raise
                continue
            for j, value in pairs:
                o.arrived(j, value)
        elif i not in o.got:
            o.get(ar, i)


def _map_async(pool: Any, m: str, js: list[Any], chunk: int | None, kw: dict[str, Any]) -> Any:
    if m.startswith("starmap"):
        return pool.starmap_async(run_star, [(i, *a) for i, a, _ in js], chunk, **kw)
    return pool.map_async(run_task, js, chunk, **kw)


def _timed_gets(
    o: Owner, pool: Any, js: list[Any], pending: list[tuple[int, Any]], spec: PoolSpec
) -> list[tuple[int, Any]]:
    """get(timeout) each result; a task whose result does not come in time is
    submitted again when `resubmit` says so (its worker may have died)."""
    left = []
    for i, ar in pending:
        tries = 0
        while not o.wait(_waiter(ar), "get", 1, i, spec.timeout):
            o.bump(H_TIMEOUTS)
            if not spec.resubmit or tries >= 3:
                raise multiprocessing.TimeoutError(f"task {i}: no result in {spec.timeout:g} s")
            tries += 1
            o.bump(H_RESUBMITTED)
            o.bump(H_SUBMITTED)
            ar = pool.apply_async(run_task, (js[i],))
        left.append((i, ar))
    return left


def _endings(o: Owner, pool: Any, spec: PoolSpec, pending: list[tuple[int, Any]]) -> None:
    for step in spec.ending:
        if step == "close":
            pool.close()
            o.head(H_STATE, 2)
        elif step == "terminate":
            o.clean = _terminate(pool)
            o.head(H_STATE, 3)
        else:
            if o.mv[o.at + H_STATE] != 3:
                # join() returns once every task is done and the workers have
                # exited; wait for the tasks in slices (a stop is seen), then join.
                ars = [ar for _, ar in pending]
                o.wait(functools.partial(_all_ready, ars), "join", _unready(ars))
            if o.clean:
                pool.join()
            o.head(H_STATE, 4)


def _all_ready(ars: list[Any], t: float) -> bool:
    """Every result in (so join() returns at once); else wait up to `t` for one."""
    for ar in ars:
        if not ar.ready():
            ar.wait(t)
            return False
    return True


def _unready(ars: list[Any]) -> int:
    return sum(1 for ar in ars if not ar.ready())


# --------------------------------------------------------------------------- observer side


def _proc_stat(pid: int) -> tuple[str, float, int, int, int] | None:
    """(state letter, cpu s, rss, threads, ppid) from /proc, or None once gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    r = data.rpartition(b")")[2].split()
    try:
        return (
            r[0].decode(),
            (int(r[11]) + int(r[12])) / _CLK_TCK,
            int(r[21]) * _PAGE,
            int(r[17]),
            int(r[1]),
        )
    except (IndexError, ValueError):
        return None


_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_STATE_WORDS = {"R": "running", "S": "sleeping", "D": "disk sleep", "T": "stopped", "Z": "zombie"}


class PoolWatch:
    """The observer's view of every pool process: worker panels, counts, the
    owner's wait, and whether that wait can ever end."""

    def __init__(self, insts: tuple[Instance, ...], mv: memoryview, layout: B.Layout) -> None:
        from ipcplay.engine.plan import pool_regions

        self.mv = mv
        self.insts = insts
        self.pools: list[tuple[int, Region, PoolSpec]] = []
        at = layout.pool_base
        for p, size in pool_regions(insts).items():
            spec = insts[p].spec.pool
            assert spec is not None
            self.pools.append((p, Region.of(at, spec), spec))
            at += size
        self.owners = {p for p, _, _ in self.pools}
        self._vals: dict[int, list[int]] = {}
        self._cpu: dict[tuple[int, int], tuple[float, float, float]] = {}  # (t, cpu s, %)
        self._os: dict[tuple[int, int], tuple[str, float, int, int, int]] = {}

    def read(self) -> None:
        """Copy each region once per sample, so every figure agrees."""
        for p, reg, _ in self.pools:
            self._vals[p] = self.mv[reg.at : reg.at + reg.size].tolist()

    def _lost(self, p: int, reg: Region, spec: PoolSpec) -> tuple[list[int], int, int]:
        """(lost tasks, queued, running on a live worker) from this sample."""
        v = self._vals[p]
        lost, queued, live = [], 0, 0
        for i in range(len(spec.calls)):
            t = HEAD + i * T_SLOTS
            st = v[t + T_STATE]
            if st == TASK_QUEUED:
                queued += 1
            elif st == TASK_RUNNING:
                k = v[t + T_BY] - 1
                if 0 <= k < reg.workers and self._worker_dead(v, reg, k):
                    lost.append(i)
                else:
                    live += 1
        return lost, queued, live

    def _worker_dead(self, v: list[int], reg: Region, k: int) -> bool:
        """It said it ended (exit, die_on), or /proc says it is gone or a zombie."""
        w = reg.worker(k) - reg.at
        if v[w + W_STATE] in (WORKER_EXITED, WORKER_KILLED):
            return True
        st = self._os.get((reg.at, k))
        return st is not None and st[0] in ("Z", "X")

    def blocked(self, p: int, name: str, alive: bool, waits: dict[int, Wait]) -> BlockedOn | None:
        """The owner's wait in words; a Wait nobody can end when every task it
        waits for was taken by a worker that died (the Pool never re-runs it).
        A wait with a timeout always ends, so it is never one."""
        from ipcplay.engine.snapshot import BlockedOn
        from ipcplay.engine.stuck import Wait

        for q, reg, spec in self.pools:
            if q != p:
                continue
            v = self._vals[p]
            op = v[H_WAIT_OP]
            if not alive or not op:
                return None
            opname = WAIT_OPS[op - 1]
            n = v[H_WAIT_FOR]
            task = v[H_WAIT_TASK] - 1
            if task >= 0:
                reason = f"waiting for task {task}: {call_words(spec.function, spec.calls[task])}"
            else:
                reason = f"waiting for {n} result{'s' if n != 1 else ''}"
            lost, queued, live = self._lost(p, reg, spec)
            stuck = bool(lost) and not v[H_WAIT_TIMED]
            if task >= 0:
                stuck = stuck and task in lost
            else:
                stuck = stuck and not queued and not live
            if stuck:
                words = "; ".join(
                    f"task {i} {call_words(spec.function, spec.calls[i])} was lost: "
                    f"its worker {self._worker_words(p, v, reg, i)} died mid-task "
                    "and the Pool never runs it again"
                    for i in (lost if task < 0 else [task])
                )
                reason += f"; {words}"
                waits[p] = Wait(p, name, opname, "pool", reason, frozenset())
            return BlockedOn(opname, "pool", reason, v[H_WAIT_SINCE] / 1e9, True)
        return None

    def _worker_words(self, p: int, v: list[int], reg: Region, i: int) -> str:
        k = v[HEAD + i * T_SLOTS + T_BY] - 1
        pid = v[reg.worker(k) - reg.at + W_PID]
        return f"{self.insts[p].name}/w{k + 1} (pid {pid})"

    def workers(self, now: float, first_index: int, alive: list[bool]) -> list[ProcessSample]:
        """One panel per worker life, in the order they claimed a slot."""
        from ipcplay.engine.snapshot import ProcessSample

        out: list[ProcessSample] = []
        for p, reg, spec in self.pools:
            v = self._vals.get(p)
            if v is None:
                continue
            owner = self.insts[p].name
            ended_by = {3: "ended by terminate()", 5: "killed by SIGKILL (stopped)"}.get(
                v[H_STATE], "gone" if not alive[p] else ""
            )
            for k in range(min(v[H_CLAIMED], reg.workers)):
                w = reg.worker(k) - reg.at
                pid = v[w + W_PID]
                if not pid:
                    continue
                wstate = v[w + W_STATE]
                key = (reg.at, k)
                os_ = self._os.get(key)
                if os_ is None or os_[0] != "X":
                    fresh = _proc_stat(pid)
                    if fresh is not None:
                        os_ = self._os[key] = fresh
                    elif os_ is not None:
                        os_ = self._os[key] = ("X", *os_[1:])  # gone: reaped
                letter, cpu_s, rss, threads, ppid = os_ or ("", 0.0, 0, 0, 0)
                exitcode: int | None = None
                ended = wstate in (WORKER_EXITED, WORKER_KILLED) or letter in ("Z", "X")
                ended = ended or bool(v[w + W_EXIT])
                ended = ended or (letter == "" and bool(ended_by))
                live = not ended and letter != ""
                reaped = v[w + W_EXIT] - EXIT_BASE if v[w + W_EXIT] else None
                by_terminate = bool(ended_by) and reaped == -signal.SIGTERM
                if wstate == WORKER_KILLED:
                    exitcode, state = -signal.SIGKILL, "killed by SIGKILL"
                elif wstate == WORKER_EXITED:
                    exitcode, state = 0, "exited 0"
                elif reaped is not None and not by_terminate:
                    exitcode, state = reaped, exit_words(reaped)
                elif letter == "Z":
                    state = "zombie"
                elif letter in ("X", "") and ended_by:
                    exitcode = -signal.SIGKILL if v[H_STATE] == 5 else -signal.SIGTERM
                    state = ended_by
                elif letter == "X":
                    state = "gone"
                elif letter == "":
                    state = "starting"
                else:
                    state = "working" if v[w + W_CURRENT] else "idle"
                cur = v[w + W_CURRENT] - 1
                if 0 <= cur < len(spec.calls) and live:
                    activity = f"task {cur}: {call_words(spec.function, spec.calls[cur])}"
                elif live:
                    activity = "waiting for a task"
                else:
                    activity = ""
                if v[w + W_CPU_NS]:
                    cpu_s = max(cpu_s, v[w + W_CPU_NS] / 1e9)
                pct = 0.0
                if live:
                    last = self._cpu.get(key)
                    if last is None or now - last[0] >= 1.0:
                        pct = (cpu_s - last[1]) / (now - last[0]) * 100 if last else 0.0
                        self._cpu[key] = (now, cpu_s, pct)
                    else:
                        pct = last[2]
                out.append(
                    ProcessSample(
                        index=first_index + len(out),
                        name=f"{owner}/w{k + 1}",
                        template=owner,
                        role="pool-worker",
                        pid=pid,
                        ppid=ppid or v[w + W_PPID] or None,
                        alive=live,
                        exitcode=exitcode,
                        state=state,
                        status=_STATE_WORDS.get(letter, "") if live else "",
                        activity=activity,
                        blocked=None,
                        cpu_percent=max(0.0, pct),
                        cpu_s=cpu_s,
                        rss=rss,
                        threads=threads,
                        ctx_switches=0,
                        sent=v[w + W_DONE] + v[w + W_FAILED],
                        received=v[w + W_TAKEN],
                        items=v[w + W_DONE],
                        pills_sent=0,
                        pills_received=0,
                        blocked_s=0.0,
                        error="",
                        stopped_by_engine=False,
                    )
                )
        return out

    def samples(self, alive: list[bool]) -> list[PoolSample]:
        from ipcplay.engine.snapshot import PoolSample

        out = []
        for p, reg, spec in self.pools:
            v = self._vals.get(p)
            if v is None:
                continue
            nw = min(v[H_CLAIMED], reg.workers)
            ws = [reg.worker(k) - reg.at for k in range(nw)]
            results = []
            for k in range(min(v[H_NRESULTS], reg.results)):
                r = HEAD + reg.tasks * T_SLOTS + k * R_SLOTS
                kind = v[r + R_KIND]
                value: Any = v[r + R_VALUE] if kind == KIND_INT else None
                if kind == KIND_OTHER:
                    value = "…"
                elif kind == KIND_ERROR:
                    value = "error"
                results.append((v[r + R_TASK], value))
            lost, _, _ = self._lost(p, reg, spec)
            op = v[H_WAIT_OP]
            waiting = ""
            if op and alive[p]:
                waiting = f"{WAIT_OPS[op - 1]}: waiting for {v[H_WAIT_FOR]}"
            out.append(
                PoolSample(
                    name=self.insts[p].name,
                    method=spec.method,
                    function=spec.function,
                    processes=spec.processes,
                    maxtasksperchild=spec.maxtasksperchild,
                    chunksize=spec.chunksize,
                    state=POOL_STATES[v[H_STATE]] if 0 <= v[H_STATE] < len(POOL_STATES) else "",
                    submitted=v[H_SUBMITTED],
                    taken=sum(v[w + W_TAKEN] for w in ws),
                    returned=sum(v[w + W_DONE] + v[w + W_FAILED] for w in ws),
                    failed=sum(v[w + W_FAILED] for w in ws),
                    collected=v[H_COLLECTED],
                    errors=v[H_ERRORS],
                    callbacks=v[H_CALLBACKS],
                    error_callbacks=v[H_ERR_CALLBACKS],
                    timeouts=v[H_TIMEOUTS],
                    resubmitted=v[H_RESUBMITTED],
                    tasks=tuple(call_words(spec.function, c) for c in spec.calls),
                    arrived=tuple(i for i, _ in results),
                    results=tuple(x for _, x in results),
                    workers_started=v[H_CLAIMED],
                    workers_exited=sum(
                        1 for w in ws if v[w + W_STATE] in (WORKER_EXITED, WORKER_KILLED)
                    ),
                    workers_overflow=v[H_OVERFLOW],
                    lost=tuple(lost),
                    waiting=waiting,
                )
            )
        return out
