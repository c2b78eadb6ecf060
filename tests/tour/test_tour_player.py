"""The tour player on its own, fed hand-made snapshots: the reading gap, holds
(a step's own and the teacher's pause), `n`, and the scenario's clock in slow
motion. No processes: the controls are recorded."""

from __future__ import annotations

import time
from dataclasses import replace

from ipcplay.engine.snapshot import ChannelSample, ProcessSample, Snapshot
from ipcplay.scenario import loads
from ipcplay.scenario.model import Scenario, TourStep
from ipcplay.tour import MIN_GAP_S, TourPlayer

BASE = """
[scenario]
title = "t"
[channels.q]
kind = "Queue"
maxsize = 2
[[process]]
name = "w"
role = "producer"
out = "q"
count = 5
[[process]]
name = "r"
role = "consumer"
in = "q"
count = 5
"""


class Recorder:
    """Controls that write down what a step asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def pause(self, name: str) -> None:
        self.calls.append(("pause", name))

    def resume(self, name: str) -> None:
        self.calls.append(("resume", name))

    def terminate(self, name: str) -> None:
        self.calls.append(("terminate", name))

    def kill(self, name: str) -> None:
        self.calls.append(("kill", name))

    def pause_all(self) -> None:
        self.calls.append(("pause_all",))

    def resume_all(self) -> None:
        self.calls.append(("resume_all",))

    def set_rate(self, name: str, rate: float) -> None:
        self.calls.append(("set_rate", name))

    def poison_pill(self, name: str) -> str:
        self.calls.append(("pill", name))
        return name


def _proc(i: int, name: str) -> ProcessSample:
    return ProcessSample(
        index=i,
        name=name,
        template=name,
        role="producer" if name == "w" else "consumer",
        pid=1000 + i,
        ppid=1,
        alive=True,
        exitcode=None,
        state="running",
        status="running",
        activity="running",
        blocked=None,
        cpu_percent=0.0,
        cpu_s=0.0,
        rss=0,
        threads=1,
        ctx_switches=0,
        sent=0,
        received=0,
        items=0,
        pills_sent=0,
        pills_received=0,
        blocked_s=0.0,
        error="",
        stopped_by_engine=False,
    )


def snap(t: float, depth: int = 0, speed: float = 1.0, scene: float | None = None) -> Snapshot:
    """A snapshot `t` real seconds into the run; the queue holds `depth`."""
    q = ChannelSample(
        index=0,
        name="q",
        kind="Queue",
        maxsize=2,
        puts=depth,
        gets=0,
        depth=depth,
        max_depth=depth,
        bytes=0,
        task_done=0,
        unfinished=0,
        full_hits=0,
        blocked_put_s=0.0,
        blocked_get_s=0.0,
        put_rate=0.0,
        get_rate=0.0,
        writers=("w",),
        readers=("r",),
        directions=(),
    )
    return Snapshot(
        seq=int(t * 10),
        t=100.0 + t,
        elapsed_s=t,
        processes=(_proc(0, "w"), _proc(1, "r")),
        channels=(q,),
        recent_events=(),
        events_total=0,
        events_dropped=0,
        observer_cpu_percent=0.0,
        finished=False,
        stuck=None,
        speed=speed,
        scenario_s=scene,
    )


def scenario(*steps: TourStep) -> Scenario:
    return replace(loads(BASE, "t.toml", name="t"), tour=steps)


def play(player: TourPlayer, until: float, step: float = 0.1, **kw: object) -> list[float]:
    """Feed a snapshot every `step` s up to `until`; the times steps fired."""
    times = []
    t = 0.0
    while t <= until + 1e-9:
        for f in player.feed(snap(round(t, 3), **kw)):  # type: ignore[arg-type]
            times.append(f.elapsed_s)
        t += step
    return times


def test_two_steps_that_hold_at_once_are_shown_a_reading_gap_apart() -> None:
    s = scenario(TourStep(say="one"), TourStep(say="two", when="depth", on="q", at_least=1))
    player = TourPlayer(s)
    times = play(player, 5.0, depth=2)
    assert times == [0.0, MIN_GAP_S]


def test_a_queue_that_filled_during_the_gap_still_counts_at_its_end() -> None:
    """It filled and drained between two captions: its full hits grew, so the
    step fires when the reading time is up, and says so."""
    s = scenario(TourStep(say="one"), TourStep(say="two", when="full", on="q"))
    player = TourPlayer(s)
    assert player.feed(snap(0.0))
    assert not player.feed(replace(snap(0.5, depth=2), channels=(_full(2, 1),)))
    fired = player.feed(replace(snap(2.0), channels=(_full(0, 1),)))
    assert [f.index for f in fired] == [1] and fired[0].met and "was full" in fired[0].seen


def test_a_depth_seen_only_during_the_gap_is_not_shown_as_if_it_held() -> None:
    s = scenario(TourStep(say="one"), TourStep(say="two", when="depth", on="q", at_least=2))
    player = TourPlayer(s)
    assert player.feed(snap(0.0)) and not player.feed(snap(0.5, depth=2))
    assert not player.feed(snap(2.0, depth=0))
    assert [f.index for f in player.feed(snap(2.5, depth=2))] == [1]


def _full(depth: int, hits: int) -> ChannelSample:
    return replace(snap(0.0).channels[0], depth=depth, puts=depth, full_hits=hits)


def test_without_a_gap_steps_fire_together_as_before() -> None:
    s = scenario(TourStep(say="one"), TourStep(say="two", after=0.0))
    assert [f.index for f in TourPlayer(s, min_gap_s=0).feed(snap(0.0))] == [0, 1]


def test_a_held_step_waits_for_the_teacher() -> None:
    s = scenario(TourStep(say="one", hold=True), TourStep(say="two", after=1.0))
    player = TourPlayer(s)
    assert play(player, 30.0) == [0.0]
    assert player.waiting_for_teacher
    player.advance()  # `n`: the time held counts for the next step's `after`
    assert not player.held
    assert [f.index for f in player.feed(snap(30.5))] == [1]


def test_n_on_a_hold_still_lets_the_next_step_wait_for_its_state() -> None:
    s = scenario(TourStep(say="one", hold=True), TourStep(say="two", when="full", on="q"))
    player = TourPlayer(s)
    player.feed(snap(0.0))
    player.advance()
    assert not player.feed(snap(3.0)) and not player.feed(snap(4.0))


def test_a_held_step_goes_on_by_itself_where_nobody_presses_n() -> None:
    s = scenario(TourStep(say="one", hold=True), TourStep(say="two"))
    assert play(TourPlayer(s, hold_s=5.0), 10.0) == [0.0, 5.0]


def test_n_on_a_held_step_during_a_pause_shows_the_next_step_at_once() -> None:
    s = scenario(TourStep(say="one", hold=True), TourStep(say="two", after=5.0))
    player = TourPlayer(s)
    player.feed(snap(0.0))
    player.holds.add("paused")
    player.advance()
    assert [f.index for f in player.feed(snap(0.1))] == [1]


def test_n_shows_the_next_step_now_whatever_it_waits_for() -> None:
    s = scenario(TourStep(say="one"), TourStep(say="two", when="full", on="q", timeout=60))
    player = TourPlayer(s)
    player.feed(snap(0.0))
    player.advance()
    fired = player.feed(snap(0.1))
    assert [f.index for f in fired] == [1]
    assert not fired[0].met and "shown before it happened" in fired[0].seen


def test_a_pause_by_the_teacher_holds_the_tour_and_its_time() -> None:
    s = scenario(TourStep(say="one"), TourStep(say="two", after=3.0))
    player = TourPlayer(s)
    player.feed(snap(0.0))
    player.feed(snap(1.0))
    player.holds.add("paused")
    assert not player.feed(snap(10.0))  # nothing fires, and these 9 s do not count
    player.holds.discard("paused")
    assert not player.feed(snap(11.0))
    assert not player.feed(snap(11.9))  # 1 + (11.9 - 10) = 2.9 s of the tour's time
    assert [f.index for f in player.feed(snap(12.1))] == [1]


def test_a_step_never_resumes_what_the_teacher_paused() -> None:
    """The issue's bug: a tour step resumed readers the teacher had just paused."""
    s = scenario(TourStep(say="go", do="resume", to="r"), TourStep(say="all", do="resume-all"))
    controls = Recorder()
    player = TourPlayer(s, controls)
    player.protected = {"r"}
    first = player.feed(snap(0.0))[0]
    assert controls.calls == [] and first.done == ("left r (pid 1001) paused: you paused it",)
    player.feed(snap(2.0))
    assert controls.calls == [("resume", "w")]  # every process but the teacher's


