"""The home screen's list: presets under topic headings, badges, a cursor
that never lands on a heading.

A RowView of two kinds of rows: a heading (the topic and how many presets it
holds) and a preset (name, badges, title). Headings are not selectable, so ↑/↓,
PgUp/PgDn, Home/End and clicks all step over them.
"""

from __future__ import annotations

from rich.text import Text

from ipcplay.tui.deferred import after_refresh
from ipcplay.tui.lessons import PROGRAM, Lesson, grouped, row_title
from ipcplay.tui.widgets.rows import RowView

TOUR_BADGE = "▶"
BROKEN_BADGE = "✗"
FIXED_BADGE = "✓"
HEADING = "heading:"  # key prefix of heading rows
NAME_WIDTH = 26  # the longest built-in name is 28; the column is cut at this

Heading = tuple[str, str, int]  # ("heading", label, count)
Row = tuple[str, Lesson]  # ("preset", lesson)


class PresetList(RowView):
    """Presets by topic; `selected_key` is a preset's key or None."""

    def show(self, lessons: list[Lesson], query: str = "") -> int:
        """List the lessons matching `query`; returns how many match."""
        rows: list[tuple[str, Heading | Row]] = []
        count = 0
        for label, items in grouped(lessons, query):
            rows.append((HEADING + label, ("heading", label, len(items))))
            rows += [(item.key, ("preset", item)) for item in items]
            count += len(items)
        if not rows:
            rows.append((HEADING + "none", ("heading", "", 0)))
        width = max((len(item.name) for item in lessons), default=10)
        self._name_width = min(NAME_WIDTH, width)
        self.set_rows(rows, self._render)
        # A longer list's scroll range is known after the next layout: the
        # cursor (kept on the same preset) is brought into view then.
        after_refresh(self, lambda: self.scroll_to_region_of(self.cursor))
        return count

    @property
    def selected_key(self) -> str | None:
        key = super().selected_key
        return None if key is None or key.startswith(HEADING) else key

    def select_key(self, key: str) -> bool:
        """Move the cursor to the preset with this key, if it is listed."""
        if key in self._keys:
            self.cursor = self._keys.index(key)
            return True
        return False

    def _heading(self, row: int) -> bool:
        return 0 <= row < len(self._keys) and self._keys[row].startswith(HEADING)

    def validate_cursor(self, value: int) -> int:
        """Step over headings in the direction the cursor moves (down when it
        does not move: a new list starts on its first preset)."""
        keys = getattr(self, "_keys", [])
        if not keys:
            return 0
        value = max(0, min(len(keys) - 1, value))
        step = -1 if value < self.cursor else 1
        for direction in (step, -step):
            row = value
            while 0 <= row < len(keys):
                if not self._heading(row):
                    return row
                row += direction
        return value  # nothing but headings

    def scroll_to_region_of(self, row: int) -> None:
        """The first preset of a group brings its heading into view with it."""
        if self._heading(row - 1):
            super().scroll_to_region_of(row - 1)
        super().scroll_to_region_of(row)

    def _render(self, value: Heading | Row) -> Text:
        if value[0] == "heading":
            _, label, count = value  # type: ignore[misc]
            if not label:
                return Text(" Nothing matches — escape clears the filter", style="italic grey62")
            text = Text(f" {label} ", style="bold #e6b450")
            text.append(f"{count}", style="grey50")
            return text
        item: Lesson = value[1]  # type: ignore[assignment]
        room = max(10, self.scrollable_content_region.width)
        width = getattr(self, "_name_width", NAME_WIDTH)
        text = Text("  ")
        name = item.name if len(item.name) <= width else item.name[: width - 1] + "…"
        text.append(f"{name:<{width}} ", style="bold")
        text.append(TOUR_BADGE if item.tour else " ", style="bold #59c2ff")
        if item.pitfall == "broken":
            text.append(BROKEN_BADGE, style="bold #ff8f40")
        elif item.pitfall == "fixed":
            text.append(FIXED_BADGE, style="bold #7fd962")
        else:
            text.append(" ")
        text.append(" ")
        if item.error:
            text.append("cannot be loaded — see the error on the right", style="red")
        else:
            if item.origin not in ("built-in", PROGRAM):  # a program is under its heading
                text.append(f"({item.origin}) ", style="grey62")
            text.append(row_title(item))
        text.truncate(room, overflow="ellipsis")
        return text
