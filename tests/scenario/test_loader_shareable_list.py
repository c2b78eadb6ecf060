"""[shared.NAME] kind = "ShareableList" and its steps: what loads, what reads
back the same, and every mistake one line naming its key."""

from __future__ import annotations

import pytest

from ipcplay.scenario import ScenarioError, dumps, loads

HEAD = '[scenario]\ntitle = "t"\n'
BOARD = '\n[shared.board]\nkind = "ShareableList"\nvalues = ["idle", 0, 2.5, true]\n'


def proc(steps: str) -> str:
    return f'\n[[process]]\nname = "p"\nrole = "steps"\nsteps = {steps}\n'


def error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        loads(text)
    message = str(info.value)
    assert "\n" not in message
    return message.removeprefix("<string>: ")


def test_items_and_steps_load_and_read_back_the_same() -> None:
    text = (
        HEAD
        + BOARD
        + proc(
            '[{ on = "board", setitem = "busy", key = 0 }, { on = "board", setitem = 7, key = -3 },'
            ' { on = "board", setitem = "{i}", key = "{i}" }, { read = "board" }]'
        )
    )
    scenario = loads(text)
    board = scenario.shared[0]
    assert (board.kind, board.values) == ("ShareableList", ("idle", 0, 2.5, True))
    steps = scenario.processes[0].steps
    assert [(s.op, s.key, s.item) for s in steps] == [
        ("setitem", 0, "busy"),
        ("setitem", -3, 7),
        ("setitem", "{i}", "{i}"),
        ("read", None, None),
    ]
    again = loads(dumps(scenario))
    assert again.shared == scenario.shared
    assert again.processes == scenario.processes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            HEAD + '\n[shared.board]\nkind = "ShareableList"\n' + proc('[{ read = "board" }]'),
            "shared.board.values: missing; a ShareableList needs its initial values, "
            "e.g. [0, 0, 0]",
        ),
        (
            HEAD
            + '\n[shared.board]\nkind = "ShareableList"\nvalues = [[1, 2]]\n'
            + proc('[{ read = "board" }]'),
            "shared.board.values[0]: expected a number, a string or a boolean, got an array",
        ),
        (
            HEAD
            + '\n[shared.board]\nkind = "ShareableList"\nvalues = [1]\nsize = 8\n'
            + proc('[{ read = "board" }]'),
            "shared.board.size: applies to SharedMemory only, not ShareableList",
        ),
        (
            HEAD + BOARD + proc('[{ on = "board", setitem = 1, key = 4 }]'),
            "process[0].steps[0].key: expected a whole number from -4 to 3, got 4",
        ),
        (
            HEAD + BOARD + proc('[{ on = "board", append = 1 }]'),
            "process[0].steps[0]: a step on a ShareableList needs exactly one of setitem; "
            "got append",
        ),
        (
            HEAD + BOARD + proc('[{ write = "board", number = 1 }]'),
            "process[0].steps[0].write: 'board' is a ShareableList; "
            "'write' needs a SharedMemory block",
        ),
        (
            HEAD + BOARD + proc('[{ on = "board", add = 1 }]'),
            "process[0].steps[0].add: applies to a Value or an Array, not a ShareableList",
        ),
    ],
    ids=["no-values", "nested", "size", "index-past-the-end", "append", "write", "add"],
)
def test_a_mistake_is_one_line_naming_its_key(text: str, expected: str) -> None:
    assert error(text) == expected
