"""Turn a scenario file into a trusted `Scenario`, or explain in one line why not.

The file is data from anywhere, so everything is checked here, once: the engine
builds real processes and channels from the result and never re-checks it. Every
problem becomes a `ScenarioError` whose text is a single line naming the file,
the key and what was expected, so a CLI can print it as is and exit with 2.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import errno
import math
import os
import re
import stat
import struct
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import tomli_w

from ipcplay.safetext import neutralise
from ipcplay.scenario import model
from ipcplay.scenario.model import (
    ChannelSpec,
    Payload,
    ProcessSpec,
    Scenario,
    SharedSpec,
    Step,
    TourStep,
    Work,
)

__all__ = ["ScenarioError", "dumps", "load", "loads"]

# A scenario is a few hundred bytes; the cap stops a mistyped path (a log, an
# image) from being read whole into memory.
MAX_FILE_BYTES = 4 << 20

_FLT_MAX = 3.4028234663852886e38  # the largest finite C float (typecode 'f')
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_LINE_BREAK = re.compile(r"\s*(?:\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029])\s*")
_BOM = b"\xef\xbb\xbf"
_INT64 = (-(1 << 63), (1 << 63) - 1)

_TOP_KEYS = ("scenario", "channels", "shared", "process", "tour")
_SCENARIO_KEYS = (
    "title",
    "explain",
    "start_method",
    "seed",
    "expect",
    "duration",
    "pitfall",
    "pair",
    "topics",
)
_CHANNEL_KEYS = ("kind", "maxsize", "duplex", "reader_keeps_write_end", "remote")
_PROCESS_KEYS = (
    "name",
    "role",
    "replicas",
    "in",
    "out",
    "count",
    "rate",
    "payload",
    "work",
    "compute",
    "reply",
    "finally",
    "task_done",
    "steps",
    "terminate_after",
    "join_first",
    "join_last",
    "joined_after",
    "pool",
)
_SHARED_KEYS = ("kind", "typecode", "value", "values", "parties", "size", "items")
_STEP_ACTIONS = (
    "acquire",
    "release",
    "wait",
    "set",
    "clear",
    "sleep",
    "on",
    "notify",
    "notify_all",
    "wait_for",
    "write",
    "fill",
    "read",
    *model.CHANNEL_OPS,
)
_STEP_UPDATES = ("add", "multiply", "value")
_STEP_MANAGER = model.MANAGER_OPS
# Keys that go with one action only: notify's n, wait_for's predicate.
_STEP_EXTRAS = {
    "n": ("notify",),
    "until": ("wait_for",),
    "at_least": ("wait_for",),
    "offset": ("write",),
    "number": ("write",),
    "byte": ("fill",),
    "item": ("put",),
}
_STEP_KEYS = (
    *_STEP_ACTIONS,
    *_STEP_UPDATES,
    *_STEP_MANAGER,
    "key",
    "assign",
    "locked",
    *_STEP_EXTRAS,
)
# Condition steps that need the Condition held, as in threading.
_HELD_OPS = ("wait", "notify", "notify_all", "wait_for")
# Which kinds each step may name, and how to say so.
_STEP_TARGETS: dict[str, tuple[tuple[str, ...], str]] = {
    "acquire": ((*model.LOCK_KINDS, *model.DATA_KINDS), "a lock, a semaphore, a Value or an Array"),
    "release": ((*model.LOCK_KINDS, *model.DATA_KINDS), "a lock, a semaphore, a Value or an Array"),
    "wait": (("Event", "Barrier", "Condition"), "an Event, a Barrier or a Condition"),
    "notify": (("Condition",), "a Condition"),
    "notify_all": (("Condition",), "a Condition"),
    "wait_for": (("Condition",), "a Condition"),
    "write": (("SharedMemory",), "a SharedMemory block"),
    "fill": (("SharedMemory",), "a SharedMemory block"),
    "read": (("SharedMemory",), "a SharedMemory block"),
    "set": (("Event",), "an Event"),
    "clear": (("Event",), "an Event"),
    "on": (
        (*model.DATA_KINDS, *model.MANAGER_KINDS),
        "a Value, an Array, or a Manager list, dict or Namespace",
    ),
}
# Which Manager steps each Manager kind takes.
_MANAGER_STEPS = {
    "ManagerList": ("append", "setitem"),
    "ManagerDict": ("setitem", "append"),
    "ManagerNamespace": ("setattr",),
}
MAX_ITEM_CHARS = 256
# Keys of a [[process]] that mean nothing to a `steps` process.
_NOT_FOR_STEPS = ("rate", "payload", "work", "compute", "reply", "finally", "task_done")
_PAYLOAD_KEYS = ("kind", "size", "text", "value")
_WORK_KEYS = ("kind", "ms")
# Keys people reach for when they want a preset to run something. They get a
# clear refusal rather than a "did you mean" that suggests a near-miss key.
_CODE_KEYS = frozenset(
    {"code", "script", "python", "exec", "eval", "command", "cmd", "shell", "import", "module"}
)

_QUEUES = ("Queue", "JoinableQueue", "ManagerQueue")
_SIZED_PAYLOADS = ("bytes", "text")
_DEFAULT_PAYLOAD = Payload()
_DEFAULT_REPLY = ProcessSpec(name="x", role="ponger").reply
_DEFAULT_WORK = Work()
_DEFAULT_SCENARIO = Scenario(name="", title="")
CPU_COUNT = "cpu_count"

# (min inputs, max inputs, min outputs, max outputs); None = no upper bound.
_SHAPES: dict[str, tuple[int, int | None, int, int | None]] = {
    "producer": (0, 0, 1, None),
    "consumer": (1, 1, 0, 0),
    "worker": (1, 1, 1, None),
    "pinger": (1, 1, 1, 1),
    "ponger": (1, 1, 1, 1),
    "steps": (0, 0, 0, 0),
    "globals": (0, 0, 0, 0),
    "coroutines": (0, 0, 0, 0),
    "pool": (0, 0, 0, 0),
}
# A demo role's `count`: increments of its global, items its producer sends.
_DEMO_COUNT = {"globals": 3, "coroutines": 5}
_MAX_DEMO_COUNT = 1000


class ScenarioError(Exception):
    """A scenario file is unusable; `str()` is one printable line.

    The parts stay available so callers can point at the key (a UI may
    highlight it); all three are flattened to one line and neutralised because
    they can quote text from the file.
    """

    def __init__(self, file: str, key: str, message: str) -> None:
        self.file = _one_line(str(file))
        self.key = _one_line(key)
        self.message = _one_line(message)
        super().__init__(file, key, message)  # keeps the error picklable

    def __str__(self) -> str:
        if self.key:
            return f"{self.file}: {self.key}: {self.message}"
        return f"{self.file}: {self.message}"


class _Invalid(Exception):
    """Raised deep in validation, where the file name is not known yet."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(key, message)
        self.key = key
        self.message = message


def _one_line(text: str) -> str:
    return neutralise(_LINE_BREAK.sub(" ", text), multiline=False)


def _fail(key: str, message: str) -> NoReturn:
    raise _Invalid(key, message)


# --------------------------------------------------------------------------- reading


def load(path: str | Path) -> Scenario:
    """Read a scenario file; every way it can be wrong becomes a ScenarioError."""
    file = str(path)
    data = _read_bytes(Path(path), file)
    text = _decode(data, file)
    return loads(text, source=file, name=Path(path).stem)


def file_problem(path: Path) -> str | None:
    """What makes `path` no scenario file, in the words every command uses; None
    for a regular file (through any symbolic links). Why one function: check,
    run, export and the TUI said three different things about a FIFO, a device
    or a symbolic link loop."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "is a symbolic link to nothing" if os.path.islink(path) else "no such file"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link loop, expected a .toml scenario file"
        return f"cannot read the file: {exc.strerror or type(exc).__name__}"
    if stat.S_ISDIR(st.st_mode):
        return "is a directory, expected a .toml scenario file"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file, expected a .toml scenario file"
    return None


def _read_bytes(path: Path, file: str) -> bytes:
    """Refuse directories, devices and FIFOs up front: reading them hangs or lies."""
    try:
        problem = file_problem(path)
        if problem:
            raise ScenarioError(file, "", problem)
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except PermissionError:
        raise ScenarioError(file, "", "cannot read the file: permission denied") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ScenarioError(file, "", f"cannot read the file: {reason}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(
            file, "", f"file is larger than {MAX_FILE_BYTES} bytes; is it really a scenario?"
        )
    return data


def _decode(data: bytes, file: str) -> str:
    """Accept a UTF-8 BOM (some editors add one) and report bad bytes by offset."""
    skip = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + skip
        line = data[:offset].count(b"\n") + 1
        raise ScenarioError(
            file,
            "",
            f"not UTF-8 text: invalid byte 0x{data[offset]:02x} at offset {offset} (line {line})",
        ) from None


def loads(text: str, source: str = "<string>", name: str | None = None) -> Scenario:
    """Parse and validate scenario text; `source` only labels error messages."""
    if name is None:
        name = _default_name(source)
    if not text.strip():
        raise ScenarioError(source, "", "file is empty; expected a [scenario] table with a title")
    doc = _parse_toml(text, source)
    try:
        return _build(doc, name=neutralise(name, multiline=False), source=source)
    except _Invalid as exc:
        raise ScenarioError(source, exc.key, exc.message) from None
    except RecursionError:
        raise ScenarioError(source, "", "values are nested too deeply") from None


def _default_name(source: str) -> str:
    if source.startswith("<") and source.endswith(">"):
        return "scenario"
    return Path(source).stem or "scenario"


def _parse_toml(text: str, source: str) -> dict[str, Any]:
    """tomllib can also fail with ValueError (huge integers) or RecursionError."""
    key = "(syntax)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ScenarioError(
            source, "", f"not valid text: lone surrogate at character {exc.start}"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, key, f"invalid TOML: {exc}") from None
    except ValueError as exc:
        reason = "an integer has too many digits" if "digits" in str(exc) else str(exc)
        raise ScenarioError(source, key, f"invalid TOML: {reason}") from None
    except RecursionError:
        raise ScenarioError(source, key, "invalid TOML: nested too deeply") from None


# --------------------------------------------------------------------------- describing


def _key(path: str, part: str) -> str:
    """Quote odd key parts so the path stays unambiguous when printed."""
    if not _BARE_KEY.fullmatch(part):
        part = '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{path}.{part}" if path else part


def _show(value: Any) -> str:
    """A short, safe rendering of a found value for a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 128 else "a number with too many digits"
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat()
    return ""


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return "a date/time"