def test_after_and_timeout_are_the_scenarios_time() -> None:
    """At 0.25x an `after = 1` step comes 4 real seconds after the one before."""
    s = scenario(TourStep(say="one"), TourStep(say="two", after=1.0))
    player = TourPlayer(s, min_gap_s=0)
    t = 0.0
    times = []
    while t < 6:
        times += [f.elapsed_s for f in player.feed(snap(t, speed=0.25, scene=t * 0.25))]
        t = round(t + 0.1, 3)
    assert times == [0.0, 4.0]


def test_a_resume_all_while_the_teacher_paused_everything_resumes_nothing() -> None:
    s = scenario(TourStep(say="all", do="resume-all"))
    controls = Recorder()
    player = TourPlayer(s, controls)
    player.protected = {"w", "r", "*"}
    fired = player.feed(snap(0.0))
    assert controls.calls == [] and fired[0].done == ("left every process paused: you paused them",)


def test_the_reading_gap_is_on_the_clock_of_whoever_shows_the_captions() -> None:
    """A screen busy starting processes may take in a backlog of snapshots at
    once: their run times are 2 s apart, but the captions would not be."""
    s = scenario(TourStep(say="one"), TourStep(say="two", when="depth", on="q", at_least=1))
    player = TourPlayer(s)
    assert player.feed(snap(0.5, depth=1), now=50.0)
    assert not player.feed(snap(2.6, depth=1), now=50.05)
    assert not player.feed(snap(2.7, depth=1), now=51.9)
    assert [f.index for f in player.feed(snap(2.8, depth=1), now=52.1)] == [1]


