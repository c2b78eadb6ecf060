"""The engine and the scenario model never pull in Textual."""

from __future__ import annotations

import subprocess
import sys


def test_engine_and_scenario_import_without_textual():
    code = (
        "import sys, ipcplay.engine, ipcplay.scenario, ipcplay.engine.supervisor, "
        "ipcplay.engine.sampler, ipcplay.engine.child, ipcplay.headless, ipcplay.report; "
        "from ipcplay.engine import Engine; "
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
