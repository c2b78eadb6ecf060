"""Condition and SharedMemory steps: every mistake is one line with its key;
good ones round-trip."""

from __future__ import annotations

import pytest

from ipcplay.scenario import ScenarioError, dumps, loads

HEAD = '[scenario]\ntitle = "t"\n\n[shared.cond]\nkind = "Condition"\n'
READY = '\n[shared.ready]\nkind = "Value"\n'


def proc(steps: str) -> str:
    return f'\n[[process]]\nname = "p"\nrole = "steps"\nsteps = {steps}\n'


CASES = [
    (
        "wait-unheld",
        HEAD + proc('[{ wait = "cond" }]'),
        "process[0].steps[0].wait: wait on 'cond' needs the Condition held; "
        'add { acquire = "cond" } before it',
    ),
    (
        "notify-unheld",
        HEAD + proc('[{ acquire = "cond" }, { release = "cond" }, { notify = "cond" }]'),
        "process[0].steps[2].notify: notify on 'cond' needs the Condition held; "
        'add { acquire = "cond" } before it',
    ),
    (
        "notify-on-lock",
        '[scenario]\ntitle = "t"\n\n[shared.lock]\nkind = "Lock"\n'
        + proc('[{ acquire = "lock" }, { notify = "lock" }, { release = "lock" }]'),
        "process[0].steps[1].notify: 'lock' is a Lock; 'notify' needs a Condition",
    ),
    (
        "n-on-notify-all",
        HEAD + proc('[{ acquire = "cond" }, { notify_all = "cond", n = 2 }, { release = "cond" }]'),
        "process[0].steps[1].n: applies to a notify step only, not notify_all",
    ),
    (
        "n-zero",
        HEAD + proc('[{ acquire = "cond" }, { notify = "cond", n = 0 }, { release = "cond" }]'),
        "process[0].steps[1].n: expected a whole number from 1 to 128, got 0",
    ),
    (
        "wait-for-without-until",
        HEAD + proc('[{ acquire = "cond" }, { wait_for = "cond" }, { release = "cond" }]'),
        "process[0].steps[1].until: missing; wait_for waits until a Value is at least a number, "
        'e.g. { wait_for = "cond", until = "ready", at_least = 1 }',
    ),
    (
        "wait-for-typo",
        HEAD
        + READY
        + proc(
            '[{ acquire = "cond" }, { wait_for = "cond", until = "raedy", at_least = 1 },'
            ' { release = "cond" }]'
        ),
        "process[0].steps[1].until: no shared object named 'raedy'; did you mean 'ready'?",
    ),
    (
        "at-least-float-for-int",
        HEAD
        + READY
        + proc(
            '[{ acquire = "cond" }, { wait_for = "cond", until = "ready", at_least = 1.5 },'
            ' { release = "cond" }]'
        ),
        "process[0].steps[1].at_least: expected a whole number for typecode 'i', got 1.5",
    ),
]


BLOCK = '[scenario]\ntitle = "t"\n\n[shared.block]\nkind = "SharedMemory"\nsize = 16\n'
CASES += [
    (
        "block-without-size",
        '[scenario]\ntitle = "t"\n\n[shared.block]\nkind = "SharedMemory"\n'
        + proc('[{ read = "block" }]'),
        "shared.block.size: missing; how many bytes the block holds, e.g. 64",
    ),
    (
        "size-on-a-lock",
        '[scenario]\ntitle = "t"\n\n[shared.lock]\nkind = "Lock"\nsize = 8\n',
        "shared.lock.size: applies to SharedMemory only, not Lock",
    ),
    (
        "write-past-the-end",
        BLOCK + proc('[{ write = "block", offset = 9, number = 1 }]'),
        "process[0].steps[0].offset: expected a whole number from 0 to 8, got 9",
    ),
    (
        "fill-byte-too-big",
        BLOCK + proc('[{ fill = "block", byte = 256 }]'),
        "process[0].steps[0].byte: expected a whole number from 0 to 255, got 256",
    ),
    (
        "read-a-lock",
        '[scenario]\ntitle = "t"\n\n[shared.lock]\nkind = "Lock"\n' + proc('[{ read = "lock" }]'),
        "process[0].steps[0].read: 'lock' is a Lock; 'read' needs a SharedMemory block "
        "or a ShareableList",
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_line_error(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as info:
        loads(text)
    assert str(info.value) == f"<string>: {expected}"


def test_condition_steps_round_trip_and_name_the_value_they_read() -> None:
    s = loads(
        HEAD
        + READY
        + proc(
            '[{ acquire = "cond" }, { on = "ready", value = 1 }, { notify = "cond", n = 2 },'
            ' { notify_all = "cond" }, { notify = "cond" },'
            ' { wait_for = "cond", until = "ready", at_least = 1 }, { wait = "cond" },'
            ' { release = "cond" }]'
        )
    )
    steps = s.processes[0].steps
    assert [(st.op, st.amount) for st in steps[2:5]] == [
        ("notify", 2),
        ("notify_all", 0),
        ("notify", 1),
    ]
    assert (steps[5].target, steps[5].other, steps[5].amount) == ("cond", "ready", 1)
    assert s.processes[0].shared_used == ("cond", "ready")
    again = loads(dumps(s))
    assert again.processes == s.processes and again.shared == s.shared


def test_block_steps_round_trip() -> None:
    s = loads(
        BLOCK
        + proc(
            '[{ fill = "block", byte = 255 }, { write = "block", offset = 8, number = -2 },'
            ' { write = "block", number = 7 }, { read = "block" }]'
        )
    )
    steps = s.processes[0].steps
    assert [(st.op, st.amount, st.offset) for st in steps] == [
        ("fill", 255, 0),
        ("write", -2, 8),
        ("write", 7, 0),
        ("read", 0, 0),
    ]
    assert s.shared[0].size == 16
    again = loads(dumps(s))
    assert again.processes == s.processes and again.shared == s.shared