def test_the_reading_gap_starts_when_the_steps_action_is_done() -> None:
    """Pausing ten processes waits for each to stop: the caption is up after."""

    class Slow(Recorder):
        def pause(self, name: str) -> None:
            time.sleep(0.3)
            super().pause(name)

    s = scenario(TourStep(say="one", do="pause", to="r"), TourStep(say="two"))
    player = TourPlayer(s, Slow())
    assert player.feed(snap(0.0), now=0.0)
    assert not player.feed(snap(0.1), now=2.1)  # 2 s after the feed, but not after the pause
    assert [f.index for f in player.feed(snap(0.2), now=2.4)] == [1]


def test_pausing_several_processes_waits_for_them_together() -> None:
    class Many(Recorder):
        def pause_many(self, names: list[str]) -> list[str]:
            self.calls.append(("pause_many", *names))
            return names[:1]

    s = scenario(TourStep(say="one", do="pause", to="r"))
    base = loads(BASE.replace('name = "r"', 'name = "r"\nreplicas = 2'), "t.toml", name="t")
    controls = Many()
    player = TourPlayer(replace(base, tour=s.tour), controls)
    two = replace(snap(0.0), processes=(_proc(0, "r-1"), _proc(1, "r-2")))
    two = replace(two, processes=tuple(replace(p, template="r") for p in two.processes))
    fired = player.feed(two)
    assert controls.calls == [("pause_many", "r-1", "r-2")]
    assert fired[0].done == (
        "paused r-1 (pid 1000) with SIGSTOP",
        "pause r-2: it is not running",
    )


def test_a_pause_of_several_after_the_run_stopped_is_said_not_raised() -> None:
    class Gone(Recorder):
        def pause_many(self, names: list[str]) -> list[str]:
            raise RuntimeError("the scenario is not running")

    base = loads(BASE.replace('name = "r"', 'name = "r"\nreplicas = 2'), "t.toml", name="t")
    s = replace(base, tour=(TourStep(say="one", do="pause", to="r"),))
    two = replace(snap(0.0), processes=(_proc(0, "r-1"), _proc(1, "r-2")))
    two = replace(two, processes=tuple(replace(p, template="r") for p in two.processes))
    fired = TourPlayer(s, Gone()).feed(two)
    assert fired[0].done == ("pause r: the scenario is not running",)
