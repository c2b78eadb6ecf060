"""Pools that share a task function but use it differently: the script gives
each its own, so every pool fails, works and resubmits as its spec says, and
ends as the engine's run does."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_runs import both, engine_totals, script_totals

from ipcplay.export import to_python
from ipcplay.scenario import load

TWO_POOLS = Path(__file__).parent / "data" / "two-pools.toml"


@pytest.mark.timeout(90)
def test_pools_sharing_a_task_function_end_as_the_engine_does(tmp_path):
    source = to_python(load(TWO_POOLS))
    # One sum_range as written, one with fails' failure in it; the process
    # named sum_range steps aside; each resubmitting pool has its own ARGS.
    assert source.count("def sum_range(n):") == 1
    assert "def sum_range_fails(n):" in source
    assert "def sum_range_(tally):" in source
    assert "pool.map(sum_range_fails, [150, 200])" in source
    assert "ARGS = [(10,), (20,)]" in source
    assert "ARGS_resubmits_too = [(30,)]" in source
    assert "pool.apply_async(sum_range, ARGS_resubmits_too[i])" in source
    script = tmp_path / "two_pools.py"
    script.write_text(source, encoding="utf-8")
    ran, report = both(script, TWO_POOLS, timeout=80)
    assert report["verdict"] == "crashed"
    _, processes, outcome = script_totals(ran.stdout)
    _, want = engine_totals(report)
    assert processes == want
    assert {n: p["exitcode"] for n, p in want.items()} == {
        "sum_range": 0,
        "fails": 1,
        "resubmits": 0,
        "resubmits-too": 0,
    }
    assert outcome == "outcome: crashed: fails"
    assert "ValueError: sum_range(200): bad input 200" in ran.stderr
