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

MAX_DONE = 2  # what a step did, one line each; ten paused readers are two and "8 more"


class TourCaption(Static):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self._last: Fired | None = None
        self._shown: Fired | None = None
        self._again = False
        self._note = ""

    def show(self, fired: Fired, again: bool = False) -> None:
        """The step that just fired; `again`: one the teacher went back (or
        forward) to with `b` / `n`, shown alone and marked as such."""
        if not again:
            before = self._shown
            self._last = before if before is not None and before.index < fired.index else None
        self._shown, self._again = fired, again
        self._draw()

    def note(self, text: str) -> None:
        """A line under the caption saying why the tour waits ("" for none)."""
        if text != self._note:
            self._note = text
            self._draw()

    def _draw(self) -> None:
        fired = self._shown
        if fired is None:
            return
        text = Text()
        if self._last is not None and not self._again:
            text.append(f"{self._last.index + 1}. {reflow(self._last.step.say)}\n", style="dim")
        text.append(f" Tour {fired.index + 1}/{fired.total} ", style="bold reverse")
        text.append(" ")
        text.append(reflow(fired.step.say) or fired.seen, style="bold")
        if self._note:  # first: the caption's box may be too short for all of it
            text.append(f"\n  {self._note}", style="italic magenta")
        if not fired.met:
            text.append(f"\n  ({fired.seen})", style="yellow")
        done = fired.done
        for did in done[:MAX_DONE] if len(done) > MAX_DONE + 1 else done:
            text.append(f"\n  → {did}", style="cyan")
        if len(done) > MAX_DONE + 1:
            text.append(f"\n  → … and {len(done) - MAX_DONE} more the same way", style="cyan")
        self.update(text)
        self.display = True

    def clear(self) -> None:
        self._last = self._shown = None
        self._again = False
        self._note = ""
        self.update("")
        self.display = False
