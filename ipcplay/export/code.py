"""A small builder for indented Python source, and the wrapping it needs.

The generated script should look hand-written and pass ruff, so long calls
are wrapped the way `ruff format` wraps them: all arguments on one indented
line if they fit, else one per line with a trailing comma.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

INDENT = "    "
LIMIT = 100  # ruff's line length for this project, and for the scripts


class Code:
    """Lines of source at the current indentation; `block` opens a suite."""

    def __init__(self, level: int = 0) -> None:
        self.lines: list[str] = []
        self.level = level

    def __call__(self, line: str = "", comment: str = "") -> None:
        """Add `line`, with `comment` after it, or on its own line above it
        when both would not fit in LIMIT columns."""
        pad = INDENT * self.level
        if comment:
            if len(pad) + len(line) + 4 + len(comment) <= LIMIT or not line:
                line = f"{line}  # {comment}" if line else f"# {comment}"
            else:
                self.lines.append(f"{pad}# {comment}")
        self.lines.append(pad + line if line else "")

    def many(self, text: str) -> None:
        """Add pre-formatted lines (say, a wrapped call) at this indentation."""
        for line in text.split("\n"):
            self(line)

    @contextmanager
    def block(self, header: str, comment: str = "", *, once: bool = False) -> Iterator[None]:
        """A suite under `header`; with `once`, the body alone at this level
        (a loop that would run exactly one time is not written as a loop)."""
        if once:
            yield
            return
        self(header, comment)
        self.level += 1
        try:
            yield
        finally:
            self.level -= 1

    def text(self) -> str:
        return "\n".join(self.lines)


def call(head: str, args: Sequence[str], tail: str = "", *, indent: int = 0) -> str:
    """`head(arg, ...)tail` on one line, or wrapped to fit LIMIT at `indent` levels."""
    width = LIMIT - len(INDENT) * indent
    one = f"{head}({', '.join(args)}){tail}"
    if len(one) <= width:
        return one
    inner = ", ".join(args)
    if len(INDENT) + len(inner) <= width:
        return f"{head}(\n{INDENT}{inner}\n){tail}"
    return f"{head}(\n" + "".join(f"{INDENT}{arg},\n" for arg in args) + f"){tail}"


def quoted(name: str) -> str:
    """A scenario name as a string literal. Names are letters, digits, `_` and
    `-` (the loader checks), so this is just double quotes; anything else
    would still come out as a safe literal."""
    if name and all(char.isascii() and (char.isalnum() or char in "_-") for char in name):
        return f'"{name}"'
    return repr(name)


def number(value: float) -> str:
    """A number as a person would write it: 10 rather than 10.0."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def items(count: int, word: str = "item") -> str:
    """`1 item`, `3 items`."""
    return f"{count} {word}{'' if count == 1 else 's'}"
