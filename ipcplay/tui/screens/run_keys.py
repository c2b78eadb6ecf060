"""Which keys the run screen offers and shows, by what the run is doing.

A class reads the footer. While the processes run it names the controls;
once a deadlock or hang is found it names the Waits graph, Kill and Restart;
once every process has exited it offers nothing that needs a live one; while
a tour plays it names `n` and `b`; in step mode, the step keys (and only
then: run_step). At 100 columns the footer holds about a
dozen keys, so each state shows the ones that matter then.

Two library hooks, two meanings:

- `check_action` says whether a key *works* now (False: off and not shown).
  A finished run has nobody to pause; a zoomed view cannot zoom again.
- `active_bindings` (what the Footer draws) leaves out keys that work but
  matter less now. They still work, `?` lists them and the palette runs them.

The screen calls `refresh_keys()` whenever its state may have changed; the
footer is redrawn only when the state it depends on did.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import TYPE_CHECKING

from textual.binding import ActiveBinding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import TabbedContent

if TYPE_CHECKING:
    from textual.widget import Widget

    from ipcplay.engine.snapshot import Snapshot

LIVE = frozenset({"pause", "pause_all", "resume_all", "terminate", "kill", "rate", "pill"})
"""Actions on running processes: off until the first sample and once all have exited."""

_TABS = ("tab('tab-waits')", "tab('tab-explain')", "tab('tab-code')")
OUTPUT = "tab('tab-output')"
"""A watched program's Output tab: shown in the footer for a program, off for a preset."""
PRESET_ONLY = frozenset({"rate(1.5)", "pill"})
"""Footer keys a program never shows: pressed, they say in one line why not."""
_ZOOM = ("zoom", "unzoom")

SHOWN: dict[str, frozenset[str]] = {
    "starting": frozenset({"tab('tab-explain')", "tab('tab-code')", *_ZOOM, "back"}),
    "running": frozenset(
        {"pause_all", "pause", "kill", "rate(1.5)", "pill", "filter"}
        | {"tab('tab-waits')", "tab('tab-code')", *_ZOOM, "back"}
    ),
    "touring": frozenset(
        {"pause_all", "resume_all", "pause", "kill", "tab('tab-waits')", *_ZOOM}
        | {"tour_next", "tour_back", "back"}
    ),
    "stuck": frozenset(
        {"resume_all", "kill", "terminate", "pill", *_TABS, *_ZOOM, "restart", "back"}
    ),
    "finished": frozenset(
        {"restart", "filter", "tab('tab-explain')", "tab('tab-code')", *_ZOOM, "back"}
    ),
}
"""Per state, the screen's actions (as written in BINDINGS) the footer shows."""
SHOWN["paused"] = SHOWN["running"] - {"pause_all"} | {"resume_all"}

STEP_KEYS = frozenset({"step_one", "step_row(1)", "step_all", "go", "save_schedule"})
"""Step mode's keys: on, and in the footer, only while step mode is on."""
SHOWN["stepping"] = STEP_KEYS | {"kill", "tab('tab-waits')", *_ZOOM, "back"}
# `s` (step mode on) is not in a free run's footer, which is full at 100
# columns: `?` and the palette name it, and the README.

REWIND = frozenset({"rewind(-1)", "rewind(1)", "moment(-1)", "rewind_start", "save_run"})
"""Rewinding's keys (run_rewind), in the footer while rewound and in a replay."""
SHOWN["rewound"] = REWIND | {"live", "tab('tab-waits')", *_ZOOM, "back"}
SHOWN["stuck"] = SHOWN["stuck"] | {"rewind_back"}  # how did it get here? ← shows it
SHOWN["finished"] = SHOWN["finished"] | {"rewind_back"}
SHOWN["replay"] = REWIND - {"rewind(1)", "save_run"} | {*_TABS, *_ZOOM, "back"}

STUCK_LESS = frozenset({"terminate", "pill", "tab('tab-explain')"})
"""Keys a stuck run in step mode leaves out of the footer, for `g` and `v`."""
TOURING_LESS = frozenset({"step_row(1)", "save_schedule", "kill"})
"""Step keys a tour in step mode leaves out of the footer, for `n` and `b`."""
STEP_ACTIONS = frozenset({"step_one", "step_row", "step_all", "go"})
"""Actions that need step mode on (as check_action names them, without arguments)."""

NARROW = 100
"""Below this many columns the footer also leaves out `LESS`, so quit and help stay."""
LESS = frozenset({"rate(1.5)", "filter", "terminate", "rewind_back"})
STEP_LESS = frozenset({"kill", "zoom"})
"""... and in step mode these too, so the step keys fit at 80 columns."""
REWIND_LESS = frozenset({"rewind_start", "save_run", "zoom", "tab('tab-explain')"})
"""... and rewound or in a replay these, so the rewind keys fit at 80 columns."""


