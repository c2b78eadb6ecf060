"""A process's row: what the OS knows of it, and what its board slots say.

Part of the sampler (engine/sampler.py): `OsReader` reads /proc (or psutil)
for a few processes a tick; `process_sample` turns one process's slots, its
OS figures and its wait into the frozen `ProcessSample` a UI shows.
"""

from __future__ import annotations

import contextlib
import os
import re

import psutil

from ipcplay.engine import board as B
from ipcplay.engine import demos
from ipcplay.engine.registry import ProcessInfo
from ipcplay.engine.snapshot import BlockedOn, ProcessSample, exit_words

OS_READS_PER_TICK = 16

_PROC_STAT = os.path.exists("/proc/self/stat")
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_CTX_RE = re.compile(rb"ctxt_switches:\s+(\d+)")
# /proc/PID/stat state letters, named as psutil names them.
_STATUS = {
    b"R": psutil.STATUS_RUNNING,
    b"S": psutil.STATUS_SLEEPING,
    b"D": psutil.STATUS_DISK_SLEEP,
    b"T": psutil.STATUS_STOPPED,
    b"t": psutil.STATUS_TRACING_STOP,
    b"Z": psutil.STATUS_ZOMBIE,
    b"X": psutil.STATUS_DEAD,
    b"I": psutil.STATUS_IDLE,
}

# (status, cpu s, rss, threads, ctx switches, ppid)
OsFigures = tuple[str, float, int, int, int, int | None]


class OsReader:
    """The OS's figures per process, the last ones kept for when it is gone."""

    def __init__(self, nproc: int) -> None:
        self._ps: list[psutil.Process | None] = [None] * nproc
        self.last: list[OsFigures] = [("", 0.0, 0, 0, 0, None)] * nproc
        self._stat_fds: dict[int, tuple[int, int]] = {}  # process index -> (pid, fd)

    def sample(self, i: int, pid: int, full: bool) -> OsFigures:
        """(status, cpu s, rss, threads, ctx switches, ppid) as the OS knows them.

        On Linux every tick reads /proc/PID/stat, one file, ~30 µs here; the
        same figures through psutil's oneshot() cost ~100 µs, and with 128
        processes at 10 Hz that difference alone is 9 % of a core, more than
        htop spends in all. Context switches (another file) come once a second.
        Elsewhere, psutil.
        """
        if _PROC_STAT:
            return self._from_proc(i, pid, full)
        return self._from_psutil(i, pid, full)

    def _from_proc(self, i: int, pid: int, full: bool) -> OsFigures:
        last = self.last[i]
        try:
            fields = self._read_stat(i, pid).rpartition(b")")[2].split()
            status = _STATUS.get(fields[0], "?")
            ppid = int(fields[1])
            cpu_s = (int(fields[11]) + int(fields[12])) / _CLK_TCK
            threads = int(fields[17])
            rss = int(fields[21]) * _PAGE
            ctx = last[4]
            if full:
                with open(f"/proc/{pid}/status", "rb") as f:
                    found = _CTX_RE.findall(f.read())
                ctx = sum(int(x) for x in found)
        except (OSError, IndexError, ValueError):
            return last
        result = (status, cpu_s, rss, threads, ctx, ppid)
        self.last[i] = result
        return result

    def _from_psutil(self, i: int, pid: int, full: bool) -> OsFigures:
        last = self.last[i]
        proc = self._ps[i]
        if proc is None or proc.pid != pid:
            try:
                proc = psutil.Process(pid)
            except psutil.Error:
                return last
            self._ps[i] = proc
            full = True
        try:
            with proc.oneshot():
                times = proc.cpu_times()
                cpu_s = times.user + times.system
                status = proc.status()
                if full:
                    rss = proc.memory_info().rss
                    threads = proc.num_threads()
                    switches = proc.num_ctx_switches()
                    ctx = switches.voluntary + switches.involuntary
                    ppid = proc.ppid()
                else:
                    rss, threads, ctx, ppid = last[2], last[3], last[4], last[5]
        except psutil.Error:
            return last
        result = (status, cpu_s, rss, threads, ctx, ppid)
        self.last[i] = result
        return result

    def _read_stat(self, i: int, pid: int) -> bytes:
        """/proc/PID/stat through a descriptor kept open per process: one
        pread a tick instead of open, read and close. The descriptor stays
        tied to that process (a reused PID gets a new one); once the process
        is reaped, reading it fails and the last figures stand."""
        held = self._stat_fds.get(i)
        if held is None or held[0] != pid:
            if held is not None:
                os.close(held[1])
            held = self._stat_fds[i] = (pid, os.open(f"/proc/{pid}/stat", os.O_RDONLY))
        try:
            return os.pread(held[1], 4096, 0)
        except OSError:
            os.close(held[1])
            del self._stat_fds[i]
            raise

    def close(self) -> None:
        """Give back the descriptors held for /proc reads."""
        for _, fd in self._stat_fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._stat_fds.clear()


