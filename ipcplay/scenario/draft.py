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
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import tomli_w

from ipcplay.scenario import model
from ipcplay.scenario.loader import ScenarioError, dumps, loads
from ipcplay.scenario.model import Scenario

__all__ = [
    "CHANNEL_TEMPLATES",
    "PROCESS_TEMPLATES",
    "Draft",
    "Entry",
    "Problem",
    "Template",
    "add",
    "check",
    "delete",
    "duplicate",
    "edit",
    "from_scenario",
    "to_doc",
]

Section = Literal["scenario", "channel", "process"]

# The loader's name rule; a file name follows it too, so a saved preset's name
# can also be typed on the command line without quoting.
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")
NAME_RULE = "expected a letter followed by up to 31 letters, digits, '_' or '-'"

# How each field is kept while it is edited; the loader decides what is valid.
NUMBER_KEYS = frozenset(
    {"duration", "seed", "maxsize", "replicas", "count", "rate", "payload.size", "reply.size"}
    | {"work.ms"}
)
REF_KEYS = frozenset({"in", "out"})  # tuples of channel uids
BOOL_KEYS = frozenset({"duplex", "task_done"})
VALUE_KEYS = frozenset({"payload.value", "reply.value"})  # TOML text, parsed on use

_PAYLOAD_DEFAULTS = {"kind": "bytes", "size": "64", "text": "hello", "value": ""}
_REPLY_DEFAULTS = {"kind": "text", "size": "0", "text": "hello, too", "value": ""}

SCENARIO_DEFAULTS: dict[str, Any] = {
    "file": "my-scenario",
    "title": "My scenario",
    "explain": "",
    "start_method": "spawn",
    "expect": "completed",
    "duration": "30",
    "seed": "0",
}
CHANNEL_DEFAULTS: dict[str, Any] = {"name": "", "kind": "Queue", "maxsize": "0", "duplex": True}
PROCESS_DEFAULTS: dict[str, Any] = {
    "name": "",
    "role": "producer",
    "replicas": "1",
    "in": (),
    "out": (),
    "count": "0",
    "rate": "0",
    **{f"payload.{k}": v for k, v in _PAYLOAD_DEFAULTS.items()},
    "work.kind": "none",
    "work.ms": "0",
    "compute": "none",
    **{f"reply.{k}": v for k, v in _REPLY_DEFAULTS.items()},
    "finally": (),
    "task_done": True,
}
_DEFAULTS: dict[Section, dict[str, Any]] = {
    "scenario": SCENARIO_DEFAULTS,
    "channel": CHANNEL_DEFAULTS,
    "process": PROCESS_DEFAULTS,
}


@dataclass(frozen=True)
class Entry:
    """The scenario's own table, one channel or one process, as edited.

    `values` holds every field of its section (see the *_DEFAULTS tables):
    numbers as the text typed, channel references as uids. It is never mutated.
    """

    uid: int
    section: Section
    values: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.values.get("file" if self.section == "scenario" else "name", ""))

    def get(self, key: str) -> Any:
        return self.values.get(key, _DEFAULTS[self.section].get(key))


@dataclass(frozen=True)
class Draft:
    """A whole composition: the scenario entry (uid 0), channels, processes."""

    scenario: Entry = field(default_factory=lambda: Entry(0, "scenario", dict(SCENARIO_DEFAULTS)))
    channels: tuple[Entry, ...] = ()
    processes: tuple[Entry, ...] = ()
    next_uid: int = 1
    tour: tuple[dict[str, Any], ...] = ()
    """The preset's [[tour]] steps as TOML tables, carried through unchanged
    (the composer does not edit tours); the loader still checks them, so a
    step naming a process that was renamed or deleted is reported."""

    @property
    def entries(self) -> tuple[Entry, ...]:
        """In the order a file lists them, which is the order the loader checks them."""
        return (self.scenario, *self.channels, *self.processes)

    def entry(self, uid: int) -> Entry:
        for e in self.entries:
            if e.uid == uid:
                return e
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
    as the loader printed it.
    """

    key: str
    message: str
    uid: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


# --------------------------------------------------------------------------- to the loader


def _number(text: str) -> Any:
    """What TOML would make of the typed text; anything else stays a string so
    the loader can say what it expected and what it got."""
    t = str(text).strip()
    for conv in (int, float):
        try:
            return conv(t)
        except ValueError:
            continue
    return text


def _value(text: str) -> Any:
    """A `value` payload is typed as TOML (`[1, 2]`, `"hi"`); bare words are strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        return text


