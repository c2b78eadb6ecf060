"""Turn a scenario file into a trusted `Scenario`, or explain in one line why not.

The file is data from anywhere, so everything is checked here, once: the engine
builds real processes and channels from the result and never re-checks it. Every
problem becomes a `ScenarioError` whose text is a single line naming the file,
the key and what was expected, so a CLI can print it as is and exit with 2.
"""

from __future__ import annotations

import errno
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from ipcplay.safetext import neutralise
from ipcplay.scenario import model
from ipcplay.scenario.checks import (
    INT64,
    Invalid,
    ScenarioError,
    as_choice,
    as_float,
    as_identifier,
    as_int,
    as_str,
    as_table,
    check_keys,
    described,
    fail,
    show,
)
from ipcplay.scenario.dump import dumps
from ipcplay.scenario.load_challenge import parse_challenge
from ipcplay.scenario.load_channels import parse_channels
from ipcplay.scenario.load_processes import check_joins, check_whole, parse_processes
from ipcplay.scenario.load_shared import check_shared_used, parse_shared
from ipcplay.scenario.load_tour import parse_tour
from ipcplay.scenario.model import Scenario

__all__ = ["ScenarioError", "dumps", "load", "loads"]


# A scenario is a few hundred bytes; the cap stops a mistyped path (a log, an
# image) from being read whole into memory.
MAX_FILE_BYTES = 4 << 20
_BOM = b"\xef\xbb\xbf"
_TOP_KEYS = ("scenario", "channels", "shared", "process", "tour", "challenge")
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
        status = os.stat(path)
    except FileNotFoundError:
        return "is a symbolic link to nothing" if os.path.islink(path) else "no such file"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link loop, expected a .toml scenario file"
        return f"cannot read the file: {exc.strerror or type(exc).__name__}"
    if stat.S_ISDIR(status.st_mode):
        return "is a directory, expected a .toml scenario file"
    if not stat.S_ISREG(status.st_mode):
        return "is not a regular file, expected a .toml scenario file"
    return None


def _read_bytes(path: Path, file: str) -> bytes:
    """Refuse directories, devices and FIFOs up front: reading them hangs or lies."""
    try:
        problem = file_problem(path)
        if problem:
            raise ScenarioError(file, "", problem)
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
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
    except Invalid as exc:
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


def _build(doc: dict[str, Any], *, name: str, source: str) -> Scenario:
    check_keys(doc, "", _TOP_KEYS)
    meta = _parse_meta(doc)
    channels = parse_channels(doc.get("channels", {}))
    shared = parse_shared(doc.get("shared", {}), channels)
    processes = parse_processes(doc, channels, shared)
    check_whole(channels, processes, shared)
    check_shared_used(shared, processes)
    check_joins(processes)
    tour = parse_tour(doc.get("tour", []), channels, processes)
    challenge = parse_challenge(doc["challenge"], channels, shared) if "challenge" in doc else None
    return Scenario(
        name=name,
        channels=tuple(channels.values()),
        processes=tuple(processes),
        shared=tuple(shared.values()),
        tour=tour,
        challenge=challenge,
        source=source,
        **meta,
    )


def _parse_meta(doc: dict[str, Any]) -> dict[str, Any]:
    if "scenario" not in doc:
        fail("scenario", "missing [scenario] table; expected one with at least a title")
    table = as_table(doc["scenario"], "scenario", "a [scenario] table")
    check_keys(table, "scenario", _SCENARIO_KEYS)
    if "title" not in table:
        fail("scenario.title", "missing; expected a non-empty string")
    title = as_str(table["title"], "scenario.title", "a non-empty string")
    if not title.strip():
        fail("scenario.title", "expected a non-empty string, got an empty one")
    meta: dict[str, Any] = {"title": neutralise(title, multiline=False)}
    if "explain" in table:
        meta["explain"] = neutralise(as_str(table["explain"], "scenario.explain"), multiline=True)
    if "start_method" in table:
        meta["start_method"] = as_choice(
            table["start_method"], "scenario.start_method", model.START_METHODS
        )
    if "seed" in table:
        meta["seed"] = as_int(table["seed"], "scenario.seed", *INT64)
    if "expect" in table:
        meta["expect"] = as_choice(table["expect"], "scenario.expect", model.VERDICTS)
    if "duration" in table:
        meta["duration"] = as_float(
            table["duration"], "scenario.duration", 0, model.MAX_SECONDS, "MAX_SECONDS", above=True
        )
    if "pitfall" in table:
        meta["pitfall"] = as_choice(table["pitfall"], "scenario.pitfall", model.PITFALLS)
    if "pair" in table:
        if "pitfall" not in table:
            fail(
                "scenario.pair", 'applies to a pitfall preset only (pitfall = "broken" or "fixed")'
            )
        meta["pair"] = as_identifier(table["pair"], "scenario.pair", "preset")
    if "topics" in table:
        meta["topics"] = _topics(table["topics"], "scenario.topics")
    return meta


def _topics(value: Any, key: str) -> tuple[str, ...]:
    """A list from TOPICS, each once: the first is the preset's group on the home list."""
    if not isinstance(value, list):
        fail(
            key, f'expected a list of topics such as ["queues", "deadlock"], got {described(value)}'
        )
    topics: list[str] = []
    for index, item in enumerate(value):
        topic = as_choice(item, f"{key}[{index}]", model.TOPICS)
        if topic in topics:
            fail(key, f"{show(topic)} is listed twice")
        topics.append(topic)
    return tuple(topics)
