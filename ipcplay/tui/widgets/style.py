"""One cached base style for widgets that render their own lines, and their
colours made RGB once rather than on every line drawn."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from rich.style import Style
from textual.filter import ANSIToTruecolor, LineFilter


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
