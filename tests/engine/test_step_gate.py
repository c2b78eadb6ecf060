"""Step mode on real processes: each process stops at a gate before every
operation, and the observer lets it do exactly one (engine/gate.py).

Ground truth: what the chosen order must produce (a lost update made by
hand is exactly one), the operations each role's code does in order, and
the processes the engine itself started.
"""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

from ipcplay.engine import Engine
from ipcplay.engine.board import Layout, create, view
from ipcplay.engine.gate import OP, Gate, decode
from ipcplay.engine.gate_classes import TWINS, adopt
from ipcplay.engine.primitives import InstrumentedLock, _Slots
from ipcplay.scenario import loads
from ipcplay.schedule import play

ADDERS = """
[scenario]
title = "two adders"
start_method = "{method}"
duration = 5
[shared.counter]
kind = "Value"
typecode = "i"
value = 0
[[process]]
name = "adder"
role = "steps"
replicas = 2
count = 2
steps = [{{ on = "counter", add = 1, locked = {locked} }}]
"""

EVERY_KIND = """
[scenario]
title = "one of each"
start_method = "fork"
duration = 5
[channels.queue]
kind = "Queue"
maxsize = 1
[shared.lock]
kind = "Lock"
[shared.ready]
kind = "Event"
[[process]]
name = "one"
role = "steps"
steps = [
    { acquire = "lock" },
    { put = "queue", item = 7 },
    { release = "lock" },
    { set = "ready" },
    { wait = "ready" },
    { get = "queue" },
]
"""

# The order that loses one update of four: both read 0, both write 1, then
# each adds once more in turn.
LOSE_ONE = ["adder-1", "adder-2", "adder-1", "adder-2", "adder-1", "adder-1", "adder-2", "adder-2"]


def _counter(snap):
    return next(o for o in snap.shared if o.name == "counter")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_an_update_is_lost_by_hand_exactly_and_every_time(method):
    for _ in range(2):
        with Engine(loads(ADDERS.format(method=method, locked="false")), step=True) as engine:
            played = play(engine.stepper, LOSE_ONE, timeout=10)
            assert played.done == len(LOSE_ONE) and played.stopped_at is None
            outcome = engine.run(duration=10)
        counter = _counter(outcome.snapshot)
        assert outcome.verdict == "completed"
        assert (counter.value, counter.expected, counter.lost) == (3, 4, 1)
        assert engine.stepper.schedule == LOSE_ONE


@pytest.mark.timeout(60)
def test_under_get_lock_the_same_order_cannot_lose_and_the_other_adder_blocks(waiter):
    with Engine(loads(ADDERS.format(method="fork", locked="true")), step=True) as engine:
        stepper = engine.stepper
        assert stepper.wait_held("adder-1", 10) and stepper.wait_held("adder-2", 10)
        assert stepper.next_of("adder-1") == ("acquire", 0)  # no channels: shared 0 is code 0
        arrived = stepper.step("adder-1")
        assert stepper.settle("adder-1", arrived, 10) == "held"
        assert stepper.next_of("adder-1")[0] == "read"
        arrived = stepper.step("adder-2")
        # adder-1 holds get_lock(): adder-2's acquire blocks, really.
        assert stepper.settle("adder-2", arrived, 10) == "blocked"
        snap = waiter(lambda: (s := engine.latest).processes[1].state == "blocked" and s, 10)
        assert snap.processes[0].state == "held"
        assert snap.processes[0].next is not None and snap.processes[0].next.op == "read"
        stepper.set_mode(False)
        outcome = engine.run(duration=10)
    counter = _counter(outcome.snapshot)
    assert (counter.value, counter.lost) == (4, 0)
    assert stepper.schedule == ["adder-1", "adder-2", "go"]