def _found(value: Any) -> str:
    """Type plus value: used when the type itself is what is wrong."""
    shown = _show(value)
    return f"{_type_name(value)} ({shown})" if shown else _type_name(value)


def _num(x: float) -> str:
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    if float(x).is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(float(x))


def _suggest(word: str, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


# --------------------------------------------------------------------------- scalars


def _check_keys(table: Mapping[str, Any], path: str, allowed: Sequence[str]) -> None:
    for k in table:
        if k in allowed:
            continue
        where = _key(path, k)
        if k.lower() in _CODE_KEYS:
            _fail(where, "presets cannot run code of their own")
        hint = _suggest(k, allowed) or f"; expected one of {', '.join(allowed)}"
        _fail(where, f"unknown key{hint}")


def _table(value: Any, key: str, what: str = "a table") -> dict[str, Any]:
    if not isinstance(value, dict):
        _fail(key, f"expected {what}, got {_found(value)}")
    return value


def _str(value: Any, key: str, what: str = "a string") -> str:
    if not isinstance(value, str):
        _fail(key, f"expected {what}, got {_found(value)}")
    return value


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        _fail(key, f"expected true or false, got {_found(value)}")
    return value


def _over(value: float, hi: float, cap: str | None) -> str:
    return f" (over the {cap} cap)" if cap and value > hi else ""


def _int(value: Any, key: str, lo: int, hi: int, cap: str | None = None) -> int:
    """Whole numbers only: TOML true is a bool, which Python would take as 1."""
    expected = f"expected a whole number from {lo} to {hi}"
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(key, f"{expected}, got {_found(value)}")
    if not lo <= value <= hi:
        _fail(key, f"{expected}, got {_show(value)}{_over(value, hi, cap)}")
    return value


def _float(
    value: Any, key: str, lo: float, hi: float, cap: str | None = None, *, above: bool = False
) -> float:
    """Ints are fine where a float is wanted; bools and NaN are not."""
    low = f"greater than {_num(lo)} and at most" if above else f"from {_num(lo)} to"
    expected = f"expected a number {low} {_num(hi)}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(key, f"{expected}, got {_found(value)}")
    in_range = (lo < value if above else lo <= value) and value <= hi
    if not in_range:  # also catches NaN, which compares false
        _fail(key, f"{expected}, got {_show(value)}{_over(value, hi, cap)}")
    return float(value) + 0.0  # normalises -0.0


def _choice(value: Any, key: str, choices: Sequence[str]) -> str:
    expected = f"expected one of {', '.join(choices)}"
    if not isinstance(value, str):
        _fail(key, f"{expected}, got {_found(value)}")
    if value not in choices:
        _fail(key, f"{expected}, got {_show(value)}{_suggest(value, choices)}")
    return value


def _identifier(value: Any, key: str, what: str) -> str:
    name = _str(value, key, f"a {what} name (a string)")
    if not _NAME.fullmatch(name):
        _fail(
            key,
            f"invalid {what} name {_show(name)}; expected a letter followed by up to 31 "
            "letters, digits, '_' or '-'",
        )
    return name


def _names(value: Any, key: str) -> tuple[str, ...]:
    """`in`/`out` take one name or a list; a repeated name is surely a mistake."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        _fail(key, f"expected a channel name or a list of names, got {_found(value)}")
    names: list[str] = []
    for i, item in enumerate(items):
        where = key if isinstance(value, str) else f"{key}[{i}]"
        name = _str(item, where, "a channel name (a string)")
        if name in names:
            _fail(key, f"{_show(name)} is listed twice")
        names.append(name)
    return tuple(names)


# --------------------------------------------------------------------------- tables


def _build(doc: dict[str, Any], *, name: str, source: str) -> Scenario:
    _check_keys(doc, "", _TOP_KEYS)
    meta = _parse_meta(doc)
    channels = _parse_channels(doc.get("channels", {}))
    shared = _parse_shared(doc.get("shared", {}), channels)
    processes = _parse_processes(doc, channels, shared)
    _check_whole(channels, processes, shared)
    _check_shared_used(shared, processes)
    _check_joins(processes)
    tour = _parse_tour(doc.get("tour", []), channels, processes)
    return Scenario(
        name=name,
        channels=tuple(channels.values()),
        processes=tuple(processes),
        shared=tuple(shared.values()),
        tour=tour,
        source=source,
        **meta,
    )


def _parse_meta(doc: dict[str, Any]) -> dict[str, Any]:
    if "scenario" not in doc:
        _fail("scenario", "missing [scenario] table; expected one with at least a title")
    table = _table(doc["scenario"], "scenario", "a [scenario] table")
    _check_keys(table, "scenario", _SCENARIO_KEYS)
    if "title" not in table:
        _fail("scenario.title", "missing; expected a non-empty string")
    title = _str(table["title"], "scenario.title", "a non-empty string")
    if not title.strip():
        _fail("scenario.title", "expected a non-empty string, got an empty one")
    meta: dict[str, Any] = {"title": neutralise(title, multiline=False)}
    if "explain" in table:
        meta["explain"] = neutralise(_str(table["explain"], "scenario.explain"), multiline=True)
    if "start_method" in table:
        meta["start_method"] = _choice(
            table["start_method"], "scenario.start_method", model.START_METHODS
        )
    if "seed" in table:
        meta["seed"] = _int(table["seed"], "scenario.seed", *_INT64)
    if "expect" in table:
        meta["expect"] = _choice(table["expect"], "scenario.expect", model.VERDICTS)
    if "duration" in table:
        meta["duration"] = _float(
            table["duration"], "scenario.duration", 0, model.MAX_SECONDS, "MAX_SECONDS", above=True
        )
    if "pitfall" in table:
        meta["pitfall"] = _choice(table["pitfall"], "scenario.pitfall", model.PITFALLS)
    if "pair" in table:
        if "pitfall" not in table:
            _fail(
                "scenario.pair", 'applies to a pitfall preset only (pitfall = "broken" or "fixed")'
            )
        meta["pair"] = _identifier(table["pair"], "scenario.pair", "preset")
    if "topics" in table:
        meta["topics"] = _topics(table["topics"], "scenario.topics")
    return meta


def _topics(value: Any, key: str) -> tuple[str, ...]:
    """A list from TOPICS, each once: the first is the preset's group on the home list."""
    if not isinstance(value, list):
        _fail(key, f'expected a list of topics such as ["queues", "deadlock"], got {_found(value)}')
    topics: list[str] = []
    for i, item in enumerate(value):
        topic = _choice(item, f"{key}[{i}]", model.TOPICS)
        if topic in topics:
            _fail(key, f"{_show(topic)} is listed twice")
        topics.append(topic)
    return tuple(topics)


def _parse_channels(value: Any) -> dict[str, ChannelSpec]:
    table = _table(value, "channels", "a table of channels ([channels.NAME])")
    if len(table) > model.MAX_CHANNELS:
        _fail(
            "channels",
            f"{len(table)} channels, over the MAX_CHANNELS cap of {model.MAX_CHANNELS}",
        )
    return {name: _parse_channel(name, spec) for name, spec in table.items()}


def _parse_channel(name: str, value: Any) -> ChannelSpec:
    key = _key("channels", name)
    _identifier(name, key, "channel")
    table = _table(value, key, f"a table ([channels.{name}]) with a kind")
    _check_keys(table, key, _CHANNEL_KEYS)
    if "kind" not in table:
        _fail(_key(key, "kind"), f"missing; expected one of {', '.join(model.CHANNEL_KINDS)}")
    kind = _choice(table["kind"], _key(key, "kind"), model.CHANNEL_KINDS)
    extra: dict[str, Any] = {}
    if "maxsize" in table:
        if kind not in _QUEUES:
            _fail(
                _key(key, "maxsize"),
                f"applies to Queue, JoinableQueue and ManagerQueue only, not {kind}",
            )
        extra["maxsize"] = _int(
            table["maxsize"], _key(key, "maxsize"), 0, model.MAX_MAXSIZE, "MAX_MAXSIZE"
        )
    if "duplex" in table:
        if kind != "Pipe":
            _fail(_key(key, "duplex"), f"applies to Pipe only, not {kind}")
        extra["duplex"] = _bool(table["duplex"], _key(key, "duplex"))
    if "reader_keeps_write_end" in table:
        k = _key(key, "reader_keeps_write_end")
        if kind != "Pipe" or extra.get("duplex", True):
            _fail(k, 'applies to a one-way Pipe only (kind = "Pipe", duplex = false)')
        extra["reader_keeps_write_end"] = _bool(table["reader_keeps_write_end"], k)
    if "remote" in table:
        if kind != "ManagerQueue":
            _fail(_key(key, "remote"), f"applies to ManagerQueue only, not {kind}")
        extra["remote"] = _bool(table["remote"], _key(key, "remote"))
    return ChannelSpec(name=name, kind=kind, **extra)


def _parse_shared(value: Any, channels: dict[str, ChannelSpec]) -> dict[str, SharedSpec]:
    table = _table(value, "shared", "a table of shared objects ([shared.NAME])")
    if len(table) > model.MAX_SHARED:
        _fail(
            "shared",
            f"{len(table)} shared objects, over the MAX_SHARED cap of {model.MAX_SHARED}",
        )
    out = {}
    for name, spec in table.items():
        if name in channels:
            _fail(_key("shared", name), f"{_show(name)} is already the name of a channel")
        out[name] = _parse_shared_one(name, spec)
    return out


def _parse_shared_one(name: str, value: Any) -> SharedSpec:
    key = _key("shared", name)
    _identifier(name, key, "shared object")
    table = _table(value, key, f"a table ([shared.{name}]) with a kind")
    _check_keys(table, key, _SHARED_KEYS)
    if "kind" not in table:
        _fail(_key(key, "kind"), f"missing; expected one of {', '.join(model.SHARED_KINDS)}")
    kind = _choice(table["kind"], _key(key, "kind"), model.SHARED_KINDS)
    applies = {
        "typecode": model.DATA_KINDS,
        "value": ("Value", "Semaphore", "BoundedSemaphore"),
        "values": ("Array", "ManagerList"),
        "parties": ("Barrier",),
        "size": ("SharedMemory",),
        "items": ("ManagerDict",),
    }
    for k, kinds in applies.items():
        if k in table and kind not in kinds:
            _fail(_key(key, k), f"applies to {' and '.join(kinds)} only, not {kind}")
    f: dict[str, Any] = {}
    if "typecode" in table:
        f["typecode"] = _choice(table["typecode"], _key(key, "typecode"), model.TYPECODES)
    typecode = f.get("typecode", "i")
    if kind == "Value" and "value" in table:
        f["value"] = _typed(table["value"], _key(key, "value"), typecode)
    elif kind in ("Semaphore", "BoundedSemaphore"):
        f["value"] = 1
        if "value" in table:
            f["value"] = _int(table["value"], _key(key, "value"), 0, model.MAX_MAXSIZE)
    if kind == "Array":
        if "values" not in table:
            _fail(_key(key, "values"), "missing; an Array needs its initial values, e.g. [0, 0, 0]")
        items = table["values"]
        if not isinstance(items, list) or not items:
            _fail(
                _key(key, "values"), f"expected a non-empty array of numbers, got {_found(items)}"
            )
        if len(items) > model.MAX_ARRAY:
            _fail(
                _key(key, "values"),
                f"{len(items)} values, over the MAX_ARRAY cap of {model.MAX_ARRAY}",
            )
        f["values"] = tuple(
            _typed(v, f"{_key(key, 'values')}[{i}]", typecode) for i, v in enumerate(items)
        )
    if kind == "ManagerList" and "values" in table:
        items = table["values"]
        if not isinstance(items, list):
            _fail(_key(key, "values"), f"expected an array of items, got {_found(items)}")
        if len(items) > model.MAX_ARRAY:
            _fail(
                _key(key, "values"),
                f"{len(items)} values, over the MAX_ARRAY cap of {model.MAX_ARRAY}",
            )
        f["values"] = tuple(
            _manager_item(v, f"{_key(key, 'values')}[{i}]", index_forms=False)
            for i, v in enumerate(items)
        )
    if kind == "ManagerDict" and "items" in table:
        pairs = _table(table["items"], _key(key, "items"), "a table of initial keys and values")
        if len(pairs) > model.MAX_ARRAY:
            _fail(
                _key(key, "items"),
                f"{len(pairs)} items, over the MAX_ARRAY cap of {model.MAX_ARRAY}",
            )
        f["items"] = tuple(
            (k, _manager_item(v, _key(_key(key, "items"), k), index_forms=False))
            for k, v in pairs.items()
        )
    if kind == "Barrier":
        if "parties" not in table:
            _fail(_key(key, "parties"), "missing; how many processes the Barrier waits for")
        f["parties"] = _int(
            table["parties"], _key(key, "parties"), 1, model.MAX_PARTIES, "MAX_PARTIES"
        )
    if kind == "SharedMemory":
        if "size" not in table:
            _fail(_key(key, "size"), "missing; how many bytes the block holds, e.g. 64")
        f["size"] = _int(table["size"], _key(key, "size"), 1, model.MAX_BLOCK, "MAX_BLOCK")
    return SharedSpec(name=name, kind=kind, **f)


def _manager_item(value: Any, key: str, index_forms: bool = True, nested: bool = False) -> Any:
    """A value a Manager object may hold: a number, a string or a boolean, and
    in an initial value also a list of those (a list inside the list or dict).

    In a step (`index_forms`), the strings "{i}", "{i*i}" and "{i**i}" stand
    for the process's index i and are computed in the process; the loader
    keeps them as written so the file reads back the same.
    """
    if isinstance(value, bool | str):
        if isinstance(value, str) and len(value) > MAX_ITEM_CHARS:
            _fail(key, f"a string of {len(value)} characters, over {MAX_ITEM_CHARS}")
        if isinstance(value, str) and not index_forms and value in model.INDEX_FORMS:
            _fail(key, f"{_show(value)} means the process's index, which only a step has")
        return value
    if isinstance(value, int):
        return _int(value, key, *_INT64)
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return value
    if isinstance(value, list) and not index_forms and not nested:  # a list in a list or dict
        if len(value) > model.MAX_ARRAY:
            _fail(key, f"{len(value)} items, over the MAX_ARRAY cap of {model.MAX_ARRAY}")
        return tuple(
            _manager_item(v, f"{key}[{i}]", index_forms=False, nested=True)
            for i, v in enumerate(value)
        )
    _fail(key, f"expected a number, a string or a boolean, got {_found(value)}")


def _typed(value: Any, key: str, typecode: str) -> int | float:
    """A number a ctypes `typecode` can hold: whole and in range for integer codes."""
    if typecode in model.INT_TYPECODES:
        lo, hi = model.INT_TYPECODES[typecode]
        if isinstance(value, float) and not isinstance(value, bool):
            _fail(key, f"expected a whole number for typecode '{typecode}', got {_show(value)}")
        return _int(value, key, lo, hi)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        _fail(key, f"expected a number for typecode '{typecode}', got {_found(value)}")
    number = float(value) + 0.0
    # A C float holds up to 3.4e38: more became inf in the Value, silently.
    # (What rounds to the largest float is fine: struct rounds as C does.)
    if typecode == "f" and math.isfinite(number):
        try:
            overflows = math.isinf(struct.unpack("f", struct.pack("f", number))[0])
        except OverflowError:  # some Pythons refuse to pack it at all
            overflows = True
        if overflows:
            _fail(
                key, f"{_show(value)} is out of range for typecode 'f' (a C float: ±{_FLT_MAX:.7g})"
            )
    return number


def _parse_steps(
    value: Any,
    key: str,
    shared: dict[str, SharedSpec],
    channels: Mapping[str, ChannelSpec] | None = None,
) -> tuple[Step, ...]:
    if not isinstance(value, list) or not value:
        _fail(key, f"expected a non-empty array of step tables, got {_found(value)}")
    if len(value) > model.MAX_STEPS:
        _fail(key, f"{len(value)} steps, over the MAX_STEPS cap of {model.MAX_STEPS}")
    steps = tuple(
        _parse_step_one(f"{key}[{i}]", v, shared, channels or {}) for i, v in enumerate(value)
    )
    _check_held(key, steps, {n: o.kind for n, o in shared.items()})
    return steps


def _parse_step_one(
    key: str, value: Any, shared: dict[str, SharedSpec], channels: Mapping[str, ChannelSpec]
) -> Step:
    table = _table(value, key, 'a step table such as { acquire = "lock" }')
    _check_keys(table, key, _STEP_KEYS)
    actions = [k for k in _STEP_ACTIONS if k in table]
    if len(actions) != 1:
        got = ", ".join(actions) if actions else "none"
        _fail(key, f"expected exactly one of {', '.join(_STEP_ACTIONS)} in a step, got {got}")
    action = actions[0]
    updates = [k for k in _STEP_UPDATES if k in table]
    if action != "on":
        extra = [k for k in (*_STEP_MANAGER, "key", "assign") if k in table]
        for k in (*updates, *extra, *(["locked"] if "locked" in table else [])):
            _fail(_key(key, k), f"applies to an update step ({{ on = ... }}) only, not {action}")
    for k, owners in _STEP_EXTRAS.items():
        if k in table and action not in owners:
            _fail(_key(key, k), f"applies to a {' or '.join(owners)} step only, not {action}")
    if action == "sleep":
        ms = _float(table["sleep"], _key(key, "sleep"), 0, model.MAX_WORK_MS, "MAX_WORK_MS")
        return Step(op="sleep", ms=ms)
    if action in model.CHANNEL_OPS:
        return _parse_channel_step(key, table, action, channels)
    target = _shared_ref(table[action], _key(key, action), action, shared)
    if action == "notify":
        n = _int(table["n"], _key(key, "n"), 1, model.MAX_PROCESSES) if "n" in table else 1
        return Step(op=action, target=target, amount=n)
    if action == "wait_for":
        return _parse_wait_for(key, table, target, shared)
    if action in ("write", "fill"):
        return _parse_block_write(key, table, action, shared[target])
    if action != "on":
        return Step(op=action, target=target)
    if shared[target].kind in model.MANAGER_KINDS:
        return _parse_manager_step(key, table, target, shared[target].kind)
    for k in (*_STEP_MANAGER, "key", "assign"):
        if k in table:
            _fail(_key(key, k), "applies to a Manager list, dict or Namespace only")
    if len(updates) != 1:
        got = ", ".join(updates) if updates else "none"
        _fail(key, f"an update step needs exactly one of add, multiply, value; got {got}")
    op = updates[0]
    spec = shared[target]
    amount = _typed(table[op], _key(key, op), spec.typecode)
    locked = _bool(table["locked"], _key(key, "locked")) if "locked" in table else False
    return Step(op=op, target=target, amount=amount, locked=locked)


def _parse_channel_step(
    key: str, table: dict[str, Any], action: str, channels: Mapping[str, ChannelSpec]
) -> Step:
    """`{ put = "jobs", item = 42 }` puts 42 on channel jobs (send on a Pipe end);
    `{ get = "jobs" }` takes one item from it. The item is what a Manager step
    may hold: a number, a string, a boolean, or "{i}" for the process's index."""
    where = _key(key, action)
    name = _str(table[action], where, "the name of a channel (a string)")
    if name not in channels:
        _fail(where, f"no channel named {_show(name)}{_missing_hint(name, channels)}")
    if action == "get":
        return Step(op="get", target=name)
    if "item" not in table:
        _fail(_key(key, "item"), 'missing; what to put, e.g. { put = "jobs", item = 42 }')
    return Step(op="put", target=name, item=_manager_item(table["item"], _key(key, "item")))


def _parse_wait_for(
    key: str, table: dict[str, Any], target: str, shared: dict[str, SharedSpec]
) -> Step:
    """`cond.wait_for(lambda: until.value >= at_least)`: the predicate reads a Value."""
    for k in ("until", "at_least"):
        if k not in table:
            _fail(
                _key(key, k),
                "missing; wait_for waits until a Value is at least a number, "
                'e.g. { wait_for = "cond", until = "ready", at_least = 1 }',
            )
    until = _shared_ref(table["until"], _key(key, "until"), "on", shared)
    if shared[until].kind != "Value":
        _fail(_key(key, "until"), f"{_show(until)} is an Array; 'until' needs a Value")
    at_least = _typed(table["at_least"], _key(key, "at_least"), shared[until].typecode)
    return Step(op="wait_for", target=target, amount=at_least, other=until)


def _parse_block_write(key: str, table: dict[str, Any], action: str, block: SharedSpec) -> Step:
    """write: an 8-byte little-endian integer at a byte offset; fill: every byte."""
    if action == "fill":
        if "byte" not in table:
            _fail(
                _key(key, "byte"), 'missing; the byte to fill with, e.g. { fill = "b", byte = 1 }'
            )
        return Step(
            op="fill", target=block.name, amount=_int(table["byte"], _key(key, "byte"), 0, 255)
        )
    if "number" not in table:
        _fail(_key(key, "number"), 'missing; e.g. { write = "b", offset = 0, number = 42 }')
    offset = 0
    if "offset" in table:
        last = block.size - 8
        if last < 0:
            _fail(
                _key(key, "offset"), f"{_show(block.name)} holds {block.size} bytes, fewer than 8"
            )
        offset = _int(table["offset"], _key(key, "offset"), 0, last)
    elif block.size < 8:
        _fail(key, f"{_show(block.name)} holds {block.size} bytes; an 8-byte number needs 8")
    number = _int(table["number"], _key(key, "number"), -(1 << 63), (1 << 63) - 1)
    return Step(op="write", target=block.name, amount=number, offset=offset)


def _parse_manager_step(key: str, table: dict[str, Any], target: str, kind: str) -> Step:
    """`{ on = "ml", append = X }`, `{ on = "md", setitem = X, key = K }`,
    `{ on = "ns", setattr = X, key = "name" }`: one proxy call each."""
    allowed = _MANAGER_STEPS[kind]
    for k in (*_STEP_UPDATES, "locked"):
        if k in table:
            _fail(_key(key, k), f"applies to a Value or an Array, not a {kind}")
    ops = [k for k in _STEP_MANAGER if k in table]
    if len(ops) != 1 or ops[0] not in allowed:
        got = ", ".join(ops) if ops else "none"
        _fail(key, f"a step on a {kind} needs exactly one of {', '.join(allowed)}; got {got}")
    op = ops[0]
    item = _manager_item(table[op], _key(key, op))
    k: Any = None
    assign = False
    if "assign" in table:
        if op != "append" or "key" not in table:
            _fail(_key(key, "assign"), "applies to an append with a key (to a list inside)")
        assign = _bool(table["assign"], _key(key, "assign"))
    if op == "append" and "key" not in table:
        if kind == "ManagerDict":
            _fail(_key(key, "key"), "missing; append on a dict needs the key of a list in it")
    elif "key" not in table:
        what = "the attribute name" if op == "setattr" else "the index or key"
        _fail(_key(key, "key"), f"missing; {op} needs {what}")
    elif op == "setattr":
        k = _str(table["key"], _key(key, "key"), "an attribute name (a string)")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,31}", k):
            _fail(_key(key, "key"), f"{_show(k)} is not a Python attribute name")
        if k.startswith("_"):  # _token, __class__...: the proxy's own, not the shared object's
            _fail(
                _key(key, "key"),
                f"{_show(k)} starts with '_': a Namespace proxy sets such an attribute on "
                "itself, not on the shared Namespace (and _token or __class__ breaks it)",
            )
    elif kind == "ManagerList":
        k = table["key"]
        if k not in model.INDEX_FORMS:
            k = _int(k, _key(key, "key"), -model.MAX_ARRAY, model.MAX_ARRAY - 1)
    else:
        k = _manager_item(table["key"], _key(key, "key"))
    return Step(op=op, target=target, key=k, item=item, assign=assign)


