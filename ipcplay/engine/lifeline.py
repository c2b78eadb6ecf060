"""A process's lifeline to the observer: die with it, stay off its terminal,
leave Ctrl+C to it.

Every process ipcplay starts runs these first: the scenario's children
(child.py), a Pool's workers (pool_worker.py) and a Manager's servers
(manager.py). A leaf below all of them, so none has to import another's
entry point to get them.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import sys
import threading
import time

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


def quiet() -> None:
    """Children must not write over the TUI; their errors go to the board."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
