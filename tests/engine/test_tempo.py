"""Slow motion: the scenario's own time runs slower, and nothing it counts or
concludes changes. Real processes at 1x and at 0.25x, compared number by
number; and the speed reaches running children, as a rate change does."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from ipcplay.engine import Engine
from ipcplay.engine.tempo import ScenarioClock, check_speed
from ipcplay.headless import run_header
from ipcplay.report import as_dict
from ipcplay.scenario import load, loads, resolve

pytestmark = pytest.mark.timeout(120)

# What each run counts, not how long it took: a verdict, every channel's and
# shared object's totals, every process's messages, every pool's results in
# the order they arrived. Not the high-water mark: it is sampled (ten times a
# second), so how high a pipe's in-flight count was seen depends on timing.
_CHANNEL = ("name", "puts", "gets", "depth", "task_done", "lost", "bytes")
_PROCESS = ("name", "exitcode", "sent", "received", "items", "pills_sent", "pills_received")
_SHARED = ("name", "value", "values", "updates", "expected", "lost_updates", "acquires", "releases")
_POOL = ("name", "submitted", "returned", "failed", "arrived", "results", "timeouts", "lost")


def counted(report: dict[str, Any]) -> dict[str, Any]:
    def pick(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{k: r.get(k) for k in keys} for r in rows]

    return {
        "verdict": report["verdict"],
        "channels": pick(report["channels"], _CHANNEL),
        "processes": pick([p for p in report["processes"] if p["role"] != "pool-worker"], _PROCESS),
        "shared": pick(report["shared"], _SHARED),
        "pools": pick(report["pools"], _POOL),
        "stuck": (report["stuck"] or {}).get("processes"),
    }


def run(name: str, speed: float, **changes: Any) -> tuple[dict[str, Any], float]:
    scenario = replace(load(resolve(name)), **changes)
    engine = Engine(scenario, hang_after=0.5, speed=speed)
    try:
        outcome = engine.run()
    finally:
        engine.shutdown()
    report = as_dict(
        run_header(scenario), outcome.verdict, outcome.duration_s, outcome.snapshot, None
    )
    return counted(report), outcome.duration_s


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("pipe-ping-pong", {"start_method": "fork"}),  # a rate: 20 round trips at 10/s
        ("bounded-queue", {"start_method": "fork"}),  # work: each reader sleeps 50 ms
        ("seed002-lock", {"start_method": "fork"}),  # a sleep step holding a Lock
        ("pool-imap-unordered", {}),  # pool tasks that sleep: the order they finish
        ("pool-killed-worker-fixed", {}),  # get(timeout): the role's own time too
        ("lock-order-deadlock", {"start_method": "fork"}),  # a DEADLOCK
        ("barrier-one-short", {"start_method": "fork"}),  # a HANG
        ("terminate-holding-lock", {"start_method": "fork"}),  # terminate_after, then a HANG
        ("value-lost-updates-fixed", {"start_method": "fork"}),  # exact shared counts
    ],
)
def test_counts_and_verdicts_do_not_change_with_speed(name: str, changes: dict[str, Any]) -> None:
    full, _ = run(name, 1.0, **changes)
    slow, _ = run(name, 0.25, **changes)
    assert slow == full
    assert full["verdict"] == load(resolve(name)).expect


def test_the_roles_own_time_is_four_times_longer_at_a_quarter() -> None:
    """Ten items at 10/s: about a second of the producer's time, four at 0.25x."""
    scenario = loads(
        """
[scenario]
title = "paced"
start_method = "fork"
[channels.q]
kind = "Queue"
[[process]]
name = "p"
role = "producer"
out = "q"
count = 10
rate = 10
[[process]]
name = "c"
role = "consumer"
in = "q"
count = 10
""",
        name="paced",
    )
    took = {}
    for speed in (1.0, 0.25):
        engine = Engine(scenario, speed=speed)
        t0 = time.monotonic()
        try:
            outcome = engine.run(20)
        finally:
            engine.shutdown()
        took[speed] = time.monotonic() - t0
        assert outcome.verdict == "completed"
        assert outcome.snapshot.channels[0].gets == 10
        # The observer's clock of the scenario agrees with the children's.
        assert outcome.snapshot.speed == speed
        assert outcome.snapshot.clock_s == pytest.approx(outcome.snapshot.elapsed_s * speed)
    assert took[1.0] < 2.5
    assert took[0.25] > 3.4  # 9 intervals of 0.4 s at least


def test_a_speed_change_reaches_running_children() -> None:
    """The way a rate change does: through the board, within a slice."""
    scenario = replace(load(resolve("steady-pipeline")), start_method="fork")
    engine = Engine(scenario)
    try:
        engine.start()

        def puts_per_s(seconds: float) -> float:
            a = engine.latest
            time.sleep(seconds)
            b = engine.latest
            return (b.channels[0].puts - a.channels[0].puts) / (b.elapsed_s - a.elapsed_s)

        time.sleep(1.0)
        fast = puts_per_s(2.0)
        engine.set_speed(0.1)
        time.sleep(0.5)
        slow = puts_per_s(3.0)
        assert engine.latest.speed == 0.1
    finally:
        engine.shutdown()
    rate = next(p.rate for p in scenario.processes if p.name == "producer")
    assert fast > rate * 0.6
    assert rate * 0.1 * 0.5 <= slow <= rate * 0.1 * 1.5, (fast, slow)


def test_the_scenario_clock_integrates_every_speed_change() -> None:
    clock = ScenarioClock(100.0, 1.0)
    clock.set_speed(0.25, now=102.0)
    clock.set_speed(0.5, now=106.0)
    assert clock.at(101.0) == pytest.approx(1.0)
    assert clock.at(104.0) == pytest.approx(2.5)
    assert clock.at(110.0) == pytest.approx(2.0 + 1.0 + 2.0)
    assert clock.since(101.0, 110.0) == pytest.approx(4.0)
    # 1 s of scenario time after 106 at 0.5x is 2 s of real time.
    assert clock.real_after(106.0, 1.0, 106.0) == pytest.approx(108.0)


@pytest.mark.parametrize("bad", [0.0, 0.01, 1.5, -1.0])
def test_a_speed_out_of_range_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match=r"expected a speed from 0\.05 to 1"):
        check_speed(bad)