def _shared_ref(value: Any, key: str, action: str, shared: dict[str, SharedSpec]) -> str:
    name = _str(value, key, "the name of a shared object (a string)")
    if name not in shared:
        hint = _suggest(name, shared) or (
            f"; declared: {', '.join(shared)}" if shared else f"; declare it as [shared.{name}]"
        )
        _fail(key, f"no shared object named {_show(name)}{hint}")
    kinds, what = _STEP_TARGETS[action]
    kind = shared[name].kind
    if kind not in kinds:
        _fail(key, f"{_show(name)} is a {kind}; '{action}' needs {what}")
    return name


def _check_held(key: str, steps: tuple[Step, ...], kinds: dict[str, str]) -> None:
    """Every acquire is released by the end of the steps, and only what is held is
    released: the steps run `count` times, and a lock still held at the end would
    be taken again at the next round (a Lock is not re-entrant)."""
    held: list[str] = []
    for i, step in enumerate(steps):
        where = f"{key}[{i}].{step.op}"
        if step.op in _HELD_OPS and step.target not in held and kinds[step.target] == "Condition":
            _fail(
                where,
                f"{step.op} on {_show(step.target)} needs the Condition held; "
                f'add {{ acquire = "{step.target}" }} before it',
            )
        if step.op == "acquire":
            held.append(step.target)
        elif step.op == "release":
            if step.target not in held:
                _fail(
                    where, f"releases {_show(step.target)}, which this process does not hold here"
                )
            del held[len(held) - 1 - held[::-1].index(step.target)]
    if held:
        name = held[-1]
        _fail(key, f'ends holding {_show(name)}; add {{ release = "{name}" }} after its use')


