"""A history gives back exactly the snapshots a real run showed: from memory
(`at(i)`) and from a saved run read back, every field equal, events too."""

from __future__ import annotations

import pytest

from ipcplay.engine.supervisor import Engine
from ipcplay.history import History
from ipcplay.savedrun import SavedRun, SaveTarget, load
from ipcplay.scenario import load as load_scenario
from ipcplay.scenario import resolve


@pytest.fixture(scope="module")
def recorded():
    """A real 3 s run of steady-pipeline with its event rings on: every
    snapshot the sampler published, and a History fed the same ones."""
    scenario = load_scenario(resolve("steady-pipeline"))
    history = History()
    seen = []

    def feed(snap):
        seen.append(snap)
        history.append(snap)

    engine = Engine(scenario, journal_events=4096, on_snapshot=feed)
    try:
        engine.start()
        outcome = engine.run(3.0)
    finally:
        engine.shutdown()
    history.append(outcome.snapshot)
    seen.append(outcome.snapshot)
    return scenario, history, seen, outcome


def test_every_snapshot_comes_back_equal(recorded):
    _, history, seen, _ = recorded
    assert len(seen) >= 15 and len(history) == len(seen)
    assert any(snap.recent_events for snap in seen), "the run should have shown events"
    for i, snap in enumerate(seen):
        assert history.at(i) == snap, f"snapshot {i}"
    # backwards too: a rewind walks the other way through the blocks
    for i in reversed(range(len(seen))):
        assert history.at(i) == seen[i]


def test_index_at_a_time_finds_that_snapshot(recorded):
    _, history, seen, _ = recorded
    for i, snap in enumerate(seen):
        assert history.index_at(snap.elapsed_s) == i
    assert history.index_at(-1.0) == 0
    assert history.index_at(1e9) == len(seen) - 1


def test_a_saved_run_reads_back_every_snapshot_equal(recorded, tmp_path):
    scenario, history, seen, outcome = recorded
    path = tmp_path / "run.ipcrun"
    run = SavedRun(
        scenario={"name": scenario.name, "title": scenario.title, "toml": "x = 1"},
        history=history,
        verdict=outcome.verdict,
        duration_s=outcome.duration_s,
        extra={"tour": []},
    )
    size = SaveTarget(str(path)).write(run)
    assert size == path.stat().st_size > 0
    back = load(str(path))
    assert len(back.history) == len(seen)
    for i, snap in enumerate(seen):
        assert back.history.at(i) == snap, f"snapshot {i}"
    assert back.history.moments() == history.moments()
    assert back.scenario["toml"] == "x = 1" and back.extra == {"tour": []}
    assert back.verdict == outcome.verdict and back.duration_s == outcome.duration_s
    assert not list(tmp_path.glob(".*.part")), "the temporary file is renamed, not left"
    # read for its report only: the same final snapshot, the same counts
    report_only = load(str(path), whole=False)
    assert report_only.history is None and report_only.final == seen[-1]
    assert report_only.snapshots == len(seen) and report_only.moments == history.moments()
