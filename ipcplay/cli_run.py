"""`ipcplay run` and `ipcplay export`: a scenario headless, or as a script."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

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
            saver = _Saver(args, scenario) if args.save_run else None
        except ValueError as exc:
            return say_error(str(exc))
        if saver is not None:
            files.callback(saver.target.discard)
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
                history=saver.history if saver is not None else None,
                on_report=saver.take if saver is not None else None,
            )
            status = run(scenario, options)
        except EngineError as exc:
            say_error(str(exc).strip())
            status = EXIT_CODES["crashed"]
        if saver is not None and saver.report is not None and not saver.save(args.json):
            status = status or 1
        return close_outputs(status, journal, trace_out, out)


class _Saver:
    """`run --save-run FILE`: the run's history, kept as it runs, and the
    report it ends with, written to FILE at the end (savedrun.py). The path is
    checked, and a temporary file made next to it, before anything starts."""

    def __init__(self, args: argparse.Namespace, scenario: Any) -> None:
        from ipcplay.history import History
        from ipcplay.savedrun import SaveTarget

        problem = output_problem(Path(args.save_run))
        if problem:
            raise ValueError(f"{args.save_run}: --save-run: {problem}")
        self.target = SaveTarget(args.save_run)
        self.history = History()
        self.report: dict[str, Any] | None = None
        self.scenario = scenario
        self.hz = args.hz
        self.sets = list(args.set or ())

    def take(self, report: dict[str, Any]) -> None:
        self.report = report

    def save(self, quiet: bool) -> bool:
        """Write the file; False (and one line said) if it could not be."""
        from ipcplay.savedrun import SavedRun

        report = self.report
        assert report is not None
        scenario = self.scenario
        try:
            toml = Path(scenario.source).read_text(encoding="utf-8") if scenario.source else ""
        except (OSError, UnicodeDecodeError):
            toml = ""
        core = {"scenario", "title", "start_method", "verdict", "expected", "duration_s"}
        core |= {"processes", "channels", "shared", "pools", "managers", "stuck", "journal"}
        run = SavedRun(
            scenario={
                "name": scenario.name,
                "title": scenario.title,
                "start_method": scenario.start_method,
                "expect": scenario.expect,
                "toml": toml,
                "set": self.sets,
            },
            history=self.history,
            verdict=report["verdict"],
            duration_s=report["duration_s"],
            journal_file=report["journal"]["file"],
            extra={key: value for key, value in report.items() if key not in core},
            hz=self.hz,
        )
        try:
            size = self.target.write(run)
        except OSError as exc:
            say_error(f"{self.target.name}: --save-run: cannot write ({exc.strerror or exc})")
            return False
        if not quiet:
            snaps = len(list(self.history.kept()))
            print(neutralise(f"saved run: {self.target.name} ({snaps} snapshots, {size:,} bytes)"))
        return True


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
