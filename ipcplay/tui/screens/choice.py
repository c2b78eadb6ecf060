"""A short list to pick from: templates, or what to do about an existing file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ipcplay.tui.deferred import alive


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    about: str = ""


class ChoiceScreen(ModalScreen[str | None]):
    """Arrows and Enter, a digit, or a click; Escape picks nothing."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: list[Choice], note: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.note = note

    def compose(self) -> ComposeResult:
        width = max(len(c.label) for c in self.choices)
        options = []
        for i, choice in enumerate(self.choices, 1):
            text = Text()
            text.append(f"{i} " if i <= 9 else "  ", style="bold cyan")  # a digit picks 1 to 9
            text.append(f"{choice.label:<{width}}", style="bold")
            if choice.about:  # on its own line, so a narrow terminal does not cut it
                text.append(f"\n    {choice.about}", style="grey62")
            options.append(Option(text, id=choice.value))
        with Vertical(id="choice-box"):
            yield Static(Text(self.title_text, style="bold"))
            yield OptionList(*options, id="choice-list")
            hint = "↑↓ and Enter, or a digit · Escape cancels"
            yield Static(Text(f"{self.note}\n{hint}" if self.note else hint, style="grey62"))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isdigit():
            i = int(event.character) - 1
            if 0 <= i < len(self.choices):
                event.stop()
                self.dismiss(self.choices[i].value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def ask_to_replace(
    screen: Screen[Any],
    title: str,
    suggestion: str,
    replace: Choice,
    on_replace: Callable[[], None],
    on_rename: Callable[[str], None],
) -> None:
    """A file (or a name) is taken: ask for another name (suggesting one),
    to replace it, or to cancel. A screen that has gone by the time the
    answer comes does nothing. Every save that never replaces silently (a
    preset, a schedule, a run) asks with this."""
    choices = [
        Choice("rename", "Another name…", f"asks again, suggesting {suggestion}"),
        replace,
        Choice("cancel", "Cancel", "nothing is written"),
    ]

    def chosen(answer: str | None) -> None:
        if not alive(screen):
            return
        if answer == replace.value:
            on_replace()
        elif answer == "rename":
            on_rename(suggestion)

    screen.app.push_screen(ChoiceScreen(title, choices), chosen)
