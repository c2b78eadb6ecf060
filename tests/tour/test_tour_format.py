"""[[tour]] steps: one-line errors naming the step and key; saved tours load back equal."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipcplay.scenario import ScenarioError, dumps, load, loads, resolve
from ipcplay.scenario.model import TourStep

BASE = """[scenario]
title = "t"
[channels.tasks]
kind = "Queue"
maxsize = 3
[channels.free]
kind = "Queue"
[[process]]
name = "p"
role = "producer"
out = ["tasks", "free"]
[[process]]
name = "c"
role = "consumer"
replicas = 2
in = "tasks"
[[process]]
name = "d"
role = "consumer"
in = "free"
"""


def step(*lines: str) -> str:
    return BASE + "[[tour]]\n" + "\n".join(lines) + "\n"


CASES = [
    (
        'after = 1\nwhen = "hang"\nsay = "x"',
        "tour[0]: has both 'after' and 'when'; a step waits for a time or for a state, not both",
    ),
    (
        'when = "ful"\nsay = "x"',
        "tour[0].when: expected one of full, depth, blocked, exited, deadlock, hang, stuck, "
        "got 'ful'; did you mean 'full'?",
    ),
    (
        'when = "full"\nsay = "x"',
        "tour[0].on: missing; 'when = \"full\"' needs the channel it is about",
    ),
    (
        'when = "full"\non = "taks"\nsay = "x"',
        "tour[0].on: no channel named 'taks'; did you mean 'tasks'?",
    ),
    (
        'when = "full"\non = "free"\nsay = "x"',
        "tour[0].on: channel 'free' has no maxsize, so it is never full",
    ),
    ('when = "blocked"\non = "tasks"\nsay = "x"', "tour[0].on: no process named 'tasks'"),
    (
        'when = "depth"\non = "tasks"\nsay = "x"',
        "tour[0].at_least: missing; 'when = \"depth\"' needs a number of items",
    ),
    ('when = "hang"\non = "c"\nsay = "x"', "tour[0].on: does not apply to 'when = \"hang\"'"),
    ('after = 1\ntimeout = 3\nsay = "x"', "tour[0].timeout: applies only to a step with 'when'"),
    ('do = "pause"', "tour[0].to: missing; 'do = \"pause\"' needs the process to act on"),
    (
        'do = "rate"\nto = "c"\nrate = 5',
        "tour[0].to: 'c' is a consumer; only a producer or pinger has a rate",
    ),
    ('do = "rate"\nto = "p"', "tour[0].rate: missing; 'do = \"rate\"' needs items per second"),
    ('do = "pill"\nto = "p"', "tour[0].to: 'p' reads no channel, so a poison pill cannot reach it"),
    (
        'do = "pause-all"\nto = "p"',
        "tour[0].to: does not apply to 'do = \"pause-all\"' (every process)",
    ),
    (
        "after = 2",
        "tour[0]: does nothing; expected one of 'say', 'do', 'highlight', 'mode', 'step'",
    ),
    (
        'highlight = "c-3"',
        "tour[0].highlight: no channel or process named 'c-3'; did you mean 'c-2'?",
    ),
    ('say = "x"\nsai = "y"', "tour[0].sai: unknown key; did you mean 'say'?"),
    ('after = -1\nsay = "x"', "tour[0].after: expected a number from 0 to 86400, got -1"),
]


@pytest.mark.parametrize(
    ("body", "message"), CASES, ids=[c[1].split(":")[1].strip() for c in CASES]
)
def test_bad_steps_get_one_line_naming_the_key(body: str, message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        loads(step(body), "t.toml")
    assert str(err.value) == f"t.toml: {message}"


def test_tour_must_be_steps() -> None:
    with pytest.raises(ScenarioError, match=r"^t.toml: tour: expected \[\[tour\]\] steps"):
        loads('tour = "go"\n' + BASE, "t.toml")


def test_instances_and_templates_are_both_targets() -> None:
    s = loads(step('do = "kill"', 'to = "c-2"', 'highlight = "c"', 'say = "bye"'))
    assert s.tour == (TourStep(say="bye", do="kill", to="c-2", highlight="c"),)


def test_say_is_neutralised() -> None:
    s = loads(step('say = "\\u001b[2Jgone"'))
    assert "\x1b" not in s.tour[0].say and "\\x1b" in s.tour[0].say


@pytest.mark.parametrize(
    "name",
    [
        "bounded-queue",
        "joinable-queue-consumers",
        "pipe-ping-pong",
        "pipe-stream-eof",
        "steady-pipeline",
        "join-without-task-done",
        "semaphore-pool",
    ],
)
def test_shipped_tours_round_trip(name: str) -> None:
    s = load(resolve(name))
    assert len(s.tour) >= 3
    again = loads(dumps(s), s.source, name=s.name)
    assert again.tour == s.tour and again == s


steps = st.builds(
    TourStep,
    say=st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
    ),
    after=st.sampled_from([0.0, 0.5, 2.0, 10.0]),
    highlight=st.sampled_from(["", "tasks", "p", "c-1"]),
)
state_steps = st.builds(
    TourStep,
    say=st.just("s"),
    when=st.sampled_from(["full", "depth", "blocked", "exited", "hang", "deadlock", "stuck"]),
    timeout=st.sampled_from([1.0, 30.0, 99.5]),
    do=st.sampled_from(["", "pause", "kill", "rate", "resume-all"]),
).map(
    lambda s: TourStep(
        say=s.say,
        when=s.when,
        on={"full": "tasks", "depth": "tasks", "blocked": "c", "exited": "c-1"}.get(s.when, ""),
        at_least=2 if s.when == "depth" else 0,
        timeout=s.timeout,
        do=s.do,
        to="" if s.do in ("", "resume-all") else "p",
        rate=7.5 if s.do == "rate" else 0.0,
    )
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(steps, state_steps), min_size=1, max_size=6))
def test_any_valid_tour_round_trips(tour: list[TourStep]) -> None:
    base = loads(BASE, "t.toml", name="t")
    from dataclasses import replace

    s = replace(base, tour=tuple(tour))
    assert loads(dumps(s), "t.toml", name="t") == s


@pytest.mark.parametrize(
    "name",
    [
        "bounded-queue",
        "joinable-queue-consumers",
        "pipe-ping-pong",
        "pipe-stream-eof",
        "steady-pipeline",
        "join-without-task-done",
    ],
)
def test_a_preset_opened_in_the_composer_keeps_its_tour(name: str) -> None:
    from dataclasses import replace

    from ipcplay.scenario.draft import check, from_scenario

    s = load(resolve(name))
    again = check(from_scenario(s))
    assert not hasattr(again, "message"), again
    assert again.tour == s.tour and again == replace(s, source=again.source)
