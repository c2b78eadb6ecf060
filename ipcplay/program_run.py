"""`ipcplay run PROGRAM.py`: a watched program headless, then its report.

Without --json the program's output passes straight through, as in a plain
`python PROGRAM.py` (its processes write to this terminal; nothing is
captured), and the report follows on standard error, so that the program's
standard output stays the program's alone. With --json every process's
output is captured apart and is in the report under that process, and the
one JSON object is the whole of standard output.

With --schedule FILE the program starts in step mode: its processes are let
go in the schedule's order, one operation each (schedule.play), as they
appear, and then it runs freely to its end.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from ipcplay.engine.program import Program, ProgramEngine, ProgramOutcome
from ipcplay.engine.stepper import GO
from ipcplay.engine.tracker import start_tracker
from ipcplay.report import EXIT_CODES, RunHeader, as_dict
from ipcplay.safetext import neutralise

if TYPE_CHECKING:
    from ipcplay.schedule import Played

# The report's modules (rich, the tables, the trace) are imported once the
# program has run: before, they would only delay its start.


@dataclass(frozen=True)
class ProgramOptions:
    duration: float | None = None  # None: until the program ends
    as_json: bool = False
    journal: IO[str] | None = None
    journal_name: str | None = None
    journal_events: int = 0
    hz: float = 10.0
    out: IO[str] | None = None  # the JSON object's
    err: IO[str] | None = None  # the report's, without --json
    trace_out: IO[str] | None = None
    trace_name: str | None = None
    previews: bool = True
    # A schedule's steps to replay (schedule.py), then `go`; None: no step mode.
    schedule: tuple[str, ...] | None = None
    schedule_name: str | None = None


def header(program: Program) -> RunHeader:
    return RunHeader(program.target, program.title, "program", "")


def run_program(program: Program, options: ProgramOptions) -> int:
    """Run, report, and the exit status (of ipcplay's verdict)."""
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    start_tracker()
    old = {
        sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    journal_events = options.journal_events if options.journal is not None else 0
    engine = ProgramEngine(
        program,
        journal_events=journal_events,
        journal_out=options.journal,
        sample_hz=options.hz,
        capture=options.as_json,
        previews=options.previews,
        own_stdin=True,  # as under python PROGRAM.py: it reads what ipcplay is given
        step=options.schedule is not None,
    )
    played: Played | None = None
    try:
        engine.start()
        if options.schedule is not None:
            played = replay(engine, options.schedule, stop)
        outcome = engine.run(options.duration, stop)
    finally:
        engine.shutdown()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    stats = _trace(program, options, outcome)
    if options.as_json:
        report = json_report(program, engine, outcome, options, stats)
        if played is not None:
            report["schedule"] = schedule_report(played, options)
        engine.close()
        out = options.out
        assert out is not None
        out.write(json.dumps(report) + "\n")
    else:
        engine.close()
        from rich.console import Console

        console = Console(file=options.err, soft_wrap=True)
        _print_report(console, program, outcome, options, engine.sample_error)
        if played is not None:
            console.print(schedule_words(played, options), markup=False, highlight=False)
    return EXIT_CODES.get(outcome.verdict, 1)


def replay(engine: ProgramEngine, steps: tuple[str, ...], stop: threading.Event) -> Played:
    """Let the program's processes go in the schedule's order, then `go`.

    A program's processes appear as it starts them, so a step waits for its
    process to be there and at its gate (schedule.play). The replay gives up
    on a step when the program has ended or is stuck meanwhile (a step past
    a deadlock), when its process is not there while every process that is
    waits at its gate (nobody can start it: nothing moves until a step), or
    on Ctrl+C."""
    from ipcplay.schedule import Played, play

    stepper = engine.stepper
    assert stepper is not None
    pending = [0]  # the index of the step being waited for
    since = [0.0]  # when nobody could start its process, first seen

    def on_step(number: int, name: str) -> None:
        pending[0] = number
        since[0] = 0.0

    def cannot_come() -> bool:
        name = steps[pending[0]]
        names = stepper.names
        if name in names:
            return False
        held = {h.name for h in stepper.held()}
        ended = {p.name for p in engine.latest.processes if p.exitcode is not None}
        if not all(n in held or n in ended for n in names):
            since[0] = 0.0
            return False
        now = time.monotonic()
        since[0] = since[0] or now
        return now - since[0] >= NOBODY_S  # a look at the board, and another

    why = ""

    def over() -> bool:
        nonlocal why
        snap = engine.latest
        if snap.finished or snap.stuck is not None:
            why = "the program is stuck" if snap.stuck is not None else "the program has ended"
        elif cannot_come():
            why = "every process of the program waits at its gate, and none is it"
        return stop.is_set() or bool(why)

    played = play(stepper, steps, stop=over, on_step=on_step)
    if played.why == "stopped" and played.stopped_at is not None and why:
        name = steps[played.stopped_at - 1]
        played = Played(
            played.done, played.stopped_at, f"{name} did not reach its next operation: {why}"
        )
    stepper.set_mode(False)  # what the schedule did not say runs freely
    return played


# How long every process must wait at its gate, with the step's process not
# there, before the replay says it will never come.
NOBODY_S = 0.5


def schedule_report(played: Played, options: ProgramOptions) -> dict[str, Any]:
    steps = options.schedule or ()
    return {
        "file": options.schedule_name,
        "steps": len([step for step in steps if step != GO]),
        "played": played.done,
        "stopped_at": played.stopped_at,
        "why": neutralise(played.why, multiline=False) if played.why else None,
        "order": list(steps[: played.done]),
    }


def schedule_words(played: Played, options: ProgramOptions) -> str:
    steps = [step for step in options.schedule or () if step != GO]
    text = f"schedule: {played.done} of {len(steps)} steps played"
    if options.schedule_name:
        text += f" from {neutralise(options.schedule_name, multiline=False)}"
    if played.stopped_at is not None:
        why = neutralise(played.why, multiline=False)
        text += f"; step {played.stopped_at} could not be played: {why}"
    return text


def json_report(
    program: Program,
    engine: ProgramEngine,
    outcome: ProgramOutcome,
    options: ProgramOptions,
    stats: Any,
) -> dict[str, Any]:
    """The scenario's report, with the program's facts and each process's output."""
    report = as_dict(
        header(program), outcome.verdict, outcome.duration_s, outcome.snapshot, options.journal_name
    )
    output = engine.output
    for entry, process in zip(report["processes"], outcome.snapshot.processes, strict=True):
        if output is not None:
            entry["stdout"] = neutralise(output.text(process.index, "stdout"))
            entry["stderr"] = neutralise(output.text(process.index, "stderr"))
    report["program"] = {
        "target": program.target,
        "module": program.module,
        "args": list(program.args),
        "exit_status": outcome.exit_status,
        "uncounted_objects": engine.uncounted,
        # A sample that raised (ipcplay's fault, never the program's); null if none.
        "observer_error": engine.sample_error,
    }
    if stats is not None:
        from dataclasses import asdict

        report["trace"] = {"file": options.trace_name, **asdict(stats)}
    return report


def _print_report(
    console: Any,
    program: Program,
    outcome: ProgramOutcome,
    options: ProgramOptions,
    engine_error: str | None = None,
) -> None:
    from rich.text import Text

    from ipcplay.headless import tables

    console.print(tables(neutralise(program.title, multiline=False), outcome.snapshot))
    style = "green" if outcome.verdict == "completed" else "bold red"
    line = Text(f"verdict: {outcome.verdict} after {outcome.duration_s:.2f} s", style=style)
    status = outcome.exit_status
    if status is not None:
        line.append(f" (the program exited with status {status})", style="")
    else:
        line.append(" (the program was still running)", style="")
    console.print(line)
    if engine_error:
        console.print(Text(f"ipcplay: a sample failed: {engine_error}", style="bold red"))
    stuck = outcome.snapshot.stuck
    if stuck is not None:
        console.print(Text(neutralise(stuck.description, multiline=False), style="red"))
    if options.journal_name and options.journal is not None:
        snap = outcome.snapshot
        console.print(
            Text(
                f"journal: {snap.events_total} events in {neutralise(options.journal_name)}"
                f", {snap.events_dropped} dropped"
            )
        )


def _trace(program: Program, options: ProgramOptions, outcome: ProgramOutcome) -> Any:
    journal = options.journal
    if journal is not None:
        journal.flush()
    if options.trace_out is None or journal is None or getattr(journal, "error", None):
        return None
    journal.seek(0)
    from ipcplay import trace

    pipes = {c.name for c in outcome.snapshot.channels if c.kind == "Pipe"}
    stats = trace.write_for(journal, pipes, program.target, program.title, options.trace_out)
    options.trace_out.flush()
    return stats