def _check_shared_used(shared: dict[str, SharedSpec], processes: list[ProcessSpec]) -> None:
    used = {n for p in processes for n in p.shared_used}
    for name in shared:
        if name not in used:
            _fail(_key("shared", name), "declared but no process's steps use it")


def _parse_processes(
    doc: dict[str, Any], channels: dict[str, ChannelSpec], shared: dict[str, SharedSpec]
) -> list[ProcessSpec]:
    if "process" not in doc:
        _fail("process", "no processes; add at least one [[process]] table")
    items = doc["process"]
    if isinstance(items, dict):
        _fail("process", "expected an array of tables; write [[process]] with double brackets")
    if not isinstance(items, list):
        _fail("process", f"expected an array of tables ([[process]]), got {_found(items)}")
    if not items:
        _fail("process", "no processes; add at least one [[process]] table")
    if len(items) > model.MAX_PROCESSES:
        _fail(
            "process",
            f"{len(items)} processes, over the MAX_PROCESSES cap of {model.MAX_PROCESSES}",
        )
    return [_parse_process(f"process[{i}]", item, channels, shared) for i, item in enumerate(items)]


def _parse_process(
    key: str, value: Any, channels: dict[str, ChannelSpec], shared: dict[str, SharedSpec]
) -> ProcessSpec:
    table = _table(value, key)
    _check_keys(table, key, _PROCESS_KEYS)
    fields: dict[str, Any] = {}
    for required in ("name", "role"):
        if required not in table:
            _fail(_key(key, required), "missing; every [[process]] needs a name and a role")
    fields["name"] = _identifier(table["name"], _key(key, "name"), "process")
    role = fields["role"] = _choice(table["role"], _key(key, "role"), model.ROLES)
    for side in ("in", "out") if role == "steps" else ():
        if side in table:
            _fail(
                _key(key, side),
                "a steps process names its channels in its steps: "
                '{ get = "NAME" } reads one, { put = "NAME", item = ... } writes one',
            )
    if "replicas" in table:
        fields.update(_parse_replicas(table["replicas"], _key(key, "replicas")))
    fields["inputs"] = _channel_refs(table, key, "in", channels)
    fields["outputs"] = _channel_refs(table, key, "out", channels)
    _check_shape(key, role, fields["inputs"], fields["outputs"])
    for j in ("join_first", "join_last"):
        if j in table:
            fields[j] = _join_refs(table[j], _key(key, j), fields["name"])
    for when in ("joined_after", "terminate_after"):
        if when in table:
            k = _key(key, when)
            fields[when] = _float(table[when], k, 0, model.MAX_SECONDS, "MAX_SECONDS")
            if fields[when] <= 0:
                _fail(k, "expected seconds after the start, more than 0")
    if role == "steps":
        for k in _NOT_FOR_STEPS:
            if k in table:
                _fail(_key(key, k), "does not apply to a steps process")
        if "steps" not in table:
            _fail(_key(key, "steps"), "missing; a steps process needs steps = [{ ... }, ...]")
        steps = fields["steps"] = _parse_steps(table["steps"], _key(key, "steps"), shared, channels)
        for side, op in (("inputs", "get"), ("outputs", "put")):  # as its steps use them
            fields[side] = tuple(dict.fromkeys(s.target for s in steps if s.op == op))
        fields["count"] = 1
        if "count" in table:
            fields["count"] = _int(
                table["count"], _key(key, "count"), 1, model.MAX_COUNT, "MAX_COUNT"
            )
        return ProcessSpec(**fields)
    if role in model.DEMO_ROLES:
        return _parse_demo(key, table, fields)
    if "steps" in table:
        _fail(_key(key, "steps"), f'applies to role "steps" only, not {role}')
    if role == "pool" or "pool" in table:
        return _parse_pool_process(key, table, fields, role)
    fields.update(_parse_activity(table, key, role))
    if "finally" in table:
        fields["ending"] = _parse_ending(table["finally"], _key(key, "finally"))
        _check_ending(_key(key, "finally"), fields, channels)
    if "task_done" in table:
        fields["task_done"] = _bool(table["task_done"], _key(key, "task_done"))
    return ProcessSpec(**fields)