@pytest.mark.timeout(60)
def test_every_operation_stops_at_the_gate_in_the_order_the_code_does_them(waiter):
    seen = []
    with Engine(loads(EVERY_KIND), step=True) as engine:
        stepper = engine.stepper
        for gate in range(1, 10):
            waiter(lambda: stepper.is_held("one") or engine.latest.finished, 10)
            if not stepper.is_held("one"):
                break
            snap = waiter(lambda g=gate: (s := engine.latest).processes[0].gates == g and s, 10)
            nxt = snap.processes[0].next
            seen.append((nxt.op, nxt.target, nxt.words))
            assert stepper.step("one") == gate  # one gate per operation, counted by the child
            stepper.settle("one", gate, 10)
        outcome = engine.run(duration=10)
    # Each forecast told from the same sample as the panels.
    assert seen == [
        ("acquire", "lock", "acquire 'lock' — free, will not block"),
        ("put", "queue", "put 'queue' — queue 0/1, will not block"),
        ("release", "lock", "release 'lock'"),
        ("set", "ready", "set 'ready'"),
        ("wait", "ready", "wait 'ready' — set, will not block"),
        ("get", "queue", "get 'queue' — 1 waiting, will not block"),
    ]
    assert outcome.verdict == "completed"
    queue = outcome.snapshot.channels[0]
    assert (queue.puts, queue.gets) == (1, 1)


@pytest.mark.timeout(60)
def test_a_held_process_is_real_ps_shows_it_and_kill_ends_it(waiter):
    with Engine(loads(ADDERS.format(method="fork", locked="false")), step=True) as engine:
        stepper = engine.stepper
        assert stepper.wait_held("adder-1", 10) and stepper.wait_held("adder-2", 10)
        waiter(lambda: [p.state for p in engine.latest.processes] == ["held", "held"], 10)
        pid = engine.latest.processes[0].pid
        assert pid and psutil.Process(pid).is_running()
        assert psutil.Process(pid).status() in (psutil.STATUS_SLEEPING, psutil.STATUS_RUNNING)
        os.kill(pid, signal.SIGKILL)
        waiter(lambda: engine.latest.processes[0].exitcode == -signal.SIGKILL, 10)
        assert engine.latest.processes[0].state == "killed by SIGKILL"
        assert engine.latest.processes[1].state == "held"
        stepper.set_mode(False)
        outcome = engine.run(duration=10)
    assert outcome.verdict == "crashed"
    assert _counter(outcome.snapshot).value == 2  # only adder-2's adds


PIPELINE = """
[scenario]
title = "free, then stepped"
start_method = "fork"
duration = 20
[channels.queue]
kind = "Queue"
maxsize = 2
[[process]]
name = "producer"
role = "producer"
count = 400
rate = 100
out = ["queue"]
[[process]]
name = "consumer"
role = "consumer"
count = 400
in = ["queue"]
"""


@pytest.mark.timeout(60)
def test_step_mode_comes_on_mid_run_and_go_lets_it_finish_with_exact_counts(waiter):
    with Engine(loads(PIPELINE)) as engine:
        waiter(lambda: engine.latest.channels[0].puts >= 10, 10)
        engine.stepper.set_mode(True)
        waiter(lambda: engine.stepper.is_held("producer"), 10)
        # The consumer is held too, or inside a get the held producer will not feed.
        waiter(lambda: engine.latest.processes[1].state in ("held", "blocked"), 10)
        snap = waiter(lambda: (s := engine.latest).processes[0].state == "held" and s, 10)
        puts = snap.channels[0].puts
        time.sleep(0.3)  # held: nothing moves
        assert engine.latest.channels[0].puts == puts
        assert engine.latest.processes[0].next.words.startswith("put 'queue' — queue ")
        engine.stepper.set_mode(False)
        outcome = engine.run(duration=20)
    assert outcome.verdict == "completed"
    assert (outcome.snapshot.channels[0].puts, outcome.snapshot.channels[0].gets) == (400, 400)


