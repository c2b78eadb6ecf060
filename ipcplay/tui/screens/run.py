"""The run screen: a scenario's real processes, live, and the controls."""

from __future__ import annotations

import contextlib
import gc
from concurrent.futures import Future
from dataclasses import dataclass

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from ipcplay.engine.snapshot import Snapshot, crashed
from ipcplay.export import to_python
from ipcplay.markers import MarkerOut, StateMarks
from ipcplay.tour import TourPlayer
from ipcplay.tui.format import reflow
from ipcplay.tui.messages import RunFailed, SnapshotReady
from ipcplay.tui.source import SnapshotSource
from ipcplay.tui.widgets.caption import TourCaption
from ipcplay.tui.widgets.channels import ChannelPanel
from ipcplay.tui.widgets.events import EventLog
from ipcplay.tui.widgets.flow import FlowView
from ipcplay.tui.widgets.managers import ManagerPanel
from ipcplay.tui.widgets.processes import ProcessPanel
from ipcplay.tui.widgets.rows import RowView
from ipcplay.tui.widgets.shared import SharedPanel
from ipcplay.tui.widgets.status import Banner, StatusBar
from ipcplay.tui.widgets.waits import WaitGraph

RATES_HZ = (1.0, 2.0, 5.0, 10.0, 20.0)


@dataclass(frozen=True)
class _Widgets:
    flow: FlowView
    channels: ChannelPanel
    shared: SharedPanel
    processes: ProcessPanel
    events: EventLog
    waits: WaitGraph
    banner: Banner
    tabs: TabbedContent


