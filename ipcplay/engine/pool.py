"""`multiprocessing.Pool`, counted: the pool process's side (the owner).

A `pool` process owns a real `ctx.Pool(processes, maxtasksperchild=...)` and runs
one pool method over a list of tasks with a function from a small fixed
library (`pool_worker.FUNCTIONS`; presets never bring code). Its workers are
real grandchildren of ipcplay, started and replaced by the Pool itself; what
runs in them is in pool_worker.py, the board region both write in
pool_layout.py, the observer's view in pool_watch.py.

Each task is submitted wrapped as `(task index, args, kwds)` to `run_task`
(`run_star` for starmap), which stamps the task's slots and returns
`(task index, result)`, so the owner can tell which task a result belongs to
and the order results arrived in is visible next to the order submitted.
`ipcplay export` writes the same pool without the wrapper.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import multiprocessing.pool
import os
import signal
import threading
import time
from multiprocessing import context as mpcontext
from typing import Any

from ipcplay.engine import tempo
from ipcplay.engine.context import STOPPED, RoleContext
from ipcplay.engine.pool_layout import (
    EXIT_BASE,
    H_CALLBACKS,
    H_CLAIMED,
    H_COLLECTED,
    H_ERR_CALLBACKS,
    H_ERRORS,
    H_NRESULTS,
    H_RESUBMITTED,
    H_STATE,
    H_SUBMITTED,
    H_TIMEOUTS,
    H_WAIT_FOR,
    H_WAIT_OP,
    H_WAIT_SINCE,
    H_WAIT_TASK,
    H_WAIT_TIMED,
    KIND_ERROR,
    KIND_INT,
    KIND_NONE,
    KIND_OTHER,
    R_KIND,
    R_TASK,
    R_VALUE,
    W_EXIT,
    W_PID,
    WAIT_OPS,
    Region,
)
from ipcplay.engine.pool_worker import WorkerConf, run_chunk, run_star, run_task, worker_init
from ipcplay.scenario.model import PoolSpec


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

    def bump(self, slot: int, count: int = 1) -> None:
        self.mv[self.at + slot] += count

    def arrived(self, task: int, value: Any, error: bool = False) -> None:
        """One result in hand: record which task, its value, in arrival order."""
        with self._results_lock:
            if task in self.got:
                return
            self.got.add(task)
            arrival = self.mv[self.at + H_NRESULTS]
            if arrival < self.reg.results:
                record_at = self.reg.result(arrival)
                if error:
                    kind, stored = KIND_ERROR, 0
                elif value is None:
                    kind, stored = KIND_NONE, 0
                elif type(value) is int and -(1 << 63) <= value < (1 << 63):
                    kind, stored = KIND_INT, value
                else:
                    kind, stored = KIND_OTHER, 0
                self.mv[record_at + R_TASK] = task
                self.mv[record_at + R_VALUE] = stored
                self.mv[record_at + R_KIND] = kind
                self.mv[self.at + H_NRESULTS] = arrival + 1
            self.bump(H_ERRORS if error else H_COLLECTED)

    def on_result(self, pair: tuple[int, Any]) -> None:
        self.bump(H_CALLBACKS)
        self.arrived(*pair)

    def on_results(self, pairs: list[tuple[int, Any]]) -> None:
        self.bump(H_CALLBACKS)
        for pair in pairs:
            self.arrived(*pair)

    def on_error(self, task: int | None, exc: BaseException) -> None:
        self.bump(H_ERR_CALLBACKS)
        if task is not None:
            self.arrived(task, None, error=True)

    # ------------------------------------------------------------ waiting
    def wait(
        self,
        ready: Any,
        op: str,
        count: int,
        task: int = -1,
        timeout: float = 0.0,
    ) -> bool:
        """Block until `ready(slice)` is true, saying so on the board; False
        if `timeout` passed first. Raises Stop on a stop command."""
        mv, at = self.mv, self.at
        mv[at + H_WAIT_FOR] = count
        mv[at + H_WAIT_TASK] = task + 1
        mv[at + H_WAIT_TIMED] = 1 if timeout else 0
        mv[at + H_WAIT_SINCE] = time.monotonic_ns()
        mv[at + H_WAIT_OP] = WAIT_OPS.index(op) + 1
        waited = 0.0  # scenario seconds: a timeout is the role's own time (slow motion)
        try:
            while True:
                started = time.monotonic()
                if ready(0.05):
                    break
                if self.ctx.commands():
                    raise Stop
                waited += (time.monotonic() - started) * tempo.speed_of(mv)
                if timeout and waited >= timeout:
                    return False
            return True
        finally:
            mv[at + H_WAIT_OP] = 0

    def get(self, result: Any, task: int, op: str = "get") -> None:
        """`result.get()` for task number `task`: its value, or its worker's exception."""
        self.wait(_waiter(result), op, 1, task)
        try:
            _, value = result.get(0)
        except Exception:
            if self.spec.on_error == "raise":
                self.bump(H_ERRORS)
                raise
            self.arrived(task, None, error=True)
            return
        self.arrived(task, value)