def _join_refs(value: Any, key: str, me: str) -> tuple[str, ...]:
    """Names of other process templates; checked against the file's processes
    once they are all read (see _check_joins)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        _fail(key, f"expected a process name or a list of them, got {_found(value)}")
    if me in items:
        _fail(key, f"a process cannot join itself ({_show(me)})")
    if len(set(items)) != len(items):
        _fail(key, "lists a process twice")
    return tuple(items)


def _check_joins(processes: list[ProcessSpec]) -> None:
    names = [p.name for p in processes]
    for i, p in enumerate(processes):
        for j in ("join_first", "join_last"):
            for target in getattr(p, j):
                if target not in names:
                    _fail(
                        f"process[{i}].{j}",
                        f"no process named {_show(target)}{_suggest(target, names)}",
                    )


def _parse_demo(key: str, table: dict[str, Any], fields: dict[str, Any]) -> ProcessSpec:
    """globals and coroutines take a name, a role, replicas and a count; nothing else."""
    role = fields["role"]
    for k in table:
        if k not in ("name", "role", "replicas", "count", "in", "out"):
            _fail(_key(key, k), f"does not apply to a {role} process")
    fields["count"] = _DEMO_COUNT[role]
    if "count" in table:
        fields["count"] = _int(table["count"], _key(key, "count"), 1, _MAX_DEMO_COUNT)
    return ProcessSpec(**fields)


def _parse_replicas(value: Any, key: str) -> dict[str, Any]:
    """`cpu_count` is resolved now (capped to MAX_REPLICAS) so the engine gets a number."""
    if value == CPU_COUNT:
        return {"replicas": _cpu_replicas(), "replicas_cpu_count": True}
    if isinstance(value, str):
        _fail(
            key,
            f'expected a whole number from 1 to {model.MAX_REPLICAS} or "{CPU_COUNT}", '
            f"got {_show(value)}{_suggest(value, [CPU_COUNT])}",
        )
    return {"replicas": _int(value, key, 1, model.MAX_REPLICAS, "MAX_REPLICAS")}


def _cpu_replicas() -> int:
    return max(1, min(os.cpu_count() or 1, model.MAX_REPLICAS))


def _channel_refs(
    table: dict[str, Any], key: str, field: str, channels: dict[str, ChannelSpec]
) -> tuple[str, ...]:
    if field not in table:
        return ()
    where = _key(key, field)
    names = _names(table[field], where)
    for name in names:
        if name not in channels:
            _fail(where, f"no channel named {_show(name)}{_missing_hint(name, channels)}")
    return names


def _missing_hint(name: str, channels: Mapping[str, ChannelSpec]) -> str:
    hint = _suggest(name, channels)
    if hint:
        return hint
    if channels:
        return f"; declared channels: {', '.join(channels)}"
    return f"; declare it as a [channels.{name}] table"


def _check_shape(key: str, role: str, inputs: tuple[str, ...], outputs: tuple[str, ...]) -> None:
    """Each role's loop reads and writes a fixed number of channels."""
    min_in, max_in, min_out, max_out = _SHAPES[role]
    for field, names, lo, hi, what in (
        ("in", inputs, min_in, max_in, "input"),
        ("out", outputs, min_out, max_out, "output"),
    ):
        if hi == 0 and names:
            _fail(_key(key, field), f"a {role} has no {what} channel; remove '{field}'")
        if not lo <= len(names) <= (hi if hi is not None else len(names)):
            need = "exactly one" if lo == hi else "at least one"
            got = ", ".join(names) if names else "none"
            _fail(_key(key, field), f"a {role} needs {need} {what} channel, got {got}")