def test_without_step_mode_the_objects_keep_their_plain_classes():
    """The gate costs nothing on the hot path: an object is swapped for its
    gated twin only when step mode first comes on in its process."""
    layout = Layout(nproc=1, nchan=0, journal_cap=0, nshared=1)
    mv = view(create(layout))

    class Ep:
        index, code, name, kind = 0, 0, "lock", "Lock"

    import multiprocessing as mp

    lock = InstrumentedLock(mp.get_context("fork").Lock(), _Slots(Ep, mv, layout, 0, None))
    gate = Gate(mv, layout.proc(0))
    adopt(gate, lock, 0)
    assert type(lock) is InstrumentedLock
    gate.arm()
    assert type(lock) is TWINS[InstrumentedLock]
    lock.acquire()  # C_GATE is 0: the twin's gate lets it straight through
    lock.release()
    assert decode((5 << 8) | OP["put"]) == ("put", 5, False)


FULL_AND_HELD = """
[scenario]
title = "will block"
start_method = "fork"
duration = 5
[channels.queue]
kind = "Queue"
maxsize = 1
[shared.lock]
kind = "Lock"
[[process]]
name = "one"
role = "steps"
steps = [
    { acquire = "lock" },
    { put = "queue", item = 1 },
    { put = "queue", item = 2 },
    { release = "lock" },
]
[[process]]
name = "two"
role = "steps"
steps = [{ acquire = "lock" }, { get = "queue" }, { get = "queue" }, { release = "lock" }]
"""


@pytest.mark.timeout(60)
def test_the_forecast_says_will_block_and_the_step_really_blocks(waiter):
    with Engine(loads(FULL_AND_HELD), step=True) as engine:
        stepper = engine.stepper
        for _ in range(2):
            assert stepper.wait_held("one", 10)
            stepper.settle("one", stepper.step("one"), 10)
        assert stepper.wait_held("one", 10) and stepper.wait_held("two", 10)
        snap = waiter(lambda: (s := engine.latest).processes[0].gates == 3 and s, 10)
        one, two = snap.processes
        assert one.next.words == "put 'queue' — queue 1/1 full, will block"
        assert two.next.words == "acquire 'lock' — held by one, will block"
        assert stepper.settle("one", stepper.step("one"), 10) == "blocked"
        assert stepper.settle("two", stepper.step("two"), 10) == "blocked"
        outcome = engine.run(duration=10)
    # one holds the lock two wants, and waits for room only two would make.
    assert outcome.verdict == "deadlock"
    assert "one" in outcome.snapshot.stuck.description
    assert stepper.schedule == ["one", "one", "one", "two"]


JOINER = """
[scenario]
title = "a join is one operation"
start_method = "fork"
duration = 5
[shared.go]
kind = "Event"
[[process]]
name = "worker"
role = "steps"
steps = [{ wait = "go" }]
[[process]]
name = "boss"
role = "steps"
steps = [{ set = "go" }]
join_first = ["worker"]
"""


@pytest.mark.timeout(60)
def test_a_join_of_a_process_is_a_step_that_blocks_until_it_exits(waiter):
    with Engine(loads(JOINER), step=True) as engine:
        stepper = engine.stepper
        assert stepper.wait_held("boss", 10) and stepper.wait_held("worker", 10)
        assert stepper.next_of("boss") == ("join process", 0)
        started = time.monotonic()
        assert stepper.settle("boss", stepper.step("boss"), 10) == "blocked"
        assert time.monotonic() - started < 5  # seen inside its join, not timed out
        snap = waiter(lambda: (s := engine.latest).processes[1].state == "blocked" and s, 10)
        assert snap.processes[1].blocked.op == "join"
        assert stepper.settle("worker", stepper.step("worker"), 10) == "blocked"  # wait 'go'
        stepper.set_mode(False)
        outcome = engine.run(duration=10)
    # the boss joins before its steps: its set never comes, so the worker waits for ever
    assert outcome.verdict in ("deadlock", "hang")
