"""The first code that runs in every child: tie its life to the observer,
keep it off the terminal (both in lifeline.py), open its instrumented
channels, run its role.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine.channels import instrument
from ipcplay.engine.gate import Gate, install
from ipcplay.engine.gate_classes import adopt
from ipcplay.engine.journal import JournalWriter
from ipcplay.engine.lifeline import (  # re-exported: the supervisor and record.py import them here
    PR_SET_PDEATHSIG,
    die_with_observer,
    hold_interrupts,
    ignore_interrupts,
    quiet,
    release_interrupts,
)
from ipcplay.engine.plan import ChildPlan
from ipcplay.engine.primitives import instrument_shared
from ipcplay.engine.roles import ROLES, STOPPED, RoleContext
from ipcplay.scenario.kinds import channel_kind


def _flush(plan: ChildPlan, mv: memoryview, base: int, chans: list[Any]) -> None:
    """Close every Queue this process put on and wait for its feeder thread.

    A process that put items on a Queue cannot exit until its feeder thread
    has written them all into the queue's pipe; multiprocessing does this at
    exit anyway. Doing it here, stamped on the board, makes that wait
    visible: if nobody reads, the pipe stays full and this never returns
    (the pitfall "joining processes that use queues")."""
    for chan, ep in zip(chans, plan.endpoints, strict=True):
        if not ep.writes or not channel_kind(ep.kind).feeder:
            continue
        mv[base + B.P_WAITS_ON] = ep.chan
        mv[base + B.P_SINCE] = time.monotonic_ns()
        mv[base + B.P_ACTIVITY] = B.ACT_FLUSHING
        chan.close()
        chan.join_thread()
        mv[base + B.P_ACTIVITY] = B.ACT_ENDING


def _ctx_switches() -> int:
    """This thread's voluntary + involuntary context switches, as the
    observer reads them from /proc/PID/status for the main thread."""
    try:
        import resource

        who = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)
        usage = resource.getrusage(who)
    except (ImportError, OSError):
        return 0
    return usage.ru_nvcsw + usage.ru_nivcsw


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
    _arm(plan, mv, base, foreign)
    journal = JournalWriter(mv, layout, plan.proc) if layout.journal_cap else None
    if journal is not None:
        journal.log(B.OP_START, -1, 0)
    chans = [
        instrument(ep.kind, handle, ep, mv, layout, plan.proc, journal)
        for ep, handle in zip(plan.endpoints, handles, strict=True)
    ]
    objs = {
        ep.name: instrument_shared(handle, ep, mv, layout, plan.proc, journal)
        for ep, handle in zip(plan.shared, shared, strict=True)
    }
    _gate(mv, base, plan, chans, objs)
    mv[base + B.P_PHASE] = B.PHASE_RUNNING
    phase, code = _run_role(plan, mv, base, chans, objs)
    mv[base + B.P_MARK] = 0
    mv[base + B.P_CPU_NS] = time.process_time_ns()
    mv[base + B.P_CTX_SWITCHES] = _ctx_switches()
    mv[base + B.P_ENDED_NS] = time.monotonic_ns()
    mv[base + B.P_PHASE] = phase
    if journal is not None:
        journal.log(B.OP_EXIT, -1, code)
    if code:
        sys.exit(code)


def _gate(
    mv: memoryview, base: int, plan: ChildPlan, chans: list[Any], objs: dict[str, Any]
) -> None:
    """This process's gate for step mode (engine/gate.py), armed now if the
    run starts in step mode; the role arms it later if step mode comes on."""
    gate = Gate(mv, base)
    for chan, ep in zip(chans, plan.endpoints, strict=True):
        adopt(gate, chan, ep.chan)
    for ep in plan.shared:
        adopt(gate, objs[ep.name], ep.code)
    install(gate)
    if gate.wanted():
        gate.arm()


def _arm(plan: ChildPlan, mv: memoryview, base: int, foreign: tuple[Any, ...]) -> None:
    """Say our PID, so the observer may stop us from now on; wait out a pause
    asked for before this moment (board.C_HOLD); then let go of what is not ours."""
    mv[base + B.P_PID] = os.getpid()
    while mv[base + B.C_HOLD]:
        time.sleep(0.002)
    for conn in foreign:
        conn.close()
    if plan.quiet:
        quiet()
    mv[base + B.P_STARTED_NS] = time.monotonic_ns()


def _run_role(
    plan: ChildPlan, mv: memoryview, base: int, chans: list[Any], objs: dict[str, Any]
) -> tuple[int, int]:
    """Join what must end first, run the role, join what must end before we
    do; (the phase it ended in, the exit status)."""
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
        return B.PHASE_FAILED, 1
    return phase, 0


__all__ = [
    "PR_SET_PDEATHSIG",
    "child_entry",
    "die_with_observer",
    "hold_interrupts",
    "ignore_interrupts",
    "release_interrupts",
]