def _payload(e: Entry, prefix: str) -> dict[str, Any]:
    kind = e.get(f"{prefix}.kind")
    out: dict[str, Any] = {"kind": kind}
    if kind in ("bytes", "text") and str(e.get(f"{prefix}.size")).strip():
        out["size"] = _number(e.get(f"{prefix}.size"))
    if kind == "text":
        out["text"] = e.get(f"{prefix}.text")
    if kind == "value" and str(e.get(f"{prefix}.value")).strip():
        out["value"] = _value(e.get(f"{prefix}.value"))
    return out


def _put_number(table: dict[str, Any], key: str, text: Any) -> None:
    """An empty field means "the default": the key is left out, as in a file."""
    if str(text).strip():
        table[key] = _number(text)


def _scenario_doc(e: Entry) -> dict[str, Any]:
    out: dict[str, Any] = {"title": e.get("title")}
    if e.get("explain"):
        out["explain"] = e.get("explain")
    out["start_method"] = e.get("start_method")
    out["expect"] = e.get("expect")
    _put_number(out, "duration", e.get("duration"))
    _put_number(out, "seed", e.get("seed"))
    return out


def _channel_doc(e: Entry) -> dict[str, Any]:
    kind = e.get("kind")
    out: dict[str, Any] = {"kind": kind}
    if kind in ("Queue", "JoinableQueue"):
        _put_number(out, "maxsize", e.get("maxsize"))
    if kind == "Pipe":
        out["duplex"] = bool(e.get("duplex"))
    return out


def _process_doc(e: Entry, names: Mapping[int, str]) -> dict[str, Any]:
    role = e.get("role")
    out: dict[str, Any] = {"name": e.get("name"), "role": role}
    replicas = str(e.get("replicas")).strip()
    if replicas:
        out["replicas"] = replicas if replicas == "cpu_count" else _number(replicas)
    for key in ("in", "out"):
        refs = [names[uid] for uid in e.get(key) if uid in names]
        if refs:
            out[key] = refs
    _put_number(out, "count", e.get("count"))
    _put_number(out, "rate", e.get("rate"))
    out["payload"] = _payload(e, "payload")
    work = {"kind": e.get("work.kind")}
    if work["kind"] != "none":
        _put_number(work, "ms", e.get("work.ms"))
    out["work"] = work
    if role in ("worker", "consumer"):
        out["compute"] = e.get("compute")
    if role == "ponger":
        out["reply"] = _payload(e, "reply")
    if e.get("finally"):
        out["finally"] = list(e.get("finally"))
    out["task_done"] = bool(e.get("task_done"))
    return out


def to_doc(draft: Draft) -> dict[str, Any]:
    """The TOML document the draft stands for; only keys that apply to each
    entry's role or kind, so a hidden field can never be the problem."""
    names = {c.uid: c.name for c in draft.channels}
    doc: dict[str, Any] = {"scenario": _scenario_doc(draft.scenario)}
    if draft.channels:
        doc["channels"] = {c.name: _channel_doc(c) for c in draft.channels}
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
    seen: dict[str, int] = {}
    for c in draft.channels:  # a TOML table cannot hold the same key twice
        if c.name in seen:
            message = f"{c.name!r} is already used by another channel"
            return Problem(f"channels.{c.name}", message, c.uid, "name")
        seen[c.name] = c.uid
    try:
        text = tomli_w.dumps(to_doc(draft), multiline_strings=True)
        return loads(text, source=f"{file}.toml", name=file)
    except ScenarioError as exc:
        return locate(draft, exc.key, exc.message)
    except (TypeError, ValueError) as exc:  # tomli_w refusing a value; not expected
        return Problem("", f"cannot be written as TOML: {exc}")


