"""Condition, with real processes: wait() gives the lock up, notify() wakes,
a notify before the wait is lost (a hang), wait_for() a predicate is not.

Ground truth: the steps each process runs (so the exact acquire, wait and
notify counts), and the PIDs the engine started. Fork only: spawn adds
nothing here but start-up time (tests/engine/test_truth.py runs the presets
under both).
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from ipcplay.engine import Engine
from ipcplay.scenario import load, loads, resolve


def _preset(name: str):
    return replace(load(resolve(name)), start_method="fork")


def _obj(snap, name):
    return next(o for o in snap.shared if o.name == name)


@pytest.mark.timeout(30)
def test_waiters_give_the_lock_up_and_one_notify_all_wakes_them_all(waiter):
    with Engine(_preset("condition-notify")) as engine:

        def all_waiting():
            snap = engine.latest
            return snap if len(_obj(snap, "cond").waiting) == 3 else None

        snap = waiter(all_waiting, timeout=10)
        cond = _obj(snap, "cond")
        # Three processes are inside wait(), none holds the lock: wait() gave it up.
        assert cond.waiting == ("consumer-1", "consumer-2", "consumer-3")
        assert cond.holders == () and cond.held == 0 and cond.free == 1
        assert cond.acquires == 3 and cond.releases == 0 and cond.notifies == 0
        for p in snap.processes[1:]:
            assert p.state == "blocked"
            assert (p.blocked.op, p.blocked.channel, p.blocked.reason) == (
                "wait",
                "cond",
                "not notified yet",
            )
        assert snap.stuck is None  # the producer is alive and sleeping: it can notify
        outcome = engine.run(duration=20)
    assert outcome.verdict == "completed"
    cond = _obj(outcome.snapshot, "cond")
    assert cond.acquires == 4 + 3  # four acquires and three waits returned
    assert cond.releases == 4 and cond.notifies == 1
    assert cond.holders == () and cond.waiting == ()
    assert cond.wait_s > 3 * 0.3  # each waited for the producer's sleep
    assert _obj(outcome.snapshot, "ready").value == 1


@pytest.mark.timeout(30)
def test_a_notify_before_the_wait_is_lost_and_the_wait_is_a_hang_within_two_seconds():
    t = time.monotonic()
    outcome = Engine(_preset("condition-lost-notify")).run(duration=20)
    took = time.monotonic() - t
    assert outcome.verdict == "hang"
    stuck = outcome.snapshot.stuck
    assert stuck.processes == ("consumer",)
    assert stuck.description == (
        "hang: consumer is blocked in wait on 'cond' (not notified yet), "
        "and no live process can ever unblock it"
    )
    assert took < 0.3 + 2.0 + 0.5  # start, then at most 2 s, + shutdown
    cond = _obj(outcome.snapshot, "cond")
    assert cond.notifies == 1 and cond.acquires == 2 and cond.releases == 1


@pytest.mark.timeout(30)
def test_the_lost_notify_does_not_hang_on_timing():
    """The consumer once came 300 ms after its start, and a producer started
    later than that by a loaded machine notified a waiting consumer: the run
    completed. It now comes after the producer's Event, whatever the timing."""
    from ipcplay.scenario.model import Step

    scenario = _preset("condition-lost-notify")
    producer, consumer = scenario.processes
    late = replace(producer, steps=(Step(op="sleep", ms=1000), *producer.steps))
    outcome = Engine(replace(scenario, processes=(late, consumer))).run(duration=20)
    assert outcome.verdict == "hang"
    assert outcome.snapshot.stuck.processes == ("consumer",)


@pytest.mark.timeout(30)
def test_wait_for_a_predicate_needs_no_notify_when_it_is_already_true():
    outcome = Engine(_preset("condition-wait-for")).run(duration=20)
    assert outcome.verdict == "completed"
    cond = _obj(outcome.snapshot, "cond")
    assert cond.acquires == 2 + 1 and cond.releases == 2 and cond.notifies == 1
    assert cond.wait_s < 0.2  # the predicate was true: wait_for returned at once


WAIT_FIRST = """
[scenario]
title = "wait_for first"
start_method = "fork"
[shared.cond]
kind = "Condition"
[shared.ready]
kind = "Value"
[[process]]
name = "setter"
role = "steps"
count = 3
steps = [{ sleep = 150 }, { acquire = "cond" }, { on = "ready", add = 1 },
         { notify = "cond", n = 2 }, { release = "cond" }]
[[process]]
name = "waiter"
role = "steps"
steps = [{ acquire = "cond" }, { wait_for = "cond", until = "ready", at_least = 3 },
         { release = "cond" }]
"""


@pytest.mark.timeout(30)
def test_wait_for_waits_through_notifies_until_its_predicate_holds():
    outcome = Engine(loads(WAIT_FIRST)).run(duration=20)
    assert outcome.verdict == "completed"
    cond = _obj(outcome.snapshot, "cond")
    assert cond.notifies == 3 and cond.releases == 3 + 1
    assert cond.acquires == 3 + 1 + 1  # the setter's three, the waiter's one, one wait_for
    assert cond.wait_s > 0.4  # three 150 ms sleeps before ready reached 3
    assert _obj(outcome.snapshot, "ready").value == 3
