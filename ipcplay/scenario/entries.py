"""A draft's data: entries as typed, keyed by uid, and what is wrong with them.

Every field is kept as the text the user typed (see the *_DEFAULTS tables);
the loader alone decides what is valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Section = Literal["scenario", "channel", "shared", "process"]

# The loader's name rule; a file name follows it too, so a saved preset's name
# can also be typed on the command line without quoting.
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")
NAME_RULE = "expected a letter followed by up to 31 letters, digits, '_' or '-'"

# How each field is kept while it is edited; the loader decides what is valid.
NUMBER_KEYS = frozenset(
    {"duration", "seed", "maxsize", "replicas", "count", "rate", "payload.size", "reply.size"}
    | {"work.ms", "terminate_after", "joined_after"}
)
REF_KEYS = frozenset({"in", "out"})  # tuples of channel uids
BOOL_KEYS = frozenset({"duplex", "reader_keeps_write_end", "task_done", "remote"})

# A steps process's steps are typed one per line ("add counter 1 locked"), and
# name shared objects by name: the text is the step list, as readable as the TOML.
VALUE_KEYS = frozenset({"payload.value", "reply.value"})  # TOML text, parsed on use
PAYLOAD_DEFAULTS = {"kind": "bytes", "size": "64", "text": "hello", "value": ""}
REPLY_DEFAULTS = {"kind": "text", "size": "0", "text": "hello, too", "value": ""}
SCENARIO_DEFAULTS: dict[str, Any] = {
    "file": "my-scenario",
    "title": "My scenario",
    "explain": "",
    "start_method": "spawn",
    "expect": "completed",
    "duration": "30",
    "seed": "0",
    "pitfall": "",
    "pair": "",
    "topics": (),
}
CHANNEL_DEFAULTS: dict[str, Any] = {
    "name": "",
    "kind": "Queue",
    "maxsize": "0",
    "duplex": True,
    "reader_keeps_write_end": False,
    "remote": False,
}
PROCESS_DEFAULTS: dict[str, Any] = {
    "name": "",
    "role": "producer",
    "replicas": "1",
    "in": (),
    "out": (),
    "count": "0",
    "rate": "0",
    **{f"payload.{field}": text for field, text in PAYLOAD_DEFAULTS.items()},
    "work.kind": "none",
    "work.ms": "0",
    "compute": "none",
    **{f"reply.{field}": text for field, text in REPLY_DEFAULTS.items()},
    "finally": (),
    "task_done": True,
    "steps": "",
    "terminate_after": "",  # empty: the parent never terminates it
    "joined_after": "",  # empty: the parent joins it as soon as it ends
    "join_first": "",  # process names, comma-separated
    "join_last": "",
    "pool": "",  # role "pool": its [process.pool] table as TOML lines
}

# An empty `value` is the kind's default (0 for a Value, 1 for a Semaphore).
SHARED_DEFAULTS: dict[str, Any] = {
    "name": "",
    "kind": "Value",
    "typecode": "i",
    "value": "",
    "values": "0, 0, 0, 0",
    "parties": "2",
    "size": "64",
    "items": "",  # a ManagerDict's initial keys, as TOML: name = "bob", n = 1
}
DEFAULTS: dict[Section, dict[str, Any]] = {
    "scenario": SCENARIO_DEFAULTS,
    "channel": CHANNEL_DEFAULTS,
    "shared": SHARED_DEFAULTS,
    "process": PROCESS_DEFAULTS,
}


@dataclass(frozen=True)
class Entry:
    """The scenario's own table, one channel or one process, as edited.

    `values` holds every field of its section (see the *DEFAULTS tables):
    numbers as the text typed, channel references as uids. It is never mutated.
    """

    uid: int
    section: Section
    values: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.values.get("file" if self.section == "scenario" else "name", ""))

    def get(self, key: str) -> Any:
        return self.values.get(key, DEFAULTS[self.section].get(key))


@dataclass(frozen=True)
class Draft:
    """A whole composition: the scenario entry (uid 0), channels, shared objects, processes."""

    scenario: Entry = field(default_factory=lambda: Entry(0, "scenario", dict(SCENARIO_DEFAULTS)))
    channels: tuple[Entry, ...] = ()
    processes: tuple[Entry, ...] = ()
    next_uid: int = 1
    tour: tuple[dict[str, Any], ...] = ()
    """The preset's [[tour]] steps as TOML tables, carried through unchanged
    (the composer does not edit tours); the loader still checks them, so a
    step naming a process that was renamed or deleted is reported."""
    shared: tuple[Entry, ...] = ()
    challenge: dict[str, Any] | None = None
    """The preset's [challenge] table, carried through unchanged like the
    tour (the composer does not edit challenges); the loader checks it."""

    @property
    def entries(self) -> tuple[Entry, ...]:
        """In the order a file lists them, which is the order the loader checks them."""
        return (self.scenario, *self.channels, *self.shared, *self.processes)

    def entry(self, uid: int) -> Entry:
        for entry in self.entries:
            if entry.uid == uid:
                return entry
        raise KeyError(uid)

    def channel_name(self, uid: int) -> str:
        return self.entry(uid).name

    @property
    def file(self) -> str:
        return self.scenario.name


@dataclass(frozen=True)
class Problem:
    """Why a draft is not a scenario yet: the loader's message and where it points.

    `uid`/`field` locate the entry and form field the key path names (None when
    it concerns the whole scenario, such as "no processes"); `key` is the path
    as the loader printed it. `line` is the line of the steps field a step
    problem is on (from 1), as the form shows it.
    """

    key: str
    message: str
    uid: int | None = None
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message
