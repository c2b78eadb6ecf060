"""[shared.NAME] tables and `steps` processes: every mistake is one line with its key."""

from __future__ import annotations

import pytest

from ipcplay.scenario import ScenarioError, dumps, loads

HEAD = '[scenario]\ntitle = "t"\n'


def proc(steps: str, extra: str = "") -> str:
    return f'\n[[process]]\nname = "p"\nrole = "steps"\nsteps = {steps}\n{extra}'


LOCK = '\n[shared.lock]\nkind = "Lock"\n'
VALUE = '\n[shared.num]\nkind = "Value"\ntypecode = "i"\n'
EVENT = '\n[shared.go]\nkind = "Event"\n'

CASES = [
    (
        "kind-typo",
        HEAD + '\n[shared.lock]\nkind = "Lokc"\n' + proc('[{ acquire = "lock" }]'),
        "shared.lock.kind: expected one of Value, Array, Lock, RLock, Semaphore, "
        "BoundedSemaphore, Event, Barrier, Condition, SharedMemory, ShareableList, ManagerList, "
        "ManagerDict, ManagerNamespace, got 'Lokc'; did you mean 'Lock'?",
    ),
    (
        "shared-key-typo",
        HEAD + '\n[shared.num]\nkind = "Value"\ntypcode = "i"\n' + proc("[]"),
        "shared.num.typcode: unknown key; did you mean 'typecode'?",
    ),
    (
        "key-for-another-kind",
        HEAD + '\n[shared.lock]\nkind = "Lock"\nparties = 2\n',
        "shared.lock.parties: applies to Barrier only, not Lock",
    ),
    (
        "typecode-typo",
        HEAD + '\n[shared.num]\nkind = "Value"\ntypecode = "x"\n',
        "shared.num.typecode: expected one of b, B, h, H, i, I, l, L, q, Q, f, d, got 'x'",
    ),
    (
        "float-for-int",
        HEAD + '\n[shared.num]\nkind = "Value"\nvalue = 1.5\n',
        "shared.num.value: expected a whole number for typecode 'i', got 1.5",
    ),
    (
        "array-without-values",
        HEAD + '\n[shared.arr]\nkind = "Array"\n',
        "shared.arr.values: missing; an Array needs its initial values, e.g. [0, 0, 0]",
    ),
    (
        "barrier-without-parties",
        HEAD + '\n[shared.b]\nkind = "Barrier"\n',
        "shared.b.parties: missing; how many processes the Barrier waits for",
    ),
    (
        "unused",
        HEAD + LOCK + EVENT + proc('[{ acquire = "lock" }, { release = "lock" }]'),
        "shared.go: declared but no process's steps use it",
    ),
    (
        "step-key-typo",
        HEAD + LOCK + proc('[{ aquire = "lock" }]'),
        "process[0].steps[0].aquire: unknown key; did you mean 'acquire'?",
    ),
    (
        "step-names-unknown-object",
        HEAD + LOCK + proc('[{ acquire = "lok" }, { release = "lock" }]'),
        "process[0].steps[0].acquire: no shared object named 'lok'; did you mean 'lock'?",
    ),
    (
        "wait-on-a-lock",
        HEAD + LOCK + proc('[{ wait = "lock" }]'),
        "process[0].steps[0].wait: 'lock' is a Lock; "
        "'wait' needs an Event, a Barrier or a Condition",
    ),
    (
        "two-actions",
        HEAD + LOCK + EVENT + proc('[{ acquire = "lock", set = "go" }]'),
        "process[0].steps[0]: expected exactly one of acquire, release, wait, set, clear, "
        "sleep, on, notify, notify_all, wait_for, write, fill, read, put, get in a step, "
        "got acquire, set",
    ),
    (
        "release-not-held",
        HEAD + LOCK + proc('[{ release = "lock" }]'),
        "process[0].steps[0].release: releases 'lock', which this process does not hold here",
    ),
    (
        "ends-holding",
        HEAD + LOCK + proc('[{ acquire = "lock" }]'),
        "process[0].steps: ends holding 'lock'; add { release = \"lock\" } after its use",
    ),
    (
        "update-without-op",
        HEAD + VALUE + proc('[{ on = "num" }]'),
        "process[0].steps[0]: an update step needs exactly one of add, multiply, value; got none",
    ),
    (
        "locked-on-a-lock-step",
        HEAD + LOCK + proc('[{ acquire = "lock", locked = true }, { release = "lock" }]'),
        "process[0].steps[0].locked: applies to an update step ({ on = ... }) only, not acquire",
    ),
    (
        "code-in-a-step",
        HEAD + LOCK + proc('[{ exec = "import os" }]'),
        "process[0].steps[0].exec: presets cannot run code of their own",
    ),
    (
        "steps-on-a-producer",
        HEAD
        + '\n[channels.q]\nkind = "Queue"\n'
        + '\n[[process]]\nname = "p"\nrole = "producer"\nout = "q"\nsteps = []\n'
        + '\n[[process]]\nname = "c"\nrole = "consumer"\nin = "q"\n',
        'process[0].steps: applies to role "steps" only, not producer',
    ),
    (
        "rate-on-steps",
        HEAD + LOCK + proc('[{ acquire = "lock" }, { release = "lock" }]', "rate = 5"),
        "process[0].rate: does not apply to a steps process",
    ),
    (
        "count-zero",
        HEAD + LOCK + proc('[{ acquire = "lock" }, { release = "lock" }]', "count = 0"),
        "process[0].count: expected a whole number from 1 to 10000000, got 0",
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_line_error(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as info:
        loads(text)
    assert str(info.value) == f"<string>: {expected}"
    assert "\n" not in str(info.value)


def test_a_full_scenario_round_trips_through_dumps() -> None:
    text = (
        HEAD
        + VALUE
        + LOCK
        + EVENT
        + '\n[shared.arr]\nkind = "Array"\ntypecode = "d"\nvalues = [1.0, 2.5]\n'
        + '\n[shared.gate]\nkind = "Barrier"\nparties = 2\n'
        + '\n[shared.pool]\nkind = "BoundedSemaphore"\nvalue = 3\n'
        + proc(
            '[{ acquire = "lock" }, { on = "num", add = 2, locked = true }, { release = "lock" },'
            ' { set = "go" }, { clear = "go" }, { wait = "gate" }, { sleep = 5 },'
            ' { on = "arr", multiply = 2.0 }, { acquire = "pool" }, { release = "pool" }]',
            "replicas = 2\ncount = 3",
        )
    )
    s = loads(text)
    again = loads(dumps(s))
    assert again.shared == s.shared
    assert again.processes == s.processes


MANAGER_HEAD = '[scenario]\ntitle = "t"\n[shared.ml]\nkind = "ManagerList"\n'


@pytest.mark.parametrize(
    ("shared", "steps", "message"),
    [
        (
            "",
            '[{ on = "ml", setattr = 1, key = "x" }]',
            "process[0].steps[0]: a step on a ManagerList needs exactly one of append, "
            "setitem; got setattr",
        ),
        (
            "",
            '[{ on = "ml", setitem = 1 }]',
            "process[0].steps[0].key: missing; setitem needs the index or key",
        ),
        (
            "",
            '[{ on = "ml", append = 1, assign = true }]',
            "process[0].steps[0].assign: applies to an append with a key (to a list inside)",
        ),
        (
            "",
            '[{ on = "ml", add = 1 }]',
            "process[0].steps[0].add: applies to a Value or an Array, not a ManagerList",
        ),
        (
            'values = ["{i}"]\n',
            '[{ on = "ml", append = 1 }]',
            "shared.ml.values[0]: '{i}' means the process's index, which only a step has",
        ),
        (
            "items = { a = 1 }\n",
            '[{ on = "ml", append = 1 }]',
            "shared.ml.items: applies to ManagerDict only, not ManagerList",
        ),
    ],
)
def test_manager_steps_and_keys_fail_on_one_line(shared, steps, message):
    text = MANAGER_HEAD + shared + f'[[process]]\nname = "p"\nrole = "steps"\nsteps = {steps}\n'
    with pytest.raises(ScenarioError) as info:
        loads(text)
    assert str(info.value) == f"<string>: {message}"


def test_remote_applies_to_a_manager_queue_only():
    text = (
        '[scenario]\ntitle = "t"\n[channels.q]\nkind = "Queue"\nremote = true\n'
        '[[process]]\nname = "a"\nrole = "producer"\nout = "q"\n'
        '[[process]]\nname = "b"\nrole = "consumer"\nin = "q"\n'
    )
    with pytest.raises(ScenarioError) as info:
        loads(text)
    assert str(info.value) == "<string>: channels.q.remote: applies to ManagerQueue only, not Queue"
