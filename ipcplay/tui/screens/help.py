"""`?`: what ipcplay shows and every key it understands."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ipcplay.tui.screens.run_numbers import NUMBERS

INTRO = (
    "Every process you see is real: `ps` shows it, `kill` works on it. Every number is "
    "counted by the processes themselves as they put, get, send and recv, not guessed.\n\n"
    "Pick a row in the process list (↑/↓ or the mouse); the keys below act on it."
)

KEYS = [
    ("↑ ↓  PgUp PgDn", "select a process"),
    ("space", "pause / resume every process (SIGSTOP / SIGCONT)"),
    ("p", "pause / resume the selected process"),
    ("t", "terminate the selected process (SIGTERM)"),
    ("k", "kill the selected process (SIGKILL)"),
    ("+  -", "raise / lower the rate of the selected producer or pinger (×1.5, ÷1.5)"),
    ("x", "stop the selected process with a poison pill down its own input"),
    ("r", "restart the scenario"),
    (
        "s",
        "step mode: each process stops before its next put, get, acquire, read, write…; "
        "its row says what it will do and whether it will block (again, or g: run freely)",
    ),
    ("⏎  1-9  a", "step mode: the selected process, row N's, or every held one does one operation"),
    ("g", "go: step mode off, everything runs freely (s holds them again)"),
    (
        "v",
        "save the steps so far as a schedule: ipcplay PRESET --step --schedule FILE replays it; "
        "ipcplay explore PRESET runs every order that can change the outcome and saves the "
        "shortest to each",
    ),
    (
        "←  →",
        "rewind: one snapshot back / forward; every panel shows the run as it was then, the "
        "status line says REWOUND t = … s, the run goes on underneath (ipcplay replay FILE: a "
        "saved run, rewound the same way)",
    ),
    ("⇧← ⇧→", "rewind to the moment before / after: a start, an exit, a block, a deadlock…"),
    (
        "home  end",
        "rewind to the start / back to live (escape too); while rewound, space and p pause "
        "the live run, other keys on processes go back to live first",
    ),
    ("W", "save the whole run so far to a file: ipcplay replay FILE opens it, starting nothing"),
    ("f", "filter the event log: process, its channels, everything"),
    ("[  ]", "slower / faster refresh (1, 2, 5, 10, 20 Hz)"),
    (
        "<  >",
        "slow motion: the scenario's own time (work, sleeps, rates, timers, the tour) at "
        "0.05, 0.1, 0.25, 0.5 or 1× — the IPC itself is never slowed; the status line shows it",
    ),
    (
        "n  b",
        "tour: next caption (ends a held step, or shows the next one now) / the one before; "
        "a pause you make holds the tour, and no step resumes what you paused",
    ),
    ("c", "the Code tab: the plain multiprocessing script that does the same (again: events)"),
    (
        "o",
        "a program's Output tab: what each process printed, under its name; f there shows "
        "the selected process's lines, then everyone's (again: events)",
    ),
    ("w", "the Waits tab: who waits for whom, a deadlock's cycle in red (again: events)"),
    ("e", "the Explain tab: the preset's teaching text (again: events)"),
    ("m", "zoom: the tabs over the whole screen, the code or waits in full (again: back)"),
    ("tab", "next pane"),
    ("escape", "back to the preset list (stops the scenario)"),
    ("ctrl+p", "command palette: every action by name"),
    ("ctrl+s", "save a screenshot (SVG) in the current directory"),
    ("?", "this help"),
    ("q  ctrl+c", "quit: every process is stopped and joined"),
]


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it was opened from (the run screen's by default)."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def __init__(
        self,
        title: str = "ipcplay — help",
        intro: str = INTRO,
        keys: list[tuple[str, str]] | None = None,
        numbers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.intro = intro
        self.keys = keys if keys is not None else KEYS
        # The run screen's (the default) also says what each number means.
        self.numbers = numbers if numbers is not None else NUMBERS if keys is None else []

    def compose(self) -> ComposeResult:
        table = Table(show_header=False, box=None, padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, value in self.keys:
            table.add_row(key, value)
        with VerticalScroll(id="help-box"):
            yield Static(Text(self.title_text + "\n", style="bold"))
            yield Static(Text(self.intro + "\n"))
            yield Static(table)
            if self.numbers:
                yield Static(Text("\nWhat the numbers mean\n", style="bold"))
                numbers = Table(show_header=False, box=None, padding=(0, 2))
                numbers.add_column(style="bold", no_wrap=True)
                numbers.add_column()
                for key, value in self.numbers:
                    numbers.add_row(key, value)
                yield Static(numbers)
            yield Static("")
            yield Static(Text("escape closes this help", style="grey62"))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
