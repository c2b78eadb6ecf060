"""The composer's draft model with shared objects and `steps` processes: every
built-in preset opens and checks back to itself, and the one-step-per-line
syntax maps one to one to the loader's step tables."""

from __future__ import annotations

import dataclasses

import pytest

from ipcplay.scenario import ScenarioError, load, loads
from ipcplay.scenario import draft as D
from ipcplay.scenario.model import Scenario
from ipcplay.scenario.presets import list_presets

BUILT_INS = sorted((i.name, i.path) for i in list_presets() if i.origin == "built-in")


def test_there_are_built_ins_with_shared_objects_among_them() -> None:
    assert any(load(path).shared for _, path in BUILT_INS)


@pytest.mark.parametrize("path", [p for _, p in BUILT_INS], ids=[n for n, _ in BUILT_INS])
def test_every_built_in_preset_opens_in_the_composer_and_checks_back_to_itself(path) -> None:
    s = load(path)
    d = D.from_scenario(s)
    got = D.check(d)
    assert isinstance(got, Scenario), got
    assert dataclasses.replace(got, source=s.source) == s
    assert [o.name for o in d.shared] == [o.name for o in s.shared]
    # uids are unique and the next one is free
    uids = [e.uid for e in d.entries]
    assert len(set(uids)) == len(uids) and d.next_uid > max(uids)


def _scenario(steps: str, shared: str = '[shared.c]\nkind = "Value"\n') -> Scenario:
    return loads(
        f'[scenario]\ntitle = "t"\n{shared}[[process]]\nname = "p"\nrole = "steps"\n'
        f"steps = {steps}\n",
        name="t",
    )


@pytest.mark.parametrize(
    ("line", "table"),
    [
        ("acquire c", {"acquire": "c"}),
        ("release c", {"release": "c"}),
        ("wait go", {"wait": "go"}),
        ("set go", {"set": "go"}),
        ("clear go", {"clear": "go"}),
        ("sleep 100", {"sleep": 100}),
        ("sleep 2.5", {"sleep": 2.5}),
        ("add c 1", {"on": "c", "add": 1}),
        ("add c -3 locked", {"on": "c", "add": -3, "locked": True}),
        ("multiply c 10", {"on": "c", "multiply": 10}),
        ("value c 0.5 locked", {"on": "c", "value": 0.5, "locked": True}),
    ],
)
def test_each_step_kind_is_one_line(line: str, table: dict) -> None:
    assert D.parse_steps(line) == ([table], None)
    assert D.step_lines([table]) == line


def test_blank_lines_and_comments_are_not_steps_and_errors_say_which_line() -> None:
    tables, error = D.parse_steps("\n  acquire c   # take it\n\nsleep 1\nrelese c\nadd c\n")
    assert tables == [{"acquire": "c"}, {"sleep": 1}]
    assert error == D.StepError(2, 5, "unknown step 'relese'; did you mean 'release'?")
    _, error = D.parse_steps("add c")
    assert error is not None and error.message == (
        "expected 'add NAME N, or add NAME N locked', got 'add c'"
    )
    _, error = D.parse_steps("add c 1 unlocked")
    assert error is not None
    assert error.message == "expected 'locked' after the amount, got 'unlocked'"
    _, error = D.parse_steps("jump c")
    assert error is not None and error.message.startswith("unknown step 'jump'; steps: acquire")


@pytest.mark.parametrize(
    ("line", "table"),
    [
        # found by hypothesis: a quoted item of two spaces came back as one
        ('setattr ns x "  "', {"on": "ns", "setattr": "  ", "key": "x"}),
        ('setitem d "a  b" "x # y"', {"on": "d", "setitem": "x # y", "key": "a  b"}),
        ('append l "a  b" at 2', {"on": "l", "append": "a  b", "key": 2}),
        ("append l [1, 2]", {"on": "l", "append": [1, 2]}),
    ],
)
def test_a_quoted_item_keeps_its_spaces_and_hashes(line: str, table: dict) -> None:
    assert D.parse_steps(line + "  # a comment") == ([table], None)
    assert D.parse_steps(D.step_lines([table])) == ([table], None)


def _steps_draft(steps: str, kind: str = "Value") -> tuple[D.Draft, int]:
    d = D.Draft()
    template = next(t for t in D.SHARED_TEMPLATES if t.values["kind"] == kind)
    d, _ = D.add(d, template)
    racy = next(t for t in D.PROCESS_TEMPLATES if t.key == "racy")
    d, uid = D.add(d, racy)
    return D.edit(d, uid, "steps", steps), uid


def test_a_bad_amount_is_the_loaders_message_on_the_steps_field_and_line() -> None:
    d, uid = _steps_draft("sleep 10\n\nadd counter 1.5")
    got = D.check(d)
    assert isinstance(got, D.Problem)
    with pytest.raises(ScenarioError) as info:
        _scenario('[{ sleep = 10 }, { on = "c", add = 1.5 }]')
    assert got.message == info.value.message.replace("'c'", "'counter'")
    assert (got.key, got.uid, got.field, got.line) == ("process[0].steps[1].add", uid, "steps", 3)


