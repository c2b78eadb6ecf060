"""The loader, the dumper and the draft know kinds only through the kinds table.

A kind added to the table with keys that already exist is read, checked,
written back and edited with no change to the scenario modules: these tests add
two such kinds for their duration and use them as a preset would.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ipcplay.scenario import ScenarioError, dumps, kinds, loads, model
from ipcplay.scenario import draft as D

SCENARIO = """
[scenario]
title = "new kinds"

[channels.q]
kind = "FakeQueue"
maxsize = 3

[shared.tally]
kind = "Tally"
{tally}

[[process]]
name = "producer"
role = "producer"
out = "q"
count = 5

[[process]]
name = "consumer"
role = "consumer"
in = "q"

[[process]]
name = "counter"
role = "steps"
steps = [{{ on = "tally", add = 2, locked = true }}]
"""


@pytest.fixture
def new_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bounded queue kind and a data kind whose value starts at 5."""
    queue = replace(kinds.CHANNEL_BY_NAME["Queue"], name="FakeQueue", templates=())
    tally = kinds.SharedKind(
        "Tally",
        keys=("typecode", "value"),
        data=True,
        steps=("acquire", "release", "on"),
        defaults={"value": 5},
    )
    monkeypatch.setattr(kinds, "CHANNELS", (*kinds.CHANNELS, queue))
    monkeypatch.setattr(kinds, "CHANNEL_BY_NAME", {**kinds.CHANNEL_BY_NAME, queue.name: queue})
    monkeypatch.setattr(model, "CHANNEL_KINDS", (*model.CHANNEL_KINDS, queue.name))
    monkeypatch.setattr(kinds, "SHARED", (*kinds.SHARED, tally))
    monkeypatch.setattr(kinds, "SHARED_BY_NAME", {**kinds.SHARED_BY_NAME, tally.name: tally})
    monkeypatch.setattr(model, "SHARED_KINDS", (*model.SHARED_KINDS, tally.name))


@pytest.mark.usefixtures("new_kinds")
def test_a_new_kind_is_read_with_its_keys_and_defaults() -> None:
    scenario = loads(SCENARIO.format(tally='typecode = "d"'))
    (queue,) = scenario.channels
    (tally,) = scenario.shared
    assert (queue.kind, queue.maxsize) == ("FakeQueue", 3)
    assert (tally.kind, tally.typecode, tally.value) == ("Tally", "d", 5)
    assert scenario.processes[2].steps[0].amount == 2.0


@pytest.mark.usefixtures("new_kinds")
def test_a_new_kind_is_written_back_without_its_defaults() -> None:
    scenario = loads(SCENARIO.format(tally="value = 7"))
    text = dumps(scenario)
    assert '[channels.q]\nkind = "FakeQueue"\nmaxsize = 3\n' in text
    assert '[shared.tally]\nkind = "Tally"\nvalue = 7\n' in text
    assert loads(text) == scenario
    again = loads(SCENARIO.format(tally=""))
    assert '[shared.tally]\nkind = "Tally"\n\n' in dumps(again)


@pytest.mark.usefixtures("new_kinds")
def test_keys_a_new_kind_does_not_take_are_refused_in_the_tables_words() -> None:
    with pytest.raises(ScenarioError) as info:
        loads(SCENARIO.format(tally="parties = 2"))
    assert str(info.value) == ("<string>: shared.tally.parties: applies to Barrier only, not Tally")
    pipe = SCENARIO.replace('kind = "FakeQueue"', 'kind = "Pipe"')
    with pytest.raises(ScenarioError) as info:
        loads(pipe.format(tally=""))
    assert str(info.value) == (
        "<string>: channels.q.maxsize: applies to Queue, JoinableQueue, ManagerQueue "
        "and FakeQueue only, not Pipe"
    )


@pytest.mark.usefixtures("new_kinds")
def test_the_draft_edits_a_new_kind_as_the_loader_reads_it() -> None:
    scenario = loads(SCENARIO.format(tally="value = 7"))
    draft = D.from_scenario(scenario)
    queue, tally = draft.channels[0], draft.shared[0]
    assert (queue.get("kind"), queue.get("maxsize")) == ("FakeQueue", "3")
    assert (tally.get("kind"), tally.get("value")) == ("Tally", "7")
    assert D.check(draft) == replace(scenario, source="scenario.toml")
    # A Value whose value was left as it started takes the new kind's own start.
    value, uid = D.add(draft, next(t for t in D.SHARED_TEMPLATES if t.key == "value"))
    value = D.edit(value, uid, "kind", "Tally")
    assert value.entry(uid).get("value") == "5"
