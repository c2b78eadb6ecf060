"""`ipcplay replay FILE`: a saved run, shown again; nothing is started.

Why its own module: a replay reads a file and prints; it must never reach
the engine's start (no process, no board), so it imports only the report,
the headless tables and the saved-run reader.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from ipcplay.cli_args import _times
from ipcplay.cli_outputs import say_error, write_stdout
from ipcplay.safetext import neutralise
from ipcplay.savedrun import SavedRun, SavedRunError, load


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The grammar of `replay`, kept with the command."""
    replay = commands.add_parser(
        "replay",
        help="show a run saved with `ipcplay run --save-run` (no process is started)",
        description=(
            "Read a saved run and print its final report, as `ipcplay run` printed it; "
            "with --json the same JSON object `ipcplay run --json` printed."
        ),
    )
    replay.add_argument("file", metavar="FILE", help="a file written by `run --save-run`")
    replay.add_argument("--json", action="store_true", help="print exactly one JSON object")
    replay.add_argument(  # what `record --from-run` records
        "--play", action="store_true", help="on a terminal: play the run again at its own pace"
    )
    replay.add_argument("--svg-at", type=_times, default=[], help=argparse.SUPPRESS)
    replay.add_argument("--svg-stem", default=None, help=argparse.SUPPRESS)


def report_of(run: SavedRun) -> dict[str, object]:
    """The run's `--json` report, made again from its final snapshot: what
    the snapshots hold is the same report, the rest (trace, tour, schedule)
    is what the run reported and the file kept."""
    from ipcplay.report import RunHeader, as_dict

    scenario = run.scenario
    header = RunHeader(
        str(scenario.get("name", "")),
        str(scenario.get("title", "")),
        str(scenario.get("start_method", "")),
        str(scenario.get("expect", "")),
    )
    assert run.final is not None
    report = as_dict(header, run.verdict, run.duration_s, run.final, run.journal_file)
    report.update(run.extra)
    return report


def cmd_replay(args: argparse.Namespace) -> int:
    if not args.json and _on_terminal():
        # A terminal: the run in the TUI, to rewind (tui/saving.py); nothing is started.
        from ipcplay.tui.saving import run_replay_app

        try:
            return run_replay_app(
                args.file, play=args.play, svg_at=args.svg_at, svg_stem=args.svg_stem
            )
        except SavedRunError as exc:
            return say_error(str(exc))
    try:
        # only the final snapshot is rebuilt; the TUI's replay takes the whole
        # History the same way, with load(FILE).history
        run = load(args.file, whole=False)
    except SavedRunError as exc:
        return say_error(str(exc))
    if args.json:
        return write_stdout(json.dumps(report_of(run)) + "\n")
    return _print(run)


def _on_terminal() -> bool:
    """Standard output is a terminal (not a pipe, a file or a test's capture)."""
    try:
        return os.isatty(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def _print(run: SavedRun) -> int:
    """The headless run's final tables and verdict line, from the file."""
    from rich.console import Console
    from rich.text import Text

    from ipcplay.headless import tables

    final = run.final
    assert final is not None
    title = neutralise(str(run.scenario.get("title", "")), multiline=False)
    expect = str(run.scenario.get("expect", ""))
    console = Console(file=sys.stdout)
    console.print(tables(title, final))
    style = "green" if run.verdict == "completed" else "bold red"
    line = Text(f"verdict: {neutralise(run.verdict)} after {run.duration_s:.2f} s", style=style)
    if expect and run.verdict != expect:
        line.append(f" (this scenario is documented to end: {neutralise(expect)})")
    console.print(line)
    console.print(
        Text(
            f"saved run: {run.snapshots} snapshots, {len(run.moments)} moments,"
            f" {run.events} events (ipcplay {neutralise(run.ipcplay)})"
        )
    )
    return 0
