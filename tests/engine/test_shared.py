"""Shared state and synchronisation, with real processes: counts against ground truth.

Ground truth here is what the code must produce (N processes x M adds), what
the real objects hold at the end (read by the observer from their memory),
and the PIDs the engine itself started.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from ipcplay.engine import Engine
from ipcplay.scenario import load, loads, resolve


def _preset(name: str, **changes: object):
    return replace(load(resolve(name)), **changes)


def _obj(snap, name):
    return next(o for o in snap.shared if o.name == name)


RACE = """
[scenario]
title = "adders"
start_method = "{method}"
[shared.counter]
kind = "Value"
typecode = "q"
value = 5
[[process]]
name = "adder"
role = "steps"
replicas = {n}
count = {m}
steps = [{{ on = "counter", add = 1, locked = {locked} }}]
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_with_get_lock_every_update_lands(method):
    n, m = 4, 5000
    outcome = Engine(loads(RACE.format(method=method, n=n, m=m, locked="true"))).run(duration=30)
    assert outcome.verdict == "completed"
    c = _obj(outcome.snapshot, "counter")
    assert c.value == 5 + n * m
    assert c.expected == 5 + n * m and c.lost == 0
    assert c.updates == n * m
    assert c.acquires == c.releases == n * m  # every update took and gave back get_lock()
    assert c.holders == () and c.held == 0


@pytest.mark.timeout(60)
def test_without_the_lock_lost_updates_are_expected_minus_actual():
    n, m = 4, 20000
    outcome = Engine(loads(RACE.format(method="fork", n=n, m=m, locked="false"))).run(duration=30)
    assert outcome.verdict == "completed"
    c = _obj(outcome.snapshot, "counter")
    assert c.updates == n * m
    assert c.expected == 5 + n * m  # counted: every add each process made
    assert c.lost == c.expected - c.value  # and the real value, read from shared memory
    assert 5 <= c.value <= 5 + n * m
    assert c.acquires == 0  # nobody took get_lock()


HOLDER = """
[scenario]
title = "one holds, one waits"
start_method = "fork"
[shared.lock]
kind = "{kind}"
[[process]]
name = "holder"
role = "steps"
steps = [{{ acquire = "lock" }}, {{ sleep = {hold} }}, {{ release = "lock" }}]
[[process]]
name = "waiter"
role = "steps"
steps = [{{ sleep = 300 }}, {{ acquire = "lock" }}, {{ release = "lock" }}]
"""


@pytest.mark.timeout(30)
@pytest.mark.parametrize("kind", ["Lock", "RLock", "Semaphore", "BoundedSemaphore"])
def test_the_holder_shown_is_the_real_holder(kind, waiter):
    with Engine(loads(HOLDER.format(kind=kind, hold=2500))) as engine:

        def both_seen():
            snap = engine.latest
            w = next(p for p in snap.processes if p.name == "waiter")
            return snap if w.blocked is not None else None

        snap = waiter(both_seen, timeout=10)
        pids = {p.name: p.pid for p in snap.processes}
        assert set(engine.pids) == set(pids.values())  # the PIDs the engine started
        lock = _obj(snap, "lock")
        assert lock.holders == ("holder",)
        assert lock.holder_pids == (pids["holder"],)
        assert lock.waiting == ("waiter",)
        assert lock.free == 0
        w = next(p for p in snap.processes if p.name == "waiter")
        assert w.state == "blocked"
        assert w.blocked.op == "acquire" and w.blocked.channel == "lock"
        assert w.blocked.holder == f"holder (pid {pids['holder']})"
        assert snap.stuck is None  # the holder sleeps: it will release
        outcome = engine.run(duration=20)
    assert outcome.verdict == "completed"
    lock = _obj(outcome.snapshot, "lock")
    assert lock.acquires == lock.releases == 2
    assert lock.contended == 1 and lock.wait_s > 1.5
    assert 2.4 < lock.hold_s < 4.0


@pytest.mark.timeout(30)
def test_a_semaphore_never_lets_more_than_its_permits_in():
    scenario = _preset("semaphore-pool", start_method="fork")
    most = 0
    with Engine(scenario) as engine:
        deadline = time.monotonic() + 15
        while not engine.latest.finished and time.monotonic() < deadline:
            pool = _obj(engine.latest, "pool")
            most = max(most, len(pool.holders))
            assert pool.held <= 2 and pool.free == 2 - pool.held
            time.sleep(0.02)
        outcome = engine.run(duration=15)
    assert outcome.verdict == "completed"
    pool = _obj(outcome.snapshot, "pool")
    assert most == 2
    assert pool.acquires == pool.releases == 12
    assert pool.contended > 0


