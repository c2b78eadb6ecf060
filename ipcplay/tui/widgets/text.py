"""A block of Rich Text that repaints without a layout pass.

`Static.update()` always asks for a new layout, which on a busy screen costs
more than everything else together at 10 Hz. This widget relayouts only when
its number of lines changes, and does nothing at all when the text is equal.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class TextView(Widget):
    DEFAULT_CSS = """
    TextView { height: auto; }
    """

    def __init__(self, text: Text | str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._text = Text(text) if isinstance(text, str) else text

    @property
    def text(self) -> Text:
        return self._text

    def set(self, text: Text | str) -> None:
        new = Text(text) if isinstance(text, str) else text
        old = self._text
        if new.plain == old.plain and new.spans == old.spans and new.style == old.style:
            return
        self._text = new
        self.refresh(layout=new.plain.count("\n") != old.plain.count("\n"))

    def render(self) -> Text:
        return self._text