def test_shared_fields_go_to_the_loader_as_a_file_says_them() -> None:
    d = D.Draft()
    for t in D.SHARED_TEMPLATES:
        d, _ = D.add(d, t)
    doc = D.to_doc(d)["shared"]
    assert doc == {
        "counter": {"kind": "Value", "typecode": "i", "value": 0},
        "array": {"kind": "Array", "typecode": "i", "values": [0, 0, 0, 0]},
        "lock": {"kind": "Lock"},
        "rlock": {"kind": "RLock"},
        "slots": {"kind": "Semaphore", "value": 2},
        "slots2": {"kind": "BoundedSemaphore", "value": 2},
        "go": {"kind": "Event"},
        "barrier": {"kind": "Barrier", "parties": 2},
        "cond": {"kind": "Condition"},
        "block": {"kind": "SharedMemory", "size": 64},
        "board": {"kind": "ShareableList", "values": [0, "idle"]},
        "ml": {"kind": "ManagerList", "values": [11, 22, 33]},
        "md": {"kind": "ManagerDict", "items": {"name": "bob"}},
        "ns": {"kind": "ManagerNamespace"},
    }
    # An unused object is the loader's problem, on that object's entry.
    d, _ = D.add(d, next(t for t in D.PROCESS_TEMPLATES if t.key == "waiter"))
    got = D.check(d)
    assert isinstance(got, D.Problem)
    assert (got.key, got.uid, got.field) == ("shared.counter", d.shared[0].uid, "name")
    assert got.message == "declared but no process's steps use it"


def test_changing_kind_resets_a_default_value_and_a_typo_in_values_is_reported() -> None:
    d = D.Draft()
    d, uid = D.add(d, D.SHARED_TEMPLATES[0])  # Value, value "0"
    d = D.edit(d, uid, "kind", "Semaphore")
    assert d.entry(uid).get("value") == "1"
    d = D.edit(d, uid, "kind", "Array")
    d = D.edit(d, uid, "values", "1, 2, x")
    assert D.to_doc(d)["shared"]["counter"]["values"] == "1, 2, x"
    d, _ = D.add(d, next(t for t in D.PROCESS_TEMPLATES if t.key == "racy"))
    got = D.check(d)
    assert isinstance(got, D.Problem)
    assert (got.key, got.uid, got.field) == ("shared.counter.values", uid, "values")


def test_renaming_a_shared_object_renames_it_in_the_steps() -> None:
    d, uid = _steps_draft("add counter 1 locked  # count\nsleep 5\nadd counter2 1")
    counter = d.shared[0].uid
    for name in ("counte", "count", "tally"):  # as typed, one key at a time
        d = D.edit(d, counter, "name", name)
    assert d.entry(uid).get("steps") == "add tally 1 locked # count\nsleep 5\nadd counter2 1"
    # A name that is already another object's is not followed: the wires would merge.
    d, other = D.add(d, D.SHARED_TEMPLATES[0])
    d = D.edit(d, other, "name", "tally")
    assert d.entry(uid).get("steps").startswith("add tally 1 locked")
    assert isinstance(D.check(d), D.Problem)  # two objects named tally


def test_a_steps_template_makes_what_it_needs_only_when_it_is_missing() -> None:
    templates = {t.key: t for t in D.PROCESS_TEMPLATES}
    d, _ = D.add(D.Draft(), templates["waiter"])
    d, _ = D.add(d, templates["setter"])
    d, _ = D.add(d, templates["party"])
    d, _ = D.add(d, templates["party"])
    assert [(o.name, o.get("kind")) for o in d.shared] == [("go", "Event"), ("barrier", "Barrier")]
    got = D.check(d)
    assert isinstance(got, Scenario), got
    assert [p.shared_used for p in got.processes] == [("go",), ("go",)] + [("barrier",)] * 2
    # The selected object wins over the last one of its kind.
    d, first = D.add(d, D.SHARED_TEMPLATES[2])  # lock
    d, _ = D.add(d, D.SHARED_TEMPLATES[2])  # lock2
    d, uid = D.add(d, templates["holder"], first)
    assert d.entry(uid).get("steps") == "acquire lock\nsleep 200\nrelease lock"


def test_switching_a_process_to_steps_runs_it_once_and_hides_what_does_not_apply() -> None:
    d = D.Draft()
    d, uid = D.add(d, next(t for t in D.PROCESS_TEMPLATES if t.key == "consumer"))
    d = D.edit(d, uid, "role", "steps")
    assert d.entry(uid).get("count") == "1"
    doc = D.to_doc(d)["process"][0]
    assert doc == {"name": "consumer", "role": "steps", "replicas": 1, "count": 1, "steps": []}
    got = D.check(d)
    assert isinstance(got, D.Problem) and got.field == "steps"
