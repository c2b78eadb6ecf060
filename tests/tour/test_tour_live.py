"""Tours against real runs: steps fire in order, each state step only when the
snapshot it fired on shows that state, and the actions reach real processes."""

from __future__ import annotations

from dataclasses import replace

import psutil
import pytest

from ipcplay.engine import Engine
from ipcplay.engine.snapshot import Snapshot
from ipcplay.scenario import load, loads, resolve
from ipcplay.scenario.model import Scenario
from ipcplay.tour import Fired, TourPlayer, check

pytestmark = pytest.mark.timeout(60)


def play(scenario: Scenario, duration: float = 20.0, probe=None):  # type: ignore[no-untyped-def]
    """Run with the tour; each fired step with the snapshot that fired it."""
    fired: list[tuple[Fired, Snapshot, object]] = []
    player: TourPlayer | None = None

    def on_snapshot(snap: Snapshot) -> None:
        assert player is not None
        for f in player.feed(snap):
            fired.append((f, snap, probe(f, snap) if probe else None))

    engine = Engine(scenario, on_snapshot=on_snapshot, hang_after=0.5)
    player = TourPlayer(scenario, engine, hold_s=1.0)  # nobody presses `n` here
    try:
        outcome = engine.run(duration, linger=lambda: not player.done)
    finally:
        engine.shutdown()
    return fired, outcome


def assert_in_order_and_true(fired: list[tuple[Fired, Snapshot, object]], n: int) -> None:
    assert [f.index for f, _, _ in fired] == list(range(n))
    times = [f.elapsed_s for f, _, _ in fired]
    assert times == sorted(times)
    for f, snap, _ in fired:
        assert f.met, f
        if f.step.when:
            before = fired[f.index - 1][1] if f.index else None
            assert check(f.step, snap, before) is not None, (f.step, snap.channels)
        else:
            assert f.elapsed_s >= f.step.after


def test_bounded_queue_tour_sees_a_writer_blocked() -> None:
    scenario = load(resolve("bounded-queue"))  # as shipped: under fork it is all over at once
    fired, outcome = play(scenario)
    assert outcome.verdict == "completed"
    assert_in_order_and_true(fired, len(scenario.tour))
    # The readers still alive were paused (those that had already started and
    # taken their item are gone), a writer blocked on the full queue (seen
    # blocked, or its blocked time grew), and the readers were resumed.
    assert fired[0][0].done and all("SIGSTOP" in d for d in fired[0][0].done)
    snap = fired[1][1]
    writers = [p for p in snap.processes if p.template == "writer"]
    assert any(p.blocked is not None or p.blocked_s > 0 for p in writers)
    queue = next(c for c in snap.channels if c.name == "queue")
    assert queue.full_hits > 0
    assert all("SIGCONT" in d for d in fired[2][0].done)
    assert outcome.snapshot.channels[0].gets == 10


def test_ping_pong_tour_pauses_and_resumes_the_real_ponger() -> None:
    scenario = replace(load(resolve("pipe-ping-pong")), start_method="fork")

    def status(f: Fired, snap: Snapshot) -> str:
        pid = next(p.pid for p in snap.processes if p.name == "ponger")
        try:
            return psutil.Process(pid).status()
        except psutil.NoSuchProcess:
            return "gone"

    fired, outcome = play(scenario, probe=status)
    assert_in_order_and_true(fired, 4)
    assert fired[0][0].done and fired[0][0].done[0].startswith("paused ponger (pid ")
    assert fired[1][2] == psutil.STATUS_STOPPED  # still stopped when the pinger is seen blocked
    assert fired[2][2] != psutil.STATUS_STOPPED
    assert outcome.verdict == "completed"
    link = outcome.snapshot.channels[0]
    assert link.puts == link.gets == 40


def test_pitfall_tour_ends_on_the_hang() -> None:
    scenario = replace(load(resolve("join-without-task-done")), start_method="fork")
    fired, outcome = play(scenario)
    assert_in_order_and_true(fired, 4)
    last, snap, _ = fired[-1]
    assert last.step.when == "hang" and snap.stuck is not None and snap.stuck.kind == "hang"
    assert "producer" in snap.stuck.processes
    assert outcome.verdict == "hang"


def test_a_state_that_never_comes_times_out_and_says_so() -> None:
    scenario = loads(
        """
[scenario]
title = "never full"
start_method = "fork"
[channels.q]
kind = "Queue"
maxsize = 1000
[[process]]
name = "p"
role = "producer"
out = "q"
count = 3
rate = 2
[[process]]
name = "c"
role = "consumer"
in = "q"
count = 3
[[tour]]
when = "full"
on = "q"
timeout = 0.6
say = "never"
[[tour]]
after = 0.2
say = "next"
""",
        name="never",
    )
    fired, outcome = play(scenario)
    assert [f.index for f, _, _ in fired] == [0, 1]
    first = fired[0][0]
    assert not first.met and first.seen.startswith("not seen after 0.6 s")
    assert first.elapsed_s >= 0.6 and fired[1][0].met
    assert outcome.verdict == "completed"
