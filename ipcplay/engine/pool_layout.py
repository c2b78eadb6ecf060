"""The board region of one pool process: its layout, and a task in words.

A leaf below both sides: the pool process and its workers write the region
(pool.py, pool_worker.py), the observer reads it (pool_watch.py), and the
plan sizes it (plan.py).

Region of one pool process on the board (after every process's slots):
a header the owner writes, a record per task (written by the worker running
it), a record per result in arrival order (written by whoever collects it),
and one slot per worker life.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ipcplay.scenario.model import PoolCall, PoolSpec

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
    tasks = len(spec.calls)
    workers = min(MAX_WORKER_SLOTS, 2 * spec.processes + 2 * tasks)
    return tasks, 2 * tasks, workers


def region_size(spec: PoolSpec | None) -> int:
    """Board slots a pool process's region takes (0: not a pool process)."""
    if spec is None:
        return 0
    tasks, results, workers = _caps(spec)
    return HEAD + tasks * T_SLOTS + results * R_SLOTS + workers * W_SLOTS


@dataclass(frozen=True)
class Region:
    """Offsets of one pool's region on the board; pure arithmetic."""

    at: int
    tasks: int
    results: int
    workers: int

    @classmethod
    def of(cls, at: int, spec: PoolSpec) -> Region:
        return cls(at, *_caps(spec))

    def task(self, task: int) -> int:
        return self.at + HEAD + task * T_SLOTS

    def result(self, arrival: int) -> int:
        return self.at + HEAD + self.tasks * T_SLOTS + arrival * R_SLOTS

    def worker(self, slot: int) -> int:
        return self.at + HEAD + self.tasks * T_SLOTS + self.results * R_SLOTS + slot * W_SLOTS

    @property
    def size(self) -> int:
        return self.worker(self.workers) - self.at


def call_words(function: str, call: PoolCall) -> str:
    """A task as Python would write it: sum_range(100), action(name='x')."""
    parts = [repr(arg) for arg in call.args] + [f"{key}={value!r}" for key, value in call.kwds]
    return f"{function}({', '.join(parts)})"


def first_arg(call: PoolCall | tuple[tuple[Any, ...], dict[str, Any]]) -> Any:
    """A task's first argument, positional or not: what fail_on and die_on name."""
    if isinstance(call, PoolCall):
        args, kwds = call.args, dict(call.kwds)
    else:
        args, kwds = call
    if args:
        return args[0]
    return next(iter(kwds.values()), None)
