"""`ipcplay explore PRESET`: every schedule of a small scenario, run on its
real processes, and each distinct outcome with the shortest schedule that
reaches it, saved as a schedule file (explore.py does the exploring)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from ipcplay.cli_outputs import say_error
from ipcplay.safetext import neutralise

HELP = (
    "run a small scenario's processes under every interleaving of their operations "
    "(equivalent orders pruned) and list each outcome with its shortest schedule"
)


def _positive(text: str) -> int:
    """--max-schedules: a whole number of schedules, 1 or more."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of schedules, 1 or more, got {text!r}"
        )
    return int(text)


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The sub-command's grammar (cli_args adds it to the others)."""
    explore = commands.add_parser("explore", help=HELP, description=HELP + ".")
    explore.add_argument(
        "preset", metavar="PRESET", help="a built-in or user preset name, or a path"
    )
    explore.add_argument(
        "--max-schedules",
        type=_positive,
        default=0,
        metavar="N",
        help="stop after N schedules (default: run them all)",
    )
    explore.add_argument("--json", action="store_true", help="print one JSON object at the end")
    explore.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PROCESS.KEY=VALUE",
        help="change a number of the preset first, e.g. adder.replicas=2 (repeatable)",
    )
    explore.add_argument(
        "--out",
        metavar="DIR",
        help="where the schedule files go (default: PRESET-explore in the current folder; "
        "an existing file is never replaced)",
    )


def cmd_explore(args: argparse.Namespace) -> int:
    from ipcplay.engine import EngineError
    from ipcplay.engine.tracker import start_tracker
    from ipcplay.explore import as_dict, explore, save
    from ipcplay.scenario import ScenarioError, load, resolve
    from ipcplay.scenario.overrides import apply

    try:
        scenario = apply(load(resolve(args.preset)), args.set, where="--set")
    except ScenarioError as exc:
        return say_error(str(exc))
    if scenario.endless:
        return say_error(
            f"{args.preset}: a producer or pinger runs until stopped (count = 0), so its "
            "schedules never end; expected a count, e.g. --set NAME.count=3"
        )
    folder = Path(args.out or f"{scenario.name}-explore")
    if folder.exists() and not folder.is_dir():
        return say_error(f"{args.out or folder}: --out: is not a folder, expected one to write to")
    start_tracker()  # before any run: it must outlive a hangup, as run's does
    stop = threading.Event()
    old = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    progress = _Progress()
    try:
        found = explore(
            scenario,
            overrides=tuple(args.set),
            max_schedules=args.max_schedules,
            on_progress=progress,
            stop=stop,
        )
    except EngineError as exc:
        return say_error(str(exc).strip())
    finally:
        progress.end()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    status = 130 if stop.is_set() else 0
    try:
        files = save(found, folder)
    except OSError as exc:  # the outcomes are still worth printing
        say_error(f"{folder}: --out: cannot write ({exc.strerror or exc})")
        files, status = [], status or 1
    if args.json:
        print(json.dumps(as_dict(found, files)))
    else:
        _print(found, files, args.max_schedules)
    return status


class _Progress:
    """One line on stderr, rewritten: only on a terminal (a log gets the summary)."""

    def __init__(self) -> None:
        self.shown = sys.stderr is not None and sys.stderr.isatty()
        self.drawn = False

    def __call__(self, runs: int, outcomes: int, seconds: float) -> None:
        if self.shown:
            word = "outcome" if outcomes == 1 else "outcomes"
            many = "schedule" if runs == 1 else "schedules"
            sys.stderr.write(f"\rexplored {runs} {many}, {outcomes} {word}, {seconds:.1f} s\x1b[K")
            sys.stderr.flush()
            self.drawn = True

    def end(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _print(found: Any, files: list[Path], cap: int) -> None:
    title = found.scenario + (f" ({', '.join(found.overrides)})" if found.overrides else "")
    word = "outcome" if len(found.found) == 1 else "outcomes"
    print(neutralise(f"{title}: {len(found.found)} {word}", multiline=False))
    for index, item in enumerate(found.found):
        result = item.result
        line = f"  {result.verdict}"
        if result.words:
            line += f": {result.words}"
        print(neutralise(line, multiline=False))
        where = f" → {files[index]}" if index < len(files) else ""
        many = "schedule" if item.schedules == 1 else "schedules"
        print(
            neutralise(
                f"    {item.schedules} {many}; shortest, {len(item.shortest)} steps: "
                f"{' '.join(item.shortest)}{where}",
                multiline=False,
            )
        )
    runs = "schedule" if found.runs == 1 else "schedules"
    tail = (
        f"{found.runs} {runs} run, {found.cut} cut short and {found.pruned} branches "
        f"left out as equivalent orders, in {found.seconds:.1f} s"
    )
    print(tail)
    if not found.complete:
        reason = f"stopped at {cap}" if cap and found.runs + found.cut >= cap else "stopped"
        print(f"{reason}: not every schedule was run")
    if found.diverged:
        print(
            f"{found.diverged} replays met other held processes than their first run "
            "(something the gate does not stop, or a timing): outcomes are the ones met"
        )