# ---------------------------------------------------------------- pitfall pairs


@pytest.mark.timeout(30)
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_lock_order_broken_is_a_deadlock_naming_both_processes_and_locks(method):
    scenario = _preset("lock-order-deadlock", start_method=method)
    engine = Engine(scenario)
    t = time.monotonic()
    outcome = engine.run(duration=20)
    took = time.monotonic() - t
    assert outcome.verdict == "deadlock"
    stuck = outcome.snapshot.stuck
    assert stuck.processes == ("left", "right")
    text = stuck.description
    assert text.startswith("deadlock: left → right → left wait for each other")
    assert "left holds 'lock_a' and is blocked in acquire on 'lock_b', held by right (pid" in text
    assert "right holds 'lock_b' and is blocked in acquire on 'lock_a', held by left (pid" in text
    # stuck.since is when the two waits formed (nothing moved after it); the run
    # ended, verdict given and processes stopped, within 2 s of that.
    assert t < stuck.since < t + took
    assert took - (stuck.since - t) < 2.0 + 0.5  # + the bounded shutdown


@pytest.mark.timeout(30)
def test_lock_order_deadlock_does_not_hang_on_timing():
    """A loaded machine once started right more than left's old 200 ms nap
    after left, and left took both locks: the run completed. With the Events
    the deadlock comes whatever the timing, even with right a second late."""
    from ipcplay.scenario.model import Step

    scenario = _preset("lock-order-deadlock", start_method="fork")
    left, right = scenario.processes
    late = replace(right, steps=(Step(op="sleep", ms=1000), *right.steps))
    outcome = Engine(replace(scenario, processes=(left, late))).run(duration=20)
    assert outcome.verdict == "deadlock"
    assert outcome.snapshot.stuck.processes == ("left", "right")


@pytest.mark.timeout(30)
def test_lock_order_fixed_completes():
    outcome = Engine(_preset("lock-order-fixed")).run(duration=20)
    assert outcome.verdict == "completed", outcome.snapshot.stuck
    for name in ("lock_a", "lock_b"):
        lock = _obj(outcome.snapshot, name)
        assert lock.acquires == lock.releases == 10


@pytest.mark.timeout(30)
def test_barrier_one_short_is_a_hang_within_two_seconds():
    t = time.monotonic()
    outcome = Engine(_preset("barrier-one-short")).run(duration=20)
    assert outcome.verdict == "hang"
    assert time.monotonic() - t < 0.6 + 0.1 + 2.0  # start, sleep, then at most 2 s
    stuck = outcome.snapshot.stuck
    assert stuck.processes == ("worker-1", "worker-2")
    assert "blocked in wait on 'barrier' (2 of 3 parties there)" in stuck.description
    assert "no live process can ever unblock it" in stuck.description


@pytest.mark.timeout(30)
def test_barrier_fixed_completes():
    outcome = Engine(_preset("barrier-fixed")).run(duration=20)
    assert outcome.verdict == "completed"
    b = _obj(outcome.snapshot, "barrier")
    assert b.acquires == 9 and not b.broken  # three parties, three rounds


@pytest.mark.timeout(30)
def test_value_race_pair():
    broken = _obj(Engine(_preset("value-lost-updates")).run().snapshot, "counter")
    fixed = _obj(Engine(_preset("value-lost-updates-fixed")).run().snapshot, "counter")
    assert broken.expected == fixed.expected == 80000
    assert broken.lost == 80000 - broken.value
    assert fixed.value == 80000 and fixed.lost == 0


EXITED_HOLDER = """
[scenario]
title = "the holder is killed while it holds the lock"
start_method = "fork"
[shared.lock]
kind = "Lock"
[[process]]
name = "holder"
role = "steps"
steps = [{ acquire = "lock" }, { sleep = 20000 }, { release = "lock" }]
[[process]]
name = "waiter"
role = "steps"
steps = [{ sleep = 200 }, { acquire = "lock" }, { release = "lock" }]
"""

NO_SETTER = """
[scenario]
title = "the only setter sets and clears before anyone waits"
start_method = "fork"
[shared.go]
kind = "Event"
[[process]]
name = "setter"
role = "steps"
steps = [{ set = "go" }, { clear = "go" }]
[[process]]
name = "waiter"
role = "steps"
steps = [{ sleep = 300 }, { wait = "go" }]
"""


