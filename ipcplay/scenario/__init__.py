"""Scenario files: the frozen model, the loader that builds it and preset lookup.

Names load lazily: every child process imports the model through this
package, and should not pay for the TOML reader and writer.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ChannelSpec": "ipcplay.scenario.model",
    "Payload": "ipcplay.scenario.model",
    "ProcessSpec": "ipcplay.scenario.model",
    "Scenario": "ipcplay.scenario.model",
    "Work": "ipcplay.scenario.model",
    "ScenarioError": "ipcplay.scenario.loader",
    "dumps": "ipcplay.scenario.loader",
    "load": "ipcplay.scenario.loader",
    "loads": "ipcplay.scenario.loader",
    "PresetInfo": "ipcplay.scenario.presets",
    "list_presets": "ipcplay.scenario.presets",
    "resolve": "ipcplay.scenario.presets",
    "user_dir": "ipcplay.scenario.presets",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ipcplay.scenario' has no attribute {name!r}")
