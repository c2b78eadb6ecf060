"""`ipcplay run`: a scenario without the TUI — a live Rich table on a
terminal, then a report, or exactly one JSON object with --json."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import IO, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ipcplay import challenge, trace
from ipcplay import words as F  # plain words and sizes, as the TUI shows them
from ipcplay.engine.snapshot import Snapshot
from ipcplay.engine.stepper import GO
from ipcplay.engine.supervisor import Engine, Outcome
from ipcplay.engine.tracker import start_tracker
from ipcplay.history import History
from ipcplay.report import EXIT_CODES, RunHeader, as_dict
from ipcplay.safetext import neutralise
from ipcplay.scenario import kinds
from ipcplay.scenario.model import Challenge, Scenario
from ipcplay.schedule import Played, play
from ipcplay.tour import HOLD_S, Fired, TourPlayer, starts_stepping


def tables(title: str, snap: Snapshot) -> Group:
    """Processes and channels as two tables; every string from the scenario is
    a Text, never markup, so a preset cannot style or inject anything."""
    parts: list[Any] = [_process_table(title, snap)]
    if snap.channels:
        parts.append(_channel_table(snap))
    if snap.shared:
        parts.append(_shared_table(snap))
    if snap.managers:  # each Manager's server process and the calls made to it
        parts.append(_manager_table(snap))
    if snap.events_dropped:
        parts.append(
            Text(f"journal: {snap.events_dropped} events dropped (ring full)", style="yellow")
        )
    if snap.stuck is not None:
        parts.append(Text(snap.stuck.description, style="bold red"))
    return Group(*parts)


def _process_table(title: str, snap: Snapshot) -> Table:
    procs = Table(title=Text(f"{title} — {snap.elapsed_s:.1f} s"), expand=False)
    for col in ("process", "pid", "state", "cpu %", "rss", "sent", "recv", "blocked s"):
        procs.add_column(col, justify="right" if col not in ("process", "state") else "left")
    for process in snap.processes:
        procs.add_row(
            Text(process.name),
            str(process.pid or "-"),
            Text(F.state_words(process, snap.t)[0]),
            f"{process.cpu_percent:.0f}",
            F.size(process.rss) if process.rss else "-",
            str(process.sent),
            str(process.received),
            f"{process.blocked_s:.2f}",
        )
    return procs


def _channel_table(snap: Snapshot) -> Table:
    chans = Table(expand=False)
    for col in ("channel", "kind", "puts", "gets", "depth", "max", "bytes", "put/s", "get/s"):
        chans.add_column(col, justify="left" if col in ("channel", "kind") else "right")
    for channel in snap.channels:
        kind = kinds.channel_label(channel.kind, channel.maxsize)
        chans.add_row(
            Text(channel.name),
            kind,
            str(channel.puts),
            str(channel.gets),
            str(channel.depth),
            str(channel.max_depth),
            F.size(channel.bytes),
            f"{channel.put_rate:.0f}",
            f"{channel.get_rate:.0f}",
        )
    return chans


def _shared_table(snap: Snapshot) -> Table:
    objs = Table(expand=False)
    for col in ("shared", "kind", "state", "waiting", "acquires", "contended"):
        objs.add_column(col, justify="right" if col in ("acquires", "contended") else "left")
    for obj in snap.shared:
        objs.add_row(
            Text(obj.name),
            F.shared_kind(obj),
            Text.assemble(*F.shared_state(obj, snap.t, 60)),
            Text(", ".join(obj.waiting)),
            str(obj.acquires),
            str(obj.contended),
        )
    return objs


def _manager_table(snap: Snapshot) -> Table:
    servers = Table(expand=False)
    for col in ("manager", "pid", "threads", "address", "calls"):
        servers.add_column(col, justify="right" if col in ("pid", "threads") else "left")
    for manager in snap.managers:
        calls = ", ".join(f"{method} {count}" for method, count in manager.calls) or "none"
        servers.add_row(
            Text(f"{manager.name} ({manager.kind})"),
            str(manager.pid or "-"),
            str(manager.threads or "-"),
            Text(manager.address),
            Text(calls),
        )
    return servers


@dataclass(frozen=True)
class RunOptions:
    """How `ipcplay run` runs a scenario and where its report goes. A trace is
    built after the run from the journal, which must then be given and readable."""

    duration: float | None = None  # the scenario's own time; None: as it says
    as_json: bool = False
    journal: IO[str] | None = None
    journal_name: str | None = None
    journal_events: int = 0
    hz: float = 10.0
    out: IO[str] | None = None
    trace_out: IO[str] | None = None
    trace_name: str | None = None
    tour: bool = False
    speed: float = 1.0
    previews: bool = True
    # A schedule to replay (schedule.py): the run starts in step mode, lets the
    # processes go in this order, one operation each, then runs freely.
    schedule: tuple[str, ...] | None = None
    schedule_name: str | None = None
    # The run's history (history.py), fed every snapshot, and who is handed
    # the report at the end: a saved run is written from the two.
    history: History | None = None
    on_report: Callable[[dict[str, Any]], None] | None = None


def run_header(scenario: Scenario) -> RunHeader:
    """The report's header facts, taken here: the report never reads a Scenario."""
    return RunHeader(scenario.name, scenario.title, scenario.start_method, scenario.expect)


