"""The steps loader reads a shared kind's own steps, its index keys and its
items' rules from the kinds table: a kind that exists only as a table entry
loads with no edit in the loader. Each test adds one to the table."""

from __future__ import annotations

import pytest

from ipcplay.scenario import ScenarioError, kinds, loads, model

LIST = kinds.SharedKind(
    "FixedList",
    keys=("values",),
    required=("values",),
    steps=("on",),
    manager_steps=("setitem",),
)


@pytest.fixture
def fixed_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(kinds.SHARED_BY_NAME, LIST.name, LIST)
    monkeypatch.setattr(model, "SHARED_KINDS", (*model.SHARED_KINDS, LIST.name))


def _text(values: str, step: str) -> str:
    return (
        '[scenario]\ntitle = "t"\n[shared.fl]\nkind = "FixedList"\n'
        f"values = {values}\n"
        f'[[process]]\nname = "p"\nrole = "steps"\nsteps = [{step}]\n'
    )


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        loads(text)
    return str(info.value).removeprefix("<string>: ")


@pytest.mark.usefixtures("fixed_list")
def test_a_kind_with_steps_of_its_own_takes_them_by_index() -> None:
    scenario = loads(_text('[1, "a"]', '{ on = "fl", setitem = "b", key = -2 }'))
    step = scenario.processes[0].steps[0]
    assert (step.op, step.key, step.item) == ("setitem", -2, "b")


@pytest.mark.usefixtures("fixed_list")
def test_a_list_that_cannot_grow_takes_only_the_indices_of_its_items() -> None:
    assert _error(_text('[1, "a"]', '{ on = "fl", setitem = 3, key = 2 }')) == (
        "process[0].steps[0].key: expected a whole number from -2 to 1, got 2"
    )


@pytest.mark.usefixtures("fixed_list")
def test_only_a_managers_list_holds_lists() -> None:
    assert _error(_text("[[1]]", '{ on = "fl", setitem = 3, key = 0 }')) == (
        "shared.fl.values[0]: expected a number, a string or a boolean, got an array"
    )


def test_every_action_a_kind_takes_has_words_for_its_targets() -> None:
    actions = {action for kind in kinds.SHARED for action in kind.steps}
    assert actions <= set(kinds.STEP_WORDS)
