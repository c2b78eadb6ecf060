"""A preset's topics: data in the preset, checked like every other key.

The home list groups presets by their first topic and its filter searches
them all, so a built-in without topics, or a pitfall filed under the wrong
kind of trouble, would hide a lesson from the teacher looking for it.
"""

from __future__ import annotations

import pytest
from conftest import PRESETS

from ipcplay.scenario import ScenarioError, load
from ipcplay.scenario.draft import check, from_scenario
from ipcplay.scenario.loader import dumps, loads
from ipcplay.scenario.model import PITFALL_TOPICS, SUBJECT_TOPICS, TOPIC_LABELS, TOPICS

ALL = {p.stem: load(p) for p in sorted(PRESETS.glob("*.toml"))}

BODY = """
[channels.q]
kind = "Queue"

[[process]]
name = "p"
role = "producer"
out = "q"
count = 1

[[process]]
name = "c"
role = "consumer"
in = "q"
"""


def scenario(topics_line: str) -> str:
    return f'[scenario]\ntitle = "t"\n{topics_line}\n{BODY}'


def error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        loads(text, source="lesson.toml", name="lesson")
    return str(info.value)


def test_topics_load_in_order_and_survive_a_dump() -> None:
    s = loads(scenario('topics = ["deadlock", "queues"]'), source="x.toml", name="x")
    assert s.topics == ("deadlock", "queues")
    assert loads(dumps(s), source="y.toml", name="x").topics == ("deadlock", "queues")


def test_no_topics_is_an_empty_tuple() -> None:
    assert loads(scenario(""), source="x.toml", name="x").topics == ()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            'topics = "queues"',
            'lesson.toml: scenario.topics: expected a list of topics such as ["queues", '
            "\"deadlock\"], got a string ('queues')",
        ),
        (
            'topics = ["queues", "queue"]',
            "lesson.toml: scenario.topics[1]: expected one of "
            + ", ".join(TOPICS)
            + ", got 'queue'; did you mean 'queues'?",
        ),
        (
            'topics = ["hang", "hang"]',
            "lesson.toml: scenario.topics: 'hang' is listed twice",
        ),
        (
            "topics = [3]",
            "lesson.toml: scenario.topics[0]: expected one of "
            + ", ".join(TOPICS)
            + ", got an integer (3)",
        ),
        (
            'topics = ["\\u001b]2;PWNED\\u0007"]',
            "lesson.toml: scenario.topics[0]: expected one of "
            + ", ".join(TOPICS)
            + ", got '\\x1b]2;PWNED\\x07'",
        ),
    ],
    ids=["not-a-list", "unknown", "twice", "not-a-string", "escape"],
)
def test_bad_topics_are_one_line_naming_the_key(line: str, expected: str) -> None:
    assert error(scenario(line)) == expected


def test_every_topic_has_a_label() -> None:
    assert set(TOPIC_LABELS) == set(TOPICS) == {*SUBJECT_TOPICS, *PITFALL_TOPICS}


def test_every_built_in_preset_has_topics() -> None:
    assert len(ALL) >= 58
    missing = [name for name, s in ALL.items() if not s.topics]
    assert not missing


def test_a_broken_pitfall_is_filed_under_what_its_verdict_says() -> None:
    """A deadlock under deadlocks, a hang under hangs, a crash under crashes."""
    by_verdict = {"deadlock": "deadlock", "hang": "hang", "crashed": "crash"}
    for name, s in ALL.items():
        if s.pitfall != "broken":
            continue
        assert s.topics[0] in PITFALL_TOPICS, name
        if s.expect in by_verdict:
            assert s.topics[0] == by_verdict[s.expect], (name, s.expect, s.topics)


def test_a_fix_names_the_trouble_it_fixes() -> None:
    """Typing "deadlock" finds the deadlock and the preset that fixes it."""
    for name, s in ALL.items():
        if s.pitfall == "broken":
            assert s.topics[0] in ALL[s.pair].topics, (name, s.pair)


def test_join_before_drain_says_it_is_a_deadlock() -> None:
    s = ALL["join-before-drain"]
    assert "deadlock" in s.title.lower()
    assert s.topics[0] == "deadlock" and s.expect == "deadlock"


def test_the_composer_keeps_a_presets_topics() -> None:
    s = ALL["lock-order-deadlock"]
    again = check(from_scenario(s))
    assert not hasattr(again, "message"), again
    assert again.topics == s.topics
