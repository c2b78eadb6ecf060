"""The example programs ipcplay ships: each seed article's examples, runnable.

They live in `examples/` at the top of the repository and ship in the wheel
as the data package `ipcplay_examples` (as `presets/` ships as
`ipcplay.presets`, but beside `ipcplay/`, not in it: the watch takes every
frame under `ipcplay/` for ipcplay's own, and would count nothing a shipped
example makes), so an installed ipcplay can list them (`ipcplay list`,
the home screen's Programs) and run one by its file name alone:
`ipcplay seed001_bounded_queue.py` runs the file of that name in the current
folder if there is one, else the shipped example. No Textual here: the CLI
and the TUI both read this.

Each example says on its first line where it comes from and what it shows,
`# Seed 001 ("the article's title"): what it shows.`; a file without that
line is still listed, by its name. Every text kept here has been through the
neutraliser: a file name or a comment can hold escape sequences.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ipcplay.safetext import neutralise

__all__ = [
    "ExampleInfo",
    "close_example",
    "example_info",
    "find_example",
    "list_examples",
    "resolve_program",
]

PACKAGE = "ipcplay_examples"
SUFFIX = ".py"
_FIRST_LINE = re.compile(r'#\s*Seed\s+(\d+)\s*\("(.*?)"\)\s*:\s*(.*)')
_READ_LIMIT = 4096
"""Bytes read to find the first line: a listing never reads a whole file."""


@dataclass(frozen=True)
class ExampleInfo:
    """One shipped example as a listing shows it."""

    name: str  # the file name without .py: seed001_bounded_queue
    path: Path
    seed: str  # "001", or "" when the first line does not say
    seed_title: str  # the seed article's title
    description: str  # what it shows, from the first line

    @property
    def file(self) -> str:
        return self.name + SUFFIX


def _checkout_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "examples"


def _example_files() -> list[Path]:
    """The shipped example files by name, installed or from a checkout."""
    try:
        root = resources.files(PACKAGE)
        # A Path or, for a package without __init__.py, a MultiplexedPath whose
        # children are Paths; a zip import gives no files.
        children = [child for child in root.iterdir() if isinstance(child, Path)]
    except (ImportError, OSError):
        folder = _checkout_dir()
        try:
            children = list(folder.iterdir()) if folder.is_dir() else []
        except OSError:
            children = []
    files = [
        path
        for path in children
        if path.suffix == SUFFIX
        and not path.name.startswith((".", "_"))
        and path.name.isascii()
        and path.is_file()
    ]
    return sorted(files, key=lambda path: path.name)


def example_info(path: Path) -> ExampleInfo:
    """Its first line read for the seed and the description; a file that
    cannot be read, or says nothing, is listed by its name alone."""
    name = neutralise(path.stem, multiline=False)
    try:
        with open(path, "rb") as file:
            head = file.read(_READ_LIMIT)
    except OSError:
        head = b""
    first = head.decode("utf-8", errors="replace").split("\n", 1)[0].strip()
    match = _FIRST_LINE.fullmatch(first)
    if match is None:
        description = first.lstrip("#").strip() if first.startswith("#") else ""
        return ExampleInfo(name, path, "", "", neutralise(description, multiline=False))
    seed, title, description = match.groups()
    return ExampleInfo(
        name,
        path,
        seed.zfill(3),
        neutralise(title, multiline=False),
        neutralise(_sentence(description.strip()), multiline=False),
    )


def _sentence(text: str) -> str:
    """The description starts a line of its own in a listing: a capital first."""
    return text[:1].upper() + text[1:]


def list_examples() -> list[ExampleInfo]:
    """Every shipped example, by file name (so by seed, then by topic)."""
    return [example_info(path) for path in _example_files()]


def find_example(file_name: str) -> Path | None:
    """The shipped example with this file name (`seed001_bounded_queue.py`), or None."""
    for path in _example_files():
        if path.name == file_name:
            return path
    return None


def resolve_program(target: str) -> str:
    """What `ipcplay TARGET.py` runs: TARGET if it names something that
    exists (a path always means itself), else, for a bare file name with no
    folder in it, the shipped example of that name; else TARGET unchanged,
    for the caller to say it is missing."""
    if os.path.lexists(target) or os.sep in target or (os.altsep and os.altsep in target):
        return target
    found = find_example(target)
    return str(found) if found is not None else target


def close_example(file_name: str) -> str | None:
    """The shipped example's file name nearest to a mistyped one, or None."""
    names = [path.name for path in _example_files()]
    match = difflib.get_close_matches(file_name, names, n=1, cutoff=0.6)
    return match[0] if match else None
