"""One cached base style for widgets that render their own lines, and their
colours made RGB once rather than on every line drawn."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from rich.segment import Segment
from rich.style import Style
from textual.filter import ANSIToTruecolor, LineFilter
from textual.geometry import Region, Size
from textual.strip import Strip


def fit(strip: Strip, width: int, style: Style) -> Strip:
    """`strip` in exactly `width` cells: padded with `style`, or cut with a
    final "…" so a reader knows there is more (the detail panel, a wider
    terminal or the log has it whole)."""
    if strip.cell_length <= width:
        return strip.crop_extend(0, width, style)
    if width < 2:
        return strip.crop(0, width)
    cut = list(strip.crop(0, width - 1))
    return Strip([*cut, Segment("…", cut[-1].style if cut else style)], width)


class CachedStyle:
    """Mixin: `rich_style` walks the CSS on every call, and render_line runs for
    every changed line, so the style is computed once and forgotten only when
    the CSS changes (which also drops the widget's cached strips)."""

    _style_cache: Style | None = None
    _rgb_cache: Callable[[Style], Style] | None = None

    def _base_style(self) -> Style:
        if self._style_cache is None:
            self._style_cache = self.rich_style  # type: ignore[attr-defined]
        return self._style_cache

    def _rgb(self) -> Callable[[Style], Style]:
        """Style -> the same style with ANSI colours (green, cyan, grey62...)
        in the theme's RGB: what Textual's ANSIToTruecolor filter does to every
        line it draws, making a new Strip each time. These widgets build their
        segments from a few styles, so they convert the styles (cached) and
        skip the filter (`get_line_filters`): same colours, one Strip less per
        line."""
        if self._rgb_cache is None:
            app = self.app  # type: ignore[attr-defined]
            if any(isinstance(f, ANSIToTruecolor) for f in app.get_line_filters()):
                background = self.background_colors[1].rich_color  # type: ignore[attr-defined]
                to_rgb = ANSIToTruecolor(app.ansi_theme).truecolor_style
                self._rgb_cache = partial(to_rgb, background=background)
            else:  # the user asked for the terminal's own ANSI colours
                self._rgb_cache = _same
        return self._rgb_cache

    def _line_strip(self, y: int, size: Size) -> Strip:
        """Line `y` as a Strip of exactly `size.width` cells in the widget's
        style, the same object for as long as the line is unchanged. `size`
        is the widget's, looked up once a frame rather than once a line."""
        raise NotImplementedError

    def render_line(self, y: int) -> Strip:
        return self._line_strip(y, self.size)  # type: ignore[attr-defined]

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines straight from `_line_strip`, without Textual's per-line styling.

        Why: the compositor asks every widget under a changed area for all its
        lines on every frame, and Textual's styles cache then walks each line
        and rebuilds each changed one once more (a new Strip and its seven
        caches) to add borders, padding, tint and opacity. These widgets draw
        full-width lines in their own style already, so where none of those
        apply (checked on each frame; otherwise the usual path) the lines go
        out as they are. At 10 Hz this was a fifth of the observer's CPU."""
        if not self._plain():
            return super().render_lines(crop)  # type: ignore[misc,no-any-return]
        size = self.size  # type: ignore[attr-defined]
        line = self._line_strip
        strips = [line(y, size) for y in crop.line_range]
        filters = self.get_line_filters()
        if filters:
            background = self.background_colors[1]  # type: ignore[attr-defined]
            for f in filters:
                strips = [strip.apply_filter(f, background) for strip in strips]
        if crop.column_span != (0, size.width):
            x1, x2 = crop.column_span
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

    def _plain(self) -> bool:
        """No border, padding, outline, tint, hatch or opacity to draw."""
        s = self.styles  # type: ignore[attr-defined]
        return (
            not any(s.gutter)
            and not any(edge for edge, _ in s.outline)
            and not s.tint.a
            and s.text_opacity == 1.0
            and not (s.has_rule("hatch") and s.hatch != "none")
            and self.opacity == 1.0  # type: ignore[attr-defined]
        )

    def get_line_filters(self) -> Sequence[LineFilter]:
        filters = super().get_line_filters()  # type: ignore[misc]
        return [f for f in filters if not isinstance(f, ANSIToTruecolor)]

    def notify_style_update(self) -> None:
        super().notify_style_update()  # type: ignore[misc]
        self._style_cache = None
        self._rgb_cache = None
        self._forget_strips()

    def _forget_strips(self) -> None:
        """Drop cached renderings; they carry the old style."""


def _same(style: Style) -> Style:
    return style
