"""One cached base style for widgets that render their own lines."""

from __future__ import annotations

from rich.style import Style


class CachedStyle:
    """Mixin: `rich_style` walks the CSS on every call, and render_line runs for
    every changed line, so the style is computed once and forgotten only when
    the CSS changes (which also drops the widget's cached strips)."""

    _style_cache: Style | None = None

    def _base_style(self) -> Style:
        if self._style_cache is None:
            self._style_cache = self.rich_style  # type: ignore[attr-defined]
        return self._style_cache

    def notify_style_update(self) -> None:
        super().notify_style_update()  # type: ignore[misc]
        self._style_cache = None
        self._forget_strips()

    def _forget_strips(self) -> None:
        """Drop cached renderings; they carry the old style."""
