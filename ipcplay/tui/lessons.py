"""The presets as lessons to find: grouped by topic, filtered by what is typed.
The example programs ipcplay ships are lessons too, in a group of their own.

The home list and the command palette both search here, so "deadlock" finds
the same presets in either. Pure data and functions (no Textual): every
string a `Lesson` holds has already been through the neutraliser, because
names and paths come from file names, which can hold escape sequences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ipcplay.example_programs import ExampleInfo
from ipcplay.safetext import neutralise
from ipcplay.scenario.model import TOPIC_LABELS, TOPICS, Scenario
from ipcplay.scenario.presets import PresetInfo

__all__ = ["Lesson", "grouped", "lesson", "matches", "program_lesson", "row_title", "words"]

PROGRAM = "program"
"""The origin of a shipped example program: run as it is, not a scenario."""
# Groups of presets that have no topic, after the topics, by where they came
# from; then the example programs, after every preset.
NO_TOPIC = {"user": "Your presets", "file": "Files", "built-in": "Other", PROGRAM: "Programs"}
_PITFALL_PREFIX = re.compile(r"Pitfall(?: \((?:broken|fixed)\))?:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Lesson:
    """One preset as the home list shows it; `error` is set when it cannot load."""

    key: str
    name: str
    title: str
    origin: str
    file: str
    topics: tuple[str, ...] = ()
    tour: bool = False
    pitfall: str = ""
    pair: str = ""
    error: str = ""
    seed: str = ""  # a program's seed article, "001"

    @property
    def group(self) -> str:
        """Where the list shows it: its first topic, else where it came from."""
        if self.topics:
            return TOPIC_LABELS[self.topics[0]]
        return NO_TOPIC.get(self.origin, "Other")

    @property
    def haystack(self) -> str:
        """Everything a filter word may match, lower case."""
        parts = [self.name, self.title, self.origin, self.pitfall]
        for topic in self.topics:
            parts += [topic, TOPIC_LABELS[topic]]
        if self.pitfall:
            parts.append("pitfall")
        if self.tour:
            parts.append("tour")
        if self.origin == PROGRAM:
            parts += ["programs", "examples", f"seed {self.seed}" if self.seed else ""]
        return " ".join(parts).lower()


def lesson(key: str, info: PresetInfo, scenario: Scenario | str) -> Lesson:
    """A preset as a lesson; a file that cannot load is kept, with its error."""
    name = neutralise(info.name, multiline=False)
    file = neutralise(info.path.name, multiline=False)
    if isinstance(scenario, str):
        return Lesson(key, name, "", info.origin, file, error=neutralise(scenario, multiline=False))
    return Lesson(
        key,
        name,
        neutralise(scenario.title, multiline=False),
        info.origin,
        file,
        topics=tuple(t for t in scenario.topics if t in TOPICS),
        tour=bool(scenario.tour),
        pitfall=scenario.pitfall,
        pair=neutralise(scenario.pair, multiline=False),
    )


def program_lesson(key: str, info: ExampleInfo) -> Lesson:
    """A shipped example program as a lesson: its name, and what it shows as
    its title (`info` is neutralised already)."""
    return Lesson(key, info.name, info.description, PROGRAM, info.file, seed=info.seed)


def words(query: str) -> list[str]:
    return query.lower().split()


def matches(item: Lesson, query_words: list[str]) -> bool:
    """Every word typed is somewhere in the name, title or topics."""
    haystack = item.haystack
    return all(w in haystack for w in query_words)


def _group_rank(label: str) -> int:
    labels = [TOPIC_LABELS[t] for t in TOPICS] + list(NO_TOPIC.values())
    return labels.index(label) if label in labels else len(labels)


def grouped(items: Iterable[Lesson], query: str = "") -> list[tuple[str, list[Lesson]]]:
    """The lessons that match, by group in topic order; a pitfall's fix right
    after its broken half when they share a group, so the pair reads together."""
    query_words = words(query)
    groups: dict[str, list[Lesson]] = {}
    for item in items:
        if matches(item, query_words):
            groups.setdefault(item.group, []).append(item)
    names = {(item.group, item.name) for items_ in groups.values() for item in items_}

    def order(item: Lesson) -> tuple[str, int, str]:
        if item.pitfall == "fixed" and (item.group, item.pair) in names:
            return (item.pair, 1, item.name)
        return (item.name, 0, item.origin)

    def rank(label: str) -> tuple[bool, int, str]:
        """A group whose own name matches comes first: "deadlock" lists the
        deadlocks before the presets that only mention one."""
        named = bool(query_words) and all(word in label.lower() for word in query_words)
        return (not named, _group_rank(label), label)

    return [(label, sorted(groups[label], key=order)) for label in sorted(groups, key=rank)]


def row_title(item: Lesson) -> str:
    """The title without its "Pitfall (broken):" opening: the row's badge says it."""
    if item.pitfall:
        return _PITFALL_PREFIX.sub("", item.title, count=1) or item.title
    return item.title
