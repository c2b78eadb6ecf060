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

import difflib
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
    "SHARED_TEMPLATES",
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
    "parse_steps",
    "step_lines",
    "to_doc",
]

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
    **{f"payload.{k}": v for k, v in _PAYLOAD_DEFAULTS.items()},
    "work.kind": "none",
    "work.ms": "0",
    "compute": "none",
    **{f"reply.{k}": v for k, v in _REPLY_DEFAULTS.items()},
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
_DEFAULTS: dict[Section, dict[str, Any]] = {
    "scenario": SCENARIO_DEFAULTS,
    "channel": CHANNEL_DEFAULTS,
    "shared": SHARED_DEFAULTS,
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

    @property
    def entries(self) -> tuple[Entry, ...]:
        """In the order a file lists them, which is the order the loader checks them."""
        return (self.scenario, *self.channels, *self.shared, *self.processes)

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
        _put_number(out, "maxsize", e.get("maxsize"))
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
        _put_number(out, "value", e.get("value"))
    if kind == "Array":
        text = str(e.get("values")).strip()
        values = _value(text if text.startswith("[") else f"[{text}]")
        out["values"] = text if isinstance(values, str) else values  # the loader says why
    if kind == "Barrier":
        _put_number(out, "parties", e.get("parties"))
    if kind == "SharedMemory":
        _put_number(out, "size", e.get("size"))
    if kind == "ManagerList" and str(e.get("values")).strip():
        # The items, without the outer brackets: "[]" is one empty inner list.
        text = str(e.get("values")).strip()
        values = _value(f"[{text}]")
        out["values"] = text if isinstance(values, str) else values
    if kind == "ManagerDict" and str(e.get("items")).strip():
        text = str(e.get("items")).strip()
        items = _value(text if text.startswith("{") else f"{{ {text} }}")
        out["items"] = text if isinstance(items, str) else items
    return out


# --------------------------------------------------------------------------- steps as lines

# One line per step: the verb, then what the TOML step table holds, in order.
_TARGET_STEPS = ("acquire", "release", "wait", "set", "clear", "notify_all", "read", "get")
_UPDATE_STEPS = ("add", "multiply", "value")
STEP_SYNTAX = {
    **{v: f"{v} NAME" for v in _TARGET_STEPS},
    "sleep": "sleep MS",
    **{v: f"{v} NAME N, or {v} NAME N locked" for v in _UPDATE_STEPS},
    "notify": "notify NAME, or notify NAME N",
    "wait_for": "wait_for NAME VALUE N",
    "write": "write NAME OFFSET NUMBER",
    "fill": "fill NAME BYTE",
    "append": "append NAME ITEM, or append NAME ITEM at KEY (assign)",
    "setitem": "setitem NAME KEY ITEM",
    "setattr": "setattr NAME ATTR ITEM",
    "put": "put CHANNEL ITEM",
    "get": "get CHANNEL",
}
assert set(STEP_SYNTAX) == set(model.STEP_OPS)


@dataclass(frozen=True)
class StepError:
    """A line of the steps field that is not a step: which one (from 0 among the
    steps, and from 1 among the lines) and why."""

    index: int
    line: int
    message: str


# A steps line is split into words on spaces, except that a quoted TOML string
# is part of one word whatever it holds (spaces, `#`), and `#` outside quotes
# starts a comment. A quote with no end is an ordinary character.
_CODE = re.compile(r"""(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^#"']|["'])*""")
_WORD = re.compile(r"""(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"']|["'])+""")


def _split_step(line: str) -> tuple[str, list[re.Match[str]]]:
    """A steps line without its comment, and its words (with where they are,
    so that a value of several words is taken exactly as written)."""
    code = _CODE.match(line)
    text = code.group(0) if code else line
    return text, list(_WORD.finditer(text))


def _step_table(text: str, spans: list[re.Match[str]]) -> dict[str, Any] | str:
    """The TOML step table one line stands for, or what is wrong with the line."""
    words = [m.group(0) for m in spans]

    def joined(first: int, last: int) -> str:
        """Words first..last (of `words`) as the line has them, spaces and all."""
        return text[spans[first].start() : spans[last].end()]

    verb = words[0]
    if verb not in STEP_SYNTAX:
        close = difflib.get_close_matches(verb, STEP_SYNTAX, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"steps: {', '.join(STEP_SYNTAX)}"
        return f"unknown step {verb!r}; {hint}"
    args = words[1:]
    if verb in _TARGET_STEPS and len(args) == 1:
        return {verb: args[0]}
    if verb == "sleep" and len(args) == 1:
        return {"sleep": _number(args[0])}
    if verb == "notify" and len(args) in (1, 2):
        return {"notify": args[0], "n": _number(args[1])} if len(args) == 2 else {"notify": args[0]}
    if verb == "wait_for" and len(args) == 3:
        return {"wait_for": args[0], "until": args[1], "at_least": _number(args[2])}
    if verb == "write" and len(args) == 3:
        return {"write": args[0], "offset": _number(args[1]), "number": _number(args[2])}
    if verb == "fill" and len(args) == 2:
        return {"fill": args[0], "byte": _number(args[1])}
    if verb == "append" and len(args) >= 2:
        table = {"on": args[0]}
        rest = args[1:]
        if rest[-1] == "assign" and len(rest) >= 4 and rest[-3] == "at":
            table["assign"] = True
            rest = rest[:-1]
        if len(rest) >= 3 and rest[-2] == "at":
            table["key"] = _value(rest[-1])
            rest = rest[:-2]
        return {**table, "append": _value(joined(2, 1 + len(rest)))}
    if verb == "put" and len(args) >= 2:
        return {"put": args[0], "item": _value(joined(2, len(words) - 1))}
    if verb in ("setitem", "setattr") and len(args) >= 3:
        key = args[1] if verb == "setattr" else _value(args[1])
        return {"on": args[0], verb: _value(joined(3, len(words) - 1)), "key": key}
    if verb in _UPDATE_STEPS and len(args) in (2, 3):
        if len(args) == 3 and args[2] != "locked":
            return f"expected 'locked' after the amount, got {args[2]!r}"
        table: dict[str, Any] = {"on": args[0], verb: _number(args[1])}
        if len(args) == 3:
            table["locked"] = True
        return table
    return f"expected '{STEP_SYNTAX[verb]}', got {' '.join(words)!r}"


def parse_steps(text: str) -> tuple[list[dict[str, Any]], StepError | None]:
    """The step tables of the lines that parse, and the first line that does not.

    Blank lines are skipped; `#` starts a comment (not kept in the file)."""
    tables: list[dict[str, Any]] = []
    error: StepError | None = None
    for n, line in enumerate(str(text).splitlines(), 1):
        code, words = _split_step(line)
        if not words:
            continue
        table = _step_table(code, words)
        if isinstance(table, str):
            error = error or StepError(len(tables), n, table)
            continue
        tables.append(table)
    return tables, error


def _step_line(table: Mapping[str, Any]) -> str:
    if "on" in table and any(k in table for k in model.MANAGER_OPS):
        verb = next(k for k in model.MANAGER_OPS if k in table)
        if verb == "append":
            line = f"append {table['on']} {_inline(table['append'])}"
            if "key" in table:
                line += f" at {_inline(table['key'])}"
            return line + (" assign" if table.get("assign") else "")
        key = "" if "key" not in table else " " + _text(table["key"])
        if verb == "setitem" and "key" in table:
            key = " " + _inline(table["key"])
        return f"{verb} {table['on']}{key} {_inline(table[verb])}"
    if "on" in table:
        verb = next(k for k in _UPDATE_STEPS if k in table)
        line = f"{verb} {table['on']} {_inline(table[verb])}"
        return f"{line} locked" if table.get("locked") else line
    if "put" in table:
        return f"put {table['put']} {_inline(table.get('item', ''))}"
    if "wait_for" in table:
        return f"wait_for {table['wait_for']} {table['until']} {_inline(table['at_least'])}"
    if "write" in table:
        offset, number = _inline(table.get("offset", 0)), _inline(table["number"])
        return f"write {table['write']} {offset} {number}"
    if "fill" in table:
        return f"fill {table['fill']} {_inline(table['byte'])}"
    if "n" in table:
        return f"notify {table['notify']} {_inline(table['n'])}"
    verb, arg = next(iter(table.items()))
    return f"{verb} {_inline(arg) if verb == 'sleep' else arg}"


def step_lines(tables: list[Mapping[str, Any]]) -> str:
    """The steps field for TOML step tables: one line each."""
    return "\n".join(_step_line(t) for t in tables)


def _step_row(text: str, index: int) -> int | None:
    """The line (from 1) of the `index`-th step in the steps field."""
    seen = 0
    for n, line in enumerate(str(text).splitlines(), 1):
        if _split_step(line)[1]:
            if seen == index:
                return n
            seen += 1
    return None


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
    _put_number(out, "terminate_after", e.get("terminate_after"))
    _put_number(out, "joined_after", e.get("joined_after"))
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
    if str(e.get("steps")).strip():  # shown and reported, rather than dropped
        out["steps"] = parse_steps(e.get("steps"))[0]
    return out


def _pool_doc(e: Entry, out: dict[str, Any]) -> dict[str, Any]:
    """A pool process: its work per task and its [process.pool] table, typed as
    TOML lines; text that is no TOML goes to the loader as it is, to be reported."""
    if e.get("work.kind") != "none":
        work = {"kind": e.get("work.kind")}
        _put_number(work, "ms", e.get("work.ms"))
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
            row = _step_row(p.get("steps"), int(step.group(1))) if step.group(1) else None
            return Problem(key, message, p.uid, "steps", row)
        return Problem(key, message, p.uid, _field(m.group(2)))
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


def _shared_values(name: str, table: Mapping[str, Any]) -> dict[str, Any]:
    kind = table["kind"]
    vals = {**SHARED_DEFAULTS, "name": name, "kind": kind}
    vals["typecode"] = table.get("typecode", "i")
    if kind in ("Value", "Semaphore", "BoundedSemaphore"):
        vals["value"] = _inline(table.get("value", 0 if kind == "Value" else 1))
    if "values" in table:
        vals["values"] = ", ".join(_inline(v) for v in table["values"])
    if "parties" in table:
        vals["parties"] = _text(table["parties"])
    if "size" in table:
        vals["size"] = _text(table["size"])
    if kind == "ManagerList":
        vals["values"] = ", ".join(_inline(v) for v in table.get("values", []))
    if "items" in table:
        vals["items"] = ", ".join(
            f"{_inline_key(k)} = {_inline(v)}" for k, v in table["items"].items()
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
        {k: (v if k in ("title", "explain", "topics") else _text(v)) for k, v in meta.items()}
    )
    draft = Draft(scenario=Entry(0, "scenario", values))
    uids: dict[str, int] = {}
    channels = []
    for name, table in doc.get("channels", {}).items():
        uid = len(uids) + 1
        uids[name] = uid
        vals = {**CHANNEL_DEFAULTS, "name": name, "kind": table["kind"]}
        vals["maxsize"] = _text(table.get("maxsize", 0))
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
                vals[key] = _text(table[key])
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
        vals["work.kind"], vals["work.ms"] = work["kind"], _text(work.get("ms", 0))
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
    needs: tuple[str, ...] = ()
    """A steps template: the kinds of shared object its steps work on; `{target}`
    in its steps is the selected (or last) such object, or a new one made from
    the shared template `makes`."""
    makes: str = ""


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

STEPS_TEMPLATES = (
    Template(
        "incrementer",
        "process",
        "shared counter incrementer",
        "counter.value += 1, 100000 times, inside with counter.get_lock(): none lost",
        "incrementer",
        {"role": "steps", "count": "100000", "steps": "add {target} 1 locked"},
        ("Value",),
        "value",
    ),
    Template(
        "racy",
        "process",
        "racy incrementer",
        "counter.value += 1, 200000 times, without the lock: two of them lose updates",
        "racer",
        {"role": "steps", "count": "200000", "steps": "add {target} 1"},
        ("Value",),
        "value",
    ),
    Template(
        "holder",
        "process",
        "lock holder",
        "acquire a lock, hold it 200 ms, release it; 5 times",
        "holder",
        {"role": "steps", "count": "5", "steps": "acquire {target}\nsleep 200\nrelease {target}"},
        model.LOCK_KINDS,
        "lock",
    ),
    Template(
        "setter",
        "process",
        "event setter",
        "sleeps 1 s, then sets an Event: every waiter goes on",
        "setter",
        {"role": "steps", "count": "1", "steps": "sleep 1000\nset {target}"},
        ("Event",),
        "event",
    ),
    Template(
        "waiter",
        "process",
        "event waiter",
        "waits until an Event is set",
        "waiter",
        {"role": "steps", "count": "1", "steps": "wait {target}"},
        ("Event",),
        "event",
    ),
    Template(
        "party",
        "process",
        "barrier party",
        "waits at a Barrier until all its parties are there",
        "party",
        {"role": "steps", "count": "1", "steps": "sleep 200\nwait {target}"},
        ("Barrier",),
        "barrier",
    ),
    Template(
        "appender",
        "process",
        "Manager list appender",
        "l.append(i**i), i its index: seed 003 with replicas = 5",
        "p",
        {"role": "steps", "count": "1", "replicas": "5", "steps": "append {target} {i**i}"},
        ("ManagerList",),
        "manager_list",
    ),
    Template(
        "dict_setter",
        "process",
        "Manager dict setter",
        "d[i] = 'a', i its index: seed 003 with replicas = 5",
        "p",
        {"role": "steps", "count": "1", "replicas": "5", "steps": "setitem {target} {i} a"},
        ("ManagerDict",),
        "manager_dict",
    ),
)
STEPS_TEMPLATES += (
    Template(
        "notifier",
        "process",
        "condition notifier",
        "sleeps 500 ms, then notify_all() under the Condition: its waiters go on",
        "notifier",
        {
            "role": "steps",
            "count": "1",
            "steps": "sleep 500\nacquire {target}\nnotify_all {target}\nrelease {target}",
        },
        ("Condition",),
        "condition",
    ),
    Template(
        "cond_waiter",
        "process",
        "condition waiter",
        "takes the Condition and wait()s until notified (a notify before that is lost)",
        "cwaiter",
        {
            "role": "steps",
            "count": "1",
            "steps": "acquire {target}\nwait {target}\nrelease {target}",
        },
        ("Condition",),
        "condition",
    ),
)
PROCESS_TEMPLATES += STEPS_TEMPLATES
PROCESS_TEMPLATES += (
    Template(
        "globals",
        "process",
        "globals demo",
        "reads its own copy of a module-level global, adds 1 3 times (seed 003)",
        "child",
        {"role": "globals", "count": "3"},
    ),
    Template(
        "coroutines",
        "process",
        "coroutines demo",
        "a generator producer sends 1..5 to a generator consumer, in one process (seed 003)",
        "coroutines",
        {"role": "coroutines", "count": "5"},
    ),
    Template(
        "pool",
        "process",
        "multiprocessing.Pool",
        "owns a Pool(4) and runs map(sum_range, [50, 100, 150]): seed 004's sums",
        "pool",
        {
            "role": "pool",
            "pool": 'processes = 4\nmethod = "map"\nfunction = "sum_range"\n'
            "args = [50, 100, 150]\n",
        },
    ),
)

SHARED_TEMPLATES = (
    Template(
        "value",
        "shared",
        "Value (counter)",
        "Value('i', 0): one number in shared memory, with a lock",
        "counter",
        {"kind": "Value", "typecode": "i", "value": "0"},
    ),
    Template(
        "array",
        "shared",
        "Array",
        "Array('i', [0, 0, 0, 0]): numbers in shared memory, with a lock",
        "array",
        {"kind": "Array", "typecode": "i", "values": "0, 0, 0, 0"},
    ),
    Template("lock", "shared", "Lock", "one holder at a time", "lock", {"kind": "Lock"}),
    Template(
        "rlock", "shared", "RLock", "a Lock its holder may take again", "rlock", {"kind": "RLock"}
    ),
    Template(
        "semaphore",
        "shared",
        "Semaphore",
        "Semaphore(2): at most two holders at a time",
        "slots",
        {"kind": "Semaphore", "value": "2"},
    ),
    Template(
        "bounded_semaphore",
        "shared",
        "BoundedSemaphore",
        "BoundedSemaphore(2): a release too many is an error",
        "slots",
        {"kind": "BoundedSemaphore", "value": "2"},
    ),
    Template("event", "shared", "Event", "a flag: wait() until set()", "go", {"kind": "Event"}),
    Template(
        "barrier",
        "shared",
        "Barrier",
        "Barrier(2): wait() returns when two processes are waiting",
        "barrier",
        {"kind": "Barrier", "parties": "2"},
    ),
    Template(
        "condition",
        "shared",
        "Condition",
        "a lock to wait() on until another process notify()s",
        "cond",
        {"kind": "Condition"},
    ),
    Template(
        "shared_memory",
        "shared",
        "SharedMemory",
        "SharedMemory(size=64): a named block of plain bytes in /dev/shm",
        "block",
        {"kind": "SharedMemory", "size": "64"},
    ),
    Template(
        "manager_list",
        "shared",
        "Manager list",
        "man.list([11, 22, 33]): a list in the manager's server process",
        "ml",
        {"kind": "ManagerList", "values": "11, 22, 33"},
    ),
    Template(
        "manager_dict",
        "shared",
        "Manager dict",
        "man.dict({'name': 'bob'}): a dict in the manager's server process",
        "md",
        {"kind": "ManagerDict", "items": 'name = "bob"'},
    ),
    Template(
        "manager_namespace",
        "shared",
        "Manager Namespace",
        "man.Namespace(): attributes in the manager's server process",
        "ns",
        {"kind": "ManagerNamespace"},
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
    Template(
        "manager_queue",
        "channel",
        "Manager Queue",
        "man.Queue(): a queue in the manager's server process, used through proxies",
        "queue",
        {"kind": "ManagerQueue"},
    ),
    Template(
        "remote_queue",
        "channel",
        "Manager Queue (remote)",
        "a BaseManager serves it on 127.0.0.1; processes connect() with its authkey",
        "queue",
        {"kind": "ManagerQueue", "remote": True},
    ),
)

# Every role, every channel kind and every kind of shared object has a template;
# and each steps template can make what it works on.
assert {t.values["role"] for t in PROCESS_TEMPLATES} == set(model.ROLES)
assert {t.values["kind"] for t in CHANNEL_TEMPLATES} == set(model.CHANNEL_KINDS)
assert {t.values["kind"] for t in SHARED_TEMPLATES} == set(model.SHARED_KINDS)
assert all(
    any(m.key == t.makes and m.values["kind"] in t.needs for m in SHARED_TEMPLATES)
    for t in STEPS_TEMPLATES
)


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
    """Channels and shared objects share one namespace; processes have their own."""
    if section == "process":
        return {e.name for e in draft.processes}
    return {e.name for e in (*draft.channels, *draft.shared)}


_FIELDS: dict[Section, str] = {"channel": "channels", "shared": "shared", "process": "processes"}


def _target(draft: Draft, kinds: tuple[str, ...], context: int | None) -> str | None:
    """The shared object a new steps process works on: the selected one, if it is
    of a kind that fits, else the last one that fits."""
    fits = [o for o in draft.shared if o.get("kind") in kinds]
    chosen = next((o for o in fits if o.uid == context), fits[-1] if fits else None)
    return chosen.name if chosen is not None else None


def _writers(draft: Draft, uid: int) -> list[Entry]:
    return [p for p in draft.processes if uid in p.get("out")]


def _wiring(draft: Draft, role: str, context: int | None) -> dict[str, Any]:
    """Connect a new process where the user is: the selected channel, or the last one.

    A worker also writes to a channel nobody writes yet, if there is one; a
    pinger or ponger only takes a Pipe.
    """
    if role == "steps":
        return {}
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
    """A new entry from `template`, wired near `context` (the selected entry's uid).

    A steps template works on the selected shared object of a kind it needs, or
    the last one; when there is none, one is added first."""
    values = {**_DEFAULTS[template.section], **template.values}
    if template.needs:
        target = _target(draft, template.needs, context)
        if target is None:
            made = next(t for t in SHARED_TEMPLATES if t.key == template.makes)
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
    field_name = _FIELDS[e.section]
    items = getattr(draft, field_name)
    i = items.index(e) + 1
    items = (*items[:i], new, *items[i:])
    return replace(draft, **{field_name: items}, next_uid=draft.next_uid + 1), new.uid


def delete(draft: Draft, uid: int) -> Draft:
    """Remove an entry; a deleted channel is unplugged from every process."""
    e = draft.entry(uid)
    if e.section == "scenario":
        return draft
    if e.section in ("process", "shared"):  # steps naming a deleted object say so
        field_name = _FIELDS[e.section]
        kept = tuple(x for x in getattr(draft, field_name) if x.uid != uid)
        return replace(draft, **{field_name: kept})
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


_SHARED_VALUE = {"Value": "0", "Semaphore": "1", "BoundedSemaphore": "1"}


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
    e = draft.entry(uid)
    if e.get(key) == value:
        return draft
    values = {**e.values, key: value}
    if key in ("payload.kind", "reply.kind"):
        values[key.replace("kind", "size")] = "64" if value == "bytes" else "0"
    steps = e.section == "process" and key == "role" and value == "steps"
    if steps and str(e.get("count")).strip() in ("", "0"):
        values["count"] = "1"
    old_default = ("", _SHARED_VALUE.get(e.get("kind"), ""))
    if e.section == "shared" and key == "kind" and str(e.get("value")).strip() in old_default:
        values["value"] = _SHARED_VALUE.get(value, "")
    new = Entry(uid, e.section, values)
    if e.section == "scenario":
        return replace(draft, scenario=new)
    if e.section in ("shared", "channel") and key == "name":
        draft = _follow_rename(draft, e.name, str(value))
    field_name = _FIELDS[e.section]
    items = tuple(new if x.uid == uid else x for x in getattr(draft, field_name))
    return replace(draft, **{field_name: items})


def _follow_rename(draft: Draft, old: str, new: str) -> Draft:
    """Only when `old` named this object (or channel: one namespace) alone and
    `new` names no other: while a half-typed name equals another's, the steps
    are left alone."""
    names = [o.name for o in (*draft.shared, *draft.channels)]
    if not old or names.count(old) != 1 or new in names or new.split() != [new]:
        return draft
    processes = tuple(
        Entry(p.uid, "process", {**p.values, "steps": _renamed(p.get("steps"), old, new)})
        if p.get("steps")
        else p
        for p in draft.processes
    )
    return replace(draft, processes=processes)
