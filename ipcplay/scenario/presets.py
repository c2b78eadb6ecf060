"""Find scenario files by name: the built-in presets, then the user's own.

Built-ins ship inside the wheel as the package `ipcplay.presets`; in a plain
checkout that package does not exist, so the top-level `presets/` folder next to
`ipcplay/` is used instead. Names are matched against known files only, never
joined onto a path, so a name cannot reach outside the preset folders.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from ipcplay.scenario.loader import ScenarioError, file_problem, load

__all__ = ["PresetInfo", "list_presets", "preset_info", "resolve", "user_dir"]

Origin = Literal["built-in", "user", "file"]
SUFFIX = ".toml"


@dataclass(frozen=True)
class PresetInfo:
    """One line of a preset listing; `error` is set instead of failing the whole list."""

    name: str
    path: Path
    title: str
    origin: Origin
    error: str | None = None


def user_dir() -> Path:
    """Where the user's own presets live; IPCPLAY_HOME wins so tests can isolate it."""
    home = os.environ.get("IPCPLAY_HOME")
    if home:
        return Path(home) / "presets"
    config = os.environ.get("XDG_CONFIG_HOME")
    if config and Path(config).is_absolute():  # the XDG spec says to ignore relative ones
        return Path(config) / "ipcplay" / "presets"
    return Path(os.path.expanduser("~")) / ".config" / "ipcplay" / "presets"


def _builtins() -> dict[str, Path]:
    """Name -> file of the built-in presets, installed or from a checkout."""
    try:
        root = resources.files("ipcplay.presets")
    except ImportError:
        return _toml_files(_checkout_dir())
    # files() may give a Path or, for a package without __init__.py, a
    # MultiplexedPath whose children are Paths; a zip import gives no files.
    children = [c for c in root.iterdir() if isinstance(c, Path)]
    return _by_name(children)


def _checkout_dir() -> Path:
    return Path(__file__).resolve().parent.parent.parent / "presets"


def _toml_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    try:
        return _by_name(list(folder.iterdir()))
    except OSError:
        return {}


def _by_name(paths: list[Path]) -> dict[str, Path]:
    """Name -> file for the visible *.toml files, sorted by name."""
    files = [p for p in paths if p.suffix == SUFFIX and not p.name.startswith(".") and p.is_file()]
    return {p.stem: p for p in sorted(files, key=lambda p: p.stem)}


def _users() -> dict[str, Path]:
    return _toml_files(user_dir())


def preset_info(path: Path, origin: Origin = "file") -> PresetInfo:
    """Load a file just enough to list it; a broken file is reported, not raised."""
    try:
        scenario = load(path)
    except ScenarioError as exc:
        return PresetInfo(name=path.stem, path=path, title="", origin=origin, error=str(exc))
    return PresetInfo(name=scenario.name, path=path, title=scenario.title, origin=origin)


def list_presets() -> list[PresetInfo]:
    """Built-ins by name, then the user's; a user file shadowing a built-in is still shown."""
    infos = [preset_info(path, "built-in") for path in _builtins().values()]
    infos += [preset_info(path, "user") for path in _users().values()]
    return infos


def resolve(name_or_path: str) -> Path:
    """An existing file wins, then a built-in name, then a user preset name."""
    candidate = Path(name_or_path)
    if os.path.lexists(candidate):  # something is there: a file, a FIFO, a device, a link...
        problem = file_problem(candidate)
        if problem is None:
            return candidate
        if problem != "is a symbolic link to nothing":  # a name may still be a preset's
            raise ScenarioError(name_or_path, "", problem)
    name = name_or_path[: -len(SUFFIX)] if name_or_path.endswith(SUFFIX) else name_or_path
    builtins, users = _builtins(), _users()
    for table in (builtins, users):
        if name in table:
            return table[name]
    known = sorted({*builtins, *users})
    match = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{match[0]}'?" if match else ""
    raise ScenarioError(name_or_path, "", f"no such preset or file{hint}")
