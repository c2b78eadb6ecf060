"""Runs end with the verdict that describes them: hang, deadlock, timeout."""

from __future__ import annotations

import time

import pytest

from ipcplay.engine import Engine
from ipcplay.scenario import loads

HANG = """
[scenario]
title = "a consumer whose producer forgot the poison pill"
start_method = "fork"
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

DEADLOCK = """
[scenario]
title = "two processes each waiting for the other to speak first"
start_method = "fork"
[channels.a]
kind = "Queue"
[channels.b]
kind = "Queue"
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

SLOW = """
[scenario]
title = "too slow for its time limit"
start_method = "fork"
duration = 0.5
[channels.q]
kind = "SimpleQueue"
[[process]]
name = "producer"
role = "producer"
out = "q"
count = 1000
rate = 10
[[process]]
name = "consumer"
role = "consumer"
in = "q"
count = 1000
"""


@pytest.mark.timeout(30)
def test_a_reader_whose_writers_are_gone_is_a_hang_within_two_seconds():
    t = time.monotonic()
    outcome = Engine(loads(HANG)).run(duration=20)
    assert outcome.verdict == "hang"
    assert time.monotonic() - t < 3.0
    stuck = outcome.snapshot.stuck
    assert stuck is not None and stuck.processes == ("consumer",)
    assert "consumer is blocked in get on 'q' (queue empty)" in stuck.description
    assert "no live process can ever unblock it" in stuck.description


@pytest.mark.timeout(30)
def test_two_readers_waiting_on_each_other_is_a_deadlock_naming_both():
    outcome = Engine(loads(DEADLOCK)).run(duration=20)
    assert outcome.verdict == "deadlock"
    stuck = outcome.snapshot.stuck
    assert stuck is not None and stuck.processes == ("left", "right")
    assert "left → right → left" in stuck.description


@pytest.mark.timeout(30)
def test_a_finite_scenario_past_its_duration_is_a_timeout():
    outcome = Engine(loads(SLOW)).run()
    assert outcome.verdict == "timeout"
    assert outcome.snapshot.stuck is None
    q = outcome.snapshot.channels[0]
    assert 2 <= q.puts <= 10 and q.puts == q.gets + q.depth
