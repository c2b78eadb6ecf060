"""A draft to the TOML document it stands for and back, and the loader's
problems pointed at the entry and field they name.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import tomli_w

from ipcplay.scenario import kinds, model
from ipcplay.scenario.draft_steps import parse_steps, step_lines, step_row
from ipcplay.scenario.draft_text import (
    field_text,
    inline,
    inline_key,
    put_number,
    toml_value,
    typed_number,
)
from ipcplay.scenario.entries import (
    CHANNEL_DEFAULTS,
    NAME,
    NAME_RULE,
    PAYLOAD_DEFAULTS,
    PROCESS_DEFAULTS,
    REF_KEYS,
    REPLY_DEFAULTS,
    SCENARIO_DEFAULTS,
    SHARED_DEFAULTS,
    Draft,
    Entry,
    Problem,
)
from ipcplay.scenario.loader import ScenarioError, dumps, loads
from ipcplay.scenario.model import Scenario


def _payload(entry: Entry, prefix: str) -> dict[str, Any]:
    kind = entry.get(f"{prefix}.kind")
    out: dict[str, Any] = {"kind": kind}
    if kind in ("bytes", "text") and str(entry.get(f"{prefix}.size")).strip():
        out["size"] = typed_number(entry.get(f"{prefix}.size"))
    if kind == "text":
        out["text"] = entry.get(f"{prefix}.text")
    if kind == "value" and str(entry.get(f"{prefix}.value")).strip():
        out["value"] = toml_value(entry.get(f"{prefix}.value"))
    return out


def _scenario_doc(entry: Entry) -> dict[str, Any]:
    out: dict[str, Any] = {"title": entry.get("title")}
    if entry.get("explain"):
        out["explain"] = entry.get("explain")
    out["start_method"] = entry.get("start_method")
    out["expect"] = entry.get("expect")
    put_number(out, "duration", entry.get("duration"))
    put_number(out, "seed", entry.get("seed"))
    for key in ("pitfall", "pair"):  # kept as they came; the composer does not edit them
        if entry.get(key):
            out[key] = entry.get(key)
    if entry.get("topics"):  # kept too, so a saved copy is listed with the lesson it came from
        out["topics"] = list(entry.get("topics"))
    return out


def _channel_doc(entry: Entry) -> dict[str, Any]:
    """The keys the entry's kind takes, as the loader reads them."""
    kind = entry.get("kind")
    out: dict[str, Any] = {"kind": kind}
    described = kinds.channel_kind(kind)
    for field in described.keys if described is not None else ():
        _put_key(out, kinds.KEYS[field], entry.get(field))
    return out


def _shared_doc(entry: Entry) -> dict[str, Any]:
    """The keys the entry's kind takes; a list or table typed without its
    brackets gets them, and text that is no TOML goes as it is, for the loader
    to say why."""
    kind = entry.get("kind")
    out: dict[str, Any] = {"kind": kind}
    described = kinds.shared_kind(kind)
    for field in described.keys if described is not None else ():
        key = kinds.KEYS[field]
        if key.type not in ("list", "table"):
            _put_key(out, key, entry.get(field))
            continue
        text = str(entry.get(field)).strip()
        if not text and field not in described.required:
            continue
        if key.type == "table":
            parsed = toml_value(text if text.startswith("{") else f"{{ {text} }}")
        elif described.data:  # numbers: the brackets may be typed or not
            parsed = toml_value(text if text.startswith("[") else f"[{text}]")
        else:  # items that may be lists: "[]" is one empty inner list
            parsed = toml_value(f"[{text}]")
        out[field] = text if isinstance(parsed, str) else parsed
    return out


def _put_key(out: dict[str, Any], key: kinds.Key, value: Any) -> None:
    """A number typed empty is the default, left out; a boolean whose default
    is true is always written, one whose default is false only when set."""
    if key.type in ("int", "number"):
        put_number(out, key.name, value)
    elif key.type == "bool":
        if value or key.default:
            out[key.name] = bool(value)
    else:
        out[key.name] = value


