"""Steps processes that put and get: exported, the script prints exactly the
engine's totals (puts, gets, depth, task_done, each process's sent/received)."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_runs import both, engine_totals, script_totals

from ipcplay.export import to_python
from ipcplay.scenario import load

STEPS_CHANNELS = Path(__file__).parent / "data" / "steps-channels.toml"


@pytest.mark.timeout(60)
def test_put_and_get_steps_give_exactly_the_engines_totals(tmp_path: Path) -> None:
    scenario = load(STEPS_CHANNELS)
    source = to_python(scenario)
    assert "jobs.put(i)  # blocks while jobs holds 2 items: back pressure" in source
    listener = source[source.index("def listener") : source.index("def report")]
    assert "item = wire.recv()" in listener and "if item is PILL:" in listener
    script = tmp_path / "steps_channels.py"
    script.write_text(source, encoding="utf-8")
    ran, report = both(script, STEPS_CHANNELS)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert report["verdict"] == "completed"
    channels, processes, outcome = script_totals(ran.stdout)
    want_channels, want_processes = engine_totals(report)
    assert outcome == "outcome: completed"
    assert channels == want_channels
    assert processes == want_processes
    assert want_channels == {
        "jobs": {"puts": 12, "gets": 12, "depth": 0},
        "tasks": {"puts": 12, "gets": 12, "depth": 0, "task_done": 12},
        "wire": {"puts": 8, "gets": 8, "depth": 0},  # 7 items and the pill
    }