def _parse_activity(table: dict[str, Any], key: str, role: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "count" in table:
        fields["count"] = _int(table["count"], _key(key, "count"), 0, model.MAX_COUNT, "MAX_COUNT")
    if "rate" in table:
        fields["rate"] = _float(table["rate"], _key(key, "rate"), 0, model.MAX_RATE, "MAX_RATE")
    if "payload" in table:
        fields["payload"] = _parse_payload(table["payload"], _key(key, "payload"), _DEFAULT_PAYLOAD)
    if "work" in table:
        fields["work"] = _parse_work(table["work"], _key(key, "work"))
    if "compute" in table:
        if role not in ("worker", "consumer"):
            _fail(_key(key, "compute"), f"applies to worker and consumer only, not {role}")
        fields["compute"] = _choice(table["compute"], _key(key, "compute"), model.COMPUTES)
    if "reply" in table:
        if role != "ponger":
            _fail(_key(key, "reply"), f"applies to ponger only, not {role}")
        fields["reply"] = _parse_payload(table["reply"], _key(key, "reply"), _DEFAULT_REPLY)
    return fields


def _payload_size_default(kind: str) -> int:
    """Only bytes have a size by default; text is sent as written unless sized."""
    return _DEFAULT_PAYLOAD.size if kind == "bytes" else 0


def _parse_payload(value: Any, key: str, base: Payload) -> Payload:
    table = _table(value, key, 'a table such as { kind = "bytes", size = 64 }')
    _check_keys(table, key, _PAYLOAD_KEYS)
    kind = base.kind
    if "kind" in table:
        kind = _choice(table["kind"], _key(key, "kind"), model.PAYLOAD_KINDS)
    size = _payload_size_default(kind)
    if "size" in table:
        if kind not in _SIZED_PAYLOADS:
            _fail(_key(key, "size"), f"applies to payload kinds bytes and text only, not {kind}")
        size = _int(
            table["size"], _key(key, "size"), 0, model.MAX_PAYLOAD_BYTES, "MAX_PAYLOAD_BYTES"
        )
    text = base.text
    if "text" in table:
        if kind != "text":
            _fail(_key(key, "text"), f'applies to kind "text" only, not {kind}')
        text = neutralise(_str(table["text"], _key(key, "text")), multiline=True)
        if not text and size:
            _fail(_key(key, "text"), f"cannot repeat an empty text to size {size}")
    if "value" in table and kind != "value":
        _fail(_key(key, "value"), f'applies to kind "value" only, not {kind}')
    if kind == "value" and "value" not in table:
        _fail(_key(key, "value"), 'missing; kind "value" sends this TOML value as is')
    payload_value = _clean_value(table["value"]) if kind == "value" else None
    return Payload(kind=kind, size=size, text=text, value=payload_value)


def _clean_value(value: Any) -> Any:
    """A `value` payload may be shown in the UI, so its strings are neutralised too."""
    if isinstance(value, str):
        return neutralise(value, multiline=True)
    if isinstance(value, list):
        return [_clean_value(v) for v in value]
    if isinstance(value, dict):
        return {neutralise(k, multiline=True): _clean_value(v) for k, v in value.items()}
    return value


def _parse_work(value: Any, key: str) -> Work:
    table = _table(value, key, 'a table such as { kind = "sleep", ms = 100 }')
    _check_keys(table, key, _WORK_KEYS)
    if "kind" not in table:
        _fail(_key(key, "kind"), f"missing; expected one of {', '.join(model.WORK_KINDS)}")
    kind = _choice(table["kind"], _key(key, "kind"), model.WORK_KINDS)
    if "ms" not in table:
        return Work(kind=kind)
    if kind == "none":
        _fail(_key(key, "ms"), 'applies to work kinds sleep and cpu only, not "none"')
    ms = _float(table["ms"], _key(key, "ms"), 0, model.MAX_WORK_MS, "MAX_WORK_MS")
    return Work(kind=kind, ms=ms)


def _parse_ending(value: Any, key: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        _fail(
            key,
            f"expected one of {', '.join(model.ENDINGS)} or a list of them, got {_found(value)}",
        )
    endings: list[str] = []
    for i, item in enumerate(items):
        where = key if isinstance(value, str) else f"{key}[{i}]"
        ending = _choice(item, where, model.ENDINGS)
        if ending in endings:
            _fail(key, f"{_show(ending)} is listed twice")
        endings.append(ending)
    return tuple(endings)


def _check_ending(key: str, fields: dict[str, Any], channels: dict[str, ChannelSpec]) -> None:
    """An ending acts on a channel, so the process must hold one of the right kind."""
    outputs = [channels[n] for n in fields["outputs"]]
    ends = [channels[n] for n in (*fields["inputs"], *fields["outputs"])]
    for ending in fields["ending"]:
        if ending == "poison-pill" and not outputs:
            _fail(key, "'poison-pill' needs an output channel ('out') to send the pill on")
        if ending == "join" and not any(c.kind == "JoinableQueue" for c in outputs):
            _fail(key, "'join' needs an output channel ('out') that is a JoinableQueue")
        if ending == "close" and not any(c.kind == "Pipe" for c in ends):
            _fail(key, "'close' needs a Pipe among the process's 'in' or 'out' channels")


# --------------------------------------------------------------------------- whole file


def _check_whole(
    channels: dict[str, ChannelSpec],
    processes: list[ProcessSpec],
    shared: Mapping[str, SharedSpec] | None = None,
) -> None:
    """Rules that need every process at once, in the order a reader would fix them."""
    _check_unique_names(processes)
    _check_total(processes, channels, shared or {})
    _check_replica_names(processes)
    _check_channels_used(channels, processes)
    for channel in channels.values():
        if channel.kind == "Pipe":
            _check_pipe(channel, processes)


def _check_unique_names(processes: list[ProcessSpec]) -> None:
    first: dict[str, int] = {}
    for i, p in enumerate(processes):
        if p.name in first:
            _fail(
                f"process[{i}].name", f"{_show(p.name)} is already used by process[{first[p.name]}]"
            )
        first[p.name] = i


def _check_total(
    processes: list[ProcessSpec],
    channels: Mapping[str, ChannelSpec],
    shared: Mapping[str, SharedSpec],
) -> None:
    """The cap counts every process a scenario starts: its processes, each
    pool's workers, and the Manager servers. Pool workers used to slip past
    it (nine pools of 16 workers started 155 processes)."""
    roles = sum(p.replicas for p in processes)
    workers = sum(p.replicas * p.pool.processes for p in processes if p.pool is not None)
    queues = [c for c in channels.values() if c.kind == "ManagerQueue"]
    local = any(o.kind in model.MANAGER_KINDS for o in shared.values())
    local = local or any(not c.remote for c in queues)
    servers = int(local) + int(any(c.remote for c in queues))
    total = roles + workers + servers
    if total > model.MAX_PROCESSES:
        counted = "after replicas"
        if workers or servers:
            parts = [f"{roles} after replicas", f"{workers} pool workers"]
            parts.append(f"{servers} Manager server{'s' if servers != 1 else ''}")
            counted = f"({', '.join(parts)})"
        _fail(
            "process",
            f"{total} processes {counted}, over the MAX_PROCESSES cap of {model.MAX_PROCESSES}",
        )


def _replica_names(p: ProcessSpec) -> list[str]:
    """`cpu_count` could mean any count, so reserve every name it might take."""
    n = model.MAX_REPLICAS if p.replicas_cpu_count else p.replicas
    return [f"{p.name}-{k}" for k in range(1, n + 1)] if n > 1 else []


def _check_replica_names(processes: list[ProcessSpec]) -> None:
    owners = {p.name: i for i, p in enumerate(processes)}
    for i, p in enumerate(processes):
        for replica in _replica_names(p):
            if replica in owners:
                _fail(
                    f"process[{owners[replica]}].name",
                    f"{_show(replica)} collides with a replica name of process[{i}] "
                    f"({_show(p.name)} runs as {p.name}-1, {p.name}-2, ...)",
                )


def _check_channels_used(channels: dict[str, ChannelSpec], processes: list[ProcessSpec]) -> None:
    used = {n for p in processes for n in (*p.inputs, *p.outputs)}
    for name in channels:
        if name not in used:
            _fail(_key("channels", name), "declared but no process reads or writes it")


def _check_pipe(channel: ChannelSpec, processes: list[ProcessSpec]) -> None:
    """A Pipe has exactly two ends and each end belongs to one process."""
    users = [(i, p) for i, p in enumerate(processes) if channel.name in (*p.inputs, *p.outputs)]
    for i, p in users:
        if p.replicas != 1 or p.replicas_cpu_count:
            got = f'"{CPU_COUNT}"' if p.replicas_cpu_count else str(p.replicas)
            _fail(
                f"process[{i}].replicas",
                f"must be 1 because the process uses Pipe {_show(channel.name)} "
                f"(a Pipe end belongs to one process), got {got}",
            )
    key = _key("channels", channel.name)
    if channel.duplex:
        if len(users) > 2:
            names = ", ".join(p.name for _, p in users)
            _fail(key, f"a duplex Pipe joins at most 2 processes, one per end; used by {names}")
        return
    for i, p in users:
        if channel.name in p.inputs and channel.name in p.outputs:
            _fail(
                f"process[{i}].in",
                f"uses both ends of one-way Pipe {_show(channel.name)}; "
                "one process writes it ('out') and another reads it ('in')",
            )
    for field, what in (("outputs", "writer ('out')"), ("inputs", "reader ('in')")):
        ends = [p.name for _, p in users if channel.name in getattr(p, field)]
        if len(ends) != 1:
            found = f"{len(ends)} ({', '.join(ends)})" if ends else "none"
            _fail(key, f"a one-way Pipe needs exactly one {what}, found {found}")


# --------------------------------------------------------------------------- tours

_TOUR_KEYS = (
    "say",
    "after",
    "when",
    "on",
    "at_least",
    "timeout",
    "do",
    "to",
    "rate",
    "highlight",
    "hold",
)
_ON_CHANNEL = ("full", "depth")
_ON_PROCESS = ("blocked", "exited")
_DEFAULT_STEP = TourStep()


def _parse_tour(
    value: Any, channels: dict[str, ChannelSpec], processes: list[ProcessSpec]
) -> tuple[TourStep, ...]:
    if not isinstance(value, list):
        _fail("tour", f"expected [[tour]] steps, got {_found(value)}")
    if len(value) > model.MAX_TOUR_STEPS:
        _fail("tour", f"{len(value)} steps, over the MAX_TOUR_STEPS cap of {model.MAX_TOUR_STEPS}")
    procs = {p.name: p for p in processes}
    for p in processes:
        for inst in _replica_names(p):
            procs.setdefault(inst, p)
    return tuple(_parse_step(f"tour[{i}]", step, channels, procs) for i, step in enumerate(value))


def _parse_step(
    key: str, value: Any, channels: dict[str, ChannelSpec], procs: dict[str, ProcessSpec]
) -> TourStep:
    table = _table(value, key, "a [[tour]] step table")
    _check_keys(table, key, _TOUR_KEYS)
    f: dict[str, Any] = {}
    if "say" in table:
        f["say"] = neutralise(_str(table["say"], _key(key, "say")), multiline=True)
    if "after" in table and "when" in table:
        _fail(key, "has both 'after' and 'when'; a step waits for a time or for a state, not both")
    if "after" in table:
        f["after"] = _float(table["after"], _key(key, "after"), 0, model.MAX_SECONDS, "MAX_SECONDS")
    if "when" in table:
        when = f["when"] = _choice(table["when"], _key(key, "when"), model.TOUR_WHEN)
        if when in _ON_CHANNEL + _ON_PROCESS:
            if "on" not in table:
                what = "channel" if when in _ON_CHANNEL else "process"
                _fail(_key(key, "on"), f"missing; 'when = \"{when}\"' needs the {what} it is about")
            f["on"] = _tour_target(
                table["on"], _key(key, "on"), when in _ON_CHANNEL, channels, procs
            )
            if when == "full" and not channels[f["on"]].maxsize:
                _fail(
                    _key(key, "on"), f"channel {_show(f['on'])} has no maxsize, so it is never full"
                )
        elif "on" in table:
            _fail(_key(key, "on"), f"does not apply to 'when = \"{when}\"'")
        if when == "depth":
            if "at_least" not in table:
                _fail(_key(key, "at_least"), "missing; 'when = \"depth\"' needs a number of items")
            f["at_least"] = _int(table["at_least"], _key(key, "at_least"), 1, model.MAX_COUNT)
        elif "at_least" in table:
            _fail(_key(key, "at_least"), "applies only to 'when = \"depth\"'")
        if "timeout" in table:
            f["timeout"] = _float(
                table["timeout"],
                _key(key, "timeout"),
                0,
                model.MAX_SECONDS,
                "MAX_SECONDS",
                above=True,
            )
    else:
        for k in ("on", "at_least", "timeout"):
            if k in table:
                _fail(_key(key, k), "applies only to a step with 'when'")
    if "do" in table:
        do = f["do"] = _choice(table["do"], _key(key, "do"), model.TOUR_DO)
        if do in ("pause-all", "resume-all"):
            if "to" in table:
                _fail(_key(key, "to"), f"does not apply to 'do = \"{do}\"' (every process)")
        else:
            if "to" not in table:
                _fail(_key(key, "to"), f"missing; 'do = \"{do}\"' needs the process to act on")
            f["to"] = _tour_target(table["to"], _key(key, "to"), False, channels, procs)
            spec = procs[f["to"]]
            if do == "rate" and spec.role not in ("producer", "pinger"):
                _fail(
                    _key(key, "to"),
                    f"{_show(f['to'])} is a {spec.role}; only a producer or pinger has a rate",
                )
            if do == "pill" and not spec.inputs:
                _fail(
                    _key(key, "to"),
                    f"{_show(f['to'])} reads no channel, so a poison pill cannot reach it",
                )
        if do == "rate":
            if "rate" not in table:
                _fail(_key(key, "rate"), "missing; 'do = \"rate\"' needs items per second")
            f["rate"] = _float(
                table["rate"], _key(key, "rate"), 0, model.MAX_RATE, "MAX_RATE", above=True
            )
        elif "rate" in table:
            _fail(_key(key, "rate"), "applies only to 'do = \"rate\"'")
    else:
        for k in ("to", "rate"):
            if k in table:
                _fail(_key(key, k), "applies only to a step with 'do'")
    if "highlight" in table:
        name = _str(table["highlight"], _key(key, "highlight"), "a channel or process name")
        if name not in channels and name not in procs:
            known = [*channels, *procs]
            _fail(
                _key(key, "highlight"),
                f"no channel or process named {_show(name)}{_suggest(name, known)}",
            )
        f["highlight"] = name
    if "hold" in table:
        f["hold"] = _bool(table["hold"], _key(key, "hold"))
    if not f.get("say") and not f.get("do") and not f.get("highlight"):
        _fail(key, "does nothing; expected at least one of 'say', 'do' or 'highlight'")
    return TourStep(**f)


def _tour_target(
    value: Any,
    key: str,
    channel: bool,
    channels: dict[str, ChannelSpec],
    procs: dict[str, ProcessSpec],
) -> str:
    what = "channel" if channel else "process"
    name = _str(value, key, f"a {what} name (a string)")
    known = channels if channel else procs
    if name not in known:
        _fail(key, f"no {what} named {_show(name)}{_suggest(name, list(known))}")
    return name


# --------------------------------------------------------------------------- writing


def dumps(scenario: Scenario) -> str:
    """Write the file format back, leaving out defaults so the result reads like a preset."""
    parts = [_toml({"scenario": _dump_meta(scenario)})]
    if scenario.channels:
        parts.append(_toml({"channels": {c.name: _dump_channel(c) for c in scenario.channels}}))
    if scenario.shared:
        parts.append(_toml({"shared": {s.name: _dump_shared(s) for s in scenario.shared}}))
    parts += [_dump_process_section(p) for p in scenario.processes]
    parts += ["[[tour]]\n" + _toml(_dump_step(t)) for t in scenario.tour]
    return "\n".join(parts)


def _dump_step(t: TourStep) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in _TOUR_KEYS:
        v = getattr(t, k)
        if v != getattr(_DEFAULT_STEP, k):
            out[k] = _plain(v) if isinstance(v, float) else v
    return out


def _toml(doc: dict[str, Any]) -> str:
    return tomli_w.dumps(doc, multiline_strings=True)


def _dump_process_section(p: ProcessSpec) -> str:
    """Always `[[process]]`: tomli_w would inline short arrays of tables on one line."""
    fields = _dump_process(p)
    flat = {k: v for k, v in fields.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in fields.items() if isinstance(v, dict)}
    section = "[[process]]\n" + _toml(flat)
    if tables:  # [process.payload] etc. belong to the [[process]] just above
        section += "\n" + _toml({"process": tables})
    return section


def _plain(x: float) -> int | float:
    """30.0 reads better as 30; the loader turns it back into a float."""
    return int(x) if float(x).is_integer() and abs(x) < 1e15 else x


def _dump_meta(s: Scenario) -> dict[str, Any]:
    d = _DEFAULT_SCENARIO
    out: dict[str, Any] = {"title": s.title}
    if s.explain != d.explain:
        out["explain"] = s.explain
    if s.start_method != d.start_method:
        out["start_method"] = s.start_method
    if s.seed != d.seed:
        out["seed"] = s.seed
    if s.expect != d.expect:
        out["expect"] = s.expect
    if s.duration != d.duration:
        out["duration"] = _plain(s.duration)
    if s.pitfall:
        out["pitfall"] = s.pitfall
    if s.pair:
        out["pair"] = s.pair
    if s.topics:
        out["topics"] = list(s.topics)
    return out


def _dump_channel(c: ChannelSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": c.kind}
    if c.maxsize:
        out["maxsize"] = c.maxsize
    if not c.duplex:
        out["duplex"] = False
    if c.reader_keeps_write_end:
        out["reader_keeps_write_end"] = True
    if c.remote:
        out["remote"] = True
    return out


def _dump_shared(s: SharedSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": s.kind}
    if s.kind in model.DATA_KINDS and s.typecode != "i":
        out["typecode"] = s.typecode
    if s.kind == "Value" and s.value:
        out["value"] = s.value
    if s.kind in ("Semaphore", "BoundedSemaphore") and s.value != 1:
        out["value"] = s.value
    if s.kind == "Array":
        out["values"] = list(s.values)
    if s.kind == "Barrier":
        out["parties"] = s.parties
    if s.kind == "SharedMemory":
        out["size"] = s.size
    if s.kind == "ManagerList" and s.values:
        out["values"] = [list(v) if isinstance(v, tuple) else v for v in s.values]
    if s.kind == "ManagerDict" and s.items:
        out["items"] = {k: list(v) if isinstance(v, tuple) else v for k, v in s.items}
    return out


def _dump_process_step(step: Step) -> dict[str, Any]:
    if step.op == "sleep":
        return {"sleep": _plain(step.ms)}
    if step.op == "notify" and step.amount != 1:
        return {"notify": step.target, "n": step.amount}
    if step.op == "wait_for":
        return {"wait_for": step.target, "until": step.other, "at_least": step.amount}
    if step.op == "write":
        return {"write": step.target, "offset": step.offset, "number": step.amount}
    if step.op == "fill":
        return {"fill": step.target, "byte": step.amount}
    if step.op in _STEP_UPDATES:
        out: dict[str, Any] = {"on": step.target, step.op: step.amount}
        if step.locked:
            out["locked"] = True
        return out
    if step.op in _STEP_MANAGER:
        out = {"on": step.target, step.op: step.item}
        if step.key is not None:
            out["key"] = step.key
        if step.assign:
            out["assign"] = True
        return out
    if step.op == "put":
        return {"put": step.target, "item": step.item}
    return {step.op: step.target}


def _one_or_list(items: tuple[str, ...]) -> str | list[str]:
    return items[0] if len(items) == 1 else list(items)


def _dump_process(p: ProcessSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "role": p.role}
    if p.replicas_cpu_count:
        out["replicas"] = CPU_COUNT
    elif p.replicas != 1:
        out["replicas"] = p.replicas
    if p.inputs and p.role != "steps":  # a steps process's come from its steps
        out["in"] = _one_or_list(p.inputs)
    if p.outputs and p.role != "steps":
        out["out"] = _one_or_list(p.outputs)
    if p.count:
        out["count"] = p.count
    if p.rate:
        out["rate"] = _plain(p.rate)
    if p.payload != _DEFAULT_PAYLOAD:
        out["payload"] = _dump_payload(p.payload, _DEFAULT_PAYLOAD)
    if p.work != _DEFAULT_WORK:
        out["work"] = {"kind": p.work.kind, **({"ms": _plain(p.work.ms)} if p.work.ms else {})}
    if p.compute != "none":
        out["compute"] = p.compute
    if p.reply != _DEFAULT_REPLY:
        out["reply"] = _dump_payload(p.reply, _DEFAULT_REPLY)
    if p.ending:
        out["finally"] = _one_or_list(p.ending)
    if not p.task_done:
        out["task_done"] = False
    if p.steps:
        out["steps"] = [_dump_process_step(step) for step in p.steps]
    if p.terminate_after:
        out["terminate_after"] = _plain(p.terminate_after)
    if p.joined_after:
        out["joined_after"] = _plain(p.joined_after)
    if p.join_first:
        out["join_first"] = list(p.join_first)
    if p.join_last:
        out["join_last"] = list(p.join_last)
    if p.pool is not None:
        out["pool"] = _dump_pool(p.pool)
    return out


def _dump_payload(payload: Payload, base: Payload) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": payload.kind}
    if payload.kind in _SIZED_PAYLOADS and payload.size != _payload_size_default(payload.kind):
        out["size"] = payload.size
    if payload.kind == "text" and payload.text != base.text:
        out["text"] = payload.text
    if payload.kind == "value":
        out["value"] = payload.value
    return out


# --------------------------------------------------------------------------- pool

_POOL_KEYS = (
    "processes",
    "maxtasksperchild",
    "method",
    "function",
    "args",
    "chunksize",
    "callback",
    "error_callback",
    "fail_on",
    "die_on",
    "timeout",
    "resubmit",
    "on_error",
    "finally",
)
# Keys of a [[process]] that mean nothing to a pool process (`work` does: each task's work).
_NOT_FOR_POOL = ("count", "rate", "payload", "compute", "reply", "finally", "task_done")
_DEFAULT_POOL = model.PoolSpec()
_STAR_METHODS = ("starmap", "starmap_async")
_ASYNC_METHODS = ("apply_async", "map_async", "starmap_async")


def _parse_pool_process(
    key: str, table: dict[str, Any], fields: dict[str, Any], role: str
) -> ProcessSpec:
    """A pool process: everything it does is in its [process.pool] table."""
    if role != "pool":
        _fail(_key(key, "pool"), f'applies to role "pool" only, not {role}')
    for k in _NOT_FOR_POOL:
        if k in table:
            where = _key(key, k)
            if k == "finally":
                _fail(where, "a pool process ends as its [process.pool] 'finally' says")
            _fail(where, "does not apply to a pool process")
    if "pool" not in table:
        _fail(_key(key, "pool"), "missing; a pool process needs a [process.pool] table")
    if "work" in table:
        fields["work"] = _parse_work(table["work"], _key(key, "work"))
    fields["pool"] = _parse_pool(table["pool"], _key(key, "pool"))
    return ProcessSpec(**fields)


def _parse_pool(value: Any, key: str) -> model.PoolSpec:
    table = _table(value, key)
    _check_keys(table, key, _POOL_KEYS)
    f: dict[str, Any] = {}
    cap = model.MAX_POOL_WORKERS
    if "processes" in table:
        where = _key(key, "processes")
        f["processes"] = _int(table["processes"], where, 1, cap, "MAX_POOL_WORKERS")
    if "maxtasksperchild" in table:
        f["maxtasksperchild"] = _int(
            table["maxtasksperchild"], _key(key, "maxtasksperchild"), 0, model.MAX_POOL_TASKS
        )
    if "method" in table:
        f["method"] = _choice(table["method"], _key(key, "method"), model.POOL_METHODS)
    if "function" in table:
        f["function"] = _choice(table["function"], _key(key, "function"), model.POOL_FUNCTIONS)
    method = f.get("method", _DEFAULT_POOL.method)
    if "args" not in table:
        _fail(_key(key, "args"), "missing; expected the tasks' arguments, e.g. [50, 100, 150]")
    f["calls"] = _parse_pool_calls(table["args"], _key(key, "args"), method)
    if "chunksize" in table:
        where = _key(key, "chunksize")
        f["chunksize"] = _int(table["chunksize"], where, 0, model.MAX_POOL_TASKS)
        if f["chunksize"] and method.startswith("apply"):
            _fail(where, f"applies to the map methods only, not {method}")
    for flag in ("callback", "error_callback"):
        if flag in table:
            f[flag] = _bool(table[flag], _key(key, flag))
            if f[flag] and method not in _ASYNC_METHODS:
                _fail(_key(key, flag), f"needs an *_async method ({', '.join(_ASYNC_METHODS)})")
    for k in ("fail_on", "die_on"):
        if k in table:
            f[k] = _pool_values(table[k], _key(key, k))
    if "timeout" in table:
        where = _key(key, "timeout")
        f["timeout"] = _float(table["timeout"], where, 0, model.MAX_SECONDS, "MAX_SECONDS")
        if f["timeout"] and method != "apply_async":
            _fail(where, "applies to method apply_async only (each result's get(timeout))")
    if "resubmit" in table:
        f["resubmit"] = _bool(table["resubmit"], _key(key, "resubmit"))
        if f["resubmit"] and not f.get("timeout"):
            _fail(_key(key, "resubmit"), "needs a timeout: a task is resubmitted once it times out")
    if "on_error" in table:
        f["on_error"] = _choice(table["on_error"], _key(key, "on_error"), ("raise", "report"))
    if "finally" in table:
        f["ending"] = _parse_pool_ending(table["finally"], _key(key, "finally"))
    return model.PoolSpec(**f)


def _parse_pool_calls(value: Any, key: str, method: str) -> tuple[model.PoolCall, ...]:
    """Each element is one task: a number or string (one argument), a list
    (positional arguments) or an inline table (keyword arguments)."""
    if not isinstance(value, list):
        _fail(key, f"expected a list of task arguments, got {_found(value)}")
    if not value:
        _fail(key, "expected at least one task")
    if len(value) > model.MAX_POOL_TASKS:
        _fail(key, f"{len(value)} tasks, over the MAX_POOL_TASKS cap of {model.MAX_POOL_TASKS}")
    calls = []
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        if isinstance(item, dict):
            if method != "apply_async" and method != "apply":
                _fail(where, f"keyword arguments need method apply or apply_async, not {method}")
            kwds = tuple((k, _pool_value(v, _key(where, k))) for k, v in item.items())
            calls.append(model.PoolCall(kwds=kwds))
        elif isinstance(item, list):
            if method in ("map", "map_async", "imap", "imap_unordered"):
                _fail(where, f"{method} passes one argument per task; use starmap for lists")
            args = tuple(_pool_value(v, f"{where}[{j}]") for j, v in enumerate(item))
            calls.append(model.PoolCall(args=args))
        else:
            if method in _STAR_METHODS:
                _fail(where, f"{method} unpacks each task; expected a list like [1, 2]")
            calls.append(model.PoolCall(args=(_pool_value(item, where),)))
    return tuple(calls)


def _pool_value(value: Any, key: str) -> int | str:
    if isinstance(value, str):
        return neutralise(value, multiline=False)
    return _int(value, key, -(10**9), 10**9)


def _pool_values(value: Any, key: str) -> tuple[int | str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(_pool_value(v, f"{key}[{i}]") for i, v in enumerate(items))


def _parse_pool_ending(value: Any, key: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        _fail(key, f"expected a list of {', '.join(model.POOL_ENDINGS)}, got {_found(value)}")
    out: list[str] = []
    for i, item in enumerate(items):
        where = key if isinstance(value, str) else f"{key}[{i}]"
        step = _choice(item, where, model.POOL_ENDINGS)
        if step in out:
            _fail(key, f"{_show(step)} is listed twice")
        out.append(step)
    if "close" in out and "terminate" in out:
        _fail(key, "close and terminate both end the pool; choose one")
    if "join" in out and out.index("join") == 0:
        _fail(key, "join comes after close or terminate (Pool.join() raises before them)")
    return tuple(out)


def _dump_pool(p: model.PoolSpec) -> dict[str, Any]:
    d = _DEFAULT_POOL
    out: dict[str, Any] = {}
    for k in ("processes", "maxtasksperchild", "method", "function"):
        if getattr(p, k) != getattr(d, k):
            out[k] = getattr(p, k)
    out["args"] = [_dump_pool_call(c, p.method) for c in p.calls]
    for k in ("chunksize", "callback", "error_callback", "resubmit"):
        if getattr(p, k) != getattr(d, k):
            out[k] = getattr(p, k)
    for k in ("fail_on", "die_on"):
        if getattr(p, k):
            out[k] = list(getattr(p, k))
    if p.timeout:
        out["timeout"] = _plain(p.timeout)
    if p.on_error != d.on_error:
        out["on_error"] = p.on_error
    if p.ending != d.ending:
        out["finally"] = list(p.ending)
    return out


def _dump_pool_call(c: model.PoolCall, method: str) -> Any:
    if c.kwds:
        return dict(c.kwds)
    if len(c.args) == 1 and method not in _STAR_METHODS:
        return c.args[0]
    return list(c.args)