def _process_doc(entry: Entry, channel_names: Mapping[int, str]) -> dict[str, Any]:
    role = entry.get("role")
    out: dict[str, Any] = {"name": entry.get("name"), "role": role}
    replicas = str(entry.get("replicas")).strip()
    if replicas:
        out["replicas"] = replicas if replicas == "cpu_count" else typed_number(replicas)
    for key in ("in", "out"):
        refs = [channel_names[uid] for uid in entry.get(key) if uid in channel_names]
        if refs:
            out[key] = refs
    put_number(out, "count", entry.get("count"))
    put_number(out, "terminate_after", entry.get("terminate_after"))
    put_number(out, "joined_after", entry.get("joined_after"))
    for key in ("join_first", "join_last"):
        listed = [part.strip() for part in str(entry.get(key)).split(",") if part.strip()]
        if listed:
            out[key] = listed[0] if len(listed) == 1 else listed
    if role == "steps":  # nothing else applies to it
        out["steps"] = parse_steps(entry.get("steps"))[0]
        return out
    if role in model.DEMO_ROLES:  # name, role, replicas and count only
        return out
    if role == "pool" or str(entry.get("pool")).strip():
        return _pool_doc(entry, out)
    put_number(out, "rate", entry.get("rate"))
    out["payload"] = _payload(entry, "payload")
    work = {"kind": entry.get("work.kind")}
    if work["kind"] != "none":
        put_number(work, "ms", entry.get("work.ms"))
    out["work"] = work
    if role in ("worker", "consumer"):
        out["compute"] = entry.get("compute")
    if role == "ponger":
        out["reply"] = _payload(entry, "reply")
    if entry.get("finally"):
        out["finally"] = list(entry.get("finally"))
    out["task_done"] = bool(entry.get("task_done"))
    if str(entry.get("steps")).strip():  # shown and reported, rather than dropped
        out["steps"] = parse_steps(entry.get("steps"))[0]
    return out


def _pool_doc(entry: Entry, out: dict[str, Any]) -> dict[str, Any]:
    """A pool process: its work per task and its [process.pool] table, typed as
    TOML lines; text that is no TOML goes to the loader as it is, to be reported."""
    if entry.get("work.kind") != "none":
        work = {"kind": entry.get("work.kind")}
        put_number(work, "ms", entry.get("work.ms"))
        out["work"] = work
    text = str(entry.get("pool"))
    try:
        out["pool"] = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        out["pool"] = text
    out.pop("count", None)
    return out


def to_doc(draft: Draft) -> dict[str, Any]:
    """The TOML document the draft stands for; only keys that apply to each
    entry's role or kind, so a hidden field can never be the problem."""
    names = {channel.uid: channel.name for channel in draft.channels}
    doc: dict[str, Any] = {"scenario": _scenario_doc(draft.scenario)}
    if draft.channels:
        doc["channels"] = {channel.name: _channel_doc(channel) for channel in draft.channels}
    if draft.shared:
        doc["shared"] = {obj.name: _shared_doc(obj) for obj in draft.shared}
    if draft.processes:
        doc["process"] = [_process_doc(process, names) for process in draft.processes]
    if draft.tour:
        doc["tour"] = [dict(step) for step in draft.tour]
    if draft.challenge is not None:
        doc["challenge"] = dict(draft.challenge)
    return doc


