"""[challenge] and a tour's `step`/`mode` as the loader reads them: a wrong
one is one line naming the file, the key and what was expected (exit 2 from
the command line); a right one dumps back as it was read."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ipcplay.scenario import ScenarioError, dumps, list_presets, loads
from ipcplay.scenario.model import Challenge

BASE = """
[scenario]
title = "t"
{challenge}
[channels.queue]
kind = "Queue"
maxsize = 2
[channels.free]
kind = "Queue"
[channels.link]
kind = "Pipe"
[shared.counter]
kind = "Value"
[shared.lock]
kind = "Lock"
[[process]]
name = "adder"
role = "steps"
replicas = 2
steps = [{{ on = "counter", add = 1 }}, {{ acquire = "lock" }}, {{ put = "queue", item = 1 }},
         {{ put = "free", item = 1 }}, {{ get = "free" }}, {{ get = "queue" }},
         {{ release = "lock" }}]
[[process]]
name = "a"
role = "ponger"
in = "link"
out = "link"
[[process]]
name = "b"
role = "pinger"
in = "link"
out = "link"
count = 1
{tour}
"""


def _load(challenge: str = "", tour: str = ""):
    return loads(BASE.format(challenge=challenge, tour=tour), source="c.toml")


@pytest.mark.parametrize(
    ("table", "on"),
    [
        ('goal = "lost-update"\non = "counter"', "counter"),
        ('goal = "deadlock"', ""),
        ('goal = "deadlock"\non = "lock"', "lock"),
        ('goal = "hang"\non = "free"', "free"),
        ('goal = "no-deadlock"', ""),
        ('goal = "queue-full"\non = "queue"', "queue"),
        ('goal = "both-wait"\non = "link"', "link"),
    ],
)
def test_a_good_challenge_is_read_and_dumps_back(table, on):
    scenario = _load(f"[challenge]\n{table}\nsay = 'do it'\n")
    assert scenario.challenge == Challenge(table.split('"')[1], on, "do it")
    assert loads(dumps(scenario), source="c.toml", name=scenario.name) == scenario


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('goal = "lost"', "challenge.goal: expected one of lost-update, deadlock, no-deadlock"),
        ("goal = 3", "challenge.goal: expected a goal name (a string), got an integer (3)"),
        ('on = "counter"', "challenge.goal: missing; expected one of lost-update"),
        (
            'goal = "lost-update"',
            'challenge.on: missing; goal = "lost-update" needs a shared Value',
        ),
        ('goal = "lost-update"\non = "lock"', "challenge.on: 'lock' is not a Value"),
        ('goal = "lost-update"\non = "countr"', "did you mean 'counter'?"),
        ('goal = "queue-full"\non = "free"', "'free' is not a queue with a maxsize"),
        ('goal = "queue-full"', "needs a queue with a maxsize"),
        ('goal = "both-wait"\non = "queue"', "challenge.on: 'queue' is not a Pipe"),
        ('goal = "no-deadlock"\non = "lock"', 'does not apply to goal = "no-deadlock"'),
        ('goal = "deadlock"\nwhy = "x"', "challenge.why: unknown key"),
    ],
)
def test_a_wrong_challenge_is_one_line_naming_the_key(table, message):
    with pytest.raises(ScenarioError) as caught:
        _load(f"[challenge]\n{table}\n")
    text = str(caught.value)
    assert text.startswith("c.toml: challenge") and message in text and "\n" not in text


def test_a_challenge_that_is_not_a_table_is_refused():
    with pytest.raises(ScenarioError, match=r"c.toml: challenge: expected a \[challenge\] table"):
        loads('challenge = "lost-update"\n' + BASE.format(challenge="", tour=""), source="c.toml")


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ('step = ["adder"]', "tour[0].step[0]: no process named 'adder'"),
        ('step = ["adder-3"]', "no process named 'adder-3'; did you mean 'adder-"),
        ("step = []", "tour[0].step: expected at least one process name, got an empty list"),
        ('step = "a"', "tour[0].step: expected a list of process names"),
        ("step = [1]", "tour[0].step[0]: expected a process name (a string), got an integer"),
        ('mode = "fast"', "tour[0].mode: expected one of step, go, got 'fast'"),
        ('mode = "go"\nstep = ["a"]', 'tour[0].step: does not apply with mode = "go"'),
        (
            'step = ["a"]\ndo = "pause"\nto = "a"',
            "tour[0].step: cannot share a tour step with 'do'",
        ),
    ],
)
def test_a_wrong_tour_step_is_one_line(step, message):
    with pytest.raises(ScenarioError) as caught:
        _load(tour=f"[[tour]]\nsay = 'x'\n{step}\n")
    text = str(caught.value)
    assert text.startswith("c.toml: tour[0]") and message in text and "\n" not in text


def test_a_tour_step_that_steps_reads_and_dumps_back():
    scenario = _load(tour='[[tour]]\nmode = "step"\n[[tour]]\nstep = ["adder-1", "b", "adder-1"]\n')
    assert (scenario.tour[0].mode, scenario.tour[0].step) == ("step", ())
    assert scenario.tour[1].step == ("adder-1", "b", "adder-1")
    assert loads(dumps(scenario), source="c.toml", name=scenario.name) == scenario


def test_check_says_a_bad_goal_in_one_line_with_exit_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BASE.format(challenge='[challenge]\ngoal = "win"\n', tour=""))
    r = subprocess.run(
        [sys.executable, "-m", "ipcplay", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "challenge.goal: expected one of" in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_schedules_next_to_the_presets_are_no_presets():
    names = {info.name for info in list_presets() if info.origin == "built-in"}
    assert "challenge-lock-order" in names
    assert not any("schedule" in name for name in names)
    assert all(info.error is None for info in list_presets() if info.origin == "built-in")
