"""One finite scenario with every feature the model has (fork, one-way and
duplex pipes, SimpleQueue, bounded and joinable queues, pills from two
writers, join, close, round robin, every payload kind, cpu and sleep work,
compute, replicas) and names that clash with Python's own: exported, it
prints exactly the engine's totals."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_runs import both, engine_totals, script_totals

from ipcplay.export import to_python
from ipcplay.scenario import load

EVERYTHING = Path(__file__).parent / "data" / "everything.toml"


@pytest.mark.timeout(60)
def test_every_feature_gives_exactly_the_engines_totals(tmp_path):
    scenario = load(EVERYTHING)
    source = to_python(scenario)
    for keyword_like in ("def for_(", "def main_(", "def Tally_(", "in_ = ctx.JoinableQueue(4)"):
        assert keyword_like in source
    script = tmp_path / "everything.py"
    script.write_text(source, encoding="utf-8")
    ran, report = both(script, EVERYTHING)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert report["verdict"] == "completed"
    channels, processes, outcome = script_totals(ran.stdout)
    want_channels, want_processes = engine_totals(report)
    assert outcome == "outcome: completed"
    assert channels == want_channels
    assert processes == want_processes  # no replicas share a count-0 input here
