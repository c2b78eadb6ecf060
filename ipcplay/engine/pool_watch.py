"""The observer's view of every pool process: worker panels, counts, the
owner's wait, and whether that wait can ever end. It only reads the board
regions the pool processes write (pool_layout.py).
"""

from __future__ import annotations

import os
import signal
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine.plan import Instance, pool_regions
from ipcplay.engine.pool_layout import (
    EXIT_BASE,
    H_CALLBACKS,
    H_CLAIMED,
    H_COLLECTED,
    H_ERR_CALLBACKS,
    H_ERRORS,
    H_NRESULTS,
    H_OVERFLOW,
    H_RESUBMITTED,
    H_STATE,
    H_SUBMITTED,
    H_TIMEOUTS,
    H_WAIT_FOR,
    H_WAIT_OP,
    H_WAIT_SINCE,
    H_WAIT_TASK,
    H_WAIT_TIMED,
    HEAD,
    KIND_ERROR,
    KIND_INT,
    KIND_OTHER,
    POOL_STATES,
    R_KIND,
    R_SLOTS,
    R_TASK,
    R_VALUE,
    T_BY,
    T_SLOTS,
    T_STATE,
    TASK_QUEUED,
    TASK_RUNNING,
    W_CPU_NS,
    W_CURRENT,
    W_DONE,
    W_EXIT,
    W_FAILED,
    W_PID,
    W_PPID,
    W_STATE,
    W_TAKEN,
    WAIT_OPS,
    WORKER_EXITED,
    WORKER_KILLED,
    Region,
    call_words,
)
from ipcplay.engine.snapshot import BlockedOn, PoolSample, ProcessSample, exit_words
from ipcplay.engine.stuck import Wait
from ipcplay.scenario.model import PoolSpec


