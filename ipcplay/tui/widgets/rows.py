"""A keyed list of rows that repaints only the lines that changed.

Textual's DataTable and a grid of Sparklines re-render far more than
changes at 10 Hz (a naive grid costs ~16x htop). Here each row is a small
value (whatever its renderer needs); a new snapshot marks a row dirty only
when its value differs, and its Text is built only when the row is on
screen. 128 processes cost the same as the 20 that fit. A row is one line,
cut with "…"; in a view that allows it (`measure`), a row too long for the
width wraps onto more lines instead.
"""

from __future__ import annotations

from bisect import bisect_right
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
from ipcplay.tui.widgets.wrap import wrap

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

    measure: Callable[[Any], int] | None = None
    """A row's length in cells, cheaply, for rows that wrap when too long
    (None: every row is one line, cut with "…")."""

    wrap_indent = 0
    """Where a wrapped row's next lines start (the process rows: the state column)."""

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
        self._strips: dict[str, list[Strip]] = {}
        self._heights: dict[str, int] = {}  # rows of more than one line
        self._starts: list[int] = []  # each row's first line, and the total ([] if all one)
        self._measured_at = -1
        self._gutter = 0  # the vertical scrollbar's width when the strips were made
        # The cursor row as drawn: (the row's strip, focused, the strip with the bar),
        # so an unchanged cursor row is the same Strip from frame to frame.
        self._cursor_strip: tuple[Strip, bool, Strip] | None = None
        self._render_row: Callable[[Any], Any] = lambda d: d

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def selected_key(self) -> str | None:
        if 0 <= self.cursor < len(self._keys):
            return self._keys[self.cursor]
        return None

    @property
    def line_count(self) -> int:
        """Lines the rows take (more than `row_count` when some wrap)."""
        return self._starts[-1] if self._starts else len(self._keys)

    def shown_rows(self) -> tuple[int, int]:
        """The first and last row (0-based) with a line on screen."""
        top = self.scroll_offset.y
        bottom = max(top, min(top + self.size.height, self.line_count) - 1)
        return self._row_at(top)[0], self._row_at(bottom)[0]

    # ------------------------------------------------------- rows that wrap
    # `measure` set (the process rows): a row longer than the view wraps under
    # its `wrap_indent`th cell instead of being cut; a DEADLOCK row's "held by
    # right, which …" is the lesson. Rows are still one line each until one is
    # too long; only then do `_heights` and `_starts` map lines to rows.

    def _row_at(self, line: int) -> tuple[int, int]:
        """(row, its line) for a line of the view's content."""
        if not self._starts:
            return line, 0
        row = bisect_right(self._starts, line) - 1
        return row, line - self._starts[row]

    def _line_of(self, row: int) -> int:
        return self._starts[row] if self._starts and row < len(self._keys) else row

    def _height_of(self, row: int) -> int:
        return self._heights.get(self._keys[row], 1) if 0 <= row < len(self._keys) else 1

    def _room(self) -> int:
        return max(1, self.size.width - self._gutter)

    def _measure(self, value: Any) -> int:
        """How many lines the row takes: one, unless `measure` says it is too long."""
        if self.measure is None or self.size.width <= 0 or self.measure(value) <= self._room():
            return 1
        return len(self._wrapped(self._render_row(value)))

    def _wrapped(self, rendered: Any) -> list[Text]:
        text = rendered if isinstance(rendered, Text) else Text.assemble(*rendered)
        return wrap(text, self._room(), self.wrap_indent)

    def _remeasure(self) -> None:
        """Every row's height again (new rows, or a new width), and the view's."""
        if self.measure is not None:
            self._heights = {}
            for key in self._keys:
                h = self._measure(self._data[key])
                if h > 1:
                    self._heights[key] = h
        self._relayout()

    def _relayout(self) -> None:
        if self._heights:
            starts = [0]
            for key in self._keys:
                starts.append(starts[-1] + self._heights.get(key, 1))
            self._starts = starts
        else:
            self._starts = []
        self._strips = {}
        self.virtual_size = Size(self.size.width, self.line_count)
        self.refresh()

    def on_resize(self) -> None:
        if self.measure is not None and self.size.width != self._measured_at:
            self._measured_at = self.size.width
            self._remeasure()
        # Fewer lines now (a tour's caption came): the selected row stays in sight.
        self.scroll_to_region_of(self.cursor)

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
            self._remeasure()
            if selected in keys:
                self.cursor = keys.index(selected)
            else:
                self.cursor = min(self.cursor, max(0, len(keys) - 1))
            return
        top = self.scroll_offset.y
        bottom = top + self.size.height
        first = last = -1
        relayout = False
        for row, (k, value) in enumerate(rows):
            if self._data.get(k) != value:
                self._data[k] = value
                self._strips.pop(k, None)
                if self.measure is not None:
                    height = self._measure(value)
                    if height != self._heights.get(k, 1):
                        relayout = True
                        if height > 1:
                            self._heights[k] = height
                        else:
                            self._heights.pop(k, None)
                y = self._line_of(row)
                end = y + self._height_of(row) - 1
                if y < bottom and end >= top:
                    if first < 0:
                        first = y
                    last = end
        if relayout:
            self._relayout()
        elif first >= 0:
            # One region for all changed visible rows: the compositor's cost is
            # per region as much as per line.
            self.refresh_lines(first, last - first + 1)

    def _row_strips(self, key: str, width: int) -> list[Strip]:
        """The row's line(s), exactly `width` cells each, cached until it changes."""
        strips = self._strips.get(key)
        if strips is not None and strips[0].cell_length == width:
            return strips
        rendered = self._render_row(self._data[key])
        base = self._base_style()
        rgb = self._rgb()
        # `size` includes the scrollbar, drawn over the last cells: a long
        # row is cut before it, so its "…" shows.
        room = max(1, width - self._gutter)
        if key in self._heights:  # too long, and allowed to wrap
            strips = [self._text_strip(line, base, rgb, room) for line in self._wrapped(rendered)]
        elif isinstance(rendered, Text):  # the home screen's few rows
            strips = [self._text_strip(rendered, base, rgb, room)]
        else:
            strips = [pieces_strip(rendered, base, room, rgb)]
        if room < width:
            strips = [strip.extend_cell_length(width, rgb(base)) for strip in strips]
        self._strips[key] = strips
        return strips

    def _text_strip(
        self, text: Text, base: Style, rgb: Callable[[Style], Style], room: int
    ) -> Strip:
        strip = Strip(list(text.render(self.app.console, end="")), text.cell_len)
        strip = fit(strip.apply_style(base), room, base)
        return Strip(
            [Segment(t, rgb(st) if st else st, c) for t, st, c in strip], strip.cell_length
        )

    def _line_strip(self, y: int, size: Size) -> Strip:
        width = size.width
        row, sub = self._row_at(self.scroll_offset.y + y)
        if row >= len(self._keys):
            return Strip.blank(width, self._rgb()(self._base_style()))
        strips = self._row_strips(self._keys[row], width)
        if sub >= len(strips):
            return Strip.blank(width, self._rgb()(self._base_style()))
        strip = strips[sub]
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
        if self.measure is not None:
            self._remeasure()

    def _refresh_row(self, row: int) -> None:
        self.refresh_lines(self._line_of(row), self._height_of(row))

    def watch_cursor(self, old: int, new: int) -> None:
        self._refresh_row(old)
        self._refresh_row(new)
        self.scroll_to_region_of(new)
        self.post_message(self.Selected(self, self.selected_key))

    def scroll_to_region_of(self, row: int) -> None:
        top = self.scroll_offset.y
        height = self.size.height
        if height <= 0:
            return
        first = self._line_of(row)
        last = first + self._height_of(row) - 1
        if first < top:
            self.scroll_to(y=first, animate=False)
        elif last >= top + height:
            self.scroll_to(y=max(first, last - height + 1), animate=False)

    def action_cursor(self, delta: int) -> None:
        if self._keys:
            self.cursor = max(0, min(len(self._keys) - 1, self.cursor + delta))

    def on_focus(self) -> None:
        self._refresh_row(self.cursor)

    def on_blur(self) -> None:
        self._refresh_row(self.cursor)

    def on_click(self, event: Click) -> None:
        row = self._row_at(event.y + self.scroll_offset.y)[0]
        if 0 <= row < len(self._keys):
            self.cursor = row
        self.focus()

    def _forget_strips(self) -> None:
        if hasattr(self, "_strips"):
            self._strips.clear()
