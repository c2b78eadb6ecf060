"""The run screen: a scenario's real processes, live, and the controls."""

from __future__ import annotations

import contextlib
import gc
from concurrent.futures import Future

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Static, TabbedContent, TabPane

from ipcplay.engine.snapshot import Snapshot, crashed
from ipcplay.engine.tempo import SPEEDS
from ipcplay.export import to_python
from ipcplay.markers import MarkerOut, StateMarks
from ipcplay.tour import Fired, TourPlayer
from ipcplay.tui.deferred import after, after_refresh, alive, every
from ipcplay.tui.format import reflow
from ipcplay.tui.messages import RunFailed, SnapshotReady
from ipcplay.tui.screens.run_panels import Panels, Shown
from ipcplay.tui.screens.run_program import NOT_FOR_PROGRAMS, ProgramView, is_program
from ipcplay.tui.screens.run_rewind import RewindControls
from ipcplay.tui.source import SnapshotSource
from ipcplay.tui.widgets.caption import TourCaption
from ipcplay.tui.widgets.channels import ChannelPanel
from ipcplay.tui.widgets.events import EventLog
from ipcplay.tui.widgets.flow import FlowView, grouped
from ipcplay.tui.widgets.managers import ManagerPanel
from ipcplay.tui.widgets.output import OutputView
from ipcplay.tui.widgets.processes import SHORT, TINY, ProcessPanel
from ipcplay.tui.widgets.rows import RowView
from ipcplay.tui.widgets.shared import SharedPanel
from ipcplay.tui.widgets.status import Banner, StatusBar
from ipcplay.tui.widgets.timeline import Timeline
from ipcplay.tui.widgets.waits import WaitGraph

RATES_HZ = (1.0, 2.0, 5.0, 10.0, 20.0)


