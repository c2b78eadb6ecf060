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

from ipcplay.scenario import model
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


def _payload(e: Entry, prefix: str) -> dict[str, Any]:
    kind = e.get(f"{prefix}.kind")
    out: dict[str, Any] = {"kind": kind}
    if kind in ("bytes", "text") and str(e.get(f"{prefix}.size")).strip():
        out["size"] = typed_number(e.get(f"{prefix}.size"))
    if kind == "text":
        out["text"] = e.get(f"{prefix}.text")
    if kind == "value" and str(e.get(f"{prefix}.value")).strip():
        out["value"] = toml_value(e.get(f"{prefix}.value"))
    return out


def _scenario_doc(e: Entry) -> dict[str, Any]:
    out: dict[str, Any] = {"title": e.get("title")}
    if e.get("explain"):
        out["explain"] = e.get("explain")
    out["start_method"] = e.get("start_method")
    out["expect"] = e.get("expect")
    put_number(out, "duration", e.get("duration"))
    put_number(out, "seed", e.get("seed"))
    for key in ("pitfall", "pair"):  # kept as they came; the composer does not edit them
        if e.get(key):
            out[key] = e.get(key)
    if e.get("topics"):  # kept too, so a saved copy is listed with the lesson it came from
        out["topics"] = list(e.get("topics"))
    return out


def _channel_doc(e: Entry) -> dict[str, Any]:
    kind = e.get("kind")
    out: dict[str, Any] = {"kind": kind}
    if kind in ("Queue", "JoinableQueue", "ManagerQueue"):
        put_number(out, "maxsize", e.get("maxsize"))
    if kind == "Pipe":
        out["duplex"] = bool(e.get("duplex"))
        if e.get("reader_keeps_write_end"):
            out["reader_keeps_write_end"] = True
    if kind == "ManagerQueue" and e.get("remote"):
        out["remote"] = True
    return out


def _shared_doc(e: Entry) -> dict[str, Any]:
    kind = e.get("kind")
    out: dict[str, Any] = {"kind": kind}
    if kind in model.DATA_KINDS:
        out["typecode"] = e.get("typecode")
    if kind in ("Value", "Semaphore", "BoundedSemaphore"):
        put_number(out, "value", e.get("value"))
    if kind == "Array":
        text = str(e.get("values")).strip()
        values = toml_value(text if text.startswith("[") else f"[{text}]")
        out["values"] = text if isinstance(values, str) else values  # the loader says why
    if kind == "Barrier":
        put_number(out, "parties", e.get("parties"))
    if kind == "SharedMemory":
        put_number(out, "size", e.get("size"))
    if kind == "ManagerList" and str(e.get("values")).strip():
        # The items, without the outer brackets: "[]" is one empty inner list.
        text = str(e.get("values")).strip()
        values = toml_value(f"[{text}]")
        out["values"] = text if isinstance(values, str) else values
    if kind == "ManagerDict" and str(e.get("items")).strip():
        text = str(e.get("items")).strip()
        items = toml_value(text if text.startswith("{") else f"{{ {text} }}")
        out["items"] = text if isinstance(items, str) else items
    return out


def _process_doc(e: Entry, names: Mapping[int, str]) -> dict[str, Any]:
    role = e.get("role")
    out: dict[str, Any] = {"name": e.get("name"), "role": role}
    replicas = str(e.get("replicas")).strip()
    if replicas:
        out["replicas"] = replicas if replicas == "cpu_count" else typed_number(replicas)
    for key in ("in", "out"):
        refs = [names[uid] for uid in e.get(key) if uid in names]
        if refs:
            out[key] = refs
    put_number(out, "count", e.get("count"))
    put_number(out, "terminate_after", e.get("terminate_after"))
    put_number(out, "joined_after", e.get("joined_after"))
    for key in ("join_first", "join_last"):
        names = [n.strip() for n in str(e.get(key)).split(",") if n.strip()]
        if names:
            out[key] = names[0] if len(names) == 1 else names
    if role == "steps":  # nothing else applies to it
        out["steps"] = parse_steps(e.get("steps"))[0]
        return out
    if role in model.DEMO_ROLES:  # name, role, replicas and count only
        return out
    if role == "pool" or str(e.get("pool")).strip():
        return _pool_doc(e, out)
    put_number(out, "rate", e.get("rate"))
    out["payload"] = _payload(e, "payload")
    work = {"kind": e.get("work.kind")}
    if work["kind"] != "none":
        put_number(work, "ms", e.get("work.ms"))
    out["work"] = work
    if role in ("worker", "consumer"):
        out["compute"] = e.get("compute")
    if role == "ponger":
        out["reply"] = _payload(e, "reply")
    if e.get("finally"):
        out["finally"] = list(e.get("finally"))
    out["task_done"] = bool(e.get("task_done"))
    if str(e.get("steps")).strip():  # shown and reported, rather than dropped
        out["steps"] = parse_steps(e.get("steps"))[0]
    return out


