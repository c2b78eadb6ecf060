"""Numbers that mean one thing, with real processes.

`x` stops the process it names; time a process spent stopped by ipcplay is
not blocked time; a process that ran has context switches.
"""

from __future__ import annotations

import io
import json
import time

import pytest
from conftest import wait_for

from ipcplay.engine import Engine
from ipcplay.engine.supervisor import EngineError
from ipcplay.scenario import loads

PIPELINE = """
[scenario]
title = "producer -> worker -> collector, until stopped"
start_method = "fork"
duration = 30
[channels.tasks]
kind = "Queue"
[channels.results]
kind = "Queue"
[[process]]
name = "producer"
role = "producer"
out = "tasks"
rate = 50
[[process]]
name = "worker"
role = "worker"
in = "tasks"
out = "results"
[[process]]
name = "collector"
role = "consumer"
in = "results"
"""

LATE = """
[scenario]
title = "a reader that waits for a slow writer"
start_method = "fork"
[channels.q]
kind = "Queue"
[[process]]
name = "writer"
role = "producer"
out = "q"
count = 1
rate = 0.4
[[process]]
name = "reader"
role = "consumer"
in = "q"
count = 1
"""


@pytest.mark.timeout(60)
def test_a_pill_for_the_selected_worker_stops_that_worker_not_the_collector() -> None:
    with Engine(loads(PIPELINE)) as engine:
        wait_for(lambda: engine.latest.channels[1].gets > 5)
        said = engine.poison_pill("worker")
        assert said == "sent by producer into 'tasks'"
        wait_for(lambda: engine.process("worker").state == "exited 0")
        worker = engine.process("worker")
        assert worker.pills_received == 1
        time.sleep(0.5)
        collector = engine.process("collector")
        assert collector.alive and collector.pills_received == 0
        with pytest.raises(EngineError, match="does not stop on a poison pill"):
            engine.poison_pill("producer")
        with pytest.raises(EngineError, match="already exited"):
            engine.poison_pill("worker")


@pytest.mark.timeout(60)
def test_time_stopped_inside_a_wait_is_not_blocked_time() -> None:
    """The reader waits 2.5 s for the writer's only item; ipcplay stops it for
    1 s of that wait. Its blocked time (live, in total, and the channel's)
    is the wait less the stop; the log's wait event says both."""
    out = io.StringIO()
    engine = Engine(loads(LATE), journal_events=1024, journal_out=out, sample_hz=20)
    engine.start()
    try:
        wait_for(lambda: engine.process("reader").state == "blocked")
        engine.pause("reader")
        time.sleep(1.0)
        stopped_for = 1.0
        snap = engine.latest
        reader = engine.process("reader")
        assert reader.state == "stopped"
        edge = next(e for e in snap.waits if e.waiter == "reader")
        assert edge.reason == "queue empty; stopped by ipcplay"
        engine.resume("reader")
        time.sleep(0.2)
        live = engine.process("reader")
        assert live.blocked is not None
        so_far = engine.latest.t - live.blocked.since
        outcome = engine.run(duration=20)
    finally:
        engine.shutdown()
    assert outcome.verdict == "completed"
    assert snap is not None
    waits = [json.loads(line) for line in out.getvalue().splitlines()]
    wait = next(r for r in waits if r["op"] == "wait-get" and r["process"] == "reader")
    assert wait["stopped_s"] == pytest.approx(stopped_for, abs=0.25)
    total = wait["wait_s"]
    reader = next(p for p in outcome.snapshot.processes if p.name == "reader")
    assert reader.blocked_s == pytest.approx(total - wait["stopped_s"], abs=0.05)
    assert outcome.snapshot.channels[0].blocked_get_s == pytest.approx(reader.blocked_s, abs=0.05)
    # While it went on, the wait's start had moved by the stop as well.
    assert so_far < total - 0.7


@pytest.mark.timeout(60)
def test_every_process_that_ran_and_blocked_has_context_switches() -> None:
    """Short lives (under the observer's once-a-second read of
    /proc/PID/status) included: the child counts its own at the end."""
    outcome = Engine(loads(LATE.replace("rate = 0.4", "rate = 5"))).run(duration=20)
    assert outcome.verdict == "completed"
    for p in outcome.snapshot.processes:
        assert p.ctx_switches > 0, p


SLOW_READER = """
[scenario]
title = "a writer ahead of its reader on a Queue(1)"
start_method = "fork"
[channels.q]
kind = "Queue"
maxsize = 1
[[process]]
name = "writer"
role = "producer"
out = "q"
count = 3
[[process]]
name = "reader"
role = "consumer"
in = "q"
count = 3
work = { kind = "sleep", ms = 1200 }
"""


@pytest.mark.timeout(60)
def test_an_items_age_starts_when_it_gets_room_not_while_its_writer_waits() -> None:
    """The reader takes an item every 1.2 s from a Queue(1); the writer waits
    for room for its third item from ~0 s to ~1.2 s, and ipcplay pauses it for
    part of that wait. Each item is then in the queue for about 1.2 s: that is
    its age, not the 2.4 s since the writer made it."""
    engine = Engine(loads(SLOW_READER), sample_hz=20)
    engine.start()
    try:
        wait_for(lambda: engine.process("writer").state == "blocked")
        engine.pause("writer")
        time.sleep(0.5)
        engine.resume("writer")
        outcome = engine.run(duration=30)
    finally:
        engine.shutdown()
    assert outcome.verdict == "completed"
    q = outcome.snapshot.channels[0]
    assert q.gets == 3
    assert q.max_wait_s < 1.9, q.max_wait_s  # ~1.2 s; stamped at creation it was ~2.4 s
    writer = next(p for p in outcome.snapshot.processes if p.name == "writer")
    assert writer.blocked_s < 1.2 - 0.3  # its wait less the pause
