"""Steps processes that put and get: the same channels, counters and verdicts
as every other role, with real processes.

Ground truth is what the steps must do (replicas x count puts, one get per
put), what the real Value holds at the end, and the wait-for graph of a lock
held across a put into a full queue.
"""

from __future__ import annotations

import pytest

from ipcplay.engine import Engine
from ipcplay.scenario import loads

HANDOFF = """
[scenario]
title = "put under a lock, get into a counter"
start_method = "{method}"
[channels.jobs]
kind = "Queue"
maxsize = 2
[shared.lock]
kind = "Lock"
[shared.total]
kind = "Value"
typecode = "q"
[[process]]
name = "maker"
role = "steps"
replicas = 3
count = {m}
steps = [{{ acquire = "lock" }}, {{ put = "jobs", item = "{{i}}" }}, {{ release = "lock" }}]
[[process]]
name = "taker"
role = "steps"
count = {total}
steps = [{{ get = "jobs" }}, {{ on = "total", add = 1, locked = true }}]
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_put_and_get_steps_move_every_item_once(method: str) -> None:
    m = 200
    scenario = loads(HANDOFF.format(method=method, m=m, total=3 * m))
    maker, taker = scenario.processes
    assert (maker.inputs, maker.outputs, maker.shared_used) == ((), ("jobs",), ("lock",))
    assert (taker.inputs, taker.outputs, taker.shared_used) == (("jobs",), (), ("total",))
    outcome = Engine(scenario).run(duration=40)
    assert outcome.verdict == "completed"
    snap = outcome.snapshot
    (jobs,) = snap.channels
    assert (jobs.puts, jobs.gets, jobs.depth) == (3 * m, 3 * m, 0)
    assert jobs.max_depth == 2 and jobs.writers == ("maker-1", "maker-2", "maker-3")
    assert jobs.readers == ("taker",)
    assert jobs.max_wait_s > 0  # every item carried its put time to the get
    procs = {p.name: p for p in snap.processes}
    assert [procs[f"maker-{r}"].sent for r in (1, 2, 3)] == [m, m, m]
    assert procs["taker"].received == 3 * m and procs["taker"].items == 3 * m
    assert all(p.exitcode == 0 for p in snap.processes)
    shared = {o.name: o for o in snap.shared}
    assert shared["lock"].acquires == 3 * m  # one per put
    assert shared["total"].value == 3 * m and shared["total"].lost == 0


PILL_ENDS_IT = """
[scenario]
title = "a producer's pill ends a get step"
start_method = "fork"
[channels.wire]
kind = "Pipe"
duplex = false
[shared.seen]
kind = "Value"
[[process]]
name = "sender"
role = "producer"
out = "wire"
count = 7
finally = "poison-pill"
[[process]]
name = "listener"
role = "steps"
count = 1000
steps = [{ get = "wire" }, { on = "seen", add = 1 }]
"""


@pytest.mark.timeout(60)
def test_a_poison_pill_ends_a_get_step_as_it_ends_a_consumer() -> None:
    outcome = Engine(loads(PILL_ENDS_IT)).run(duration=30)
    assert outcome.verdict == "completed"
    procs = {p.name: p for p in outcome.snapshot.processes}
    assert procs["listener"].received == 8 and procs["listener"].pills_received == 1
    assert procs["listener"].items == 7  # rounds finished: the 8th ended at the pill
    assert procs["listener"].exitcode == 0
    assert outcome.snapshot.shared[0].value == 7


LOCK_ACROSS_A_PUT = """
[scenario]
title = "a lock held across a put into a full queue"
start_method = "fork"
expect = "deadlock"
duration = 20
[channels.jobs]
kind = "Queue"
maxsize = 1
[shared.lock]
kind = "Lock"
[[process]]
name = "maker"
role = "steps"
steps = [
    { acquire = "lock" },
    { put = "jobs", item = 1 },
    { put = "jobs", item = 2 },
    { release = "lock" },
]
[[process]]
name = "taker"
role = "steps"
count = 2
steps = [{ sleep = 100 }, { acquire = "lock" }, { get = "jobs" }, { release = "lock" }]
"""


@pytest.mark.timeout(60)
def test_a_lock_held_across_a_put_into_a_full_queue_is_a_deadlock() -> None:
    """maker waits for taker to make room; taker waits for maker's lock."""
    outcome = Engine(loads(LOCK_ACROSS_A_PUT)).run(duration=20)
    assert outcome.verdict == "deadlock"
    snap = outcome.snapshot
    (jobs,) = snap.channels
    assert (jobs.puts, jobs.gets, jobs.depth) == (1, 0, 1)  # the second put never lands
    assert snap.stuck is not None and snap.stuck.kind == "deadlock"
    assert set(snap.stuck.processes) == {"maker", "taker"}
