"""Small pure functions that turn numbers into words and glyphs.

The plain ones live in ipcplay/words.py, below the front ends, so that the
headless run uses them without importing the TUI; they are re-exported here.
"""

from __future__ import annotations

from rich.text import Text

from ipcplay.words import (
    BLOCKS,
    array_text,
    duration,
    fill_pieces,
    fill_style,
    notes_text,
    number,
    pool_text,
    rate,
    reflow,
    shared_kind,
    shared_state,
    size,
    sparkline,
    state_words,
    wait,
)


def fill_bar(depth: int, maxsize: int, width: int) -> Text:
    return Text.assemble(*fill_pieces(depth, maxsize, width))


__all__ = [
    "BLOCKS",
    "array_text",
    "duration",
    "fill_bar",
    "fill_pieces",
    "fill_style",
    "notes_text",
    "number",
    "pool_text",
    "rate",
    "reflow",
    "shared_kind",
    "shared_state",
    "size",
    "sparkline",
    "state_words",
    "wait",
]
