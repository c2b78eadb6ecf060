"""Step mode on the run screen: the user is the scheduler of real processes.

With step mode on, every process of the scenario stops at a gate before each
operation on a channel or a shared object (engine/gate.py); its row says what
it will do next. A key lets the selected one (Enter), a row's (1-9) or every
held one (`a`) do exactly one operation; `g` lets everything run freely and
`s` holds them again. The order chosen is the run's schedule (engine/stepper.py);
`v` saves it as a file `--schedule` replays (schedule.py).

Every step is a write on the board, so a key never waits on a child: a
process that blocks in its operation shows as blocked in the next sample.
A replay waits between its steps, so it plays on its own thread and says
its progress by message; the UI thread never waits for a process.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.binding import Binding

from ipcplay import challenge as C
from ipcplay import schedule as S
from ipcplay.engine.snapshot import Snapshot
from ipcplay.engine.stepper import GO, Stepper
from ipcplay.safetext import neutralise
from ipcplay.scenario.model import Challenge
from ipcplay.tui.deferred import alive
from ipcplay.tui.messages import ReplayProgress
from ipcplay.tui.screens.choice import Choice, ask_to_replace
from ipcplay.tui.screens.run_keys import KeysByState
from ipcplay.tui.screens.save_as import SaveAsScreen, file_name_problem, free_file

SUFFIX = ".schedule.toml"
START_WAIT_S = 30.0  # how long a replay waits for the run to have started


def write_new(path: Path, text: str, *, overwrite: bool) -> None:
    """Write `text`; an existing file is replaced only with `overwrite`, and
    then whole (a temporary file renamed over it), never half-written."""
    if overwrite:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        return
    with path.open("x", encoding="utf-8") as handle:
        handle.write(text)


class StepControls(KeysByState):
    """The step keys and the status of step mode (a base of RunScreen).

    Needs from the screen: `source` (a live source has `stepper` and
    `set_step`), `snap`, `generation`, `_selected()`, `_status()`."""

    BINDINGS = [
        Binding("s", "step_mode", "Step mode"),
        Binding("enter", "step_one", "Step", key_display="⏎"),
        Binding("1", "step_row(1)", "Step row", key_display="1-9"),
        *(Binding(str(n), f"step_row({n})", f"Step row {n}", show=False) for n in range(2, 10)),
        Binding("a", "step_all", "Step all"),
        Binding("g", "go", "Go"),
        Binding("v", "save_schedule", "Save steps"),
    ]

    source: Any  # a SnapshotSource; a live one has `stepper`, `set_step` and `step`
    generation: int

    def _selected(self) -> str | None:  # the screen's: the selected row's process
        raise NotImplementedError

    def _status(self) -> None:  # the screen's: redraw the status line and the footer
        raise NotImplementedError

    overrides: tuple[str, ...] = ()
    """The `set` of the schedule this run was made with, saved again with it."""
    saved_to: tuple[int, str] | None = None
    """(run generation, file) the schedule was last saved to: the status
    line names it until a restart."""
    _replay: tuple[int, int] | None = None  # (steps played, steps) while a replay plays
    _replay_stop: threading.Event | None = None
    _met: tuple[int, str] | None = None  # (generation, its verdict line) once the challenge is met

    # ------------------------------------------------------------ state
    def stepper(self) -> Stepper | None:
        """The run's step controls (a preset's Stepper, a program's
        ProgramStepper); None for a frozen picture or before the run starts."""
        return getattr(self.source, "stepper", None)

    def stepping(self) -> bool:
        stepper = self.stepper()
        return stepper is not None and stepper.on

    def steps_taken(self) -> int:
        stepper = self.stepper()
        return 0 if stepper is None else C.steps_taken(stepper.schedule)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save_schedule":
            return self.stepper() is not None and self.phase() != "starting"
        if action == "step_mode" and self.stepper() is None:
            return self.snap is not None  # pressed: says why not
        return super().check_action(action, parameters)

    # ------------------------------------------------------------ keys
    def _set_step(self, on: bool) -> None:
        set_step = getattr(self.source, "set_step", None)
        if set_step is not None:
            set_step(on)  # a restart starts the same way
        else:
            stepper = self.stepper()
            if stepper is not None:
                stepper.set_mode(on)

    def action_step_mode(self) -> None:
        """`s`: hold every process before its next operation; again (or `g`): let go."""
        if self.stepper() is not None and not self.on_live_run("step mode"):
            return
        if self.stepper() is None:
            self.notify("step mode needs real processes: this run has none", timeout=3)
            return
        if self.stepping():
            self.action_go()
            return
        self._set_step(True)
        self.notify(
            "step mode: each process stops before its next operation; "
            "Enter lets the selected one do it, g lets everything go",
            timeout=4,
        )
        self._status()

    def action_go(self) -> None:
        """`g`: everything runs freely from here (recorded as "go"); `s` steps again."""
        if self._replaying() or not self.on_live_run("go"):
            return
        self._set_step(False)
        self.notify("go: every process runs freely (s holds them again)", timeout=3)
        self._status()

    def action_step_one(self) -> None:
        """Enter: the selected process does its next operation."""
        name = self._selected()
        if name is not None and self.on_live_run("a step"):
            self._step(name)

    def action_step_row(self, number: int) -> None:
        """1-9: the process whose row says [N] does its next operation."""
        snap = self.snap
        proc = next((p for p in snap.processes if p.index == number - 1), None) if snap else None
        if proc is None:
            self.notify(f"there is no process {number}", timeout=2)
            return
        if self.on_live_run("a step"):
            self._step(proc.name)

    def action_step_all(self) -> None:
        """`a`: every held process does one operation, all let go at once."""
        stepper = self.stepper()
        if stepper is None or self._replaying() or not self.on_live_run("a step"):
            return
        stepped = stepper.step_many([held.name for held in stepper.held()])
        if not stepped:
            self.notify("nobody is held at a gate now", timeout=2)
        self._status()

    def _step(self, name: str) -> None:
        stepper = self.stepper()
        if stepper is None or self._replaying():
            return
        if not stepper.step(name):
            self.notify(neutralise(f"{name} {self._why_not(name)}", multiline=False), timeout=3)
        self._status()

    def _why_not(self, name: str) -> str:
        """Why a process cannot be stepped now, in the words of its row."""
        snap = self.snap
        proc = next((p for p in snap.processes if p.name == name), None) if snap else None
        if proc is None or proc.state == "starting":
            return "has not reached its first operation yet"
        if proc.blocked is not None:
            where = f"{proc.blocked.op} '{proc.blocked.channel}'"
            return f"is blocked inside {where}, not held at a gate"
        if not proc.alive or proc.exitcode is not None:
            return "has ended"
        if proc.state == "stopped":
            return "is stopped (SIGSTOP): p resumes it"
        return "is between two operations: it stops at its next one"

    def on_live_run(self, what: str, *, stay: bool = False) -> bool:
        """Before a key acts on processes (run_rewind's: back to live first)."""
        return True

    def _replaying(self) -> bool:
        if self._replay is None:
            return False
        done, total = self._replay
        self.notify(f"a schedule is playing ({done}/{total}): the keys wait for it", timeout=2)
        return True

    # ------------------------------------------------------------ saving
    def action_save_schedule(self) -> None:
        """`v`: the order so far as a schedule file (`--schedule` replays it)."""
        stepper = self.stepper()
        if stepper is None:
            return
        if not stepper.schedule:
            self.notify("nothing to save yet: no process has been stepped", timeout=3)
            return
        name = self.source.scenario.name
        plan = S.Schedule(name, tuple(stepper.schedule), self.overrides)
        self._ask_file(plan, f"{name}{SUFFIX}")

    def _ask_file(self, plan: S.Schedule, suggestion: str) -> None:
        def named(name: str | None) -> None:
            if name is not None and alive(self):
                self._save(plan, name)

        self.app.push_screen(
            SaveAsScreen(
                suggestion,
                os.getcwd(),
                title=f"Save the schedule ({_steps_words(plan.steps)})",
                problem=lambda name: file_name_problem(name, SUFFIX),
                hint="Enter saves · Escape cancels · --schedule FILE replays it",
            ),
            named,
        )

    def _save(self, plan: S.Schedule, name: str) -> None:
        """Write it; a file that is there is replaced only when the user says so."""
        path = Path(name)
        if not path.exists():
            self._write(plan, path, overwrite=False)
            return
        shown = neutralise(name, multiline=False)
        ask_to_replace(
            self,
            f"{shown} already exists here.",
            free_file(name, Path.cwd(), SUFFIX),
            Choice("overwrite", f"Overwrite {shown}", "the old file is replaced"),
            lambda: self._write(plan, path, overwrite=True),
            lambda other: self._ask_file(plan, other),
        )

    def _write(self, plan: S.Schedule, path: Path, *, overwrite: bool) -> None:
        shown = neutralise(str(path), multiline=False)
        try:
            write_new(path, S.dumps(plan), overwrite=overwrite)
        except FileExistsError:
            self.notify(f"not saved: {shown} appeared meanwhile; press v again", severity="error")
            return
        except OSError as exc:
            self.notify(f"not saved: {exc.strerror or exc}", severity="error", timeout=6)
            return
        self.saved_to = (self.generation, str(path))
        self.notify(f"schedule saved: {shown} ({_steps_words(plan.steps)})", timeout=4)
        self._status()

    # ------------------------------------------------------------ replay
    def start_replay(self, steps: tuple[str, ...]) -> None:
        """Play `steps` on the run about to start, on a thread of its own: the
        status line shows its progress; the run stays in step mode after it
        unless its last step is "go"."""
        stop = self._replay_stop = threading.Event()
        total = len(steps)
        self._replay = (0, total)

        def post(done: int, played: S.Played | None = None) -> None:
            self.post_message(ReplayProgress(done, total, played))

        def play() -> None:
            end = time.monotonic() + START_WAIT_S
            stepper = self.stepper()
            while stepper is None and not stop.is_set() and time.monotonic() < end:
                time.sleep(0.02)
                stepper = self.stepper()
            if stepper is None:
                post(0, S.Played(0, 1, "the run did not start"))
                return
            played = S.play(stepper, steps, on_step=lambda n, _: post(n), stop=stop.is_set)
            post(played.done, played)

        threading.Thread(target=play, name="ipcplay-replay", daemon=True).start()

    def on_replay_progress(self, message: ReplayProgress) -> None:
        if not alive(self) or self._replay is None:
            return
        played = message.played
        if played is None:
            self._replay = (message.done, message.total)
        else:
            self._replay = None
            assert isinstance(played, S.Played)
            if played.why == "stopped":  # a restart or escape ended it
                self.notify(f"schedule stopped after {played.done} of {message.total} steps")
            elif played.stopped_at is not None:
                self.notify(
                    f"schedule: step {played.stopped_at} could not be played: "
                    f"{neutralise(played.why, multiline=False)}",
                    severity="warning",
                    timeout=8,
                )
            else:
                self.notify(f"schedule replayed: {played.done} steps", timeout=3)
            stepper = self.stepper()
            if stepper is not None and not stepper.on and hasattr(self.source, "step"):
                self.source.step = False  # it ended with "go"
        self._status()

    def stop_replay(self) -> None:
        if self._replay_stop is not None:
            self._replay_stop.set()

    # ------------------------------------------------------------ status
    def step_status(self, snap: Snapshot | None, width: int) -> Text | None:
        """The status line's part for step mode and a challenge, or None; a
        challenge's verdict says what was reached when `width` has room."""
        challenge = getattr(self.source.scenario, "challenge", None)  # a program has none
        stepper = self.stepper()
        if stepper is None and challenge is None:
            return None
        text = Text()
        taken = self.steps_taken()
        steps = f"{taken} step{'s' if taken != 1 else ''}"
        if self.stepping() and not (snap is not None and snap.finished):
            text.append(" STEP MODE ", style="bold black on yellow")
            text.append(f" {steps} ")
        elif self.stepping() or (taken and stepper is not None and stepper.schedule[-1] != GO):
            text.append(f" {steps} ")  # the last step ended the run
        elif taken:
            text.append(f" {steps}, then go ")
        if self._replay is not None:
            done, total = self._replay
            text.append(f"│ replaying {done}/{total} ", style="bold cyan")
        if challenge is not None:
            text.append_text(self._challenge_words(challenge, snap, taken, width, text.cell_len))
        if self.saved_to is not None and self.saved_to[0] == self.generation:
            saved = neutralise(self.saved_to[1], multiline=False)
            text.append(f"│ saved {saved} ", style="grey62")
        return text if text.plain else None

    def _challenge_words(
        self, challenge: Challenge, snap: Snapshot | None, taken: int, width: int, used: int
    ) -> Text:
        """The goal while it is open; once reached, the verdict with the steps
        it took then (a restart opens it again)."""
        generation = self.generation
        if self._met is not None and self._met[0] != generation:
            self._met = None
        if self._met is None and snap is not None:
            line = C.met_line(challenge, snap, taken)
            if line:
                self._met = (generation, line)
        if self._met is not None:
            head, _, words = neutralise(self._met[1], multiline=False).partition(": ")
            text = Text(f"│ {head} ", style="bold black on green")
            if words and width - used - text.cell_len >= len(words) + 2:
                text.append(f" {words} ", style="green")  # what was reached, when it fits
            return text
        return Text(f"│ goal: {neutralise(C.task(challenge), multiline=False)} ", style="bold")


def _steps_words(steps: tuple[str, ...]) -> str:
    """How a schedule reads in a line: "3 steps", "3 steps, then go"."""
    taken = C.steps_taken(steps)
    words = f"{taken} step{'s' if taken != 1 else ''}"
    return f"{words}, then go" if steps and steps[-1] == GO else words
