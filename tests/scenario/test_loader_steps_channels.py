"""put / get steps in the loader and the composer's steps lines: what a file may
say, the one-line refusals, and the round trip back to the same text."""

from __future__ import annotations

import pytest

from ipcplay.scenario import ScenarioError, dumps, loads
from ipcplay.scenario.draft import parse_steps, step_lines
from ipcplay.scenario.model import Step

HEAD = """
[scenario]
title = "t"
[channels.jobs]
kind = "Queue"
[shared.lock]
kind = "Lock"
"""


def _steps(steps: str, extra: str = "") -> str:
    return HEAD + f'[[process]]\nname = "p"\nrole = "steps"\n{extra}steps = [{steps}]\n'


def _error(text: str) -> tuple[str, str]:
    with pytest.raises(ScenarioError) as info:
        loads(text)
    return info.value.key, info.value.message


def test_a_steps_process_wired_by_its_put_and_get_steps_round_trips() -> None:
    text = _steps(
        '{ acquire = "lock" }, { put = "jobs", item = "{i}" }, { get = "jobs" }, '
        '{ put = "jobs", item = 2.5 }, { release = "lock" }'
    )
    s = loads(text)
    (p,) = s.processes
    assert p.steps[1] == Step(op="put", target="jobs", item="{i}")
    assert p.steps[2] == Step(op="get", target="jobs")
    assert p.steps[3].item == 2.5
    assert (p.inputs, p.outputs, p.shared_used) == (("jobs",), ("jobs",), ("lock",))
    again = dumps(s)
    assert "in =" not in again and "out =" not in again  # its steps say it
    assert loads(again, name=s.name) == loads(text, name=s.name)


@pytest.mark.parametrize(
    ("steps", "extra", "key", "message"),
    [
        (
            '{ get = "jobs" }',
            'in = "jobs"\n',
            "process[0].in",
            'a steps process names its channels in its steps: { get = "NAME" } reads one, '
            '{ put = "NAME", item = ... } writes one',
        ),
        (
            '{ put = "jbos", item = 1 }',
            "",
            "process[0].steps[0].put",
            "no channel named 'jbos'; did you mean 'jobs'?",
        ),
        (
            '{ put = "jobs" }',
            "",
            "process[0].steps[0].item",
            'missing; what to put, e.g. { put = "jobs", item = 42 }',
        ),
        (
            '{ get = "jobs", item = 1 }',
            "",
            "process[0].steps[0].item",
            "applies to a put step only, not get",
        ),
        (
            '{ put = "jobs", item = [1, 2] }',
            "",
            "process[0].steps[0].item",
            "expected a number, a string or a boolean, got an array",
        ),
        (
            '{ acquire = "jobs" }',
            "",
            "process[0].steps[0].acquire",
            "no shared object named 'jobs'; declared: lock",
        ),
    ],
)
def test_what_is_wrong_with_a_put_or_get_in_one_line(
    steps: str, extra: str, key: str, message: str
) -> None:
    assert _error(_steps(steps, extra)) == (key, message)


def test_a_channel_only_a_steps_process_uses_is_used() -> None:
    s = loads(_steps('{ acquire = "lock" }, { get = "jobs" }, { release = "lock" }'))
    assert s.processes[0].inputs == ("jobs",)  # not "declared but no process reads it"


def test_put_and_get_lines_are_their_step_tables() -> None:
    text = 'put jobs {i}\nget jobs\nput jobs "two words"  # a comment\nput jobs 42'
    tables, error = parse_steps(text)
    assert error is None
    assert tables == [
        {"put": "jobs", "item": "{i}"},
        {"get": "jobs"},
        {"put": "jobs", "item": "two words"},
        {"put": "jobs", "item": 42},
    ]
    assert step_lines(tables) == 'put jobs "{i}"\nget jobs\nput jobs "two words"\nput jobs 42'
    assert parse_steps("put jobs")[1].message == "expected 'put CHANNEL ITEM', got 'put jobs'"
    assert parse_steps("get")[1].message == "expected 'get CHANNEL', got 'get'"
