"""The run screen on a watched program (`ipcplay PROGRAM.py`): what differs
from a preset, kept here so the run screen only asks.

A preset declares its channels, shared objects and processes before it
runs; a program makes them as it goes. So which panels show is read from
each snapshot (a program's first Queue can come after a minute), the event
log's object names from the snapshot's channels and shared objects by their
journal codes, and the program's own source is the Code tab. What it prints
is the Output tab.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.syntax import Syntax
from textual.widgets import Static

from ipcplay.engine.snapshot import Snapshot, exit_words
from ipcplay.safetext import neutralise
from ipcplay.scenario import kinds
from ipcplay.tui.screens.run_panels import Shown
from ipcplay.tui.widgets.output import OutputView

if TYPE_CHECKING:
    from ipcplay.tui.source import SnapshotSource

NOT_FOR_PROGRAMS = {
    "rate": "a program sets its own pace: the rate keys are for presets",
    "pill": "a program decides what it sends: poison pills are for presets",
    "speed": "a program runs at its own speed: slow motion is for presets",
    "tour": "a program has no guided tour: tours are for presets",
}
"""What a key that only a preset has says when pressed on a program."""

HIDDEN = frozenset({"rate(1.5)", "pill"})
"""Footer entries a program never shows (slow motion and the tour keys are hidden anyway)."""


def is_program(source: object) -> bool:
    """Is this source a watched program (it has a `program`), not a preset?"""
    return getattr(source, "program", None) is not None


def shown_of(snap: Snapshot) -> Shown:
    """What a program has made so far, so what the screen shows."""
    return Shown(
        pipes={c.name for c in snap.channels if kinds.channel_has(c.kind, "pipe_like")},
        conditions={o.name for o in snap.shared if o.kind == "Condition"},
        diagram=bool(snap.channels),
        shared=bool(snap.shared),
        managers=bool(snap.managers),
    )


class ProgramView:
    """The program-only state of one run screen."""

    def __init__(self, source: SnapshotSource) -> None:
        self.source: Any = source
        self._shown_key: tuple[object, ...] | None = None
        self._chans_key: tuple[object, ...] | None = None
        self._chans: list[str] = []
        self._fed = 0.0  # when the Output tab last took new lines (snapshot time)
        self._heading = ""

    def reset(self) -> None:
        """A restart: the new run makes its objects again."""
        self._shown_key = self._chans_key = None
        self._fed = 0.0

    def title(self, snap: Snapshot | None) -> str:
        """The program's name, and once its main process has ended, how
        (`dead.py · exited 3`): a shell would say so, and the verdict alone
        does not."""
        title = str(self.source.scenario.title)
        procs = snap.processes if snap is not None else ()
        main = next((p for p in procs if p.index == 0), None)  # the program's own process
        if main is not None and main.exitcode is not None:
            title += f" · {exit_words(main.exitcode)}"
        return title

    def shown(self, snap: Snapshot) -> Shown | None:
        """The panels to show, when what the program has made changed (else None)."""
        key = (
            tuple((c.name, c.kind) for c in snap.channels),
            tuple((o.name, o.kind) for o in snap.shared),
            bool(snap.managers),
        )
        if key == self._shown_key:
            return None
        self._shown_key = key
        return shown_of(snap)

    def chans(self, snap: Snapshot) -> list[str]:
        """Journal code -> object name: channel c is code c, shared object s
        is `nchan + s` (the board's channel cap, not the count made so far)."""
        key = (
            tuple((c.index, c.name) for c in snap.channels),
            tuple((o.index, o.name) for o in snap.shared),
        )
        if key != self._chans_key:
            self._chans_key = key
            nchan = int(getattr(self.source, "nchan", len(snap.channels)))
            top = max((o.index for o in snap.shared), default=-1) + 1
            names = [""] * (nchan + top)
            for c in snap.channels:
                if 0 <= c.index < nchan:
                    names[c.index] = c.name
            for o in snap.shared:
                names[nchan + o.index] = o.name
            self._chans = names
        return self._chans

    def feed_output(self, view: OutputView, head: Static, snap: Snapshot) -> None:
        """What the program printed since the last snapshot, into the Output tab:
        at most four times a second (a flood scrolls no more readably faster,
        and each scroll redraws every row), and at the end."""
        if snap.t - self._fed < 0.25 and not snap.finished:
            return
        self._fed = snap.t
        view.set_names({p.index: p.name for p in snap.processes})
        view.feed(self.source.output_since(view.next_seq))
        heading = view.heading()
        if heading != self._heading:  # after a restart too, before anything is printed
            self._heading = heading
            head.update(heading)

    def filter_output(
        self, view: OutputView, head: Static, snap: Snapshot | None, name: str | None
    ) -> str:
        """`f` on the Output tab: the selected process's lines, then everyone's;
        what to say."""
        index = next((p.index for p in (snap.processes if snap else ()) if p.name == name), None)
        view.set_filter(None if view.filter is not None or index is None else index)
        head.update(view.heading())
        self._heading = ""  # the next snapshot redraws it too
        return f"output: {'every process' if view.filter is None else f'only {name}'}"

    def channels_of(self, snap: Snapshot, name: str) -> list[str]:
        """The objects a process put, got, sent or received on (for the event filter)."""
        return [c.name for c in snap.channels if name in c.writers or name in c.readers]

    def code(self) -> Syntax | str:
        text = self.source.source_text()
        if not text:
            return "(the program's source cannot be read here)"
        return Syntax(
            neutralise(text), "python", theme="monokai", line_numbers=True, word_wrap=False
        )
