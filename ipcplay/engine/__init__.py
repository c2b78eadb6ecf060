"""How a scenario *runs*: real processes, instrumented channels, snapshots.

This package must never import Textual (a test checks it), so that it works
headless, in recordings, in tests and behind any future front end.

Names are loaded lazily: every child process imports `ipcplay.engine.child`
through this package, and should not pay for psutil and the supervisor.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BlockedOn": "ipcplay.engine.snapshot",
    "ChannelSample": "ipcplay.engine.snapshot",
    "ManagerSample": "ipcplay.engine.snapshot",
    "ProcessSample": "ipcplay.engine.snapshot",
    "SharedSample": "ipcplay.engine.snapshot",
    "Snapshot": "ipcplay.engine.snapshot",
    "Stuck": "ipcplay.engine.snapshot",
    "WaitEdge": "ipcplay.engine.snapshot",
    "Engine": "ipcplay.engine.supervisor",
    "EngineError": "ipcplay.engine.supervisor",
    "Outcome": "ipcplay.engine.supervisor",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ipcplay.engine' has no attribute {name!r}")
