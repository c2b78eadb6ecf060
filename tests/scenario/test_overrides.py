"""--set PROCESS.KEY=VALUE: a changed preset, checked as the loader checks a file."""

from __future__ import annotations

import pytest

from ipcplay.scenario import load, resolve
from ipcplay.scenario.overrides import OverrideError, apply


@pytest.fixture(scope="module")
def lost():
    return load(resolve("value-lost-updates"))


def test_replicas_and_count_change_only_what_was_asked(lost):
    changed = apply(lost, ["adder.replicas=2", "adder.count=2"])
    assert (changed.processes[0].replicas, changed.processes[0].count) == (2, 2)
    assert (lost.processes[0].replicas, lost.processes[0].count) == (4, 20000)
    assert changed.name == lost.name
    assert changed.tour == lost.tour and changed.shared == lost.shared


def test_no_options_is_the_same_scenario(lost):
    assert apply(lost, []) is lost


def test_channel_maxsize_and_a_values_start():
    bounded = load(resolve("bounded-queue"))
    assert apply(bounded, ["queue.maxsize=1"]).channel("queue").maxsize == 1
    assert apply(load(resolve("value-lost-updates")), ["counter.value=7"]).shared[0].value == 7


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ("adder.replicas=0", "adder.replicas=0: process[0].replicas: expected a whole number"),
        ("adder.replicas=65", "MAX_REPLICAS"),
        ("addr.count=2", "named 'addr'; did you mean 'adder'?"),
        ("adder.size=2", "cannot set 'size' of a process; expected one of replicas"),
        ("adder", "expected PROCESS.KEY=VALUE"),
        ("adder.count=", "expected a value after '='"),
        ("counter.value=1.5", "expected a whole number for typecode 'i'"),
        ("adder.rate=1", "does not apply to a steps process"),
    ],
)
def test_a_bad_option_is_one_line_naming_it(lost, option, words):
    with pytest.raises(OverrideError) as caught:
        apply(lost, [option], "run.toml: set[0]")
    text = str(caught.value)
    assert text.startswith("run.toml: set[0]: ")
    assert words in text
    assert "\n" not in text
