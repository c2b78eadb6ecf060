"""Word wrapping for the lines whose every word matters: a banner, a wait, a state.

Most lines on the run screen are cut with a "…" when they do not fit (a
wider terminal or the detail panel has them whole). A DEADLOCK or HANG
banner, a line of the wait-for graph and the selected process's state are
the lesson itself, so on a projector at 100 columns they wrap instead, and
they wrap where a reader would: never inside a pid ("(pid 5301)"), a quoted
object ('lock_b') or a time ("6.6 s"), and a continuation is indented under
the first line so it reads as one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text

from ipcplay.tui.widgets.text import TextView

_GLUED = re.compile(
    r"(?:[\w.-]+ )?\(pid \d+\)"  # right (pid 5301)
    r"|'[^']*'"  # 'lock_b'
    r"|(?:· )?[≥~]?\d+(?:\.\d+)? ?(?:s|ms|µs|%)(?![\w])"  # · 6.6 s, 13ms, 40%
    r"|\d+ of \d+"  # 1 of 3
    r"|──▶ \S+"  # an arrow stays with the process it points to
)
"""Spans a line may not break inside."""


def break_points(plain: str) -> list[int]:
    """Offsets of the spaces a line may break at (the space itself is dropped)."""
    glued: set[int] = set()
    for m in _GLUED.finditer(plain):
        glued.update(range(m.start(), m.end()))
    return [i for i, ch in enumerate(plain) if ch == " " and i not in glued]


def wrap(text: Text, width: int, indent: int = 0, fields: bool = False) -> list[Text]:
    """`text` as lines of at most `width` cells; every line after the first
    starts with `indent` spaces. A word longer than a line is cut where it must.
    `fields`: the text is fields set apart by two spaces ("pid 4243  threads 1
    ctx switches 9"), broken between fields where one fits half a line."""
    plain = text.plain
    if width <= 0 or cell_len(plain) <= width:
        return [text]
    indent = min(indent, max(0, width - 24))  # a continuation keeps room for words
    breaks = break_points(plain)
    lines: list[Text] = []
    start = 0
    room = width
    between = {i for i in breaks if fields and plain[i - 1 : i + 1] == "  "}
    while cell_len(plain[start:]) > room:
        fitting = [b for b in breaks if b > start and cell_len(plain[start:b]) <= room]
        whole = [b for b in fitting if b in between and cell_len(plain[start:b]) >= room // 2]
        if whole:
            end, resume = whole[-1], whole[-1] + 1
        elif fitting:
            end, resume = fitting[-1], fitting[-1] + 1
        else:  # one word longer than the line: cut it at the edge
            end = start + 1
            while end < len(plain) and cell_len(plain[start : end + 1]) <= room:
                end += 1
            resume = end
        line = text[start:end]
        line.rstrip()  # in place
        lines.append(line)
        start = resume
        while start < len(plain) and plain[start] == " ":
            start += 1
        room = width - indent
        if start >= len(plain):
            break
    if start < len(plain):
        lines.append(text[start:])
    pad = " " * indent
    return [lines[0], *(Text(pad) + line for line in lines[1:])]


class WrappedView(TextView):
    """A TextView whose lines wrap at its width, each with its own indent.

    The logical lines are kept; the view re-wraps them when it is resized, so
    a wider terminal gets them back on one line."""

    def __init__(self, text: Text | str = "", **kwargs: object) -> None:
        super().__init__(text, **kwargs)
        self._logical: list[tuple[Text, int] | tuple[Text, int, bool]] = [
            (line, 0) for line in self._lines
        ]
        self._wrapped_at = -1

    def set_lines(self, lines: Sequence[tuple[Text, int] | tuple[Text, int, bool]]) -> None:
        """Show `lines` as (text, indent of its continuation lines[, fields]):
        see `wrap`."""
        self._logical = list(lines)
        self._rewrap()

    def _rewrap(self) -> None:
        width = self.size.width
        self._wrapped_at = width
        out: list[Text] = []
        for line, indent, *fields in self._logical:
            out += wrap(line, width, indent, *fields) if width > 0 else [line]
        self.set(Text("\n").join(out) if out else Text())

    def on_resize(self) -> None:
        if self.size.width != self._wrapped_at:
            self._rewrap()
