"""Rewind on the run screen: every snapshot the run showed, stepped back through.

The screen keeps the run's History (history.py), fed on the sampler thread
with every snapshot the engine sends: the UI's message queue keeps only the
latest one ("latest wins"), so feeding it from the screen's handler would
lose the snapshots a busy UI skipped. `←` / `→` step one snapshot,
`shift+←` / `shift+→` jump between moments (a process started or ended,
blocked, a queue full or empty, a deadlock, a tour step), `home` goes to
the start and `end` back to live.

While rewound every panel shows the snapshot kept at that index; the run
goes on underneath (snapshots keep going into the History, the status line
says how far it has got) and `end` returns to live.

Keys that act on processes while rewound act on the live run, never on the
past: pausing (space, `p`) leaves the view where it is, so a teacher can
freeze the class's run while explaining how it got there; every other one
(kill, terminate, a pill, a rate, restart, the step keys) first brings the
view back to live, so what the key did is seen happen. In a replay (a saved
run) no process exists: they say so and do nothing.

The arrows and home/end are priority bindings here: the process list keeps
↑ ↓ PgUp PgDn to move its selection (its home/end, first and last row, give
way to the run's start and live), and the tab bar's ← → (only when it has
the focus, after tab) give way to rewinding.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from rich.text import Text
from textual.binding import Binding

from ipcplay.engine.snapshot import Snapshot
from ipcplay.history import History
from ipcplay.safetext import neutralise
from ipcplay.tui.deferred import alive
from ipcplay.tui.screens.choice import Choice, ask_to_replace
from ipcplay.tui.screens.run_step import StepControls
from ipcplay.tui.screens.save_as import SaveAsScreen, file_name_problem, free_file

RUN_SUFFIX = ".run.gz"

REWIND_ACTIONS = frozenset(
    {"rewind", "rewind_back", "moment", "rewind_start", "live", "to_end", "save_run"}
)
"""Actions that only read the history: they work whatever the run does."""


class RewindControls(StepControls):
    """The rewind keys, the history and what a rewound view shows (a base of
    RunScreen). Needs from the screen: `snap` (the live snapshot), `source`,
    `_draw(snap, now)`, `_apply(snap)`, `_status()`, `verdict_now()`."""

    BINDINGS = [
        Binding("left", "rewind(-1)", "Earlier", key_display="←", priority=True),
        # The same key live, named for what it starts (a stuck or ended run's footer shows it).
        Binding("left", "rewind_back", "Rewind", key_display="←", show=False, priority=True),
        Binding("right", "rewind(1)", "Later", key_display="→", priority=True),
        Binding("shift+left", "moment(-1)", "Moment", key_display="⇧←→", priority=True),
        Binding("shift+right", "moment(1)", "Next moment", show=False, priority=True),
        Binding("home", "rewind_start", "Start", priority=True),
        Binding("end", "live", "Live", priority=True),
        Binding("end", "to_end", "End", show=False, priority=True),  # a replay's "live"
        Binding("W", "save_run", "Save run", key_display="W"),
    ]

    history: History | None = None
    """The run's snapshots (None before the first); a saved run's own in a replay."""
    rewound: int | None = None
    """The history index shown, or None: live."""
    _past: Snapshot | None = None  # the snapshot at `rewound`, decoded once
    _first: tuple[tuple[int, int], float] | None = None  # ((history, its first), first's t)
    saved_run: str | None = None
    """What the last save (W) said, once it is written."""
    _history_generation = -1
    _history_lock = threading.Lock()

    def _draw(self, snap: Snapshot, now: float) -> None:  # the screen's
        raise NotImplementedError

    def _apply(self, snap: Snapshot) -> None:  # the screen's
        raise NotImplementedError

    def reset_panels(self) -> None:
        """Forget what the panels keep of their own (the cpu and depth
        columns' last minute, the event log): the next snapshot drawn is a
        different moment of the run, and a history of another one would lie."""
        from ipcplay.tui.widgets.channels import ChannelPanel
        from ipcplay.tui.widgets.events import EventLog
        from ipcplay.tui.widgets.processes import ProcessPanel

        self.query_one(ProcessPanel).reset()
        self.query_one(ChannelPanel).reset()
        self.query_one(EventLog).reset()

    def show_timeline(self, visible: bool) -> None:
        from ipcplay.tui.widgets.timeline import Timeline

        timeline = self.query_one(Timeline)
        if timeline.display != visible:
            timeline.display = visible

    def redraw(self) -> None:
        """Draw again what is shown (the width changed: columns differ)."""
        if self.rewound is not None and self._past is not None:
            self._draw(self._past, self._past.t)
            self._timeline_now()
        elif self.snap is not None:
            self._apply(self.snap)

    # ------------------------------------------------------------ state
    def replaying_saved(self) -> bool:
        """The screen shows a saved run (`ipcplay replay`): no process runs."""
        return getattr(self.source, "saved", None) is not None

    def keep(self, snap: Snapshot, generation: int) -> None:
        """A snapshot the engine sent (sampler thread): into the run's history,
        a new one for a new run (a restart)."""
        own = getattr(self.source, "history", None)
        if own is not None:  # a saved run opened: its own history
            self.history = own
            return
        with self._history_lock:
            if generation != self._history_generation:
                self.history = History()
                self._history_generation = generation
            history = self.history
        assert history is not None
        history.append(snap)

    def phase(self) -> str:
        if self.rewound is not None:
            return "rewound"
        if self.replaying_saved():
            return "replay"
        return super().phase()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in REWIND_ACTIONS:
            history = self.history
            if history is None or len(history) == 0:
                return False  # nothing kept yet: home and end reach the process list
            if action == "live":
                return self.rewound is not None and not self.replaying_saved()
            if action == "to_end":
                return self.rewound is not None and self.replaying_saved()
            if action == "rewind" and parameters == (-1,):
                return self.rewound is not None or self.replaying_saved()
            if action == "rewind_back":
                return self.rewound is None and not self.replaying_saved()
            return True
        return super().check_action(action, parameters)

    def shown_snapshot(self) -> Snapshot | None:
        """What the panels show: the rewound snapshot, else the live one."""
        if self.rewound is not None and self._past is not None:
            return self._past
        return self.snap

    def shown_now(self) -> float:
        """The clock the panels read ages against: the rewound snapshot's own
        time (a wait shown lasted as long as it had then), else now."""
        if self.rewound is not None and self._past is not None:
            return self._past.t
        return float(self.source.now())

    def rewound_words(self) -> Text | None:
        """`REWOUND t = 1.23 s of 5.40 s` while rewound; a replay's place at its end."""
        # Called at every tick: from snapshots at hand, never decoded from the history.
        if self.snap is None or (self.rewound is None and not self.replaying_saved()):
            return None
        end = self.snap.elapsed_s  # the live one: how far the run has got
        if self.rewound is None or self._past is None:
            total = float(self.source.end_s)
            return Text(f" SAVED RUN t = {end:.2f} s of {total:.2f} s ", style="bold black on cyan")
        at = self._past.elapsed_s
        return Text(f" REWOUND t = {at:.2f} s of {end:.2f} s ", style="bold black on cyan")

    # ------------------------------------------------------------ keys
    def _kept(self) -> list[int]:
        assert self.history is not None
        return list(self.history.kept())

    def _last_index(self) -> int:
        assert self.history is not None
        return len(self.history) - 1

    def action_rewind(self, step: int) -> None:
        """← / →: one snapshot back or forward; forward from the last, live."""
        kept = self._kept()
        if not kept:
            return
        here = self.rewound if self.rewound is not None else kept[-1]
        if len(kept) < 2 and not self.replaying_saved():
            self.notify("nothing to rewind to yet: one snapshot so far", timeout=2)
            return
        place = max(0, min(len(kept) - 1, _place(kept, here) + step))
        if step > 0 and self.rewound is not None and place == len(kept) - 1 and here == kept[-1]:
            self.action_live()
            return
        if step < 0 and self.rewound is not None and kept[place] == here:
            self.notify("this is the first snapshot kept (end: back to live)", timeout=2)
            return
        self.view_at(kept[place])

    def action_rewind_back(self) -> None:
        """← while live: the snapshot before this one, and rewinding starts."""
        self.action_rewind(-1)

    def action_moment(self, step: int) -> None:
        """shift+← / shift+→: the moment before or after the one shown."""
        assert self.history is not None
        moments = self.history.moments()
        here = self.rewound if self.rewound is not None else self._last_index()  # live
        if step < 0:
            before = [m for m in moments if m.index < here]
            if not before:
                self.notify("no moment before this one (home: the start)", timeout=2)
                return
            self.view_at(before[-1].index)
        else:
            after = [m for m in moments if m.index > here]
            if not after:
                self.notify("no moment after this one (end: back to live)", timeout=2)
                return
            self.view_at(after[0].index)

    def action_rewind_start(self) -> None:
        """home: the first snapshot kept."""
        kept = self._kept()
        if kept:
            self.view_at(kept[0])

    def action_live(self) -> None:
        """end: back to live (a replay: to the saved run's end)."""
        if self.rewound is None:
            return
        self.rewound = None
        self.reset_panels()
        self.show_timeline(self.replaying_saved())
        if self.snap is not None:
            self._apply(self.snap)
        if self.replaying_saved():
            self._timeline_now()
        self._status()

    def action_to_end(self) -> None:
        """end in a replay: the saved run's end (its "live")."""
        self.action_live()

    def view_at(self, index: int) -> None:
        """Show snapshot `index` of the history in every panel."""
        assert self.history is not None
        if not self.replaying_saved() and index >= self._last_index() and self.rewound is None:
            return  # already live
        self.rewound = index
        snap = self._past = self.history.at(index)
        self.reset_panels()
        self._draw(snap, snap.t)
        self.show_timeline(True)
        self._timeline_now()
        self._status()

    def _timeline_now(self) -> None:
        """Redraw the timeline for where the view is."""
        # At every tick while rewound: no snapshot is decoded here but the
        # history's first (once per place it starts at), so a 128-process run
        # rewound costs no more a tick than live.
        history = self.history
        if history is None or len(history) == 0 or self.snap is None:
            return
        start = (id(history), history.first)
        if self._first is None or self._first[0] != start:
            self._first = (start, history.at(history.first).elapsed_s)
        last = self.snap.elapsed_s
        rewound = self.rewound is not None and self._past is not None
        at = self.rewound if self.rewound is not None else self._last_index()
        at_t = self._past.elapsed_s if rewound and self._past is not None else last
        from ipcplay.tui.widgets.timeline import Timeline

        self.query_one(Timeline).show(self._first[1], last, at_t, history.moments(), at)

    def on_live_run(self, what: str, *, stay: bool = False) -> bool:
        """Before a key acts on processes: False (refused, said why) in a
        replay; else True, and the view back to live unless `stay`."""
        if self.replaying_saved():
            self.notify(f"{what}: this is a saved run, no process runs (ipcplay replay)", timeout=3)
            return False
        if self.rewound is not None and not stay:
            self.action_live()
            self.notify(f"back to live for {what}", timeout=2)
        return True

    # ------------------------------------------------------------ saving
    def action_save_run(self) -> None:
        """W: the whole run so far (snapshots, journal, moments) as one file
        `ipcplay replay FILE` opens."""
        name = getattr(self.source.scenario, "name", "run") or "run"
        self._ask_run_file(f"{name}{RUN_SUFFIX}")

    def _ask_run_file(self, suggestion: str) -> None:
        def named(name: str | None) -> None:
            if name is not None and alive(self):
                self._save_run(name)

        history = self.history
        count = len(list(history.kept())) if history is not None else 0
        self.app.push_screen(
            SaveAsScreen(
                suggestion,
                os.getcwd(),
                title=f"Save the whole run ({count} snapshots so far)",
                problem=lambda name: file_name_problem(name, RUN_SUFFIX),
                hint="Enter saves · Escape cancels · ipcplay replay opens it",
            ),
            named,
        )

    def _save_run(self, name: str) -> None:
        path = Path(name)
        if not path.exists():
            self._write_run(path)
            return
        shown = neutralise(name, multiline=False)
        ask_to_replace(
            self,
            f"{shown} already exists here.",
            free_file(name, Path.cwd(), RUN_SUFFIX),
            Choice("overwrite", f"Overwrite {shown}", "the old file is replaced"),
            lambda: self._write_run(path),
            self._ask_run_file,
        )

    def _write_run(self, path: Path) -> None:
        """Write on a thread of its own: ten minutes of 128 processes is
        megabytes to compress, and the panels go on meanwhile."""
        from ipcplay.tui.saving import saved_run_of, write_run

        history = self.history
        if history is None or self.snap is None:
            return
        run = saved_run_of(self.source, history, self.verdict_now())
        shown = neutralise(str(path), multiline=False)
        app = self.app

        def work() -> None:
            try:
                said = f"run saved: {shown} ({write_run(path, run):,} bytes)"
                bad = False
            except (OSError, ValueError) as exc:
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                said, bad = f"not saved: {neutralise(str(why), multiline=False)}", True
            with contextlib.suppress(RuntimeError):  # the app has gone meanwhile
                app.call_from_thread(self._run_written, said, bad)

        threading.Thread(target=work, name="ipcplay-save-run", daemon=True).start()
        self.notify(f"saving the run to {shown}…", timeout=2)

    def _run_written(self, said: str, bad: bool) -> None:
        self.saved_run = said
        if alive(self):
            self.notify(said, severity="error" if bad else "information", timeout=5)

    def verdict_now(self) -> str:  # the screen's: the run's verdict so far
        return "running"


def _place(kept: list[int], index: int) -> int:
    """Where `index` is among the kept indices (the last kept at or before it)."""
    import bisect

    return max(0, bisect.bisect_right(kept, index) - 1)