def check(draft: Draft) -> Scenario | Problem:
    """The scenario, or the first problem as the loader words it."""
    file = draft.file
    if not NAME.fullmatch(file):
        return Problem("file", f"invalid file name {file!r}; {NAME_RULE}", 0, "file")
    for section, what in (("channels", "channel"), ("shared", "shared object")):
        seen: set[str] = set()
        for channel in getattr(draft, section):  # a TOML table cannot hold the same key twice
            if channel.name in seen:
                message = f"{channel.name!r} is already used by another {what}"
                return Problem(f"{section}.{channel.name}", message, channel.uid, "name")
            seen.add(channel.name)
    for index, process in enumerate(draft.processes):  # a line that is no step, before the loader
        if process.get("role") == "steps" or str(process.get("steps")).strip():
            error = parse_steps(process.get("steps"))[1]
            if error is not None:
                key = f"process[{index}].steps[{error.index}]"
                return Problem(key, error.message, process.uid, "steps", error.line)
    try:
        text = tomli_w.dumps(to_doc(draft), multiline_strings=True)
        return loads(text, source=f"{file}.toml", name=file)
    except ScenarioError as exc:
        return locate(draft, exc.key, exc.message)
    except (TypeError, ValueError) as exc:  # tomli_w refusing a value; not expected
        return Problem("", f"cannot be written as TOML: {exc}")


_PROCESS_KEY = re.compile(r"process\[(\d+)\](?:\.(.*))?")
_STEP_KEY = re.compile(r"steps(?:\[(\d+)\])?")
_FIELD_ALIASES = {"payload": "payload.kind", "reply": "reply.kind", "work": "work.kind"}


def _field(rest: str | None) -> str | None:
    """'finally[1]' -> 'finally'; 'payload' -> 'payload.kind': the form's field."""
    if not rest:
        return None
    rest = re.sub(r"\[\d+\]", "", rest)
    return _FIELD_ALIASES.get(rest, rest)


def _split_name(path: str) -> tuple[str, str | None]:
    """'"my q".maxsize' -> ('my q', 'maxsize'): undo the loader's key quoting."""
    if path.startswith('"'):
        position, name = 1, []
        while position < len(path) and path[position] != '"':
            if path[position] == "\\" and position + 1 < len(path):
                position += 1
            name.append(path[position])
            position += 1
        rest = path[position + 2 :] if position + 1 < len(path) else ""
        return "".join(name), rest or None
    name, _, rest = path.partition(".")
    return name, rest or None


def locate(draft: Draft, key: str, message: str) -> Problem:
    """Point a loader key path at the entry and field it names."""
    if key.startswith("scenario."):
        return Problem(key, message, draft.scenario.uid, _field(key.split(".", 1)[1]))
    if key.startswith("channels."):
        name, rest = _split_name(key[len("channels.") :])
        for channel in draft.channels:
            if channel.name == name:
                return Problem(key, message, channel.uid, _field(rest) or "name")
        return Problem(key, message)
    if key.startswith("shared."):
        name, rest = _split_name(key[len("shared.") :])
        for obj in draft.shared:
            if obj.name == name:
                return Problem(key, message, obj.uid, _field(rest) or "name")
        return Problem(key, message)
    match = _PROCESS_KEY.fullmatch(key)
    if match and int(match.group(1)) < len(draft.processes):
        process = draft.processes[int(match.group(1))]
        step = _STEP_KEY.match(match.group(2) or "")
        if step:
            row = step_row(process.get("steps"), int(step.group(1))) if step.group(1) else None
            return Problem(key, message, process.uid, "steps", row)
        return Problem(key, message, process.uid, _field(match.group(2)))
    return Problem(key, message)


def _payload_values(table: Mapping[str, Any] | None, prefix: str) -> dict[str, Any]:
    base = PAYLOAD_DEFAULTS if prefix == "payload" else REPLY_DEFAULTS
    table = table or {}
    kind = table.get("kind", base["kind"])
    size = table.get("size", 64 if kind == "bytes" else 0)
    out = {"kind": kind, "size": field_text(size), "text": table.get("text", base["text"])}
    out["value"] = inline(table["value"]) if "value" in table else ""
    return {f"{prefix}.{field}": value for field, value in out.items()}


