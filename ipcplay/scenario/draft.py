"""A scenario being composed: what the user has typed, before it is valid.

The composer edits a `Draft`, not a `Scenario`: a half-typed number ("3x") or a
consumer with no channel yet must be representable so the user can see what is
wrong with it. A draft becomes a scenario only through the loader (`check`), so
the composer's messages are the loader's messages, word for word, and nothing
the loader would refuse can be run or saved.

Entries are keyed by a `uid` that never changes, and processes refer to their
channels by uid: renaming a channel keeps every wire attached, even while a
half-typed name briefly equals another one. Everything here is immutable; each
edit returns a new draft.

The edits live here; the draft's data (`entries`), its TOML round trip
(`draft_doc`), steps as lines (`draft_steps`) and the composer's templates
(`templates`) have their own modules, and their names are importable from here.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ipcplay.scenario import kinds
from ipcplay.scenario.draft_doc import check, from_scenario, locate, to_doc
from ipcplay.scenario.draft_steps import STEP_SYNTAX, StepError, parse_steps, step_lines
from ipcplay.scenario.draft_text import field_text
from ipcplay.scenario.entries import (
    DEFAULTS,
    NAME,
    NAME_RULE,
    PROCESS_DEFAULTS,
    REF_KEYS,
    SCENARIO_DEFAULTS,
    Draft,
    Entry,
    Problem,
    Section,
)
from ipcplay.scenario.templates import (
    CHANNEL_TEMPLATES,
    PROCESS_TEMPLATES,
    SHARED_TEMPLATES,
    Template,
)

__all__ = [
    "CHANNEL_TEMPLATES",
    "NAME",
    "NAME_RULE",
    "PROCESS_DEFAULTS",
    "PROCESS_TEMPLATES",
    "SCENARIO_DEFAULTS",
    "SHARED_TEMPLATES",
    "STEP_SYNTAX",
    "Draft",
    "Entry",
    "Problem",
    "Section",
    "StepError",
    "Template",
    "add",
    "check",
    "delete",
    "duplicate",
    "edit",
    "free_name",
    "from_scenario",
    "locate",
    "parse_steps",
    "step_lines",
    "to_doc",
]


def free_name(base: str, taken: set[str]) -> str:
    """base, base2, base3 …: a name that fits the loader's rule and is not taken.

    No dash before the number: 'consumer-2' is how replicas of 'consumer' run.
    """
    stem = re.sub(r"\d+$", "", base)[:28] or "x"
    if base not in taken:
        return base
    number = 2
    while f"{stem}{number}" in taken:
        number += 1
    return f"{stem}{number}"


def _taken(draft: Draft, section: Section) -> set[str]:
    """Channels and shared objects share one namespace; processes have their own."""
    if section == "process":
        return {entry.name for entry in draft.processes}
    return {entry.name for entry in (*draft.channels, *draft.shared)}


_FIELDS: dict[Section, str] = {"channel": "channels", "shared": "shared", "process": "processes"}


def _target(draft: Draft, kinds: tuple[str, ...], context: int | None) -> str | None:
    """The shared object a new steps process works on: the selected one, if it is
    of a kind that fits, else the last one that fits."""
    fits = [obj for obj in draft.shared if obj.get("kind") in kinds]
    chosen = next((obj for obj in fits if obj.uid == context), fits[-1] if fits else None)
    return chosen.name if chosen is not None else None


def _writers(draft: Draft, uid: int) -> list[Entry]:
    return [process for process in draft.processes if uid in process.get("out")]


def _wiring(draft: Draft, role: str, context: int | None) -> dict[str, Any]:
    """Connect a new process where the user is: the selected channel, or the last one.

    A worker also writes to a channel nobody writes yet, if there is one; a
    pinger or ponger only takes a Pipe.
    """
    if role == "steps":
        return {}
    channels = {channel.uid: channel for channel in draft.channels}
    ctx = context if context in channels else (draft.channels[-1].uid if draft.channels else None)
    if role in ("pinger", "ponger"):
        pipes = [
            channel.uid
            for channel in draft.channels
            if kinds.channel_has(channel.get("kind"), "pipe_like")
        ]
        pipe = ctx if ctx in pipes else (pipes[-1] if pipes else None)
        return {"in": (pipe,), "out": (pipe,)} if pipe is not None else {}
    if ctx is None:
        return {}
    if role == "producer":
        return {"out": (ctx,)}
    if role == "consumer":
        return {"in": (ctx,)}
    spare = [
        channel.uid
        for channel in draft.channels
        if channel.uid != ctx and not _writers(draft, channel.uid)
    ]
    return {"in": (ctx,), "out": tuple(spare[:1])}


def add(draft: Draft, template: Template, context: int | None = None) -> tuple[Draft, int]:
    """A new entry from `template`, wired near `context` (the selected entry's uid).

    A steps template works on the selected shared object of a kind it needs, or
    the last one; when there is none, one is added first."""
    values = {**DEFAULTS[template.section], **template.values}
    if template.needs:
        target = _target(draft, template.needs, context)
        if target is None:
            made = next(
                shared_template
                for shared_template in SHARED_TEMPLATES
                if shared_template.key == template.makes
            )
            draft, made_uid = add(draft, made)
            target = draft.entry(made_uid).name
        values["steps"] = str(values["steps"]).replace("{target}", target)
    uid = draft.next_uid
    values["name"] = free_name(template.base, _taken(draft, template.section))
    if template.section == "process":
        values.update(_wiring(draft, values["role"], context))
        entry = Entry(uid, "process", values)
        draft = replace(draft, processes=(*draft.processes, entry))
    elif template.section == "shared":
        entry = Entry(uid, "shared", values)
        draft = replace(draft, shared=(*draft.shared, entry))
    else:
        entry = Entry(uid, "channel", values)
        draft = replace(draft, channels=(*draft.channels, entry))
        draft = _plug(draft, context, entry)
    return replace(draft, next_uid=uid + 1), uid


def _plug(draft: Draft, context: int | None, channel: Entry) -> Draft:
    """A channel added while a process is selected fills the end that process
    still lacks (a producer's out, a consumer's in, both for pinger/ponger on a Pipe)."""
    process = next((candidate for candidate in draft.processes if candidate.uid == context), None)
    if process is None:
        return draft
    role, pipe = process.get("role"), kinds.channel_has(channel.get("kind"), "pipe_like")
    keys: tuple[str, ...] = ()
    if role in ("pinger", "ponger"):
        keys = ("in", "out") if pipe and not process.get("in") and not process.get("out") else ()
    elif role in ("producer", "worker") and not process.get("out"):
        keys = ("out",)
    elif role in ("consumer", "worker") and not process.get("in"):
        keys = ("in",)
    for key in keys:
        draft = edit(draft, process.uid, key, (channel.uid,))
    return draft


def duplicate(draft: Draft, uid: int) -> tuple[Draft, int]:
    """A copy just after the original, same wiring, next free name."""
    entry = draft.entry(uid)
    if entry.section == "scenario":
        return draft, uid
    new = Entry(
        draft.next_uid,
        entry.section,
        {**entry.values, "name": free_name(entry.name, _taken(draft, entry.section))},
    )
    field_name = _FIELDS[entry.section]
    items = getattr(draft, field_name)
    position = items.index(entry) + 1
    items = (*items[:position], new, *items[position:])
    return replace(draft, **{field_name: items}, next_uid=draft.next_uid + 1), new.uid


def delete(draft: Draft, uid: int) -> Draft:
    """Remove an entry; a deleted channel is unplugged from every process."""
    entry = draft.entry(uid)
    if entry.section == "scenario":
        return draft
    if entry.section in ("process", "shared"):  # steps naming a deleted object say so
        field_name = _FIELDS[entry.section]
        kept = tuple(
            kept_entry for kept_entry in getattr(draft, field_name) if kept_entry.uid != uid
        )
        return replace(draft, **{field_name: kept})
    processes = tuple(
        Entry(
            process.uid,
            "process",
            {
                **process.values,
                **{
                    field: tuple(ref for ref in process.get(field) if ref != uid)
                    for field in REF_KEYS
                },
            },
        )
        for process in draft.processes
    )
    channels = tuple(channel for channel in draft.channels if channel.uid != uid)
    return replace(draft, channels=channels, processes=processes)


def _value_text(kind: Any) -> str:
    """The `value` field a kind starts with: its default ("0", a Semaphore's "1"),
    or "" for a kind that takes no value."""
    described = kinds.shared_kind(kind)
    if described is None or "value" not in described.keys:
        return ""
    return field_text(kinds.default_of(described, "value"))


def _renamed(text: str, old: str, new: str) -> str:
    """Steps that name `old` name `new` instead (the verb and numbers stay)."""
    lines = []
    for line in str(text).split("\n"):
        body, hash_, comment = line.partition("#")
        words = body.split()
        if len(words) >= 2 and words[1] == old:
            lead = body[: len(body) - len(body.lstrip())]
            body = lead + " ".join([words[0], new, *words[2:]]) + (" " if hash_ else "")
        lines.append(body + hash_ + comment)
    return "\n".join(lines)


def edit(draft: Draft, uid: int, key: str, value: Any) -> Draft:
    """Set one field. A new payload kind starts from that kind's default size; a
    new steps process runs its steps once; a renamed shared object (or channel)
    is renamed in the steps that use it."""
    entry = draft.entry(uid)
    if entry.get(key) == value:
        return draft
    values = {**entry.values, key: value}
    if key in ("payload.kind", "reply.kind"):
        values[key.replace("kind", "size")] = "64" if value == "bytes" else "0"
    steps = entry.section == "process" and key == "role" and value == "steps"
    if steps and str(entry.get("count")).strip() in ("", "0"):
        values["count"] = "1"
    old_default = ("", _value_text(entry.get("kind")))
    if (
        entry.section == "shared"
        and key == "kind"
        and str(entry.get("value")).strip() in old_default
    ):
        values["value"] = _value_text(value)
    new = Entry(uid, entry.section, values)
    if entry.section == "scenario":
        return replace(draft, scenario=new)
    if entry.section in ("shared", "channel") and key == "name":
        draft = _follow_rename(draft, entry.name, str(value))
    field_name = _FIELDS[entry.section]
    items = tuple(new if item.uid == uid else item for item in getattr(draft, field_name))
    return replace(draft, **{field_name: items})


def _follow_rename(draft: Draft, old: str, new: str) -> Draft:
    """Only when `old` named this object (or channel: one namespace) alone and
    `new` names no other: while a half-typed name equals another's, the steps
    are left alone."""
    names = [obj.name for obj in (*draft.shared, *draft.channels)]
    if not old or names.count(old) != 1 or new in names or new.split() != [new]:
        return draft
    processes = tuple(
        Entry(
            process.uid,
            "process",
            {**process.values, "steps": _renamed(process.get("steps"), old, new)},
        )
        if process.get("steps")
        else process
        for process in draft.processes
    )
    return replace(draft, processes=processes)
