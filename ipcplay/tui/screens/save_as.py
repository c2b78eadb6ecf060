"""Save as: the composer asks for the file name before it writes anything
(and the run screen, for a step-mode schedule: its own rule and hint).

The name is checked as it is typed, by the same rule the loader applies to a
preset's name, so what is saved as `NAME.toml` loads back as preset `NAME`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ipcplay.safetext import neutralise
from ipcplay.scenario.draft import NAME, NAME_RULE

_NOT_IN_NAME = re.compile(r"[^a-z0-9_-]+")


def slug(text: str) -> str:
    """A file name from a title: 'Bounded queue (3)!' -> 'bounded-queue-3'.

    Empty when the title has no letter to start a name with. A control character
    shows as the neutraliser writes it (ESC as x1b), as everywhere else."""
    words = _NOT_IN_NAME.sub("-", neutralise(text, multiline=False).lower())
    first = re.search(r"[a-z]", words)
    return "" if first is None else words[first.start() :][:32].rstrip("-_")


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a preset's file name, in one line; None if it can."""
    if not name:
        return "type a name; it is saved as NAME.toml"
    if NAME.fullmatch(name):
        return None
    shown = neutralise(name, multiline=False)
    return f"'{shown}' cannot be a preset name: {NAME_RULE}"


class SaveAsScreen(ModalScreen[str | None]):
    """An Input pre-filled with a suggestion; Enter saves, Escape cancels.

    Dismissed with a valid name, or None: Enter on an invalid name says why and
    stays, so nothing is ever saved under a name the user did not see.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    SaveAsScreen { align: center middle; }
    #save-box {
        width: 64;
        max-width: 95%;
        height: auto;
        border: round $primary;
        background: $surface;
        padding: 1 2;
    }
    #save-name { margin: 1 0 0 0; }
    #save-problem { color: $error; height: auto; }
    #save-hint { color: $text-muted; height: auto; }
    """

    def __init__(
        self,
        suggestion: str,
        folder: str,
        *,
        title: str = "Save as",
        problem: Callable[[str], str | None] = name_problem,
        hint: str = "Enter saves NAME.toml · Escape cancels",
    ) -> None:
        super().__init__()
        self.suggestion = suggestion
        self.folder = folder
        self.title_text = title
        self.problem = problem  # why a name cannot be used, or None
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="save-box"):
            yield Static(Text(self.title_text, style="bold"))
            yield Static(Text(f"in {neutralise(self.folder, multiline=False)}", style="grey62"))
            yield Input(self.suggestion, placeholder="NAME", compact=True, id="save-name")
            yield Static("", id="save-problem")
            yield Static(Text(self.hint), id="save-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._show(self.problem(self.suggestion) if self.suggestion else None)

    def _show(self, problem: str | None) -> None:
        line = self.query_one("#save-problem", Static)
        line.update(Text(f"✗ {problem}") if problem else "")
        line.display = problem is not None

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show(self.problem(event.value.strip()) if event.value.strip() else None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        problem = self.problem(name)
        if problem is not None:
            self._show(problem)
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)


def file_name_problem(name: str, suffix: str) -> str | None:
    """Why `name` cannot be a file saved in the current folder (a schedule,
    a run: `suffix` is its usual ending, for the hint); None if it can."""
    if not name:
        return f"type a file name, such as NAME{suffix}"
    if "/" in name or name in (".", ".."):
        return "a file name in this folder, without a /"
    if neutralise(name, multiline=False) != name or name.startswith("-"):
        return f"'{neutralise(name, multiline=False)}' is not a plain file name"
    return None


def free_file(name: str, folder: Path, suffix: str) -> str:
    """NAME-2 + `suffix`, NAME-3 + `suffix`, …: a name not taken in `folder`
    (a name with another ending keeps it: notes-2.txt)."""
    stem = name.removesuffix(suffix) if name.endswith(suffix) else Path(name).stem
    ending = suffix if name.endswith(suffix) else Path(name).suffix
    number = 2
    while (folder / f"{stem}-{number}{ending}").exists():
        number += 1
    return f"{stem}-{number}{ending}"
