"""The first code that runs in every child: tie its life to the observer,
keep it off the terminal, open its instrumented channels, run its role.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import sys
import threading
import time
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine.channels import instrument
from ipcplay.engine.journal import JournalWriter
from ipcplay.engine.plan import ChildPlan
from ipcplay.engine.primitives import instrument_shared
from ipcplay.engine.roles import ROLES, STOPPED, RoleContext

PR_SET_PDEATHSIG = 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exit_when_gone(pid: int) -> None:
    """End this process as soon as process `pid` has: a daemon thread blocked
    on a pidfd wakes only when it exits (no polling); where pidfds are
    missing, it polls four times a second."""
    try:
        fd = os.pidfd_open(pid)  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        fd = -1
    if not _alive(pid):  # it died before we got here
        os._exit(1)

    def watch() -> None:
        if fd >= 0:
            select.select([fd], [], [])
        else:
            while _alive(pid):
                time.sleep(0.25)
        os._exit(1)

    threading.Thread(target=watch, name="ipcplay-watch", daemon=True).start()


def die_with_observer(observer_pid: int) -> None:
    """Make sure this child cannot outlive the observer, even if it is SIGKILLed.

    When the observer is our parent (fork, spawn), Linux sends us SIGKILL as it
    dies (PR_SET_PDEATHSIG). Under forkserver our parent is the fork server,
    which lives as long as any of its children do, so we also watch the
    observer itself; and the server arms its own death signal as it starts
    (forkserver_guard), so that a child stopped by a pause, whose watch
    thread cannot run, still dies: with the server, by this signal.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if not _alive(observer_pid):  # it died before we got here
        os._exit(1)
    if os.getppid() == observer_pid and sys.platform.startswith("linux"):
        return
    exit_when_gone(observer_pid)


def ignore_interrupts() -> None:
    """Ctrl+C is the observer's to handle, from this process's first instruction.

    The observer starts every child with SIGINT blocked (see
    `hold_interrupts`), so a Ctrl+C during a spawned interpreter's start-up or
    between fork and here stays pending; ignoring it discards it, and only
    then is it unblocked. A child prints no KeyboardInterrupt, ever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def hold_interrupts() -> set[int]:
    """Block SIGINT in this thread while it starts processes; the old mask.

    A blocked signal mask is inherited by a forked child from its first
    instruction and kept across exec (spawn, the resource tracker, a fork
    server), so a child cannot be interrupted before `ignore_interrupts`.
    The observer loses nothing: SIGINT to the process goes to a thread that
    does not block it, or waits, pending, until `release_interrupts`. The
    standard library starts its resource tracker the same way."""
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def release_interrupts(old: set[int]) -> None:
    signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _quiet() -> None:
    """Children must not write over the TUI; their errors go to the board."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _flush(plan: ChildPlan, mv: memoryview, base: int, chans: list[Any]) -> None:
    """Close every Queue this process put on and wait for its feeder thread.

    A process that put items on a Queue cannot exit until its feeder thread
    has written them all into the queue's pipe; multiprocessing does this at
    exit anyway. Doing it here, stamped on the board, makes that wait
    visible: if nobody reads, the pipe stays full and this never returns
    (the pitfall "joining processes that use queues")."""
    for ch, ep in zip(chans, plan.endpoints, strict=True):
        if not ep.writes or ep.kind not in ("Queue", "JoinableQueue"):
            continue
        mv[base + B.P_WAITS_ON] = ep.chan
        mv[base + B.P_SINCE] = time.monotonic_ns()
        mv[base + B.P_ACTIVITY] = B.ACT_FLUSHING
        ch.close()
        ch.join_thread()
        mv[base + B.P_ACTIVITY] = B.ACT_ENDING


def _ctx_switches() -> int:
    """This thread's voluntary + involuntary context switches, as the
    observer reads them from /proc/PID/status for the main thread."""
    try:
        import resource

        who = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)
        r = resource.getrusage(who)
    except (ImportError, OSError):
        return 0
    return r.ru_nvcsw + r.ru_nivcsw


def child_entry(
    plan: ChildPlan,
    raw_board: Any,
    handles: tuple[Any, ...],
    foreign: tuple[Any, ...],
    shared: tuple[Any, ...] = (),
    kept: tuple[Any, ...] = (),
) -> None:
    """Process target. `foreign` are pipe ends a forked child inherited but does
    not use: closing them is what lets the other side see EOF. `shared` are the
    real shared objects of `plan.shared`, in that order. `kept` are write ends
    this reader holds open on purpose (a pitfall scenario): they stay
    referenced, never closed, until the process exits."""
    ignore_interrupts()
    # A forked child inherits the observer's Python handlers; SIGTERM must
    # terminate a child, as Process.terminate() and `kill` promise.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_observer(plan.observer_pid)
    mv = B.view(raw_board)
    layout = plan.layout
    base = layout.proc(plan.proc)
    # Armed: from now on the observer may stop us. A pause asked for before
    # this moment is held, and played once we wait here (see board.C_HOLD).
    mv[base + B.P_PID] = os.getpid()
    while mv[base + B.C_HOLD]:
        time.sleep(0.002)
    for conn in foreign:
        conn.close()
    if plan.quiet:
        _quiet()
    mv[base + B.P_STARTED_NS] = time.monotonic_ns()
    journal = JournalWriter(mv, layout, plan.proc) if layout.journal_cap else None
    if journal is not None:
        journal.log(B.OP_START, -1, 0)
    chans = [
        instrument(ep.kind, h, ep, mv, layout, plan.proc, journal)
        for ep, h in zip(plan.endpoints, handles, strict=True)
    ]
    objs = {
        ep.name: instrument_shared(h, ep, mv, layout, plan.proc, journal)
        for ep, h in zip(plan.shared, shared, strict=True)
    }
    mv[base + B.P_PHASE] = B.PHASE_RUNNING
    code = 0
    try:
        ctx = RoleContext(plan, mv, chans, objs)
        result = STOPPED if ctx.join(plan.join_first) else ROLES[plan.spec.role](ctx)
        if result != STOPPED and ctx.join(plan.join_last):
            result = STOPPED
        phase = B.PHASE_STOPPED if result == STOPPED else B.PHASE_DONE
        if phase == B.PHASE_DONE:
            _flush(plan, mv, base, chans)
    except BaseException as exc:  # report it on the board; the terminal is the TUI's
        B.write_text(mv, base, f"{type(exc).__name__}: {exc}")
        phase = B.PHASE_FAILED
        code = 1
    mv[base + B.P_MARK] = 0
    mv[base + B.P_CPU_NS] = time.process_time_ns()
    mv[base + B.P_CTX_SWITCHES] = _ctx_switches()
    mv[base + B.P_ENDED_NS] = time.monotonic_ns()
    mv[base + B.P_PHASE] = phase
    if journal is not None:
        journal.log(B.OP_EXIT, -1, code)
    if code:
        sys.exit(code)
