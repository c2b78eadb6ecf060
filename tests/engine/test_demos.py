"""Seed 003's contrasts, with real processes: a module-level global is each
process's own (fork copies the parent's value at fork time, spawn re-imports
the module), and generator coroutines do a producer's and a consumer's work
in ONE process."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import replace

import pytest

from ipcplay.engine import Engine, demos
from ipcplay.scenario import ScenarioError, load, loads, resolve


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("method", "start"), [("fork", 100), ("spawn", 0)])
def test_a_global_diverges_between_parent_and_children(method, start):
    scenario = replace(load(resolve("start-method-globals")), start_method=method)
    demos.COUNTER = 7  # whatever this process held before: the engine sets its own
    outcome = Engine(scenario).run(duration=20)
    assert outcome.verdict == "completed"
    procs = outcome.snapshot.processes
    pids = {p.pid for p in procs}
    assert len(pids) == 2 and os.getpid() not in pids  # two real children
    for p in procs:
        # fork: the parent's 100 as it was at fork time; spawn: the module's own 0.
        # Each adds 3 to its own copy; the parent's later 200 reaches no child.
        assert dict(p.notes) == {
            "global at start": start,
            "global now": start + 3,
            "parent's global": demos.PARENT_AFTER,
        }
        assert p.items == 3 and p.exitcode == 0
    assert demos.COUNTER == demos.PARENT_AFTER == 200  # the children changed only their copies


@pytest.mark.timeout(30)
def test_coroutines_do_both_jobs_in_one_process():
    scenario = replace(load(resolve("seed003-coroutines")), start_method="fork")
    outcome = Engine(scenario).run(duration=20)
    assert outcome.verdict == "completed"
    (p,) = outcome.snapshot.processes
    assert p.pid and p.pid != os.getpid() and p.exitcode == 0
    # next() + 5 send() + close(), each into the consumer and back: 14 switches
    want = {"sent": 5, "received": 5, "replies": 5, "switches": 14}
    if importlib.util.find_spec("greenlet") is not None:  # the optional extra
        want["greenlet switches"] = 4  # seed 003's foo/bar: ok1, ok2, ok3, ok4
    assert dict(p.notes) == want
    assert p.items == 5 and p.sent == p.received == 0  # no channel at all


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("rate = 5", "process[0].rate: does not apply to a globals process"),
        ("count = 0", "process[0].count: expected a whole number from 1 to 1000, got 0"),
    ],
)
def test_a_demo_role_takes_only_a_count(extra, message):
    text = f'[scenario]\ntitle = "t"\n[[process]]\nname = "c"\nrole = "globals"\n{extra}\n'
    with pytest.raises(ScenarioError) as info:
        loads(text)
    assert str(info.value) == f"<string>: {message}"