def state_of(
    slots: list[int],
    status: str,
    pid: int | None,
    exitcode: int | None,
    blocked: bool,
    activity: str,
) -> str:
    """The one word a process row leads with, most telling first."""
    phase = slots[B.P_PHASE]
    if exitcode is not None:
        return exit_words(exitcode)
    if status == psutil.STATUS_STOPPED:  # stopped even before it got going
        return "stopped"
    if not pid or phase == B.PHASE_NEW:
        return "starting"
    if status == psutil.STATUS_ZOMBIE:
        return "zombie"
    if blocked:
        return "blocked"
    if phase in (B.PHASE_DONE, B.PHASE_STOPPED, B.PHASE_FAILED):
        return "exiting"
    return activity


def activity_of(slots: list[int]) -> str:
    act = slots[B.P_ACTIVITY]
    return B.ACTIVITY_WORDS[act] if 0 <= act < len(B.ACTIVITY_WORDS) else "running"


def process_sample(
    info: ProcessInfo,
    slots: list[int],
    pid: int | None,
    os_figures: OsFigures,
    cpu_percent: float,
    exitcode: int | None,
    blocked: BlockedOn | None,
    traffic: tuple[int, int, float],
    stopped_by_engine: bool,
    alive: bool,
) -> ProcessSample:
    """One row. `traffic` is (sent, received, blocked s) over its channels
    and shared objects, already net of the time ipcplay kept it stopped."""
    status, cpu_s, rss, threads, ctx, ppid = os_figures
    if not (alive and pid) and slots[B.P_CPU_NS]:
        cpu_s = max(cpu_s, slots[B.P_CPU_NS] / 1e9)
        ctx = max(ctx, slots[B.P_CTX_SWITCHES])  # as the role ended: a reaped pid has no /proc
    sent, received, blocked_s = traffic
    activity = activity_of(slots)
    return ProcessSample(
        index=info.index,
        name=info.name,
        template=info.template,
        role=info.role,
        pid=pid,
        ppid=ppid,
        alive=alive,
        exitcode=exitcode,
        state=state_of(slots, status, pid, exitcode, blocked is not None, activity),
        status="" if exitcode is not None else status,
        activity=activity,
        blocked=blocked,
        cpu_percent=cpu_percent,
        cpu_s=cpu_s,
        rss=rss,
        threads=threads,
        ctx_switches=ctx,
        sent=sent,
        received=received,
        items=slots[B.P_ITEMS],
        pills_sent=slots[B.P_PILLS_SENT],
        pills_received=slots[B.P_PILLS_RECEIVED],
        blocked_s=blocked_s,
        error=B.read_text(slots, 0),
        stopped_by_engine=stopped_by_engine,
        notes=notes_of(info.role, slots),
    )


def notes_of(role: str, slots: list[int]) -> tuple[tuple[str, int], ...]:
    """The numbers a demo role has written about itself (only those written),
    and for `globals` the parent's own value of the same global, read here."""
    labels = demos.NOTE_LABELS.get(role)
    if labels is None:
        return ()
    out = [
        (label, slots[B.P_NOTE + i])
        for i, label in enumerate(labels)
        if slots[B.P_NOTE_SET] >> i & 1
    ]
    if role == "globals":
        out.append(("parent's global", demos.parent_value()))
    return tuple(out)
