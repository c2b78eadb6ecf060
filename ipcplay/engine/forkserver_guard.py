"""Imported first in multiprocessing's fork server: it dies with the observer.

Why: every child of the fork server holds the server's "alive" pipe, so the
server lives as long as any of them does. A child that a pause had stopped
cannot run its pidfd watch, so after a SIGKILL of the observer it would keep
the server alive, and the server it, for ever. Armed here, the server gets
SIGKILL when the observer dies, and its children, whose PR_SET_PDEATHSIG
follows the server, follow it even when stopped.

The engine names this module in `set_forkserver_preload`; nothing else
imports it. The death signal is not inherited across fork, so the server's
children are not affected by this import.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import sys

PR_SET_PDEATHSIG = 1

if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