def _pool_doc(e: Entry, out: dict[str, Any]) -> dict[str, Any]:
    """A pool process: its work per task and its [process.pool] table, typed as
    TOML lines; text that is no TOML goes to the loader as it is, to be reported."""
    if e.get("work.kind") != "none":
        work = {"kind": e.get("work.kind")}
        put_number(work, "ms", e.get("work.ms"))
        out["work"] = work
    text = str(e.get("pool"))
    try:
        out["pool"] = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        out["pool"] = text
    out.pop("count", None)
    return out


def to_doc(draft: Draft) -> dict[str, Any]:
    """The TOML document the draft stands for; only keys that apply to each
    entry's role or kind, so a hidden field can never be the problem."""
    names = {c.uid: c.name for c in draft.channels}
    doc: dict[str, Any] = {"scenario": _scenario_doc(draft.scenario)}
    if draft.channels:
        doc["channels"] = {c.name: _channel_doc(c) for c in draft.channels}
    if draft.shared:
        doc["shared"] = {o.name: _shared_doc(o) for o in draft.shared}
    if draft.processes:
        doc["process"] = [_process_doc(p, names) for p in draft.processes]
    if draft.tour:
        doc["tour"] = [dict(step) for step in draft.tour]
    return doc


def check(draft: Draft) -> Scenario | Problem:
    """The scenario, or the first problem as the loader words it."""
    file = draft.file
    if not NAME.fullmatch(file):
        return Problem("file", f"invalid file name {file!r}; {NAME_RULE}", 0, "file")
    for section, what in (("channels", "channel"), ("shared", "shared object")):
        seen: set[str] = set()
        for c in getattr(draft, section):  # a TOML table cannot hold the same key twice
            if c.name in seen:
                message = f"{c.name!r} is already used by another {what}"
                return Problem(f"{section}.{c.name}", message, c.uid, "name")
            seen.add(c.name)
    for i, p in enumerate(draft.processes):  # a line that is no step, before the loader
        if p.get("role") == "steps" or str(p.get("steps")).strip():
            error = parse_steps(p.get("steps"))[1]
            if error is not None:
                key = f"process[{i}].steps[{error.index}]"
                return Problem(key, error.message, p.uid, "steps", error.line)
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
        i, name = 1, []
        while i < len(path) and path[i] != '"':
            if path[i] == "\\" and i + 1 < len(path):
                i += 1
            name.append(path[i])
            i += 1
        rest = path[i + 2 :] if i + 1 < len(path) else ""
        return "".join(name), rest or None
    name, _, rest = path.partition(".")
    return name, rest or None


def locate(draft: Draft, key: str, message: str) -> Problem:
    """Point a loader key path at the entry and field it names."""
    if key.startswith("scenario."):
        return Problem(key, message, draft.scenario.uid, _field(key.split(".", 1)[1]))
    if key.startswith("channels."):
        name, rest = _split_name(key[len("channels.") :])
        for c in draft.channels:
            if c.name == name:
                return Problem(key, message, c.uid, _field(rest) or "name")
        return Problem(key, message)
    if key.startswith("shared."):
        name, rest = _split_name(key[len("shared.") :])
        for o in draft.shared:
            if o.name == name:
                return Problem(key, message, o.uid, _field(rest) or "name")
        return Problem(key, message)
    m = _PROCESS_KEY.fullmatch(key)
    if m and int(m.group(1)) < len(draft.processes):
        p = draft.processes[int(m.group(1))]
        step = _STEP_KEY.match(m.group(2) or "")
        if step:
            row = step_row(p.get("steps"), int(step.group(1))) if step.group(1) else None
            return Problem(key, message, p.uid, "steps", row)
        return Problem(key, message, p.uid, _field(m.group(2)))
    return Problem(key, message)


