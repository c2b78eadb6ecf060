"""The kinds table: one entry per kind, and what every reader of it relies on."""

from __future__ import annotations

import pytest

from ipcplay.scenario import kinds, model


def test_every_key_a_kind_names_is_described() -> None:
    for kind in (*kinds.CHANNELS, *kinds.SHARED):
        for key in kind.keys:
            assert key in kinds.KEYS, f"{kind.name} takes {key}, which KEYS does not describe"


def test_required_keys_are_keys_the_kind_takes() -> None:
    for kind in kinds.SHARED:
        assert set(kind.required) <= set(kind.keys), kind.name


def test_every_kind_has_a_composer_template_that_makes_it() -> None:
    for kind in (*kinds.CHANNELS, *kinds.SHARED):
        assert kind.templates, f"{kind.name} has no composer template"
        for template in kind.templates:
            assert template.values["kind"] == kind.name
    keys = [t.key for k in (*kinds.CHANNELS, *kinds.SHARED) for t in k.templates]
    assert len(keys) == len(set(keys)), "two templates share a key"


def test_the_model_names_come_from_the_table() -> None:
    assert tuple(k.name for k in kinds.CHANNELS) == model.CHANNEL_KINDS
    assert tuple(k.name for k in kinds.SHARED) == model.SHARED_KINDS
    assert model.MANAGER_KINDS == ("ManagerList", "ManagerDict", "ManagerNamespace")
    assert model.LOCK_KINDS == ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition")
    assert model.DATA_KINDS == ("Value", "Array")


def test_flags_select_kinds_in_table_order() -> None:
    assert kinds.channel_names(bounded=True) == ("Queue", "JoinableQueue", "ManagerQueue")
    assert kinds.channel_names(pipe_like=True) == ("Pipe", "Listener")
    assert kinds.channel_names(joinable=True) == ("JoinableQueue",)
    assert kinds.taking("maxsize", "channel") == ("Queue", "JoinableQueue", "ManagerQueue")
    assert kinds.taking("value", "shared") == ("Value", "Semaphore", "BoundedSemaphore")
    assert kinds.steps_on("wait") == ("Event", "Barrier", "Condition")


@pytest.mark.parametrize(
    ("kind", "maxsize", "duplex", "label"),
    [
        ("Queue", 3, True, "Queue(3)"),
        ("Queue", 0, True, "Queue"),
        ("JoinableQueue", 5, True, "JoinableQueue(5)"),
        ("ManagerQueue", 2, True, "ManagerQueue(2)"),
        ("SimpleQueue", 0, True, "SimpleQueue"),
        ("Pipe", 0, True, "Pipe"),
        ("Pipe", 0, False, "Pipe(one-way)"),
        ("Unknown", 4, True, "Unknown"),
    ],
)
def test_channel_label(kind: str, maxsize: int, duplex: bool, label: str) -> None:
    assert kinds.channel_label(kind, maxsize, duplex) == label


def test_shared_label() -> None:
    assert kinds.shared_label("Semaphore", 2) == "Semaphore(2)"
    assert kinds.shared_label("Barrier", parties=3) == "Barrier(3)"
    assert kinds.shared_label("Lock") == "Lock"
    assert kinds.shared_label("Value", 7) == "Value"
