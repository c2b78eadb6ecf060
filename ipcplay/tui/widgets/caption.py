"""The tour's captions: the step just fired, and the one before it, dimmed,
so two steps that fire together can both be read.

A Static, not a TextView: captions are sentences that must wrap, and they
change only when a step fires, so a relayout then costs nothing that matters.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ipcplay.tour import Fired
from ipcplay.tui.format import reflow


class TourCaption(Static):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self._last: Fired | None = None

    def show(self, fired: Fired) -> None:
        t = Text()
        if self._last is not None:
            t.append(f"{self._last.index + 1}. {reflow(self._last.step.say)}\n", style="dim")
        t.append(f" Tour {fired.index + 1}/{fired.total} ", style="bold reverse")
        t.append(" ")
        t.append(reflow(fired.step.say) or fired.seen, style="bold")
        for did in fired.done:
            t.append(f"\n  → {did}", style="cyan")
        if not fired.met:
            t.append(f"\n  ({fired.seen})", style="yellow")
        self._last = fired
        self.update(t)
        self.display = True

    def clear(self) -> None:
        self._last = None
        self.update("")
        self.display = False
