"""`ipcplay run PROGRAM.py`: a watched program headless, then its report.

Without --json the program's output passes straight through, as in a plain
`python PROGRAM.py` (its processes write to this terminal; nothing is
captured), and the report follows on standard error, so that the program's
standard output stays the program's alone. With --json every process's
output is captured apart and is in the report under that process, and the
one JSON object is the whole of standard output.
"""

from __future__ import annotations

import json
import signal
import threading
from dataclasses import dataclass
from typing import IO, Any

from ipcplay.engine.program import Program, ProgramEngine, ProgramOutcome
from ipcplay.engine.tracker import start_tracker
from ipcplay.report import EXIT_CODES, RunHeader, as_dict
from ipcplay.safetext import neutralise

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
    )
    try:
        outcome = engine.run(options.duration, stop)
    finally:
        engine.shutdown()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    stats = _trace(program, options, outcome)
    if options.as_json:
        report = json_report(program, engine, outcome, options, stats)
        engine.close()
        out = options.out
        assert out is not None
        out.write(json.dumps(report) + "\n")
    else:
        engine.close()
        from rich.console import Console

        console = Console(file=options.err, soft_wrap=True)
        _print_report(console, program, outcome, options, engine.sample_error)
    return EXIT_CODES.get(outcome.verdict, 1)


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