class RunScreen(Screen[None]):
    """Everything here is drawn from snapshots; keys become engine commands."""

    BINDINGS = [
        Binding("space", "pause_all", "Pause all", key_display="␣"),
        Binding("p", "pause", "Pause"),
        Binding("t", "terminate", "Term"),
        Binding("k", "kill", "Kill"),
        Binding("plus,equals_sign", "rate(1.5)", "Rate±", key_display="+-"),
        Binding("minus", "rate(0.6667)", "Rate-", key_display="-", show=False),
        Binding("x", "pill", "Pill"),
        Binding("r", "restart", "Restart"),
        Binding("f", "filter", "Filter"),
        Binding("c", "tab('tab-code')", "Code"),
        Binding("e", "tab('tab-explain')", "Explain", show=False),
        # Not in the footer: at 100 columns it would push out Quit and Help;
        # the tab is named on screen and `?` lists the key.
        Binding("w", "tab('tab-waits')", "Waits", show=False),
        Binding("right_square_bracket", "hz(1)", "Hz+", key_display="]", show=False),
        Binding("left_square_bracket", "hz(-1)", "Hz-", key_display="[", show=False),
        Binding("tab", "focus_next", "Next pane", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(
        self, source: SnapshotSource, tour: bool = False, markers: MarkerOut | None = None
    ) -> None:
        super().__init__()
        self.source = source
        self.snap: Snapshot | None = None
        self.generation = 0
        self.paused_all = False
        self.verdict: str | None = None
        self.tour_on = tour and bool(source.scenario.tour)
        self.tour: TourPlayer | None = None
        self._w: _Widgets | None = None
        self._heap_frozen = False
        self.markers = markers or MarkerOut(-1)
        self.marks = StateMarks()

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
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
        many = len(self.source.scenario.channels) > FlowView.MAX_CHANNELS_SHOWN
        table = (self.size.width >= 120 or many) and bool(self.source.scenario.channels)
        self.query_one(ChannelPanel).display = table
        self.query_one(FlowView).topology_only = table
        if self.snap is not None:  # columns depend on the width: redraw now, not next tick
            self.call_after_refresh(self._apply, self.snap)

    def on_mount(self) -> None:
        log = self.query_one(EventLog)
        log.pipes = {c.name for c in self.source.scenario.channels if c.kind == "Pipe"}
        log.conditions = {o.name for o in self.source.scenario.shared if o.kind == "Condition"}
        scenario = self.source.scenario
        # A scenario of only shared objects has no diagram; one without them, no panel.
        self.query_one("#top").display = bool(scenario.channels)
        self.query_one(SharedPanel).display = bool(scenario.shared)
        self.query_one(ManagerPanel).display = any(
            o.kind.startswith("Manager") for o in (*scenario.shared, *scenario.channels)
        )
        self.on_resize()
        self.query_one(Banner).display = False
        self.query_one(TourCaption).display = False
        if self.tour_on:
            self.query_one(ProcessPanel).reserve = 4
        self._new_tour()
        self.query_one("#proc-rows", RowView).focus()
        self._status()
        # Start the processes once this screen (saying "starting…") is on the
        # terminal: twenty spawned interpreters importing at once leave the
        # observer so little CPU that its first frame used to wait 2 s for them.
        self.call_after_refresh(self._start_source)
        self.set_interval(1.0, self._status)  # freshness keeps ticking if data stops

    def _start_source(self) -> None:
        self._watch(self.source.start(self._deliver))

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
        """Called on the sampler thread: post, never touch widgets."""
        self.post_message(SnapshotReady(snap, generation))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        if message.generation != self.generation:
            self.generation = message.generation
            self.query_one(ProcessPanel).reset()
            self.query_one(ChannelPanel).reset()
            self.query_one(EventLog).reset()
            self.verdict = None
            self._new_tour()
        self._apply(message.snapshot)
        self._follow(message.snapshot)
        if not self._heap_frozen:
            self._freeze_heap()

    def action_tab(self, pane: str) -> None:
        """Show a tab; asked again, go back to the events."""
        tabs = self.query_one("#bottom", TabbedContent)
        tabs.active = "tab-events" if tabs.active == pane else pane

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-waits" and self.snap is not None:
            self.query_one(WaitGraph).update_snapshot(self.snap, self.source.now())
        if event.pane.id == "tab-code":
            code = self.query_one("#code", Static)
            if not code.content:
                code.update(
                    Syntax(
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
        self.tour = TourPlayer(self.source.scenario, self.source) if self.tour_on else None
        if self.is_mounted:
            self.query_one(TourCaption).clear()

    def _follow(self, snap: Snapshot) -> None:
        """Tour steps and recording marks, after the screen shows the snapshot
        that triggered them."""
        for label in self.marks.feed(snap):
            self.markers.mark(label)
        if self.tour is None:
            return
        for fired in self.tour.feed(snap):
            self.markers.mark(fired.label)
            self.query_one(TourCaption).show(fired)
            if fired.step.highlight:
                self.highlight(fired.step.highlight)
            if fired.step.do in ("pause-all", "resume-all"):
                self.paused_all = fired.step.do == "pause-all"
                self._status()

    def highlight(self, name: str) -> None:
        """Draw the eye to a channel or a process for a few seconds."""
        if any(c.name == name for c in self.source.scenario.channels):
            panels = [self.query_one(ChannelPanel), self.query_one(FlowView)]
        else:
            rows = self.query_one("#proc-rows", RowView)
            snap = self.snap
            names = [p.name for p in snap.processes] if snap else []
            match = next((n for n in names if n == name or n.startswith(name + "-")), None)
            if match is not None:
                rows.cursor = names.index(match)
            panels = [self.query_one(ProcessPanel)]
        for panel in panels:
            panel.add_class("tour-highlight")
        self.set_timer(3.0, lambda: [p.remove_class("tour-highlight") for p in panels])

    def _apply(self, snap: Snapshot) -> None:
        self.snap = snap
        now = self.source.now()
        if snap.finished and self.verdict is None:
            self.verdict = "crashed" if crashed(snap.processes) else "completed"
        if snap.stuck is not None:
            self.verdict = snap.stuck.kind
        w = self._widgets()
        with self.app.batch_update():
            w.flow.update_snapshot(snap)
            w.channels.update_snapshot(snap)
            if snap.shared:
                w.shared.update_snapshot(snap, now)
            if snap.managers:
                self.query_one(ManagerPanel).update_snapshot(snap)
            w.processes.update_snapshot(snap, now)
            names = [p.name for p in snap.processes]
            chans = [c.name for c in snap.channels] + [o.name for o in snap.shared]
            t0 = int((snap.t - snap.elapsed_s) * 1e9)
            w.events.update_snapshot(snap, names, chans, t0)
            if w.tabs.active == "tab-waits":  # a hidden graph costs a relayout a tick
                w.waits.update_snapshot(snap, now)
            w.banner.show_stuck(snap)
            self._status()

    def _widgets(self) -> _Widgets:
        """The panels, found once: a query walks the DOM, ten times a second."""
        if self._w is None:
            q = self.query_one
            self._w = _Widgets(
                q(FlowView),
                q(ChannelPanel),
                q(SharedPanel),
                q(ProcessPanel),
                q(EventLog),
                q(WaitGraph),
                q(Banner),
                q("#bottom", TabbedContent),
            )
        return self._w

    def _status(self) -> None:
        self.query_one(StatusBar).render_status(
            self.source.scenario.title,
            self.snap,
            self.source.now(),
            self.source.hz,
            self.paused_all,
            self.verdict,
        )

    def on_row_view_selected(self, message: RowView.Selected) -> None:
        if message.view.id == "proc-rows":
            self.query_one(ProcessPanel).show_detail(self.source.now())

    # ----------------------------------------------------------------- controls
    def _selected(self) -> str | None:
        return self.query_one("#proc-rows", RowView).selected_key

    def _act(self, what: str, fn: object, *args: object) -> None:
        try:
            result = fn(*args)  # type: ignore[operator]
        except Exception as exc:  # a process that already exited, say
            self.notify(f"{what}: {exc}", severity="warning", timeout=3)
            return
        if isinstance(result, str) and result:
            what = f"{what} ({result})"
        self.notify(what, timeout=2)

    def _pid(self, name: str) -> str:
        if self.snap is not None:
            for p in self.snap.processes:
                if p.name == name:
                    return f"pid {p.pid}"
        return ""

    def action_pause_all(self) -> None:
        if self.paused_all:
            self._act("resumed every process (SIGCONT)", self.source.resume_all)
        else:
            self._act("paused every process (SIGSTOP)", self.source.pause_all)
        self.paused_all = not self.paused_all
        self._status()

    def action_pause(self) -> None:
        name = self._selected()
        if name is None:
            return
        proc = next((p for p in self.snap.processes if p.name == name), None) if self.snap else None
        if proc is not None and proc.state == "stopped":
            self._act(f"resumed {name} ({self._pid(name)}) with SIGCONT", self.source.resume, name)
        else:
            self._act(f"paused {name} ({self._pid(name)}) with SIGSTOP", self.source.pause, name)

    def action_terminate(self) -> None:
        name = self._selected()
        if name:
            self._act(f"sent SIGTERM to {name} ({self._pid(name)})", self.source.terminate, name)

    def action_kill(self) -> None:
        name = self._selected()
        if name:
            self._act(f"sent SIGKILL to {name} ({self._pid(name)})", self.source.kill, name)

    def _rate_target(self) -> str | None:
        """The selected process if it paces itself, else the first one that does."""
        if self.snap is None:
            return None
        paced = [p.name for p in self.snap.processes if p.role in ("producer", "pinger")]
        name = self._selected()
        if name in paced:
            return name
        return paced[0] if paced else None

    def action_rate(self, factor: float) -> None:
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
        name = self._selected()
        if name:
            self._act(f"poison pill for {name}", self.source.poison_pill, name)

    def action_restart(self) -> None:
        self.paused_all = False
        self.notify("restarting the scenario…", timeout=2)
        self._watch(self.source.restart())

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
        log = self.query_one(EventLog)
        name = self._selected()
        choices: list[str | None] = [None]
        if name:
            choices.append(name)
            spec = next(
                (
                    p
                    for p in self.source.scenario.processes
                    if name == p.name or name.startswith(p.name + "-")
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
        if self._heap_frozen:
            gc.unfreeze()
        with contextlib.suppress(Exception):
            self.source.stop()
