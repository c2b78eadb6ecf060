"""A `multiprocessing.Pool`'s workers, counted: the task functions and the
initializer and wrappers that run in every worker (see pool.py).

Why an initializer and board slots rather than psutil's children of the pool
process: the pool's `initializer` runs in every worker, including each
replacement under `maxtasksperchild`, before it takes a task. There it claims
a worker slot on the telemetry board (under a lock, once per worker life) and
from then on is that slot's only writer: its PID, the task it is on, tasks
taken, done and failed, and how it ended. That is exact (psutil could only
guess which task a worker runs, and would miss a worker that lived and died
between two samples) and cheap (a few 8-byte stores per task, no IPC). The OS
figures (cpu, rss, state) come from /proc like every other panel's.
"""

from __future__ import annotations

import multiprocessing.util
import os
import signal
import time
from dataclasses import dataclass
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine import tempo
from ipcplay.engine.lifeline import exit_when_gone
from ipcplay.engine.pool_layout import (
    H_CLAIMED,
    H_OVERFLOW,
    T_BY,
    T_STATE,
    T_TRIES,
    TASK_DONE,
    TASK_FAILED,
    TASK_RUNNING,
    W_CPU_NS,
    W_CURRENT,
    W_DONE,
    W_ENDED_NS,
    W_FAILED,
    W_PID,
    W_PPID,
    W_SINCE,
    W_STARTED_NS,
    W_STATE,
    W_TAKEN,
    WORKER_BUSY,
    WORKER_EXITED,
    WORKER_IDLE,
    WORKER_KILLED,
    Region,
    first_arg,
)
from ipcplay.scenario.model import Work

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
    region = conf.region
    with lock:
        slot = mv[region.at + H_CLAIMED]
        mv[region.at + H_CLAIMED] = slot + 1
        if slot >= region.workers:
            mv[region.at + H_OVERFLOW] += 1
    worker_at = region.worker(slot) if slot < region.workers else -1
    _W.update(mv=mv, conf=conf, slot=slot, worker_at=worker_at)
    if worker_at < 0:
        return
    mv[worker_at + W_PID] = os.getpid()
    mv[worker_at + W_PPID] = os.getppid()
    mv[worker_at + W_STARTED_NS] = time.monotonic_ns()
    mv[worker_at + W_STATE] = WORKER_IDLE
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
    mv, worker_at = _W["mv"], _W["worker_at"]
    mv[worker_at + W_CPU_NS] = time.process_time_ns()
    mv[worker_at + W_ENDED_NS] = time.monotonic_ns()
    mv[worker_at + W_STATE] = WORKER_EXITED


def _run(task: int, args: tuple[Any, ...], kwds: dict[str, Any]) -> Any:
    mv, conf, worker_at = _W["mv"], _W["conf"], _W["worker_at"]
    task_at = conf.region.task(task)
    tries = mv[task_at + T_TRIES] + 1
    mv[task_at + T_TRIES] = tries
    mv[task_at + T_BY] = _W["slot"] + 1 if worker_at >= 0 else 0
    mv[task_at + T_STATE] = TASK_RUNNING
    if worker_at >= 0:
        mv[worker_at + W_SINCE] = time.monotonic_ns()
        mv[worker_at + W_CURRENT] = task + 1
        mv[worker_at + W_TAKEN] += 1
        mv[worker_at + W_STATE] = WORKER_BUSY
    key = first_arg((args, kwds))
    if key in conf.die_on and tries == 1:
        # The OOM killer's way: no exception, no result, no goodbye.
        if worker_at >= 0:
            mv[worker_at + W_ENDED_NS] = time.monotonic_ns()
            mv[worker_at + W_STATE] = WORKER_KILLED
        os.kill(os.getpid(), signal.SIGKILL)
    try:
        work = conf.work
        if work.kind == "sleep" and work.ms > 0:
            tempo.sleep(mv, work.ms / 1000.0)
        elif work.kind == "cpu" and work.ms > 0:
            tempo.spin(mv, work.ms / 1000.0)
        if key in conf.fail_on:
            raise ValueError(f"{conf.function}({key!r}): bad input {key!r}")
        value = FUNCTIONS[conf.function](*args, **kwds)
    except BaseException:
        mv[task_at + T_STATE] = TASK_FAILED
        if worker_at >= 0:
            mv[worker_at + W_FAILED] += 1
            mv[worker_at + W_CURRENT] = 0
            mv[worker_at + W_STATE] = WORKER_IDLE
        raise
    mv[task_at + T_STATE] = TASK_DONE
    if worker_at >= 0:
        mv[worker_at + W_DONE] += 1
        mv[worker_at + W_CURRENT] = 0
        mv[worker_at + W_STATE] = WORKER_IDLE
    return value


def run_task(job: tuple[int, tuple[Any, ...], tuple[tuple[str, Any], ...]]) -> tuple[int, Any]:
    """map / imap / apply: one (task index, args, kwds) job -> (task index, result)."""
    task, args, kwds = job
    return task, _run(task, args, dict(kwds))


def run_chunk(
    jobs: list[tuple[int, tuple[Any, ...], tuple[tuple[str, Any], ...]]],
) -> list[tuple[int, Any]]:
    """imap with a chunksize: one message carries `chunksize` jobs, as in CPython."""
    return [run_task(job) for job in jobs]


def run_star(task: int, *args: Any) -> tuple[int, Any]:
    """starmap: the task index comes first, then the task's own arguments."""
    return task, _run(task, args, {})
