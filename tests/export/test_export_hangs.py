"""Scenarios meant to hang or deadlock: the script says so at the top, stops
itself after its timeout (the scenario's duration) instead of waiting forever,
names what it had to terminate, and still prints the totals so far.

The model can express real hangs, so these are real: a consumer whose
producer sends no poison pill, a join() on a JoinableQueue whose consumer
never calls task_done(), and two pongers each waiting for the other.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from export_runs import run_script, script_totals

from ipcplay.export import to_python
from ipcplay.scenario import loads

NO_PILL = """
[scenario]
title = "a consumer whose producer forgot the poison pill"
expect = "hang"
duration = 1
[channels.q]
kind = "Queue"
[[process]]
name = "producer"
role = "producer"
out = "q"
count = 3
[[process]]
name = "consumer"
role = "consumer"
in = "q"
"""

NO_TASK_DONE = """
[scenario]
title = "join() waits for task_done() calls that never come"
expect = "hang"
duration = 1
start_method = "fork"
[channels.tasks]
kind = "JoinableQueue"
maxsize = 2
[[process]]
name = "boss"
role = "producer"
out = "tasks"
count = 5
payload = { kind = "int" }
finally = ["poison-pill", "join"]
[[process]]
name = "lazy"
role = "consumer"
in = "tasks"
task_done = false
"""

DEADLOCK = """
[scenario]
title = "two processes each waiting for the other to speak first"
expect = "deadlock"
duration = 1
start_method = "forkserver"
[channels.a]
kind = "Queue"
[channels.b]
kind = "SimpleQueue"
[[process]]
name = "left"
role = "ponger"
in = "a"
out = "b"
[[process]]
name = "right"
role = "ponger"
in = "b"
out = "a"
"""

CASES = {
    # name: (scenario, verdict, what must be terminated, exact totals so far)
    "no-pill": (
        NO_PILL,
        "hang",
        ["consumer"],
        {"q": {"puts": 3, "gets": 3, "depth": 0}},
    ),
    "no-task-done": (
        NO_TASK_DONE,
        "hang",
        ["boss"],
        {"tasks": {"puts": 6, "gets": 6, "depth": 0, "task_done": 0}},
    ),
    "deadlock": (
        DEADLOCK,
        "deadlock",
        ["left", "right"],
        {"a": {"puts": 0, "gets": 0, "depth": 0}, "b": {"puts": 0, "gets": 0, "depth": 0}},
    ),
}


@pytest.mark.timeout(60)
def test_a_script_meant_to_hang_stops_itself_and_says_so(tmp_path):
    scripts = {}
    for name, (toml, verdict, _, _) in CASES.items():
        scenario = loads(toml, name=name)
        assert scenario.expect == verdict
        source = to_python(scenario)
        head = source.split('"""', 1)[0]  # comments above everything else
        note = " ".join(line[2:] for line in head.splitlines() if line.startswith("# "))
        assert note.startswith(f"NOTE: this scenario is documented to end in a {verdict}")
        assert "after TIMEOUT (1 s, the scenario's duration) it terminates" in note
        scripts[name] = tmp_path / f"{name}.py"
        scripts[name].write_text(source, encoding="utf-8")

    t0 = time.monotonic()
    with ThreadPoolExecutor(len(scripts)) as pool:
        futures = {name: pool.submit(run_script, path, 30) for name, path in scripts.items()}
        runs = {name: f.result() for name, f in futures.items()}
    assert time.monotonic() - t0 < 20  # each waits 1 s, then terminates; not forever

    for name, (_, verdict, stuck, totals) in CASES.items():
        r = runs[name]
        assert r.returncode == 1, r.stdout + r.stderr  # it did not complete: not a success
        channels, processes, outcome = script_totals(r.stdout)
        assert outcome == f"outcome: did not finish within 1 s, terminated: {', '.join(stuck)}"
        assert f"(this scenario is documented to end in a {verdict})" in r.stdout
        assert channels == totals
        for p in stuck:
            assert processes[p]["exitcode"] == -15  # SIGTERM from the script's parent
        assert r.stderr == ""
