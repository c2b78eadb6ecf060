"""Start multiprocessing's resource tracker so that it outlives a hangup.

The tracker unlinks the named semaphores of spawn/forkserver queues if the
observer dies without cleaning up. But it runs in the observer's process
group, so closing the terminal (SIGHUP to the whole group) killed it too, and
the semaphores stayed in /dev/shm. An ignored signal stays ignored across
exec, so we start it with SIGHUP ignored. Starting it early also matters for
the TUI: once Textual has replaced sys.stderr, the tracker cannot be started
("bad value(s) in fds_to_keep").
"""

from __future__ import annotations

import signal
from multiprocessing import resource_tracker


def start_tracker() -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        resource_tracker.ensure_running()
    finally:
        signal.signal(signal.SIGHUP, previous)
