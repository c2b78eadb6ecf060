"""Every challenge preset is solved by the schedule checked in next to it, on
real processes in step mode, with the exact numbers the lesson promises; and
a free run does not solve it by itself where that is certain.

Ground truth: what the chosen order must make (one add of four lost, both
locks held crosswise, a barrier with one party and nobody left), counted by
the processes themselves and read back from the snapshot.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ipcplay import challenge, schedule
from ipcplay.engine import Engine
from ipcplay.engine.snapshot import Snapshot
from ipcplay.scenario import load
from ipcplay.scenario.goals import GOALS

PRESETS = Path(__file__).resolve().parents[2] / "presets"
CHALLENGES = sorted(p.stem for p in PRESETS.glob("challenge-*.toml"))


def _shared(snap: Snapshot, name: str):
    return next(o for o in snap.shared if o.name == name)


def _proc(snap: Snapshot, name: str):
    return next(p for p in snap.processes if p.name == name)


def _lost_one(snap: Snapshot) -> None:
    counter = _shared(snap, "counter")
    assert (counter.value, counter.expected, counter.lost) == (3, 4, 1)


def _crossed_locks(snap: Snapshot) -> None:
    assert snap.stuck is not None and snap.stuck.kind == "deadlock"
    assert set(snap.stuck.processes) == {"left", "right"}
    assert _shared(snap, "lock_a").holders == ("left",)
    assert _shared(snap, "lock_b").holders == ("right",)
    assert [(p.blocked.op, p.blocked.channel) for p in snap.processes if p.blocked] == [
        ("acquire", "lock_b"),
        ("acquire", "lock_a"),
    ]


def _alone_at_the_barrier(snap: Snapshot) -> None:
    assert snap.stuck is not None and snap.stuck.kind == "hang"
    assert snap.stuck.processes == ("twice",)
    barrier = _shared(snap, "barrier")
    assert (barrier.parties, barrier.arrived) == (2, 1)
    assert _proc(snap, "once-1").exitcode == 0 and _proc(snap, "once-2").exitcode == 0


def _both_ends_wait(snap: Snapshot) -> None:
    right, left = _proc(snap, "right"), _proc(snap, "left")
    assert right.blocked is not None and (right.blocked.op, right.blocked.channel) == (
        "recv",
        "link",
    )
    assert left.blocked is not None and (left.blocked.op, left.blocked.channel) == (
        "acquire",
        "talk",
    )
    link = next(c for c in snap.channels if c.name == "link")
    assert (link.puts, link.gets) == (0, 0)  # nobody ever spoke


def _three_of_three(snap: Snapshot) -> None:
    queue = next(c for c in snap.channels if c.name == "queue")
    assert (queue.puts, queue.gets, queue.depth, queue.maxsize) == (3, 0, 3, 3)
    consumer = _proc(snap, "consumer")
    assert consumer.gates == 1 and consumer.next is not None and consumer.next.op == "get"


def _both_finished(snap: Snapshot) -> None:
    assert snap.finished and snap.stuck is None
    assert [p.exitcode for p in snap.processes] == [0, 0]
    assert _shared(snap, "lock_a").acquires == 2 and _shared(snap, "lock_b").acquires == 2


# What each preset's schedule must make, beyond `challenge.reached`.
EXACT = {
    "challenge-lose-an-update": _lost_one,
    "challenge-lock-order": _crossed_locks,
    "challenge-barrier-never-fills": _alone_at_the_barrier,
    "challenge-pipe-both-wait": _both_ends_wait,
    "challenge-fill-the-queue": _three_of_three,
    "challenge-no-deadlock": _both_finished,
}


def _reached(engine: Engine, scenario, timeout: float) -> Snapshot:
    """The first snapshot that shows the goal reached, polled; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        snap = engine.latest
        if snap is not None and challenge.reached(scenario.challenge, snap):
            return snap
        if time.monotonic() > deadline:
            raise AssertionError(f"goal not reached in {timeout} s; last snapshot {snap}")
        time.sleep(0.02)


def test_there_are_six_challenges_each_with_its_check():
    assert len(CHALLENGES) >= 6
    assert set(CHALLENGES) == set(EXACT)
    goals = {load(PRESETS / f"{name}.toml").challenge.goal for name in CHALLENGES}
    assert goals == set(GOALS)  # every goal is shown by one preset at least
    assert set(challenge.CHECKS) == set(GOALS)  # and has its one check


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", CHALLENGES)
def test_the_schedule_next_to_it_solves_it_exactly(name):
    scenario, plan = schedule.for_scenario(
        str(PRESETS / "schedules" / f"{name}.toml"), load(PRESETS / f"{name}.toml")
    )
    assert scenario.challenge is not None and plan.scenario == name
    start = time.monotonic()
    with Engine(scenario, step=True, hang_after=0.5) as engine:
        played = schedule.play(engine.stepper, plan.steps, timeout=15)
        assert (played.done, played.stopped_at) == (len(plan.steps), None), played.why
        snap = _reached(engine, scenario, 15)
        took = time.monotonic() - start
        EXACT[name](snap)
        assert engine.stepper.schedule == list(plan.steps)
        line = challenge.met_line(scenario.challenge, snap, challenge.steps_taken(plan.steps))
        assert line.startswith(f"CHALLENGE MET in {len(plan.steps)} steps: ")
    assert took < 10, took


def test_the_verdict_says_the_numbers():
    scenario = load(PRESETS / "challenge-lose-an-update.toml")
    plan = schedule.load(PRESETS / "schedules" / "challenge-lose-an-update.toml")
    with Engine(scenario, step=True) as engine:
        schedule.play(engine.stepper, plan.steps, timeout=15)
        snap = _reached(engine, scenario, 15)
    assert challenge.verdict(scenario.challenge, snap) == (
        "lost an update on 'counter': 3, expected 4 (1 lost)"
    )
    assert challenge.task(scenario.challenge) == "lose an update on 'counter'"
    assert challenge.met_line(scenario.challenge, snap, 8) == (
        "CHALLENGE MET in 8 steps: lost an update on 'counter': 3, expected 4 (1 lost)"
    )


# A free run cannot solve these: the one that goes first has done all its
# operations long before the other (a second later) makes its first, or (the
# last) both take their first lock at once and deadlock every time. The lost
# update is left out: two adders adding twice may overlap, rarely.
FREE_RUN_SAFE = [
    "challenge-lock-order",
    "challenge-barrier-never-fills",
    "challenge-pipe-both-wait",
    "challenge-fill-the-queue",
    "challenge-no-deadlock",
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", FREE_RUN_SAFE)
def test_a_free_run_does_not_reach_it(name):
    scenario = load(PRESETS / f"{name}.toml")
    seen: list[bool] = []
    engine = Engine(
        scenario,
        hang_after=0.5,
        on_snapshot=lambda snap: seen.append(challenge.reached(scenario.challenge, snap)),
    )
    outcome = engine.run(duration=10)
    assert outcome.verdict == scenario.expect
    assert seen and not any(seen)
    assert not challenge.reached(scenario.challenge, outcome.snapshot)
