"""A block of Rich Text that repaints only the lines that changed.

`Static.update()` asks for a new layout and re-renders every line; on a busy
screen at 10 Hz that cost more than everything else together. This widget
keeps one cached Strip per line, refreshes only lines whose text or style
changed, and asks for a layout only when the number of lines changes.
Lines longer than the widget are cut with a final "…", never wrapped.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from ipcplay.tui.widgets.style import CachedStyle, fit


def _same(a: Text, b: Text) -> bool:
    return a.plain == b.plain and a.spans == b.spans and a.style == b.style


class TextView(CachedStyle, Widget):
    DEFAULT_CSS = """
    TextView { height: auto; }
    """

    def __init__(self, text: Text | str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._lines: list[Text] = self._split(text)
        self._strips: list[Strip | None] = [None] * len(self._lines)

    @staticmethod
    def _split(text: Text | str) -> list[Text]:
        t = Text(text) if isinstance(text, str) else text
        return list(t.split("\n", allow_blank=True))

    @property
    def plain(self) -> str:
        return "\n".join(line.plain for line in self._lines)

    def set(self, text: Text | str) -> None:
        new = self._split(text)
        if len(new) != len(self._lines):
            self._lines = new
            self._strips = [None] * len(new)
            self.refresh(layout=True)
            return
        width = self.size.width
        for y, line in enumerate(new):
            if not _same(line, self._lines[y]):
                self._lines[y] = line
                self._strips[y] = None
                self.refresh(Region(0, y, width, 1))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max((line.cell_len for line in self._lines), default=0)

    def _line_strip(self, y: int, size: Size) -> Strip:
        width = size.width
        if y >= len(self._lines):
            return Strip.blank(width, self._rgb()(self._base_style()))
        strip = self._strips[y]
        if strip is None:
            line = self._lines[y]
            rgb = self._rgb()
            base = self._base_style()
            segments = Segment.apply_style(line.render(self.app.console, end=""), base)
            strip = Strip(
                [Segment(t, rgb(st) if st else st, c) for t, st, c in segments], line.cell_len
            )
            self._strips[y] = strip
        return fit(strip, width, self._rgb()(self._base_style()))

    def _forget_strips(self) -> None:
        if hasattr(self, "_strips"):
            self._strips = [None] * len(self._lines)
