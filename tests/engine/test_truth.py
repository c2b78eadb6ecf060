"""Counts are exact: what the producers sent is what the channels report."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ipcplay.engine import Engine
from ipcplay.scenario import list_presets, load, loads

BUILTIN = [p for p in list_presets() if p.origin == "built-in"]
# Each preset under the start method it does not ship with: as shipped, it is
# run (`ipcplay run NAME --json`) and held to these same counts by its export
# test (tests/export/test_export_presets.py, export_runs.check_cli_report).
OTHER_METHOD = [
    pytest.param(info, method, id=f"{info.name}-{method}")
    for info in BUILTIN
    for method in ("fork", "spawn")
    if method != load(info.path).start_method
]


def _short(s):
    # Endless presets run for a short, fixed time in tests.
    return replace(s, duration=2.0) if s.endless else s


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("preset", "method"), OTHER_METHOD)
def test_every_builtin_preset_reaches_its_verdict_with_conserved_counts(preset, method):
    scenario = replace(_short(load(preset.path)), start_method=method)
    engine = Engine(scenario)
    outcome = engine.run()
    assert outcome.verdict == scenario.expect, outcome.snapshot.stuck
    snap = outcome.snapshot
    by_name = {p.name: p for p in snap.processes}
    for ch in snap.channels:
        assert ch.puts == ch.gets + ch.depth + ch.lost, ch
        if ch.maxsize:  # a bounded queue never shows more than it can hold
            assert ch.max_depth <= ch.maxsize, ch
        sent = sum(
            by_name[w].items + by_name[w].pills_sent
            for w in ch.writers
            if by_name[w].role == "producer"
        )
        if all(by_name[w].role == "producer" for w in ch.writers) and ch.kind != "Pipe":
            assert ch.puts == sent
    assert all(p.pid and p.pid > 0 for p in snap.processes)
    assert len({p.pid for p in snap.processes}) == len(snap.processes)


SEED_000 = """
[scenario]
title = "seed 000"
start_method = "fork"
[channels.tasks]
kind = "JoinableQueue"
[channels.results]
kind = "Queue"
[[process]]
name = "producer"
role = "producer"
out = "tasks"
count = 10
payload = { kind = "int" }
finally = ["poison-pill", "join"]
[[process]]
name = "consumer"
role = "worker"
replicas = 3
in = "tasks"
out = "results"
compute = "square"
[[process]]
name = "printer"
role = "consumer"
in = "results"
count = 10
"""


@pytest.mark.timeout(60)
def test_joinable_queue_counts_every_task_done_and_pill_exactly():
    outcome = Engine(loads(SEED_000)).run()
    assert outcome.verdict == "completed"
    tasks, results = outcome.snapshot.channels
    assert (tasks.puts, tasks.gets, tasks.task_done, tasks.unfinished) == (13, 13, 13, 0)
    assert (results.puts, results.gets, results.depth) == (10, 10, 0)
    procs = {p.name: p for p in outcome.snapshot.processes}
    assert procs["producer"].pills_sent == 3
    assert sum(procs[f"consumer-{i}"].pills_received for i in (1, 2, 3)) == 3
    assert sum(procs[f"consumer-{i}"].items for i in (1, 2, 3)) == 10
    assert procs["printer"].received == 10


LEFTOVER = """
[scenario]
title = "leftovers"
start_method = "{method}"
[channels.q]
kind = "{kind}"
[[process]]
name = "producer"
role = "producer"
out = "q"
count = 7
payload = {{ kind = "bytes", size = 100 }}
[[process]]
name = "consumer"
role = "consumer"
in = "q"
count = 3
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["Queue", "JoinableQueue", "SimpleQueue"])
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_depth_left_in_a_queue_is_what_draining_finds(kind, method):
    engine = Engine(loads(LEFTOVER.format(kind=kind, method=method)), drain_at_end=True)
    outcome = engine.run(duration=20)
    assert outcome.verdict == "completed"
    (q,) = outcome.snapshot.channels
    assert (q.puts, q.gets, q.depth) == (7, 3, 4)
    assert engine.leftovers == {"q": 4}
    # bytes: each item is the same pickled size; three were delivered.
    assert q.bytes > 300 and q.bytes % 3 == 0


WAIT = """
[scenario]
title = "a slow reader makes items wait"
start_method = "fork"
[channels.q]
kind = "Queue"
[[process]]
name = "producer"
role = "producer"
out = "q"
count = 10
[[process]]
name = "consumer"
role = "consumer"
in = "q"
count = 10
work = { kind = "sleep", ms = 50 }
"""


@pytest.mark.timeout(60)
def test_the_wait_of_each_message_in_a_channel_is_measured():
    outcome = Engine(loads(WAIT)).run(duration=20)
    assert outcome.verdict == "completed"
    (q,) = outcome.snapshot.channels
    # All ten are put at once; the last is taken after nine 50 ms items of work.
    assert 0.40 <= q.max_wait_s <= 2.0, q
    assert q.wait_s == q.max_wait_s