class KeysByState(Screen[None]):
    """The run screen's keys, on and shown by state (a base of RunScreen)."""

    snap: Snapshot | None
    paused_all: bool
    tour: object | None
    program: object | None  # a watched program's view (run_program), None for a preset
    _keys_state: tuple[object, ...] = ()

    def stepping(self) -> bool:
        """Step mode is on (run_step.StepControls says; False on a base screen)."""
        return False

    def steps_taken(self) -> int:
        """Operations the user let processes do one by one in this run."""
        return 0

    def phase(self) -> str:
        """starting, running, paused, touring, stepping, stuck or finished
        (run_rewind adds rewound and replay)."""
        snap = self.snap
        if snap is None:
            return "starting"
        if snap.finished:
            return "finished"
        if snap.stuck is not None:
            return "stuck"
        if self.stepping():
            return "stepping"
        if self.tour is not None:
            return "touring"
        return "paused" if self.paused_all else "running"

    def _pacers(self) -> bool:
        return self.snap is not None and any(
            p.role in ("producer", "pinger") for p in self.snap.processes
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        phase = self.phase()
        if action in STEP_ACTIONS:
            return self.stepping() and phase not in ("starting", "finished")
        if action == "step_mode":  # a preset's processes and a program's alike
            return phase not in ("starting", "finished")
        if action == "zoom":
            return self.maximized is None
        if action == "tab" and parameters == ("tab-output",):
            return self.program is not None
        if action in ("rate", "pill") and self.program is not None:
            return True  # not shown; pressed, it says why a program has none
        if action == "unzoom":
            return self.maximized is not None
        if action in LIVE and phase in ("starting", "finished"):
            return False
        if action == "pause_all":
            return not self.paused_all
        if action == "resume_all":
            return self.paused_all
        if action == "rate":  # nobody paces itself, or a stuck writer cannot go faster
            return self._pacers() and phase != "stuck"
        return True

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The keys the Footer draws: this screen's own by `SHOWN`, the app's
        (quit, help) and the focused widget's as they are."""
        shown = SHOWN[self.phase()]
        if self.phase() == "stuck" and self.stepping():  # held ones may still go
            shown = shown - STUCK_LESS | {"go", "save_schedule"}
        if self.phase() == "stepping" and self.tour is not None:  # a tour that steps
            shown = shown - TOURING_LESS | {"tour_next", "tour_back"}
        if self.phase() == "finished" and self.steps_taken():  # the schedule that did it
            shown = shown | {"save_schedule"}
        if self.program is not None:
            shown = shown - PRESET_ONLY
            if self.phase() != "starting":
                shown = shown | {OUTPUT}
            if self.phase() == "stepping":  # room for Output at 100 columns; k still works
                shown = shown - {"kill"}
        if self.size.width < NARROW:
            shown = shown - LESS - (STEP_LESS if self.phase() == "stepping" else frozenset())
            if self.phase() in ("rewound", "replay"):
                shown = shown - REWIND_LESS
        if self.phase() == "rewound" and getattr(getattr(self, "source", None), "saved", None):
            shown = shown - {"live"} | {"to_end"}  # a replay: its end, not live
        if self.maximized is not None:
            shown = shown - {"back"}  # escape restores the panels first
        out: dict[str, ActiveBinding] = {}
        for key, active in super().active_bindings.items():
            if active.node is self:
                show = active.binding.action in shown
                if show != active.binding.show:
                    active = active._replace(binding=replace(active.binding, show=show))
            out[key] = active
        return out

    def refresh_keys(self) -> None:
        """Redraw the footer if what it depends on changed (cheap otherwise:
        called on every snapshot)."""
        state = (
            self.phase(),
            self.paused_all,
            self.maximized is not None,
            self._pacers(),
            self.size.width < NARROW,
            self.stepping(),
            self.steps_taken() > 0,
        )
        if state != self._keys_state:
            self._keys_state = state
            self.refresh_bindings()

    # ------------------------------------------------------------------ zoom
    def action_zoom(self) -> None:
        """The bottom tabs (events, waits, explanation, code) over the whole
        screen, under the status line: the code a class reads in full."""
        self.maximized = self.query_one("#bottom")

    def action_unzoom(self) -> None:
        self.minimize()

    def watch_maximized(self, maximized: Widget | None) -> None:
        """Zoomed or not (by `m`, or escape), the footer says which key undoes it.

        Zoomed, the tabs take the focus (the process rows are hidden), so the
        arrows scroll what the class reads. Back, the rows get it again: left
        on the tabs, the arrows would no longer move the selection and `k`
        would kill the process selected before the zoom, not the one the
        teacher moved to."""
        if maximized is None:
            with contextlib.suppress(NoMatches):
                self.query_one("#proc-rows").focus()
        elif self.program is not None:  # a program's output, zoomed: the arrows scroll it
            with contextlib.suppress(NoMatches):
                if self.query_one("#bottom", TabbedContent).active == "tab-output":
                    self.query_one("#output").focus()
        self.refresh_keys()