def _shared_values(name: str, table: Mapping[str, Any]) -> dict[str, Any]:
    """A [shared.NAME] table as the form's fields: the keys its kind takes, as typed."""
    kind = kinds.SHARED_BY_NAME[table["kind"]]
    values = {**SHARED_DEFAULTS, "name": name, "kind": kind.name}
    for field in kind.keys:
        key_type = kinds.KEYS[field].type
        if key_type == "number":
            values[field] = inline(table.get(field, kinds.default_of(kind, field)))
        elif key_type == "list":
            values[field] = ", ".join(inline(item) for item in table.get(field, []))
        elif field not in table:
            continue
        elif key_type == "table":
            pairs = table[field].items()
            values[field] = ", ".join(
                f"{inline_key(item_key)} = {inline(item)}" for item_key, item in pairs
            )
        else:
            values[field] = field_text(table[field])
    return values


def from_scenario(scenario: Scenario, file: str | None = None) -> Draft:
    """A draft that `check`s back to `scenario` (but for `source`).

    It goes through `dumps`, so the fields show what a file would say.
    """
    doc = tomllib.loads(dumps(scenario))
    values = {**SCENARIO_DEFAULTS, "file": file or scenario.name}
    for field, value in doc["scenario"].items():
        values[field] = value if field in ("title", "explain", "topics") else field_text(value)
    draft = Draft(scenario=Entry(0, "scenario", values))
    uids: dict[str, int] = {}
    channels = []
    for name, table in doc.get("channels", {}).items():
        uid = len(uids) + 1
        uids[name] = uid
        channels.append(Entry(uid, "channel", _channel_values(name, table)))
    shared = []
    for name, table in doc.get("shared", {}).items():
        shared.append(Entry(len(uids) + len(shared) + 1, "shared", _shared_values(name, table)))
    first = len(uids) + len(shared) + 1
    processes = tuple(
        Entry(first + index, "process", _process_values(table, uids))
        for index, table in enumerate(doc.get("process", []))
    )
    return replace(
        draft,
        channels=tuple(channels),
        shared=tuple(shared),
        processes=processes,
        next_uid=first + len(processes),
        tour=tuple(doc.get("tour", [])),
        challenge=doc.get("challenge"),
    )


def _channel_values(name: str, table: Mapping[str, Any]) -> dict[str, Any]:
    """A [channels.NAME] table as the form's fields: the keys its kind takes."""
    values = {**CHANNEL_DEFAULTS, "name": name, "kind": table["kind"]}
    for field in kinds.CHANNEL_BY_NAME[table["kind"]].keys:
        key = kinds.KEYS[field]
        value = table.get(field, key.default)
        values[field] = value if key.type == "bool" else field_text(value)
    return values


def _process_values(table: Mapping[str, Any], uids: Mapping[str, int]) -> dict[str, Any]:
    """A [[process]] table as the form's fields; `uids` are the channels' by name."""
    values = dict(PROCESS_DEFAULTS)
    for key in ("name", "role", "compute", "task_done"):
        if key in table:
            values[key] = table[key]
    for key in ("replicas", "count", "rate", "terminate_after", "joined_after"):
        if key in table:
            values[key] = field_text(table[key])
    for key in ("join_first", "join_last"):
        names = table.get(key, [])
        values[key] = ", ".join([names] if isinstance(names, str) else names)
    for key in ("in", "out", "finally"):
        items = table.get(key, [])
        items = [items] if isinstance(items, str) else items
        values[key] = tuple(uids[name] for name in items) if key in REF_KEYS else tuple(items)
    values.update(_payload_values(table.get("payload"), "payload"))
    values.update(_payload_values(table.get("reply"), "reply"))
    work = table.get("work", {"kind": "none"})
    values["work.kind"], values["work.ms"] = work["kind"], field_text(work.get("ms", 0))
    values["steps"] = step_lines(table.get("steps", []))
    if "pool" in table:
        values["pool"] = tomli_w.dumps(table["pool"])
    return values