class RunScreen(RewindControls):
    """Everything here is drawn from snapshots; keys become engine commands.

    Which keys work and which the footer shows depend on the run's state:
    see `run_keys` (a key's `show=` here is only its default); step mode's
    keys are in `run_step`, rewinding's in `run_rewind`."""

    BINDINGS = [
        Binding("space", "pause_all", "Pause all", key_display="␣"),
        Binding("space", "resume_all", "Resume all", key_display="␣"),
        Binding("p", "pause", "Pause"),
        Binding("t", "terminate", "Term"),
        Binding("k", "kill", "Kill"),
        Binding("plus,equals_sign", "rate(1.5)", "Rate", key_display="+-"),
        Binding("minus", "rate(0.6667)", "Rate-", key_display="-", show=False),
        Binding("x", "pill", "Pill"),
        Binding("r", "restart", "Restart"),
        Binding("f", "filter", "Filter"),
        Binding("w", "tab('tab-waits')", "Waits"),
        Binding("e", "tab('tab-explain')", "Explain"),
        Binding("c", "tab('tab-code')", "Code"),
        Binding("o", "tab('tab-output')", "Output"),
        Binding("m", "zoom", "Zoom"),
        Binding("m", "unzoom", "Unzoom"),
        Binding("less_than_sign", "speed(-1)", "Slower", key_display="<", show=False),
        Binding("greater_than_sign", "speed(1)", "Faster", key_display=">", show=False),
        Binding("n", "tour_next", "Next caption", show=False),
        Binding("b", "tour_back", "Previous caption", show=False),
        Binding("right_square_bracket", "hz(1)", "Hz+", key_display="]", show=False),
        Binding("left_square_bracket", "hz(-1)", "Hz-", key_display="[", show=False),
        Binding("tab", "focus_next", "Next pane", show=False),
        Binding("escape", "back", "Back"),
    ]
    # Zoomed (`m`), the tabs keep the status line, a tour's caption and the keys.
    ALLOW_IN_MAXIMIZED_VIEW = "#status, #timeline, #caption, Footer"

    def __init__(
        self,
        source: SnapshotSource,
        tour: bool = False,
        markers: MarkerOut | None = None,
        hold_s: float | None = None,
        replay: tuple[str, ...] | None = None,
        overrides: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.source = source
        self.replay = replay  # a schedule's steps to play once the run starts (--schedule)
        self.overrides = overrides  # the schedule's `set`, saved again with the run's
        self.snap: Snapshot | None = None
        self.generation = 0
        self.paused_all = False
        self.verdict: str | None = None
        self.tour_on = tour and bool(source.scenario.tour)
        self.tour: TourPlayer | None = None
        self.hold_s = hold_s  # None: a held tour step waits for the teacher's `n`
        self.shown: int | None = None  # the caption browsed back to with `b` (None: the last)
        # What the teacher paused, by hand: the tour holds meanwhile and never resumes it.
        self.teacher_paused: set[str] = set()
        self.teacher_paused_all = False
        self._w: Panels | None = None
        self._heap_frozen = False
        self.markers = markers or MarkerOut(-1)
        self.marks = StateMarks()
        # A watched program (`ipcplay PROGRAM.py`), not a preset: see run_program.
        self.program = ProgramView(source) if is_program(source) else None

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Timeline(id="timeline")
        yield Banner(id="banner")
        with Horizontal(id="top"):
            yield FlowView(id="flow")
            yield ChannelPanel(id="channels")
        yield SharedPanel(id="shared")
        yield ManagerPanel(id="managers")
        yield ProcessPanel(id="processes")
        with TabbedContent(id="bottom"):
            with TabPane("Events", id="tab-events"):
                yield EventLog(id="events")
            if self.program is not None:
                with TabPane("Output", id="tab-output"):
                    yield Static("", id="output-head", classes="table-header")
                    yield OutputView(id="output")
            with TabPane("Waits", id="tab-waits"), VerticalScroll(id="waits-scroll"):
                yield WaitGraph(id="waits")
            with TabPane("Explain", id="tab-explain"), VerticalScroll():
                yield Static(
                    Text(
                        reflow(self.source.scenario.explain)
                        or "(this scenario has no teaching text)"
                    ),
                    id="explain",
                )
            with TabPane("Code", id="tab-code"), VerticalScroll(id="code-scroll"):
                # Made when the tab is first shown: most runs never open it.
                yield Static(id="code")
        yield TourCaption(id="caption")
        yield Footer(compact=True, show_command_palette=False)

    def on_resize(self) -> None:
        # Narrow terminals: the diagram already shows each channel's depth and
        # rates, so it gets the whole width and the channel table steps aside.
        count = len(self.source.scenario.channels)
        if self.program is not None:  # a program's channels are the ones made so far
            count = len(grouped(self.snap.channels)) if self.snap is not None else 0
        many = count > FlowView.MAX_CHANNELS_SHOWN
        table = (self.size.width >= 120 or many) and count > 0
        self.query_one(ChannelPanel).display = table
        self.query_one(FlowView).topology_only = table
        self.set_class(self.size.height < SHORT, "-short")  # see app.tcss
        self.set_class(self.size.height < TINY, "-tiny")
        if self.snap is not None:  # columns depend on the width: redraw now, not next tick
            after_refresh(self, self.redraw)

    def on_mount(self) -> None:
        self._show(Shown.of(self.source.scenario))
        self.query_one(Banner).display = False
        self.query_one(TourCaption).display = False
        self.query_one(Timeline).display = False
        if self.tour_on:
            self.query_one(ProcessPanel).reserve = 4
        self._new_tour()
        self.query_one("#proc-rows", RowView).focus()
        self._status()
        # Start the processes once this screen (saying "starting…") is on the
        # terminal: twenty spawned interpreters importing at once leave the
        # observer so little CPU that its first frame used to wait 2 s for them.
        after_refresh(self, self._start_source)
        every(self, 1.0, self._status)  # freshness keeps ticking if data stops

    def _show(self, shown: Shown) -> None:
        """Show the panels the run has objects for (a program: made so far)."""
        log = self.query_one(EventLog)
        log.pipes, log.conditions = shown.pipes, shown.conditions
        self.query_one("#top").display = shown.diagram
        self.query_one(SharedPanel).display = shown.shared
        self.query_one(ManagerPanel).display = shown.managers
        self.on_resize()

    def _start_source(self) -> None:
        self._watch(self.source.start(self._deliver))
        if self.replay is not None:
            self.start_replay(self.replay)

    def _watch(self, future: Future[None]) -> None:
        """Report a start that failed (on the engine thread) as a message."""

        def done(f: Future[None]) -> None:
            exc = f.exception()
            if exc is not None:
                self.post_message(RunFailed(f"{type(exc).__name__}: {exc}"))

        future.add_done_callback(done)

    def on_run_failed(self, message: RunFailed) -> None:
        self.verdict = "failed to start"
        self.notify(message.error, severity="error", timeout=10)
        self._status()

    def _deliver(self, snap: Snapshot, generation: int) -> None:
        """Called on the sampler thread: post, never touch widgets. Every
        snapshot goes into the run's history first (rewind)."""
        self.keep(snap, generation)
        self.post_message(SnapshotReady(snap, generation))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        if not alive(self):  # posted just before escape popped this screen
            return
        if message.generation != self.generation:
            self.generation = message.generation
            self.query_one(ProcessPanel).reset()
            self.query_one(ChannelPanel).reset()
            self.query_one(EventLog).reset()
            if self.program is not None:
                self.program.reset()
                self.query_one(OutputView).reset()
            self.verdict = None
            self._new_tour()
            if self.rewound is not None:  # a new run: its history starts again, live
                self.rewound = None
                self.show_timeline(False)
        self._apply(message.snapshot)
        if self.replaying_saved():  # a saved run shows where its moments are
            self.show_timeline(True)
            self._timeline_now()
        self._follow(message.snapshot)
        if not self._heap_frozen:
            self._freeze_heap()

    def action_tab(self, pane: str) -> None:
        """Show a tab; asked again, go back to the events."""
        tabs = self.query_one("#bottom", TabbedContent)
        tabs.active = "tab-events" if tabs.active == pane else pane

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        shown = self.shown_snapshot()
        if event.pane.id == "tab-waits" and shown is not None:
            self.query_one(WaitGraph).update_snapshot(shown, self.shown_now())
        if event.pane.id == "tab-code":
            code = self.query_one("#code", Static)
            if not code.content:
                code.update(
                    self.program.code()  # the program's own source
                    if self.program is not None
                    else Syntax(
                        to_python(self.source.scenario),
                        "python",
                        theme="monokai",
                        line_numbers=True,
                        word_wrap=False,
                    )
                )

    # ------------------------------------------------------------------ tour
    def _new_tour(self) -> None:
        self.marks = StateMarks()
        self.tour = (
            TourPlayer(self.source.scenario, self.source, hold_s=self.hold_s)
            if self.tour_on
            else None
        )
        self.shown = None
        self.teacher_paused.clear()
        self.teacher_paused_all = False
        if self.is_mounted:
            self.query_one(TourCaption).clear()

    def _teacher_pause_changed(self) -> None:
        """A pause made by hand holds the tour, and protects what it paused."""
        tour = self.tour
        if tour is None:
            return
        names = set(self.teacher_paused)
        if self.teacher_paused_all:
            names |= {p.name for p in self.snap.processes} if self.snap else set()
            names.add("*")
        tour.protected = names
        if names:
            tour.holds.add("paused")
        else:
            tour.holds.discard("paused")
        self._caption_note()

    def _caption_note(self) -> None:
        """Why the tour is waiting, under its caption: the teacher's to end."""
        tour = self.tour
        if tour is None or not tour.fired:
            return
        note = ""
        if self.shown is not None:
            note = "an earlier caption: n goes forward, the tour waits meanwhile"
        elif "paused" in tour.holds:
            note = "the tour waits while you have processes paused (resume them, or n)"
        elif tour.waiting_for_teacher:
            note = "n: next step"
        self.query_one(TourCaption).note(note)

    def _follow(self, snap: Snapshot) -> None:
        """Tour steps and recording marks, after the screen shows the snapshot
        that triggered them."""
        for label in self.marks.feed(snap):
            self.markers.mark(label)
        if self.tour is None:
            return
        # The reading gap is about when captions are seen: the screen's clock.
        self._show_fired(self.tour.feed(snap, self.source.now()))

    def _show_fired(self, fired_now: list[Fired]) -> None:
        for fired in fired_now:
            self.markers.mark(fired.label)
            if self.history is not None:  # a moment to rewind to
                self.history.mark("tour", fired.label)
            if self.shown is None:
                self.query_one(TourCaption).show(fired)
            if fired.step.highlight:
                self.highlight(fired.step.highlight)
            if fired.step.do in ("pause-all", "resume-all") and not self.teacher_paused_all:
                self.paused_all = fired.step.do == "pause-all"
                self._status()
        if fired_now:
            self._caption_note()

    def action_tour_next(self) -> None:
        """`n`: forward through captions browsed back to, else end a held
        step, else the next step now, whatever it waits for."""
        tour = self.tour
        if tour is None:
            self._no_tour()
            return
        caption = self.query_one(TourCaption)
        if self.shown is not None:
            self.shown += 1
            if self.shown >= len(tour.fired) - 1:
                self.shown = None
                tour.holds.discard("browsing")
            caption.show(tour.fired[self.shown if self.shown is not None else -1], again=True)
            self._caption_note()
            return
        if tour.done:
            self.notify("that was the tour's last step (b: go back)", timeout=3)
            return
        tour.advance()
        if self.snap is not None:
            self._show_fired(tour.feed(self.snap, self.source.now()))
        self._caption_note()

    def action_tour_back(self) -> None:
        """`b`: the caption before the one shown; the tour waits meanwhile."""
        tour = self.tour
        if tour is None:
            self._no_tour()
            return
        last = len(tour.fired) - 1
        at = last if self.shown is None else self.shown
        if at <= 0:
            self.notify("this is the tour's first caption", timeout=2)
            return
        self.shown = at - 1
        tour.holds.add("browsing")
        self.query_one(TourCaption).show(tour.fired[self.shown], again=True)
        self._caption_note()

    def _no_tour(self) -> None:
        if self.program is not None:
            self.notify(NOT_FOR_PROGRAMS["tour"], timeout=3)
        elif self.source.scenario.tour:
            self.notify('no tour is playing: ctrl+p, then "tour", starts it', timeout=4)
        else:
            self.notify("this scenario has no tour", timeout=3)

    def action_start_tour(self) -> None:
        """Play the scenario's tour from the start: the run starts again with it."""
        if not self.source.scenario.tour:
            self.notify("this scenario has no tour", timeout=3)
            return
        self.tour_on = True
        self.query_one(ProcessPanel).reserve = 4
        self.action_restart()

    def highlight(self, name: str) -> None:
        """Draw the eye to a channel or a process for a few seconds."""
        if any(channel.name == name for channel in self.source.scenario.channels):
            panels = [self.query_one(ChannelPanel), self.query_one(FlowView)]
        else:
            rows = self.query_one("#proc-rows", RowView)
            snap = self.snap
            names = [proc.name for proc in snap.processes] if snap else []
            match = next((n for n in names if n == name or n.startswith(name + "-")), None)
            if match is not None:
                rows.cursor = names.index(match)
            panels = [self.query_one(ProcessPanel)]
        for panel in panels:
            panel.add_class("tour-highlight")
        after(self, 3.0, lambda: [p.remove_class("tour-highlight") for p in panels])

    def _apply(self, snap: Snapshot) -> None:
        """The live snapshot: the run's state, and the panels unless rewound."""
        self.snap = snap
        if snap.finished and self.verdict is None:
            self.verdict = "crashed" if crashed(snap.processes) else "completed"
        if snap.stuck is not None:
            self.verdict = snap.stuck.kind
        if self.rewound is not None:  # the past stays on screen; the run goes on under it
            self._status()
            self._timeline_now()
            return
        self._draw(snap, self.source.now())

    def verdict_now(self) -> str:
        return self.verdict or "running"

    def _draw(self, snap: Snapshot, now: float) -> None:
        """Every panel from `snap` (the live one, or a rewound one at its own `now`)."""
        widget = self._widgets()
        if self.program is not None:
            shown = self.program.shown(snap)
            if shown is not None:  # the program made a new kind of object
                self._show(shown)
        with self.app.batch_update():
            widget.flow.update_snapshot(snap)
            widget.channels.update_snapshot(snap)
            if snap.shared:
                widget.shared.update_snapshot(snap, now)
            if snap.managers:
                self.query_one(ManagerPanel).update_snapshot(snap)
            widget.processes.update_snapshot(snap, now)
            names = [proc.name for proc in snap.processes]
            if self.program is not None:
                chans = self.program.chans(snap)
                if self.rewound is None:  # its output stays as it is now
                    self.program.feed_output(
                        self.query_one(OutputView), self.query_one("#output-head", Static), snap
                    )
            else:
                chans = [c.name for c in snap.channels] + [o.name for o in snap.shared]
            t0 = int((snap.t - snap.elapsed_s) * 1e9)
            widget.events.update_snapshot(snap, names, chans, t0)
            if widget.tabs.active == "tab-waits":  # a hidden graph costs a relayout a tick
                widget.waits.update_snapshot(snap, now)
            widget.banner.show_stuck(snap)
            self._status()

    def _widgets(self) -> Panels:
        """The panels, found once: a query walks the DOM, ten times a second."""
        if self._w is None:
            self._w = Panels.find(self)
        return self._w

    def _status(self) -> None:
        title = self.source.scenario.title
        if self.program is not None:  # the program's own exit status, beside the verdict
            title = self.program.title(self.snap)
        self.query_one(StatusBar).render_status(
            title,
            self.snap,
            self.source.now(),
            self.source.hz,
            self.paused_all,
            self.verdict,
            self.step_status(self.snap, self.size.width),
            self.rewound_words(),
        )
        self.refresh_keys()

    def on_row_view_selected(self, message: RowView.Selected) -> None:
        if message.view.id == "proc-rows":
            self.query_one(ProcessPanel).show_detail(self.shown_now())

    # ----------------------------------------------------------------- controls
    def _selected(self) -> str | None:
        return self.query_one("#proc-rows", RowView).selected_key

    def _act(self, what: str, action: object, *args: object) -> None:
        try:
            result = action(*args)  # type: ignore[operator]
        except Exception as exc:  # a process that already exited, say
            self.notify(f"{what}: {exc}", severity="warning", timeout=3)
            return
        if isinstance(result, str) and result:
            what = f"{what} ({result})"
        self.notify(what, timeout=2)

    def _pid(self, name: str) -> str:
        if self.snap is not None:
            for proc in self.snap.processes:
                if proc.name == name:
                    return f"pid {proc.pid}"
        return ""

    def action_resume_all(self) -> None:
        """`space` while paused (its own action, so the footer can say "Resume all")."""
        self.action_pause_all()

    def action_pause_all(self) -> None:
        if not self.on_live_run("pause", stay=True):  # the live run: the view stays put
            return
        if self.paused_all:
            self._act("resumed every process (SIGCONT)", self.source.resume_all)
            self.teacher_paused.clear()
            self.teacher_paused_all = False
        else:
            self._act("paused every process (SIGSTOP)", self.source.pause_all)
            self.teacher_paused_all = True
        self.paused_all = not self.paused_all
        self._teacher_pause_changed()
        self._status()

    def action_pause(self) -> None:
        name = self._selected()
        if name is None or not self.on_live_run("pause", stay=True):
            return
        proc = (
            next((proc for proc in self.snap.processes if proc.name == name), None)
            if self.snap
            else None
        )
        if proc is not None and proc.state == "stopped":
            self._act(f"resumed {name} ({self._pid(name)}) with SIGCONT", self.source.resume, name)
            self.teacher_paused.discard(name)
        else:
            self._act(f"paused {name} ({self._pid(name)}) with SIGSTOP", self.source.pause, name)
            self.teacher_paused.add(name)
        self._teacher_pause_changed()

    def action_terminate(self) -> None:
        name = self._selected()
        if name and self.on_live_run("SIGTERM"):
            self._act(f"sent SIGTERM to {name} ({self._pid(name)})", self.source.terminate, name)

    def action_kill(self) -> None:
        name = self._selected()
        if name and self.on_live_run("SIGKILL"):
            self._act(f"sent SIGKILL to {name} ({self._pid(name)})", self.source.kill, name)

    def _rate_target(self) -> str | None:
        """The selected process if it paces itself, else the first one that does."""
        if self.snap is None:
            return None
        paced = [proc.name for proc in self.snap.processes if proc.role in ("producer", "pinger")]
        name = self._selected()
        if name in paced:
            return name
        return paced[0] if paced else None

    def action_rate(self, factor: float) -> None:
        if self.program is not None:
            self.notify(NOT_FOR_PROGRAMS["rate"], timeout=3)
            return
        if not self.on_live_run("rate"):
            return
        name = self._rate_target()
        if name is None:
            self.notify("no producer or pinger to pace", severity="warning", timeout=2)
            return
        current = self.source.rate_of(name)
        if current <= 0:
            current = 1000.0 if factor < 1 else 0.0
            if factor > 1:
                self.notify(f"{name} already runs as fast as it can", timeout=2)
                return
        new = max(0.1, min(100_000.0, current * factor))
        self._act(f"{name}: rate {current:g}/s → {new:.3g}/s", self.source.set_rate, name, new)

    def action_pill(self) -> None:
        if self.program is not None:
            self.notify(NOT_FOR_PROGRAMS["pill"], timeout=3)
            return
        name = self._selected()
        if name and self.on_live_run("poison pill"):
            # Down the selected process's own input: it is the one that stops.
            self._act(f"poison pill to stop {name}", self.source.poison_pill, name)

    def action_restart(self) -> None:
        if not self.on_live_run("restart"):
            return
        self.stop_replay()  # a schedule plays on the run it was started on, not the next
        self.paused_all = False
        what = "program" if self.program is not None else "scenario"
        self.notify(f"restarting the {what}…", timeout=2)
        self._watch(self.source.restart())

    def action_speed(self, step: int) -> None:
        """`<` / `>`: slow motion. The scenario's own time runs slower or faster
        from now; the IPC between its steps is never slowed."""
        if self.program is not None:
            self.notify(NOT_FOR_PROGRAMS["speed"], timeout=3)
            return
        if not self.on_live_run("slow motion", stay=True):
            return
        speed = self.source.speed
        idx = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - speed))
        idx = max(0, min(len(SPEEDS) - 1, idx + step))
        if SPEEDS[idx] == speed:
            edge = "slowest" if step < 0 else "full speed"
            self.notify(f"already at {speed:g}× ({edge})", timeout=2)
            return
        try:
            self.source.set_speed(SPEEDS[idx])
        except (RuntimeError, ValueError) as exc:
            self.notify(f"speed: {exc}", severity="warning", timeout=3)
            return
        words = "full speed" if SPEEDS[idx] == 1 else "slow motion"
        self.notify(f"{words}: {SPEEDS[idx]:g}× (the IPC itself is not slowed)", timeout=2)
        self._status()

    def action_hz(self, step: int) -> None:
        hz = self.source.hz
        idx = min(range(len(RATES_HZ)), key=lambda i: abs(RATES_HZ[i] - hz))
        idx = max(0, min(len(RATES_HZ) - 1, idx + step))
        self.source.set_hz(RATES_HZ[idx])
        self.notify(f"refresh rate {RATES_HZ[idx]:g} Hz", timeout=2)
        self._status()

    def action_filter(self) -> None:
        """Cycle the event log: everything → the selected process → each of its
        channels → everything."""
        if self.program is not None and self._widgets().tabs.active == "tab-output":
            said = self.program.filter_output(
                self.query_one(OutputView),
                self.query_one("#output-head", Static),
                self.snap,
                self._selected(),
            )
            self.notify(said, timeout=2)
            return
        log = self.query_one(EventLog)
        name = self._selected()
        choices: list[str | None] = [None]
        if name:
            choices.append(name)
            if self.program is not None and self.snap is not None:
                choices += self.program.channels_of(self.snap, name)
            spec = next(
                (
                    proc
                    for proc in self.source.scenario.processes
                    if name == proc.name or name.startswith(proc.name + "-")
                ),
                None,
            )
            if spec is not None:
                choices += list(dict.fromkeys((*spec.inputs, *spec.outputs, *spec.shared_used)))
        nxt = (
            choices[(choices.index(log.filter) + 1) % len(choices)]
            if log.filter in choices
            else (choices[1] if len(choices) > 1 else None)
        )
        log.set_filter(nxt)
        self.notify(f"event log: {'only ' + nxt if nxt else 'everything'}", timeout=2)

    def action_back(self) -> None:
        if self.rewound is not None:  # as zoomed: escape leaves the rewound view first
            self.action_live()
            return
        self.stop_replay()
        self.source.stop()
        self.app.pop_screen()

    def _freeze_heap(self) -> None:
        """Once the first frame is up, take every object alive now out of the
        garbage collector's sight (`gc.freeze`).

        Why: by then Textual, Rich and the scenario hold ~85,000 long-lived
        objects, and each full collection walked them all on the thread that
        draws: 45 ms every ten seconds or so, a visible stall and 0.7 % of a
        core. Frozen, a full collection sees only newer objects (5 ms here).
        Undone when this screen goes, so the next one frees what this left."""
        self._heap_frozen = True
        gc.freeze()

    def on_unmount(self) -> None:
        self.stop_replay()
        if self._heap_frozen:
            gc.unfreeze()
        with contextlib.suppress(Exception):
            self.source.stop()