def _payload_values(table: Mapping[str, Any] | None, prefix: str) -> dict[str, Any]:
    base = PAYLOAD_DEFAULTS if prefix == "payload" else REPLY_DEFAULTS
    table = table or {}
    kind = table.get("kind", base["kind"])
    size = table.get("size", 64 if kind == "bytes" else 0)
    out = {"kind": kind, "size": field_text(size), "text": table.get("text", base["text"])}
    out["value"] = inline(table["value"]) if "value" in table else ""
    return {f"{prefix}.{k}": v for k, v in out.items()}


def _shared_values(name: str, table: Mapping[str, Any]) -> dict[str, Any]:
    kind = table["kind"]
    vals = {**SHARED_DEFAULTS, "name": name, "kind": kind}
    vals["typecode"] = table.get("typecode", "i")
    if kind in ("Value", "Semaphore", "BoundedSemaphore"):
        vals["value"] = inline(table.get("value", 0 if kind == "Value" else 1))
    if "values" in table:
        vals["values"] = ", ".join(inline(v) for v in table["values"])
    if "parties" in table:
        vals["parties"] = field_text(table["parties"])
    if "size" in table:
        vals["size"] = field_text(table["size"])
    if kind == "ManagerList":
        vals["values"] = ", ".join(inline(v) for v in table.get("values", []))
    if "items" in table:
        vals["items"] = ", ".join(
            f"{inline_key(k)} = {inline(v)}" for k, v in table["items"].items()
        )
    return vals


def from_scenario(scenario: Scenario, file: str | None = None) -> Draft:
    """A draft that `check`s back to `scenario` (but for `source`).

    It goes through `dumps`, so the fields show what a file would say.
    """
    doc = tomllib.loads(dumps(scenario))
    meta = doc["scenario"]
    values = {**SCENARIO_DEFAULTS, "file": file or scenario.name}
    values.update(
        {k: (v if k in ("title", "explain", "topics") else field_text(v)) for k, v in meta.items()}
    )
    draft = Draft(scenario=Entry(0, "scenario", values))
    uids: dict[str, int] = {}
    channels = []
    for name, table in doc.get("channels", {}).items():
        uid = len(uids) + 1
        uids[name] = uid
        vals = {**CHANNEL_DEFAULTS, "name": name, "kind": table["kind"]}
        vals["maxsize"] = field_text(table.get("maxsize", 0))
        vals["duplex"] = table.get("duplex", True)
        vals["reader_keeps_write_end"] = table.get("reader_keeps_write_end", False)
        vals["remote"] = table.get("remote", False)
        channels.append(Entry(uid, "channel", vals))
    shared = []
    for name, table in doc.get("shared", {}).items():
        shared.append(Entry(len(uids) + len(shared) + 1, "shared", _shared_values(name, table)))
    first = len(uids) + len(shared) + 1
    processes = []
    for i, table in enumerate(doc.get("process", [])):
        vals = dict(PROCESS_DEFAULTS)
        for key in ("name", "role", "compute", "task_done"):
            if key in table:
                vals[key] = table[key]
        for key in ("replicas", "count", "rate", "terminate_after", "joined_after"):
            if key in table:
                vals[key] = field_text(table[key])
        for key in ("join_first", "join_last"):
            names = table.get(key, [])
            vals[key] = ", ".join([names] if isinstance(names, str) else names)
        for key in ("in", "out", "finally"):
            items = table.get(key, [])
            items = [items] if isinstance(items, str) else items
            vals[key] = tuple(uids[n] for n in items) if key in REF_KEYS else tuple(items)
        vals.update(_payload_values(table.get("payload"), "payload"))
        vals.update(_payload_values(table.get("reply"), "reply"))
        work = table.get("work", {"kind": "none"})
        vals["work.kind"], vals["work.ms"] = work["kind"], field_text(work.get("ms", 0))
        vals["steps"] = step_lines(table.get("steps", []))
        if "pool" in table:
            vals["pool"] = tomli_w.dumps(table["pool"])
        processes.append(Entry(first + i, "process", vals))
    return replace(
        draft,
        channels=tuple(channels),
        shared=tuple(shared),
        processes=tuple(processes),
        next_uid=first + len(processes),
        tour=tuple(doc.get("tour", [])),
    )