def _waiter(result: Any) -> Any:
    def ready(timeout: float) -> bool:
        result.wait(timeout)
        return result.ready()

    return ready


def jobs(spec: PoolSpec) -> list[tuple[int, tuple[Any, ...], tuple[tuple[str, Any], ...]]]:
    return [(task, call.args, call.kwds) for task, call in enumerate(spec.calls)]


def owner(ctx: RoleContext) -> str | None:
    """Role "pool": `with ctx.Pool(...) as pool:` run the method, then the endings."""
    spec: PoolSpec = ctx.spec.pool  # type: ignore[assignment]
    keeper = Owner(ctx)
    context = multiprocessing.get_context(ctx.plan.start_method or None)
    conf = WorkerConf(
        keeper.reg, spec.function, spec.fail_on, spec.die_on, ctx.spec.work, ctx.plan.observer_pid
    )
    _REAPED.update(mv=keeper.mv, region=keeper.reg)
    pool = _ReportingPool(
        spec.processes,
        initializer=worker_init,
        initargs=(ctx.mv.obj, context.Lock(), conf),
        maxtasksperchild=spec.maxtasksperchild or None,
        context=context,
    )
    keeper.head(H_STATE, 1)
    try:
        _drive(keeper, pool, spec)
    except Stop:  # asked to stop: the observer gives us 0.3 s
        keeper.clean = _terminate(pool, 0.15)
        keeper.head(H_STATE, 3 if keeper.clean else 5)
        return STOPPED
    finally:
        ctx.done(keeper.mv[keeper.at + H_COLLECTED])
        if keeper.mv[keeper.at + H_STATE] not in (3, 5) and keeper.clean:
            # what `with Pool() as pool:` does on the way out; it joins the workers
            keeper.clean = _terminate(pool)
        if not keeper.clean:
            _forget_terminate(pool)
        if keeper.mv[keeper.at + H_STATE] not in (4, 5):
            keeper.head(H_STATE, 3)
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
    mv, region = _REAPED.get("mv"), _REAPED.get("region")
    if mv is None or region is None:
        return
    for slot in range(min(mv[region.at + H_CLAIMED], region.workers)):
        worker_at = region.worker(slot)
        if mv[worker_at + W_PID] == pid:
            if not mv[worker_at + W_EXIT]:
                mv[worker_at + W_EXIT] = EXIT_BASE + code
            return