def _proc_stat(pid: int) -> tuple[str, float, int, int, int] | None:
    """(state letter, cpu s, rss, threads, ppid) from /proc, or None once gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            data = stat_file.read()
    except OSError:
        return None
    fields = data.rpartition(b")")[2].split()
    try:
        return (
            fields[0].decode(),
            (int(fields[11]) + int(fields[12])) / _CLK_TCK,
            int(fields[21]) * _PAGE,
            int(fields[17]),
            int(fields[1]),
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
        self.mv = mv
        self.insts = insts
        self.pools: list[tuple[int, Region, PoolSpec]] = []
        at = layout.pool_base
        for proc, size in pool_regions(insts).items():
            spec = insts[proc].spec.pool
            assert spec is not None
            self.pools.append((proc, Region.of(at, spec), spec))
            at += size
        self.owners = {proc for proc, _, _ in self.pools}
        self._vals: dict[int, list[int]] = {}
        self._cpu: dict[tuple[int, int], tuple[float, float, float]] = {}  # (t, cpu s, %)
        self._os: dict[tuple[int, int], tuple[str, float, int, int, int]] = {}

    def read(self) -> None:
        """Copy each region once per sample, so every figure agrees."""
        for proc, region, _ in self.pools:
            self._vals[proc] = self.mv[region.at : region.at + region.size].tolist()

    def _lost(self, proc: int, region: Region, spec: PoolSpec) -> tuple[list[int], int, int]:
        """(lost tasks, queued, running on a live worker) from this sample."""
        values = self._vals[proc]
        lost, queued, live = [], 0, 0
        for task in range(len(spec.calls)):
            task_at = HEAD + task * T_SLOTS
            state = values[task_at + T_STATE]
            if state == TASK_QUEUED:
                queued += 1
            elif state == TASK_RUNNING:
                slot = values[task_at + T_BY] - 1
                if 0 <= slot < region.workers and self._worker_dead(values, region, slot):
                    lost.append(task)
                else:
                    live += 1
        return lost, queued, live

    def _worker_dead(self, values: list[int], region: Region, slot: int) -> bool:
        """It said it ended (exit, die_on), or /proc says it is gone or a zombie."""
        worker_at = region.worker(slot) - region.at
        if values[worker_at + W_STATE] in (WORKER_EXITED, WORKER_KILLED):
            return True
        stat = self._os.get((region.at, slot))
        return stat is not None and stat[0] in ("Z", "X")

    def blocked(
        self, proc: int, name: str, alive: bool, waits: dict[int, Wait]
    ) -> BlockedOn | None:
        """The owner's wait in words; a Wait nobody can end when every task it
        waits for was taken by a worker that died (the Pool never re-runs it).
        A wait with a timeout always ends, so it is never one."""
        for pool_proc, region, spec in self.pools:
            if pool_proc != proc:
                continue
            values = self._vals[proc]
            op_index = values[H_WAIT_OP]
            if not alive or not op_index:
                return None
            opname = WAIT_OPS[op_index - 1]
            count = values[H_WAIT_FOR]
            task = values[H_WAIT_TASK] - 1
            if task >= 0:
                reason = f"waiting for task {task}: {call_words(spec.function, spec.calls[task])}"
            else:
                reason = f"waiting for {count} result{'s' if count != 1 else ''}"
            lost, queued, live = self._lost(proc, region, spec)
            stuck = bool(lost) and not values[H_WAIT_TIMED]
            if task >= 0:
                stuck = stuck and task in lost
            else:
                stuck = stuck and not queued and not live
            if stuck:
                words = "; ".join(
                    f"task {i} {call_words(spec.function, spec.calls[i])} was lost: "
                    f"its worker {self._worker_words(proc, values, region, i)} died mid-task "
                    "and the Pool never runs it again"
                    for i in (lost if task < 0 else [task])
                )
                reason += f"; {words}"
                waits[proc] = Wait(proc, name, opname, "pool", reason, frozenset())
            return BlockedOn(opname, "pool", reason, values[H_WAIT_SINCE] / 1e9, True)
        return None

    def _worker_words(self, proc: int, values: list[int], region: Region, task: int) -> str:
        slot = values[HEAD + task * T_SLOTS + T_BY] - 1
        pid = values[region.worker(slot) - region.at + W_PID]
        return f"{self.insts[proc].name}/w{slot + 1} (pid {pid})"

    def workers(self, now: float, first_index: int, alive: list[bool]) -> list[ProcessSample]:
        """One panel per worker life, in the order they claimed a slot."""
        out: list[ProcessSample] = []
        for proc, region, spec in self.pools:
            values = self._vals.get(proc)
            if values is None:
                continue
            ended_by = {3: "ended by terminate()", 5: "killed by SIGKILL (stopped)"}.get(
                values[H_STATE], "gone" if not alive[proc] else ""
            )
            for slot in range(min(values[H_CLAIMED], region.workers)):
                if values[region.worker(slot) - region.at + W_PID]:
                    worker = _Worker(values, region, spec, slot, ended_by)
                    out.append(self._worker_sample(worker, proc, now, first_index + len(out)))
        return out

    def _worker_sample(self, worker: _Worker, proc: int, now: float, index: int) -> ProcessSample:
        """A worker's panel: its board slot, and /proc while it lives."""
        values, at = worker.values, worker.at
        key = (worker.region.at, worker.slot)
        letter, cpu_s, rss, threads, ppid = self._os_stat(key, values[at + W_PID])
        exitcode, state, live = worker.state(letter)
        if values[at + W_CPU_NS]:
            cpu_s = max(cpu_s, values[at + W_CPU_NS] / 1e9)
        owner = self.insts[proc].name
        return ProcessSample(
            index=index,
            name=f"{owner}/w{worker.slot + 1}",
            template=owner,
            role="pool-worker",
            pid=values[at + W_PID],
            ppid=ppid or values[at + W_PPID] or None,
            alive=live,
            exitcode=exitcode,
            state=state,
            status=_STATE_WORDS.get(letter, "") if live else "",
            activity=worker.activity(live),
            blocked=None,
            cpu_percent=max(0.0, self._cpu_percent(key, now, cpu_s) if live else 0.0),
            cpu_s=cpu_s,
            rss=rss,
            threads=threads,
            ctx_switches=0,
            sent=values[at + W_DONE] + values[at + W_FAILED],
            received=values[at + W_TAKEN],
            items=values[at + W_DONE],
            pills_sent=0,
            pills_received=0,
            blocked_s=0.0,
            error="",
            stopped_by_engine=False,
        )

    def _os_stat(self, key: tuple[int, int], pid: int) -> tuple[str, float, int, int, int]:
        """A worker's (state letter, cpu s, rss, threads, ppid) from /proc; once
        it has gone, its last figures with the letter "X" (reaped)."""
        stat = self._os.get(key)
        if stat is None or stat[0] != "X":
            fresh = _proc_stat(pid)
            if fresh is not None:
                stat = self._os[key] = fresh
            elif stat is not None:
                stat = self._os[key] = ("X", *stat[1:])  # gone: reaped
        return stat or ("", 0.0, 0, 0, 0)

    def _cpu_percent(self, key: tuple[int, int], now: float, cpu_s: float) -> float:
        """CPU use over the last second or more, held between updates."""
        last = self._cpu.get(key)
        if last is not None and now - last[0] < 1.0:
            return last[2]
        percent = (cpu_s - last[1]) / (now - last[0]) * 100 if last else 0.0
        self._cpu[key] = (now, cpu_s, percent)
        return percent

    def samples(self, alive: list[bool]) -> list[PoolSample]:
        """One panel per pool process: its counts, its tasks and results in
        the order they arrived, what it waits for."""
        out = []
        for proc, region, spec in self.pools:
            values = self._vals.get(proc)
            if values is None:
                continue
            claimed = min(values[H_CLAIMED], region.workers)
            worker_ats = [region.worker(slot) - region.at for slot in range(claimed)]
            results = _results(values, region)
            lost, _, _ = self._lost(proc, region, spec)
            op = values[H_WAIT_OP]
            waiting = ""
            if op and alive[proc]:
                waiting = f"{WAIT_OPS[op - 1]}: waiting for {values[H_WAIT_FOR]}"
            out.append(
                PoolSample(
                    name=self.insts[proc].name,
                    method=spec.method,
                    function=spec.function,
                    processes=spec.processes,
                    maxtasksperchild=spec.maxtasksperchild,
                    chunksize=spec.chunksize,
                    state=POOL_STATES[values[H_STATE]]
                    if 0 <= values[H_STATE] < len(POOL_STATES)
                    else "",
                    submitted=values[H_SUBMITTED],
                    taken=sum(values[worker_at + W_TAKEN] for worker_at in worker_ats),
                    returned=sum(
                        values[worker_at + W_DONE] + values[worker_at + W_FAILED]
                        for worker_at in worker_ats
                    ),
                    failed=sum(values[worker_at + W_FAILED] for worker_at in worker_ats),
                    collected=values[H_COLLECTED],
                    errors=values[H_ERRORS],
                    callbacks=values[H_CALLBACKS],
                    error_callbacks=values[H_ERR_CALLBACKS],
                    timeouts=values[H_TIMEOUTS],
                    resubmitted=values[H_RESUBMITTED],
                    tasks=tuple(call_words(spec.function, c) for c in spec.calls),
                    arrived=tuple(task for task, _ in results),
                    results=tuple(result for _, result in results),
                    workers_started=values[H_CLAIMED],
                    workers_exited=sum(
                        1
                        for worker_at in worker_ats
                        if values[worker_at + W_STATE] in (WORKER_EXITED, WORKER_KILLED)
                    ),
                    workers_overflow=values[H_OVERFLOW],
                    lost=tuple(lost),
                    waiting=waiting,
                )
            )
        return out


