"""`ipcplay run` and `ipcplay export`: a scenario headless, or as a script."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from ipcplay.cli_outputs import (
    close_outputs,
    open_journal_and_trace,
    output_problem,
    say_error,
    write_stdout,
)
from ipcplay.report import EXIT_CODES
from ipcplay.safetext import neutralise
from ipcplay.sink import Sink


def cmd_run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ipcplay.engine import EngineError
    from ipcplay.headless import RunOptions, run
    from ipcplay.scenario import ScenarioError, load, resolve
    from ipcplay.scenario.overrides import apply
    from ipcplay.schedule import for_scenario

    try:
        scenario = load(resolve(args.preset))
    except ScenarioError as exc:
        return say_error(str(exc))
    if args.start_method:
        scenario = replace(scenario, start_method=args.start_method)
    if args.tour and not scenario.tour:
        return say_error(
            f"{scenario.source or args.preset}: tour: this scenario has no [[tour]] steps"
        )
    steps: tuple[str, ...] | None = None
    try:
        if args.schedule:
            scenario, plan = for_scenario(args.schedule, scenario)
            steps = plan.steps
        scenario = apply(scenario, args.set or ())
    except (ScenarioError, ValueError) as exc:
        return say_error(str(exc))
    if args.journal_size < 1 or args.journal_size > 1 << 22:
        return say_error(f"--journal-size: expected 1 to {1 << 22} events, got {args.journal_size}")
    out = sys.stdout if isinstance(sys.stdout, Sink) else Sink(sys.stdout, "standard output")
    with ExitStack() as files:
        try:
            journal, trace_out = open_journal_and_trace(files, args.journal, args.trace)
        except ValueError as exc:
            return say_error(str(exc))
        try:
            options = RunOptions(
                duration=args.duration,
                as_json=args.json,
                journal=journal,
                journal_name=args.journal,
                journal_events=args.journal_size,
                hz=args.hz,
                trace_out=trace_out,
                trace_name=args.trace,
                out=out,  # type: ignore[arg-type]  # a Sink writes like a file
                tour=args.tour,
                speed=args.speed,
                previews=not args.no_preview,
                schedule=steps,
                schedule_name=args.schedule,
            )
            status = run(scenario, options)
        except EngineError as exc:
            say_error(str(exc).strip())
            status = EXIT_CODES["crashed"]
        return close_outputs(status, journal, trace_out, out)


def cmd_export(args: argparse.Namespace) -> int:
    """The script is made in full before FILE is opened, so a bad scenario
    never truncates or creates it."""
    from dataclasses import replace

    from ipcplay.export import to_python
    from ipcplay.scenario import ScenarioError, load, resolve

    try:
        scenario = load(resolve(args.preset))
    except ScenarioError as exc:
        return say_error(str(exc))
    if args.start_method:
        scenario = replace(scenario, start_method=args.start_method)
    source = to_python(scenario)
    if not args.output:
        return write_stdout(source)
    path = Path(args.output)
    problem = output_problem(path)
    if problem:
        return say_error(f"{args.output}: -o: {problem}")
    try:
        path.write_text(source, encoding="utf-8")
    except OSError as exc:
        return say_error(f"{args.output}: -o: cannot write ({exc.strerror or exc})")
    line = f"{args.output}: {scenario.title} — run it with: python3 {args.output}"
    print(neutralise(line, multiline=False))
    return 0
