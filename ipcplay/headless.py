"""`ipcplay run`: a scenario without the TUI — a live Rich table on a
terminal, then a report, or exactly one JSON object with --json."""

from __future__ import annotations

import json
import signal
import sys
import threading
from dataclasses import asdict
from typing import IO, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ipcplay import trace
from ipcplay import words as F  # plain words and sizes, as the TUI shows them
from ipcplay.engine.snapshot import Snapshot
from ipcplay.engine.supervisor import Engine, Outcome
from ipcplay.engine.tracker import start_tracker
from ipcplay.report import EXIT_CODES, as_dict
from ipcplay.safetext import neutralise
from ipcplay.scenario.model import Scenario
from ipcplay.tour import HOLD_S, Fired, TourPlayer


def tables(scenario: Scenario, snap: Snapshot) -> Group:
    """Processes and channels as two tables; every string from the scenario is
    a Text, never markup, so a preset cannot style or inject anything."""
    procs = Table(title=Text(f"{scenario.title} — {snap.elapsed_s:.1f} s"), expand=False)
    for col in ("process", "pid", "state", "cpu %", "rss", "sent", "recv", "blocked s"):
        procs.add_column(col, justify="right" if col not in ("process", "state") else "left")
    for p in snap.processes:
        procs.add_row(
            Text(p.name),
            str(p.pid or "-"),
            Text(F.state_words(p, snap.t)[0]),
            f"{p.cpu_percent:.0f}",
            F.size(p.rss) if p.rss else "-",
            str(p.sent),
            str(p.received),
            f"{p.blocked_s:.2f}",
        )
    chans = Table(expand=False)
    for col in ("channel", "kind", "puts", "gets", "depth", "max", "bytes", "put/s", "get/s"):
        chans.add_column(col, justify="left" if col in ("channel", "kind") else "right")
    for c in snap.channels:
        kind = c.kind + (f"({c.maxsize})" if c.maxsize else "")
        chans.add_row(
            Text(c.name),
            kind,
            str(c.puts),
            str(c.gets),
            str(c.depth),
            str(c.max_depth),
            F.size(c.bytes),
            f"{c.put_rate:.0f}",
            f"{c.get_rate:.0f}",
        )
    parts: list[Any] = [procs]
    if snap.channels:
        parts.append(chans)
    if snap.shared:
        objs = Table(expand=False)
        for col in ("shared", "kind", "state", "waiting", "acquires", "contended"):
            objs.add_column(col, justify="right" if col in ("acquires", "contended") else "left")
        for o in snap.shared:
            objs.add_row(
                Text(o.name),
                F.shared_kind(o),
                Text.assemble(*F.shared_state(o, snap.t, 60)),
                Text(", ".join(o.waiting)),
                str(o.acquires),
                str(o.contended),
            )
        parts.append(objs)
    if snap.managers:  # each Manager's server process and the calls made to it
        servers = Table(expand=False)
        for col in ("manager", "pid", "threads", "address", "calls"):
            servers.add_column(col, justify="right" if col in ("pid", "threads") else "left")
        for m in snap.managers:
            calls = ", ".join(f"{k} {n}" for k, n in m.calls) or "none"
            servers.add_row(
                Text(f"{m.name} ({m.kind})"),
                str(m.pid or "-"),
                str(m.threads or "-"),
                Text(m.address),
                Text(calls),
            )
        parts.append(servers)
    if snap.events_dropped:
        parts.append(
            Text(f"journal: {snap.events_dropped} events dropped (ring full)", style="yellow")
        )
    if snap.stuck is not None:
        parts.append(Text(snap.stuck.description, style="bold red"))
    return Group(*parts)


def run(
    scenario: Scenario,
    *,
    duration: float | None,
    as_json: bool,
    journal: IO[str] | None,
    journal_name: str | None,
    journal_events: int,
    hz: float,
    out: IO[str] | None = None,
    trace_out: IO[str] | None = None,
    trace_name: str | None = None,
    tour: bool = False,
    speed: float = 1.0,
    previews: bool = True,
) -> int:
    """Run, report, and exit status. A trace is built after the run from the
    journal, which must then be given and readable."""
    out = out or sys.stdout
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    start_tracker()
    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    console = Console(file=out)
    live_ok = not as_json and console.is_terminal
    player: TourPlayer | None = None

    def on_snapshot(snap: Snapshot) -> None:
        # On the sampler thread, so a step sees every snapshot, the last one too.
        if player is not None:
            for fired in player.feed(snap):
                if not as_json:
                    console.print(_caption(fired))

    engine = Engine(
        scenario,
        journal_events=journal_events if journal else 0,
        journal_out=journal,
        sample_hz=hz,
        on_snapshot=on_snapshot if tour and scenario.tour else None,
        speed=speed,
        previews=previews,
    )
    if tour and scenario.tour:
        # Nobody is there to press `n`: a held step waits HOLD_S, then the tour goes on.
        player = TourPlayer(scenario, engine, hold_s=HOLD_S)
    linger = (lambda: player is not None and not player.done) if player is not None else None
    try:
        engine.start()
        if live_ok:
            with Live(
                get_renderable=lambda: tables(scenario, engine.latest),
                console=console,
                refresh_per_second=4,
                transient=True,
            ):
                outcome = engine.run(duration, stop, linger)
        else:
            outcome = engine.run(duration, stop, linger)
    finally:
        engine.shutdown()
        for s, h in old.items():
            signal.signal(s, h)
    verdict = _final_verdict(scenario, outcome)
    stats = None
    if journal is not None:
        journal.flush()
    # A journal that could not be written (a Sink keeps the error) is not read
    # back: /dev/full, for one, reads as endless zeros. The command says why.
    journal_ok = journal is not None and not getattr(journal, "error", None)
    if trace_out is not None and journal is not None and journal_ok:
        journal.seek(0)
        stats = trace.write(journal, scenario, trace_out)
        trace_out.flush()
        if getattr(trace_out, "error", None):
            stats = None  # not written: the command says so in one line
    if as_json:
        report = as_dict(scenario, verdict, outcome.duration_s, outcome.snapshot, journal_name)
        if stats is not None:
            report["trace"] = {"file": trace_name, **asdict(stats)}
        if player is not None:
            report["tour"] = [
                {
                    "step": f.index,
                    "t": round(f.elapsed_s, 3),
                    "met": f.met,
                    "seen": f.seen,
                    "did": list(f.done),
                }
                for f in player.fired
            ]
        out.write(json.dumps(report) + "\n")
    else:
        console.print(tables(scenario, outcome.snapshot))
        style = "green" if verdict == "completed" else "bold red"
        line = Text(f"verdict: {verdict} after {outcome.duration_s:.2f} s", style=style)
        if verdict != scenario.expect:
            line.append(f" (this scenario is documented to end: {scenario.expect})")
        console.print(line)
        if journal_name and journal_ok:
            console.print(
                Text(
                    f"journal: {outcome.snapshot.events_total} events in {neutralise(journal_name)}"
                    f", {outcome.snapshot.events_dropped} dropped"
                )
            )
        if stats is not None:
            console.print(
                Text(
                    f"trace: {stats.tracks} tracks, {stats.slices} slices, {stats.flows} arrows"
                    f" in {neutralise(trace_name or '')}"
                    " (open it in ui.perfetto.dev or chrome://tracing)"
                )
            )
    return EXIT_CODES.get(verdict, 1)


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
