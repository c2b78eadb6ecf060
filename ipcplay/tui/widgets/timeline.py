"""The rewind timeline: one line, the run from its start to now, its moments
marked and the moment shown.

Why one line: on a projector's 100x30 every line is a process row less; the
line says where the moments are (`◆`, red for a deadlock or a hang), where
the view is (`█`) and, after the track, which moment that is in words, so a
teacher pressing shift+← sees what it jumped to without reading the panels.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from ipcplay.history_moments import Moment
from ipcplay.safetext import neutralise
from ipcplay.tui.widgets.text import TextView

ALARM = frozenset({"deadlock", "hang"})
ORDER = {kind: n for n, kind in enumerate(("deadlock", "hang", "blocked", "full", "ended", "tour"))}
"""Several moments of one snapshot are told in this order (the rest after)."""


def timeline_text(
    width: int, first_t: float, last_t: float, at_t: float, moments: Sequence[Moment], at: int
) -> Text:
    """The line for a view at snapshot `at` (time `at_t`) of a run from
    `first_t` to `last_t` seconds, `width` cells wide."""
    track = max(10, min(60, (width - 20) // 3))  # the words after it matter more
    span = max(last_t - first_t, 1e-9)

    def column(t: float) -> int:
        return max(0, min(track - 1, round((t - first_t) / span * (track - 1))))

    cells: list[tuple[str, str]] = [("─", "grey42")] * track
    for moment in moments:
        style = "bold red" if moment.kind in ALARM else "yellow"
        cells[column(moment.t)] = ("◆", style)
    cells[column(at_t)] = ("█", "bold cyan")
    text = Text(f" {first_t:.1f} s ", style="grey62")
    for char, style in cells:
        text.append(char, style=style)
    text.append(f" {last_t:.1f} s ", style="grey62")
    before = [m for m in moments if m.index <= at]
    if not moments:
        text.append("│ no moments yet")
    elif not before:
        text.append(f"│ before the first of {len(moments)} moments")
    else:
        index = before[-1].index  # the moment(s) of one snapshot, told together
        same = [m for m in before if m.index == index]
        first, last = len(before) - len(same) + 1, len(before)
        numbers = f"{first}" if first == last else f"{first}-{last}"
        same.sort(key=lambda m: ORDER.get(m.kind, len(ORDER)))  # the one that matters first
        words = "; ".join(neutralise(m.words, multiline=False) for m in same)
        if index == at:
            text.append(f"│ moment {numbers}/{len(moments)}: ", style="bold")
        else:
            text.append(f"│ after moment {numbers}/{len(moments)} at {same[0].t:.2f} s: ")
        text.append(words)
    if text.cell_len > width:
        text.truncate(max(1, width - 1))
        text.append("…")
    return text


class Timeline(TextView):
    """Shown while the view is rewound, and in a replay (a saved run)."""

    DEFAULT_CSS = """
    Timeline { height: 1; }
    """

    def show(
        self, first_t: float, last_t: float, at_t: float, moments: Sequence[Moment], at: int
    ) -> None:
        self.set(timeline_text(self.size.width or 100, first_t, last_t, at_t, moments, at))