@pytest.mark.timeout(30)
def test_a_lock_whose_holder_was_killed_is_a_hang(waiter):
    with Engine(loads(EXITED_HOLDER)) as engine:
        waiter(lambda: _obj(engine.latest, "lock").waiting == ("waiter",), timeout=10)
        engine.kill("holder")
        outcome = engine.run(duration=10)
    assert outcome.verdict == "hang"
    text = outcome.snapshot.stuck.description
    assert "waiter is blocked in acquire on 'lock', held by holder (pid" in text
    assert "which was killed by SIGKILL while holding it, so no live process can" in text


@pytest.mark.timeout(30)
def test_an_event_nobody_live_can_set_is_a_hang():
    outcome = Engine(loads(NO_SETTER)).run(duration=10)
    assert outcome.verdict == "hang"
    go = _obj(outcome.snapshot, "go")
    assert go.sets == 1 and go.clears == 1 and go.is_set is False
    assert "waiter is blocked in wait on 'go' (Event not set)" in outcome.snapshot.stuck.description


# ---------------------------------------------------------------- the seeds' numbers


@pytest.mark.timeout(30)
def test_seed_000_value_and_array_two_then_three():
    scenario = _preset("seed000-value-array", start_method="fork")
    first = replace(scenario, processes=scenario.processes[:1])  # p alone, as before p2.start()
    snap = Engine(first).run(duration=10).snapshot
    assert _obj(snap, "num").value == 2
    assert list(_obj(snap, "arr").value) == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    engine = Engine(scenario, journal_events=256)
    outcome = engine.run(duration=10)
    assert outcome.verdict == "completed"
    assert _obj(outcome.snapshot, "num").value == 3
    assert list(_obj(outcome.snapshot, "arr").value) == [
        0,
        100,
        200,
        300,
        400,
        500,
        600,
        700,
        800,
        900,
    ]
    ops = [(e.proc, e.op) for e in sorted(outcome.snapshot.recent_events, key=lambda e: e.t_ns)]
    assert ops.index((0, "set")) < ops.index((1, "event-passed"))  # p2 only after p


@pytest.mark.timeout(30)
def test_seed_002_value_and_array():
    snap = Engine(_preset("seed002-value-array")).run(duration=10).snapshot
    assert _obj(snap, "num").value == 3.1415926
    assert list(_obj(snap, "arr").value) == [1.0, 2.0, 3.0]


@pytest.mark.timeout(30)
def test_seed_002_lock_then_num():
    outcome = Engine(_preset("seed002-lock", start_method="fork")).run(duration=10)
    assert outcome.verdict == "completed"
    assert _obj(outcome.snapshot, "num").value == 1
    lock = _obj(outcome.snapshot, "lock")
    assert lock.acquires == lock.releases == 1 and 0.95 < lock.hold_s < 1.5


@pytest.mark.timeout(30)
def test_seed_002_event_then_barrier_order():
    engine = Engine(_preset("seed002-event-barrier", start_method="fork"), journal_events=256)
    outcome = engine.run(duration=10)
    assert outcome.verdict == "completed"
    events = sorted(outcome.snapshot.recent_events, key=lambda e: e.t_ns)
    ops = [e.op for e in events if e.op in ("set", "event-passed", "barrier-passed")]
    assert ops == ["set"] + ["event-passed"] * 3 + ["barrier-passed"] * 3
    assert _obj(outcome.snapshot, "event").is_set is True
    assert _obj(outcome.snapshot, "barrier").acquires == 3


@pytest.mark.timeout(30)
def test_a_lock_taken_again_by_its_holder_is_a_deadlock_with_itself():
    outcome = Engine(_preset("lock-reacquire-deadlock", start_method="fork")).run(duration=20)
    assert outcome.verdict == "deadlock"
    stuck = outcome.snapshot.stuck
    holder = next(w.waiter for w in outcome.snapshot.waits if w.in_cycle)
    assert stuck.description.startswith(f"deadlock: {holder} waits for itself; ")
    self_edge = next(w for w in outcome.snapshot.waits if w.waiter == holder)
    assert self_edge.waits_for == (holder,) and self_edge.holder.startswith(f"{holder} (pid ")


@pytest.mark.timeout(30)
def test_an_rlock_may_be_taken_again_by_its_holder():
    outcome = Engine(_preset("rlock-reentrant", start_method="fork")).run(duration=20)
    assert outcome.verdict == "completed", outcome.snapshot.stuck
    guard = _obj(outcome.snapshot, "guard")
    assert guard.acquires == guard.releases == 2 * 3 * 2
