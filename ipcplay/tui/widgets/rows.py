"""A keyed list of one-line rows that repaints only the lines that changed.

Textual's DataTable and a grid of Sparklines re-render far more than
changes at 10 Hz (a naive grid costs ~16x htop). Here each row is a small
value (whatever its renderer needs); a new snapshot marks a row dirty only
when its value differs, and its Text is built only when the row is on
screen. 128 processes cost the same as the 20 that fit.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ipcplay.tui.widgets.style import CachedStyle, fit

Pieces = list[tuple[str, str]]
"""A line as (text, style name) pieces: straight to segments, several times
cheaper than laying out a Rich Text."""


@lru_cache(maxsize=256)
def _style(name: str) -> Style | None:
    return Style.parse(name) if name else None


@lru_cache(maxsize=1024)
def _on(base: Style, name: str, rgb: Callable[[Style], Style]) -> Style:
    piece = _style(name)
    return rgb(base + piece if piece is not None else base)


def pieces_strip(
    pieces: Pieces, base: Style, width: int, rgb: Callable[[Style], Style] = lambda s: s
) -> Strip:
    """One Strip of exactly `width` cells, the base style already applied.

    Each Strip Textual builds costs seven small caches; the usual route
    (segments → apply_style → crop_extend) makes three per line, this one."""
    segments = []
    n = 0
    for text, name in pieces:
        if text:
            segments.append(Segment(text, _on(base, name, rgb)))
            n += len(text) if text.isascii() else cell_len(text)  # most pieces are ASCII
    if n > width:
        return fit(Strip(segments, n), width, _on(base, "", rgb))
    if n < width:
        segments.append(Segment(" " * (width - n), _on(base, "", rgb)))
    return Strip(segments, width)


class RowView(CachedStyle, ScrollView, can_focus=True):
    """Rows with a cursor; posts `Selected` when the cursor moves."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-10)", show=False),
        Binding("pagedown", "cursor(10)", show=False),
        Binding("home", "cursor(-100000)", show=False),
        Binding("end", "cursor(100000)", show=False),
    ]

    show_cursor = True
    """False for read-only lists (the channel table): no selection bar."""

    cursor: reactive[int] = reactive(0)
    """Index of the selected row; the controls act on it."""

    class Selected(Message):
        def __init__(self, view: RowView, key: str | None) -> None:
            super().__init__()
            self.view = view
            self.key = key

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._keys: list[str] = []
        self._data: dict[str, Any] = {}
        self._strips: dict[str, Strip] = {}
        self._gutter = 0  # the vertical scrollbar's width when the strips were made
        # The cursor row as drawn: (the row's strip, focused, the strip with the bar),
        # so an unchanged cursor row is the same Strip from frame to frame.
        self._cursor_strip: tuple[Strip, bool, Strip] | None = None
        self._render_row: Callable[[Any], Any] = lambda d: d

    @property
    def selected_key(self) -> str | None:
        if 0 <= self.cursor < len(self._keys):
            return self._keys[self.cursor]
        return None

    def set_rows(
        self, rows: list[tuple[str, Any]], render: Callable[[Any], Any] | None = None
    ) -> None:
        """Rows as (key, value); `render(value)` makes the line's Text (by
        default the value is the Text). Unchanged values cost nothing."""
        if render is not None:
            self._render_row = render
        keys = [k for k, _ in rows]
        selected = self.selected_key
        if keys != self._keys:
            self._keys = keys
            self._data = dict(rows)
            self._strips = {}
            self.virtual_size = Size(self.size.width, len(keys))
            if selected in keys:
                self.cursor = keys.index(selected)
            else:
                self.cursor = min(self.cursor, max(0, len(keys) - 1))
            self.refresh()
            return
        top = self.scroll_offset.y
        bottom = top + self.size.height
        first = last = -1
        for y, (k, value) in enumerate(rows):
            if self._data.get(k) != value:
                self._data[k] = value
                self._strips.pop(k, None)
                if top <= y < bottom:
                    if first < 0:
                        first = y
                    last = y
        if first >= 0:
            # One region for all changed visible rows: the compositor's cost is
            # per region as much as per line.
            self.refresh_lines(first, last - first + 1)

    def _line_strip(self, y: int, size: Size) -> Strip:
        width = size.width
        row = self.scroll_offset.y + y
        if row >= len(self._keys):
            return Strip.blank(width, self._rgb()(self._base_style()))
        key = self._keys[row]
        strip = self._strips.get(key)
        if strip is None or strip.cell_length != width:
            rendered = self._render_row(self._data[key])
            base = self._base_style()
            rgb = self._rgb()
            # `size` includes the scrollbar, drawn over the last cells: a long
            # row is cut before it, so its "…" shows.
            room = max(1, width - self._gutter)
            if isinstance(rendered, Text):  # the home screen's few rows
                strip = Strip(list(rendered.render(self.app.console, end="")), rendered.cell_len)
                strip = fit(strip.apply_style(base), room, base)
                strip = Strip(
                    [Segment(t, rgb(st) if st else st, c) for t, st, c in strip], strip.cell_length
                )
            else:
                strip = pieces_strip(rendered, base, room, rgb)
            if room < width:
                strip = strip.extend_cell_length(width, rgb(base))
            self._strips[key] = strip
        if row == self.cursor and self.show_cursor:
            focused = self.has_focus
            cached = self._cursor_strip
            if cached is not None and cached[0] is strip and cached[1] == focused:
                return cached[2]
            # A background that overrides the pieces' own, so coloured text stays readable.
            cursor_style = Style(bgcolor="#264f78" if focused else "#3a3a3a")
            bar = Strip(
                [Segment(s.text, (s.style or Style()) + cursor_style, s.control) for s in strip],
                strip.cell_length,
            )
            self._cursor_strip = (strip, focused, bar)
            return bar
        return strip

    def watch_show_vertical_scrollbar(self, show: bool) -> None:
        """The rows' room changed: kept here, not read for every line drawn
        (a styles lookup, about 1 µs, for each row of each frame)."""
        self._gutter = self.scrollbar_size_vertical
        self._strips = {}

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old)
        self.refresh_line(new)
        self.scroll_to_region_of(new)
        self.post_message(self.Selected(self, self.selected_key))

    def scroll_to_region_of(self, row: int) -> None:
        top = self.scroll_offset.y
        height = self.size.height
        if height <= 0:
            return
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        if self._keys:
            self.cursor = max(0, min(len(self._keys) - 1, self.cursor + delta))

    def on_focus(self) -> None:
        self.refresh_line(self.cursor)

    def on_blur(self) -> None:
        self.refresh_line(self.cursor)

    def on_click(self, event: Click) -> None:
        row = event.y + self.scroll_offset.y
        if 0 <= row < len(self._keys):
            self.cursor = row
        self.focus()

    def _forget_strips(self) -> None:
        if hasattr(self, "_strips"):
            self._strips.clear()