_PROCESS_KEY = re.compile(r"process\[(\d+)\](?:\.(.*))?")
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
    m = _PROCESS_KEY.fullmatch(key)
    if m and int(m.group(1)) < len(draft.processes):
        return Problem(key, message, draft.processes[int(m.group(1))].uid, _field(m.group(2)))
    return Problem(key, message)


# --------------------------------------------------------------------------- from a scenario


def _text(value: Any) -> str:
    return str(value) if not isinstance(value, bool) else ("true" if value else "false")


def _inline_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _inline(key)


def _inline(value: Any) -> str:
    """A TOML value on one line, for the `value` field (tomli_w would write a
    nested table as its own section)."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_inline_key(k)} = {_inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return tomli_w.dumps({"v": value})[len("v = ") :].rstrip("\n")


def _payload_values(table: Mapping[str, Any] | None, prefix: str) -> dict[str, Any]:
    base = _PAYLOAD_DEFAULTS if prefix == "payload" else _REPLY_DEFAULTS
    table = table or {}
    kind = table.get("kind", base["kind"])
    size = table.get("size", 64 if kind == "bytes" else 0)
    out = {"kind": kind, "size": _text(size), "text": table.get("text", base["text"])}
    out["value"] = _inline(table["value"]) if "value" in table else ""
    return {f"{prefix}.{k}": v for k, v in out.items()}


def composable(scenario: Scenario) -> str | None:
    """Why the composer cannot edit `scenario` without losing part of it, or None."""
    if scenario.shared or any(p.role == "steps" for p in scenario.processes):
        return "the composer does not edit shared objects and steps yet; edit the TOML file"
    return None


def from_scenario(scenario: Scenario, file: str | None = None) -> Draft:
    """A draft that `check`s back to `scenario` (but for `source`).

    It goes through `dumps`, so the fields show what a file would say.
    """
    doc = tomllib.loads(dumps(scenario))
    meta = doc["scenario"]
    values = {**SCENARIO_DEFAULTS, "file": file or scenario.name}
    values.update({k: (v if k in ("title", "explain") else _text(v)) for k, v in meta.items()})
    draft = Draft(scenario=Entry(0, "scenario", values))
    uids: dict[str, int] = {}
    channels = []
    for name, table in doc.get("channels", {}).items():
        uid = len(uids) + 1
        uids[name] = uid
        vals = {**CHANNEL_DEFAULTS, "name": name, "kind": table["kind"]}
        vals["maxsize"] = _text(table.get("maxsize", 0))
        vals["duplex"] = table.get("duplex", True)
        channels.append(Entry(uid, "channel", vals))
    processes = []
    for i, table in enumerate(doc.get("process", [])):
        vals = dict(PROCESS_DEFAULTS)
        for key in ("name", "role", "compute", "task_done"):
            if key in table:
                vals[key] = table[key]
        for key in ("replicas", "count", "rate"):
            if key in table:
                vals[key] = _text(table[key])
        for key in ("in", "out", "finally"):
            items = table.get(key, [])
            items = [items] if isinstance(items, str) else items
            vals[key] = tuple(uids[n] for n in items) if key in REF_KEYS else tuple(items)
        vals.update(_payload_values(table.get("payload"), "payload"))
        vals.update(_payload_values(table.get("reply"), "reply"))
        work = table.get("work", {"kind": "none"})
        vals["work.kind"], vals["work.ms"] = work["kind"], _text(work.get("ms", 0))
        processes.append(Entry(len(uids) + 1 + i, "process", vals))
    return replace(
        draft,
        channels=tuple(channels),
        processes=tuple(processes),
        next_uid=len(uids) + len(processes) + 1,
        tour=tuple(doc.get("tour", [])),
    )


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class Template:
    """A starting point offered by the composer; `values` override the defaults."""

    key: str
    section: Section
    label: str
    about: str
    base: str  # the first name tried for a new entry
    values: Mapping[str, Any] = field(default_factory=dict)


PROCESS_TEMPLATES = (
    Template(
        "producer",
        "process",
        "producer",
        "puts 20 numbered items on a channel, 10 a second, then a poison pill per reader",
        "producer",
        {"role": "producer", "count": "20", "rate": "10", "payload.kind": "int"}
        | {"payload.size": "0", "finally": ("poison-pill",)},
    ),
    Template(
        "consumer",
        "process",
        "consumer",
        "takes items off one channel until a poison pill (or EOF on a Pipe)",
        "consumer",
        {"role": "consumer"},
    ),
    Template(
        "worker",
        "process",
        "worker (pipeline stage)",
        "takes from one channel, squares the item, puts it on another; pills pass on",
        "worker",
        {"role": "worker", "compute": "square", "finally": ("poison-pill",)},
    ),
    Template(
        "pinger",
        "process",
        "pinger",
        "sends on a Pipe and waits for each reply; closes its end when done",
        "pinger",
        {"role": "pinger", "count": "10", "rate": "5", "payload.kind": "text"}
        | {"payload.size": "0", "finally": ("close",)},
    ),
    Template(
        "ponger",
        "process",
        "ponger",
        "answers every message on a Pipe; ends on EOF or a poison pill",
        "ponger",
        {"role": "ponger"},
    ),
)

CHANNEL_TEMPLATES = (
    Template(
        "queue", "channel", "Queue", "unbounded: put() never waits", "queue", {"kind": "Queue"}
    ),
    Template(
        "bounded",
        "channel",
        "Queue (bounded)",
        "maxsize 8: put() waits while 8 items are queued (back pressure)",
        "queue",
        {"kind": "Queue", "maxsize": "8"},
    ),
    Template(
        "joinable",
        "channel",
        "JoinableQueue",
        "task_done() per item; join() waits until every item is done",
        "tasks",
        {"kind": "JoinableQueue"},
    ),
    Template(
        "simple",
        "channel",
        "SimpleQueue",
        "no size and no feeder thread: the plainest queue",
        "queue",
        {"kind": "SimpleQueue"},
    ),
    Template(
        "pipe",
        "channel",
        "Pipe (duplex)",
        "two connected ends; each can send and recv (ping-pong)",
        "pipe",
        {"kind": "Pipe", "duplex": True},
    ),
    Template(
        "oneway",
        "channel",
        "Pipe (one-way)",
        "Pipe(duplex=False): one process sends, one other receives",
        "pipe",
        {"kind": "Pipe", "duplex": False},
    ),
)

# Every role that works on channels; shared objects and `steps` processes are
# not composed here yet (`composable` says so before the composer opens).
assert {t.key for t in PROCESS_TEMPLATES} == set(model.ROLES) - {"steps"}
assert {t.values["kind"] for t in CHANNEL_TEMPLATES} == set(model.CHANNEL_KINDS)


# --------------------------------------------------------------------------- edits


def free_name(base: str, taken: set[str]) -> str:
    """base, base2, base3 …: a name that fits the loader's rule and is not taken.

    No dash before the number: 'consumer-2' is how replicas of 'consumer' run.
    """
    stem = re.sub(r"\d+$", "", base)[:28] or "x"
    if base not in taken:
        return base
    n = 2
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


def _taken(draft: Draft, section: Section) -> set[str]:
    return {e.name for e in (draft.channels if section == "channel" else draft.processes)}


def _writers(draft: Draft, uid: int) -> list[Entry]:
    return [p for p in draft.processes if uid in p.get("out")]


def _wiring(draft: Draft, role: str, context: int | None) -> dict[str, Any]:
    """Connect a new process where the user is: the selected channel, or the last one.

    A worker also writes to a channel nobody writes yet, if there is one; a
    pinger or ponger only takes a Pipe.
    """
    channels = {c.uid: c for c in draft.channels}
    ctx = context if context in channels else (draft.channels[-1].uid if draft.channels else None)
    if role in ("pinger", "ponger"):
        pipes = [c.uid for c in draft.channels if c.get("kind") == "Pipe"]
        pipe = ctx if ctx in pipes else (pipes[-1] if pipes else None)
        return {"in": (pipe,), "out": (pipe,)} if pipe is not None else {}
    if ctx is None:
        return {}
    if role == "producer":
        return {"out": (ctx,)}
    if role == "consumer":
        return {"in": (ctx,)}
    spare = [c.uid for c in draft.channels if c.uid != ctx and not _writers(draft, c.uid)]
    return {"in": (ctx,), "out": tuple(spare[:1])}


def add(draft: Draft, template: Template, context: int | None = None) -> tuple[Draft, int]:
    """A new entry from `template`, wired near `context` (the selected entry's uid)."""
    uid = draft.next_uid
    values = {**_DEFAULTS[template.section], **template.values}
    values["name"] = free_name(template.base, _taken(draft, template.section))
    if template.section == "process":
        values.update(_wiring(draft, values["role"], context))
        entry = Entry(uid, "process", values)
        draft = replace(draft, processes=(*draft.processes, entry))
    else:
        entry = Entry(uid, "channel", values)
        draft = replace(draft, channels=(*draft.channels, entry))
        draft = _plug(draft, context, entry)
    return replace(draft, next_uid=uid + 1), uid


def _plug(draft: Draft, context: int | None, channel: Entry) -> Draft:
    """A channel added while a process is selected fills the end that process
    still lacks (a producer's out, a consumer's in, both for pinger/ponger on a Pipe)."""
    process = next((p for p in draft.processes if p.uid == context), None)
    if process is None:
        return draft
    role, pipe = process.get("role"), channel.get("kind") == "Pipe"
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
    e = draft.entry(uid)
    if e.section == "scenario":
        return draft, uid
    new = Entry(
        draft.next_uid, e.section, {**e.values, "name": free_name(e.name, _taken(draft, e.section))}
    )
    items = draft.channels if e.section == "channel" else draft.processes
    i = items.index(e) + 1
    items = (*items[:i], new, *items[i:])
    field_name = "channels" if e.section == "channel" else "processes"
    return replace(draft, **{field_name: items}, next_uid=draft.next_uid + 1), new.uid


def delete(draft: Draft, uid: int) -> Draft:
    """Remove an entry; a deleted channel is unplugged from every process."""
    e = draft.entry(uid)
    if e.section == "scenario":
        return draft
    if e.section == "process":
        return replace(draft, processes=tuple(p for p in draft.processes if p.uid != uid))
    processes = tuple(
        Entry(
            p.uid,
            "process",
            {**p.values, **{k: tuple(u for u in p.get(k) if u != uid) for k in REF_KEYS}},
        )
        for p in draft.processes
    )
    channels = tuple(c for c in draft.channels if c.uid != uid)
    return replace(draft, channels=channels, processes=processes)


def edit(draft: Draft, uid: int, key: str, value: Any) -> Draft:
    """Set one field. A new payload kind starts from that kind's default size."""
    e = draft.entry(uid)
    if e.get(key) == value:
        return draft
    values = {**e.values, key: value}
    if key in ("payload.kind", "reply.kind"):
        values[key.replace("kind", "size")] = "64" if value == "bytes" else "0"
    new = Entry(uid, e.section, values)
    if e.section == "scenario":
        return replace(draft, scenario=new)
    if e.section == "channel":
        return replace(draft, channels=tuple(new if c.uid == uid else c for c in draft.channels))
    return replace(draft, processes=tuple(new if p.uid == uid else p for p in draft.processes))