class _TourFeed:
    """Hands every snapshot to the tour player, on the sampler thread, so a
    step sees every snapshot, the last one too; prints what it fired."""

    def __init__(self, console: Console, quiet: bool) -> None:
        self.console = console
        self.quiet = quiet
        self.player: TourPlayer | None = None
        self.history: History | None = None

    def __call__(self, snap: Snapshot) -> None:
        if self.history is not None:
            self.history.append(snap)
        if self.player is not None:
            for fired in self.player.feed(snap):
                if self.history is not None:
                    say = " ".join(fired.step.say.split()) or fired.seen
                    self.history.mark("tour", f"tour {fired.index + 1}/{fired.total}: {say}")
                if not self.quiet:
                    self.console.print(_caption(fired))

    def playing(self) -> bool:
        return self.player is not None and not self.player.done


def run(scenario: Scenario, options: RunOptions) -> int:
    """Run, report, and the exit status."""
    out = options.out or sys.stdout
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    start_tracker()
    old = {
        sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    console = Console(file=out)
    touring = options.tour and bool(scenario.tour)
    feed = _TourFeed(console, quiet=options.as_json)
    engine = Engine(
        scenario,
        # A kept history keeps the event log too: the rings on, with or without a file.
        journal_events=(
            options.journal_events if options.journal or options.history is not None else 0
        ),
        journal_out=options.journal,
        sample_hz=options.hz,
        on_snapshot=feed if touring or options.history is not None else None,
        speed=options.speed,
        previews=options.previews,
        step=options.schedule is not None or (touring and starts_stepping(scenario)),
    )
    if touring:
        # Nobody is there to press `n`: a held step waits HOLD_S, then the tour goes on.
        feed.player = TourPlayer(scenario, engine, hold_s=HOLD_S)
    feed.history = options.history
    replay = _Replay(engine, options.schedule, stop, scenario.challenge)
    try:
        outcome = _watch(engine, scenario.title, options, console, stop, feed, replay)
    finally:
        engine.shutdown()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    verdict = _final_verdict(scenario, outcome)
    stats = _trace(scenario, options)
    if options.history is not None:
        options.history.append(outcome.snapshot)
    if options.as_json or options.on_report is not None:
        report = _json_report(run_header(scenario), verdict, outcome, options, stats, feed.player)
        if replay.played is not None:
            report["schedule"] = replay.report(options.schedule_name)
        if replay.goal is not None:
            report["challenge"] = replay.goal_section(outcome.snapshot)
        if options.on_report is not None:
            options.on_report(report)
    if options.as_json:
        out.write(json.dumps(report) + "\n")
    else:
        _print_report(console, scenario, verdict, outcome, options, stats)
        if replay.played is not None:
            console.print(Text(replay.words(options.schedule_name)))
        if replay.goal is not None:
            console.print(Text(challenge.summary_line(replay.goal_section(outcome.snapshot))))
    return EXIT_CODES.get(verdict, 1)


def _watch(
    engine: Engine,
    title: str,
    options: RunOptions,
    console: Console,
    stop: threading.Event,
    feed: _TourFeed,
    replay: _Replay,
) -> Outcome:
    """Start, replay the schedule if there is one, and run to the end, with a
    live table on a terminal."""
    linger = feed.playing if feed.player is not None else None
    engine.start()
    replay.play()
    if options.as_json or not console.is_terminal:
        return engine.run(options.duration, stop, linger)
    with Live(
        get_renderable=lambda: tables(title, engine.latest),
        console=console,
        refresh_per_second=4,
        transient=True,
    ):
        return engine.run(options.duration, stop, linger)


class _Replay:
    """A schedule played on the run before it goes free: the same
    operations in the same order (schedule.py), then `go`."""

    def __init__(
        self,
        engine: Engine,
        steps: tuple[str, ...] | None,
        stop: threading.Event,
        goal: Challenge | None = None,
    ) -> None:
        self.engine = engine
        self.steps = steps
        self.stop = stop
        self.played: Played | None = None
        self.goal = goal  # the preset's challenge: looked for once the schedule is played
        self.met: Snapshot | None = None  # the snapshot that showed it reached

    def play(self) -> None:
        stepper = self.engine.stepper
        if self.steps is None or stepper is None:
            return
        self.played = play(stepper, self.steps, stop=self.stop.is_set)
        if self.goal is not None:  # before going free: a full queue would drain
            self.met = challenge.wait_reached(
                self.goal, lambda: self.engine.latest, stop=self.stop.is_set
            )
        stepper.set_mode(False)  # what the schedule did not say runs freely

    def goal_section(self, final: Snapshot) -> dict[str, Any]:
        """The report's `challenge` section: reached when the schedule left
        it reached, or (a free run, or a goal such as finishing) at the end."""
        assert self.goal is not None
        done = self.steps[: self.played.done] if self.steps and self.played else ()
        return challenge.summary(self.goal, self.met or final, challenge.steps_taken(done))

    def report(self, name: str | None) -> dict[str, Any]:
        played = self.played
        assert played is not None and self.steps is not None
        return {
            "file": name,
            "steps": len([step for step in self.steps if step != GO]),
            "played": played.done,
            "stopped_at": played.stopped_at,
            "why": played.why or None,
        }

    def words(self, name: str | None) -> str:
        played = self.played
        assert played is not None and self.steps is not None
        text = f"schedule: {played.done} of {len(self.steps)} steps played"
        if name:
            text += f" from {neutralise(name)}"
        if played.stopped_at is not None:
            text += f"; step {played.stopped_at} could not be played: {neutralise(played.why)}"
        return text


def _trace(scenario: Scenario, options: RunOptions) -> Any:
    """The trace's figures, once written from the journal; None if not written."""
    journal = options.journal
    if journal is not None:
        journal.flush()
    if options.trace_out is None or journal is None or not _journal_ok(options):
        return None
    journal.seek(0)
    stats = trace.write(journal, scenario, options.trace_out)
    options.trace_out.flush()
    if getattr(options.trace_out, "error", None):
        return None  # not written: the command says so in one line
    return stats


def _journal_ok(options: RunOptions) -> bool:
    """A journal that could not be written (a Sink keeps the error) is not read
    back: /dev/full, for one, reads as endless zeros. The command says why."""
    return options.journal is not None and not getattr(options.journal, "error", None)


def _json_report(
    header: RunHeader,
    verdict: str,
    outcome: Outcome,
    options: RunOptions,
    stats: Any,
    player: TourPlayer | None,
) -> dict[str, Any]:
    report = as_dict(header, verdict, outcome.duration_s, outcome.snapshot, options.journal_name)
    if stats is not None:
        report["trace"] = {"file": options.trace_name, **asdict(stats)}
    if player is not None:
        report["tour"] = [
            {
                "step": fired.index,
                "t": round(fired.elapsed_s, 3),
                "met": fired.met,
                "seen": fired.seen,
                "did": list(fired.done),
            }
            for fired in player.fired
        ]
    return report


def _print_report(
    console: Console,
    scenario: Scenario,
    verdict: str,
    outcome: Outcome,
    options: RunOptions,
    stats: Any,
) -> None:
    console.print(tables(scenario.title, outcome.snapshot))
    style = "green" if verdict == "completed" else "bold red"
    line = Text(f"verdict: {verdict} after {outcome.duration_s:.2f} s", style=style)
    if verdict != scenario.expect:
        line.append(f" (this scenario is documented to end: {scenario.expect})")
    console.print(line)
    snap = outcome.snapshot
    if options.journal_name and _journal_ok(options):
        console.print(
            Text(
                f"journal: {snap.events_total} events in {neutralise(options.journal_name)}"
                f", {snap.events_dropped} dropped"
            )
        )
    if stats is not None:
        console.print(
            Text(
                f"trace: {stats.tracks} tracks, {stats.slices} slices, {stats.flows} arrows"
                f" in {neutralise(options.trace_name or '')}"
                " (open it in ui.perfetto.dev or chrome://tracing)"
            )
        )


def _caption(fired: Fired) -> Text:
    t = Text(f"[{fired.elapsed_s:5.1f} s] tour {fired.index + 1}/{fired.total}: ", style="bold")
    t.append(" ".join(fired.step.say.split()) or fired.seen)
    for did in fired.done:
        t.append(f"\n          → {did}", style="cyan")
    if not fired.met:
        t.append(f"\n          ({fired.seen})", style="yellow")
    return t


def _final_verdict(scenario: Scenario, outcome: Outcome) -> str:
    if outcome.verdict == "interrupted" and scenario.endless:
        return "completed"  # an endless scenario is meant to run until stopped
    return outcome.verdict