def _terminate(pool: Any, timeout: float = 1.0) -> bool:
    """pool.terminate(), bounded: after one of its workers was SIGKILLed,
    terminate() sometimes never returns here, blocked in CPython's
    _help_stuff_finish on the task queue's read lock (seen about one run in
    three under ipcplay; not in the exported plain script). After a second
    the pool process kills and reaps its workers itself and goes on; False
    then, and join() must be skipped (its handler threads never end)."""
    thread = threading.Thread(target=pool.terminate, name="ipcplay-terminate", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
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
        with contextlib.suppress(OSError), open(f"/proc/self/task/{tid}/children") as listing:
            out += [int(word) for word in listing.read().split()]
    keep = []
    for pid in dict.fromkeys(out):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as listing:
            if b"resource_tracker" in listing.read():
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


Pending = list[tuple[int, Any]]  # (task, AsyncResult) to get() after the endings; -1: a map's


def _drive(keeper: Owner, pool: Any, spec: PoolSpec) -> None:
    """Run the pool method over every task, then the endings, then get what is pending."""
    job_list = jobs(spec)
    method = spec.method
    pending: Pending = []
    if method == "apply":
        _apply(keeper, pool, job_list)
    elif method == "apply_async":
        pending = _apply_async(keeper, pool, job_list, spec)
    elif method in ("map", "starmap"):
        _map(keeper, pool, job_list, spec)
    elif method in ("map_async", "starmap_async"):
        pending = [(-1, _map_with_callbacks(keeper, pool, job_list, spec))]
    else:  # imap, imap_unordered
        _imap(keeper, pool, job_list, spec)
    _endings(keeper, pool, spec, pending)
    _collect(keeper, spec, pending)


def _apply(keeper: Owner, pool: Any, job_list: list[Any]) -> None:
    """`pool.apply`, task by task: each waits for its result before the next."""
    for task, job in enumerate(job_list):
        keeper.bump(H_SUBMITTED)
        keeper.get(pool.apply_async(run_task, (job,)), task, "apply")
        keeper.ctx.done(keeper.mv[keeper.at + H_COLLECTED])


def _apply_async(keeper: Owner, pool: Any, job_list: list[Any], spec: PoolSpec) -> Pending:
    pending: Pending = []
    for task, job in enumerate(job_list):
        keeper.bump(H_SUBMITTED)
        options: dict[str, Any] = {}
        if spec.callback:
            options["callback"] = keeper.on_result
        if spec.error_callback:
            options["error_callback"] = functools.partial(keeper.on_error, task)
        pending.append((task, pool.apply_async(run_task, (job,), **options)))
    if spec.timeout:
        pending = _timed_gets(keeper, pool, job_list, pending, spec)
    return pending


def _map(keeper: Owner, pool: Any, job_list: list[Any], spec: PoolSpec) -> None:
    count = len(job_list)
    keeper.bump(H_SUBMITTED, count)
    result = _map_async(pool, spec.method, job_list, spec.chunksize or None, {})
    keeper.wait(_waiter(result), "map", count)
    for task, value in result.get(0):
        keeper.arrived(task, value)


def _map_with_callbacks(keeper: Owner, pool: Any, job_list: list[Any], spec: PoolSpec) -> Any:
    keeper.bump(H_SUBMITTED, len(job_list))
    options: dict[str, Any] = {}
    if spec.callback:
        options["callback"] = keeper.on_results
    if spec.error_callback:
        options["error_callback"] = functools.partial(keeper.on_error, None)
    return _map_async(pool, spec.method, job_list, spec.chunksize or None, options)


def _imap(keeper: Owner, pool: Any, job_list: list[Any], spec: PoolSpec) -> None:
    count = len(job_list)
    keeper.bump(H_SUBMITTED, count)
    # With chunksize > 1 CPython's imap returns a plain generator over
    # chunks, which has no next(timeout); the owner must never block
    # without a timeout, so it sends the chunks itself, one job list per
    # task message: the same messages imap(chunksize) would send.
    size = spec.chunksize or 1
    if size > 1:
        chunks = [job_list[k : k + size] for k in range(0, count, size)]
        results = getattr(pool, spec.method)(run_chunk, chunks, 1)
    else:
        results = getattr(pool, spec.method)(run_task, job_list, 1)
    got = 0
    while got < count:
        box: list[Any] = []

        def ready(timeout: float, box: list[Any] = box) -> bool:
            try:
                box.append(results.next(timeout))
            except multiprocessing.TimeoutError:
                return False
            return True

        keeper.wait(ready, "imap", count - got)
        for task, value in box[0] if size > 1 else box:
            keeper.arrived(task, value)
            got += 1
            keeper.ctx.done(got)


def _collect(keeper: Owner, spec: PoolSpec, pending: Pending) -> None:
    """get() each pending result the endings left, as the program would."""
    for task, result in pending:
        if task < 0:
            keeper.wait(_waiter(result), "get", len(spec.calls))
            try:
                pairs = result.get(0)
            except Exception:
                if spec.on_error == "raise" and not spec.error_callback:
                    keeper.bump(H_ERRORS)
                    raise
                continue
            for done_task, value in pairs:
                keeper.arrived(done_task, value)
        elif task not in keeper.got:
            keeper.get(result, task)


def _map_async(
    pool: Any, method: str, job_list: list[Any], chunk: int | None, options: dict[str, Any]
) -> Any:
    if method.startswith("starmap"):
        return pool.starmap_async(
            run_star, [(task, *args) for task, args, _ in job_list], chunk, **options
        )
    return pool.map_async(run_task, job_list, chunk, **options)


def _timed_gets(
    keeper: Owner, pool: Any, job_list: list[Any], pending: list[tuple[int, Any]], spec: PoolSpec
) -> list[tuple[int, Any]]:
    """get(timeout) each result; a task whose result does not come in time is
    submitted again when `resubmit` says so (its worker may have died)."""
    left = []
    for task, result in pending:
        tries = 0
        while not keeper.wait(_waiter(result), "get", 1, task, spec.timeout):
            keeper.bump(H_TIMEOUTS)
            if not spec.resubmit or tries >= 3:
                raise multiprocessing.TimeoutError(f"task {task}: no result in {spec.timeout:g} s")
            tries += 1
            keeper.bump(H_RESUBMITTED)
            keeper.bump(H_SUBMITTED)
            result = pool.apply_async(run_task, (job_list[task],))
        left.append((task, result))
    return left


def _endings(keeper: Owner, pool: Any, spec: PoolSpec, pending: list[tuple[int, Any]]) -> None:
    for step in spec.ending:
        if step == "close":
            pool.close()
            keeper.head(H_STATE, 2)
        elif step == "terminate":
            keeper.clean = _terminate(pool)
            keeper.head(H_STATE, 3)
        else:
            if keeper.mv[keeper.at + H_STATE] != 3:
                # join() returns once every task is done and the workers have
                # exited; wait for the tasks in slices (a stop is seen), then join.
                results = [result for _, result in pending]
                keeper.wait(functools.partial(_all_ready, results), "join", _unready(results))
            if keeper.clean:
                pool.join()
            keeper.head(H_STATE, 4)


def _all_ready(results: list[Any], timeout: float) -> bool:
    """Every result in (so join() returns at once); else wait up to `timeout` for one."""
    for result in results:
        if not result.ready():
            result.wait(timeout)
            return False
    return True


def _unready(results: list[Any]) -> int:
    return sum(1 for result in results if not result.ready())