def _results(values: list[int], region: Region) -> list[tuple[int, Any]]:
    """(task, value) of each result in arrival order; a value that is not a
    64-bit int is not on the board: "…", or "error" for an exception."""
    results = []
    for arrival in range(min(values[H_NRESULTS], region.results)):
        record_at = HEAD + region.tasks * T_SLOTS + arrival * R_SLOTS
        kind = values[record_at + R_KIND]
        value: Any = values[record_at + R_VALUE] if kind == KIND_INT else None
        if kind == KIND_OTHER:
            value = "…"
        elif kind == KIND_ERROR:
            value = "error"
        results.append((values[record_at + R_TASK], value))
    return results


class _Worker:
    """One worker life in a sample of its pool's region: how it ended, what it does."""

    def __init__(
        self, values: list[int], region: Region, spec: PoolSpec, slot: int, ended_by: str
    ) -> None:
        self.values = values
        self.region = region
        self.spec = spec
        self.slot = slot
        self.at = region.worker(slot) - region.at  # its slots, in `values`
        self.ended_by = ended_by  # how the pool's end ended its workers, if it did

    def state(self, letter: str) -> tuple[int | None, str, bool]:
        """(exit code, state in words, alive) from its slot and /proc's letter."""
        values, at, ended_by = self.values, self.at, self.ended_by
        said = values[at + W_STATE]
        ended = said in (WORKER_EXITED, WORKER_KILLED) or letter in ("Z", "X")
        ended = ended or bool(values[at + W_EXIT])
        ended = ended or (letter == "" and bool(ended_by))
        live = not ended and letter != ""
        reaped = values[at + W_EXIT] - EXIT_BASE if values[at + W_EXIT] else None
        by_terminate = bool(ended_by) and reaped == -signal.SIGTERM
        exitcode: int | None = None
        if said == WORKER_KILLED:
            exitcode, state = -signal.SIGKILL, "killed by SIGKILL"
        elif said == WORKER_EXITED:
            exitcode, state = 0, "exited 0"
        elif reaped is not None and not by_terminate:
            exitcode, state = reaped, exit_words(reaped)
        elif letter == "Z":
            state = "zombie"
        elif letter in ("X", "") and ended_by:
            exitcode = -signal.SIGKILL if values[H_STATE] == 5 else -signal.SIGTERM
            state = ended_by
        elif letter == "X":
            state = "gone"
        elif letter == "":
            state = "starting"
        else:
            state = "working" if values[at + W_CURRENT] else "idle"
        return exitcode, state, live

    def activity(self, live: bool) -> str:
        if not live:
            return ""
        current = self.values[self.at + W_CURRENT] - 1
        if 0 <= current < len(self.spec.calls):
            return f"task {current}: {call_words(self.spec.function, self.spec.calls[current])}"
        return "waiting for a task"
