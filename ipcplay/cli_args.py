"""The command line's grammar: every sub-command's options and their types.

Bad input is answered by `Parser.error`: one line on stderr and exit
status 2, before anything is started or any file is written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ipcplay import __version__
from ipcplay.safetext import neutralise

EPILOG = """exit status of `run`: 0 completed, 1 an output could not be written, 2 bad input,
3 timeout, 4 deadlock, 5 hang, 6 crashed, 130 interrupted (a finite scenario stopped by Ctrl+C
or SIGTERM)."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2, like bad files."""

    def error(self, message: str) -> None:  # type: ignore[override]
        line = f"{self.prog}: {message} (see {self.prog.split()[0]} --help)"
        sys.stderr.write(neutralise(line, multiline=False) + "\n")  # it quotes the arguments
        raise SystemExit(2)


PROGRAM_HELP = (
    "`ipcplay PROGRAM.py [ARGS...]` opens the live TUI on your own multiprocessing program, "
    "`ipcplay run PROGRAM.py` runs it headless; a PROGRAM.py with no folder in its name that "
    "is not in the current folder is one of the examples ipcplay ships (`ipcplay list`), so "
    "`ipcplay seed001_bounded_queue.py` works anywhere."
)


def main_parser() -> argparse.ArgumentParser:
    """`ipcplay SUB-COMMAND ...`: list, check, run, record, export."""
    parser = Parser(
        prog="ipcplay",
        description=(
            "A terminal playground for Python's multiprocessing: real processes, counted exactly. "
            + PROGRAM_HELP
        ),
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"ipcplay {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=Parser)
    commands.add_parser("list", help="list built-in and user presets, then the example programs")
    check = commands.add_parser("check", help="validate scenario files without running them")
    check.add_argument("files", nargs="+", metavar="FILE")
    _add_run(commands.add_parser("run", help="run a scenario headless and report", epilog=EPILOG))
    _add_record(commands)
    _add_export(commands)
    from ipcplay.cli_explore import add_parser as add_explore  # its grammar lives with it

    add_explore(commands)
    from ipcplay.cli_replay import add_parser as add_replay

    add_replay(commands)
    return parser


def _add_run(run: argparse.ArgumentParser) -> None:
    run.add_argument("preset", metavar="PRESET", help="a built-in or user preset name, or a path")
    run.add_argument(
        "--duration",
        type=_seconds,
        metavar="S",
        help="stop after S seconds (default: the scenario's duration)",
    )
    run.add_argument("--json", action="store_true", help="print exactly one JSON object")
    run.add_argument("--journal", metavar="FILE", help="save every operation as JSON Lines")
    run.add_argument(
        "--trace",
        metavar="FILE",
        help="save the run as a Chrome trace / Perfetto JSON file (one track per PID)",
    )
    run.add_argument(
        "--journal-size",
        type=int,
        default=65536,
        metavar="N",
        help="journal ring size per process, in events (default 65536)",
    )
    run.add_argument(
        "--no-preview",
        action="store_true",
        help="no message contents in the journal (each costs a copy of its first bytes)",
    )
    run.add_argument("--hz", type=_hz, default=10.0, help="sampling rate (default 10)")
    run.add_argument(
        "--tour", action="store_true", help="play the preset's guided tour (captions and actions)"
    )
    run.add_argument("--speed", type=_speed, default=1.0, metavar="X", help=SPEED_HELP)
    run.add_argument(
        "--start-method",
        choices=("fork", "spawn", "forkserver"),
        help="override the scenario's start method",
    )
    run.add_argument(
        "--schedule",
        metavar="FILE",
        help="replay a step-mode schedule (the order processes were let go), then run freely",
    )
    run.add_argument(
        "--set",
        action="append",
        metavar="NAME.KEY=VALUE",
        help="change one number of the preset for this run (replicas, count, rate, maxsize...)",
    )
    run.add_argument(
        "--save-run",
        metavar="FILE",
        help="save the whole run (every snapshot and the journal) to FILE, for `ipcplay replay`",
    )


def _add_record(commands: argparse._SubParsersAction) -> None:
    rec = commands.add_parser(
        "record",
        help="record the TUI on a preset (plays its tour) or a PROGRAM.py as an asciicast v2 file",
        description=(
            "Run the real TUI on PRESET in a terminal of --size, playing the preset's tour "
            "if it has one, and write what the terminal showed as an asciicast v2 file "
            "(asciinema play), with markers at tour steps and at events such as a full "
            "queue or a deadlock; with --gif / --mp4 also a video (pip install "
            "'ipcplay[video]'). A toured recording ends --tail seconds after the tour's "
            "last step; otherwise, or with --duration, after that many seconds. PRESET may "
            "be a program, PROGRAM.py (as in `ipcplay PROGRAM.py`): no tour, and the "
            "recording ends --tail seconds after every process of it has exited (at most "
            "20 s without --duration). With --from-run FILE instead of PRESET: the run saved "
            "in FILE (`ipcplay run --save-run`, or W on the run screen) played again at its "
            "own pace, no process started; it ends --tail seconds after the run's end."
        ),
    )
    rec.add_argument(
        "preset",
        metavar="PRESET",
        nargs="?",
        help="a built-in or user preset name, or a path; or PROGRAM.py",
    )
    rec.add_argument(
        "--from-run",
        metavar="FILE",
        help="record a saved run (instead of PRESET): the exact run shown in class",
    )
    rec.add_argument("-o", "--output", required=True, metavar="FILE", help="the .cast file")
    rec.add_argument("--size", type=_size, default=(100, 30), metavar="WxH", help="default 100x30")
    rec.add_argument(
        "--duration",
        type=_seconds,
        metavar="S",
        help="seconds to record (default: until --tail after the tour's last step, at most "
        "120; 20 without a tour; a program: until --tail after it ends, at most 20)",
    )
    rec.add_argument(
        "--tail",
        type=_number("seconds", 0, 60, lo_included=True),
        default=3.0,
        metavar="S",
        help="seconds to keep recording after the tour's last step or the program's end "
        "(default 3)",
    )
    rec.add_argument(
        "--idle-limit",
        type=_seconds,
        metavar="S",
        help="shorten every stretch in which the screen does not change to S seconds",
    )
    rec.add_argument(
        "--gif",
        nargs="?",
        const="",
        metavar="FILE",
        help="also write a GIF; default FILE: -o's, ending .gif",
    )
    rec.add_argument(
        "--mp4",
        nargs="?",
        const="",
        metavar="FILE",
        help="also write an MP4 (H.264); default FILE: -o's, ending .mp4",
    )
    rec.add_argument(
        "--svg-at",
        type=_times,
        default=[],
        metavar="T[,T...]",
        help="also save SVG stills at these seconds of the run, as <stem>-<T>s.svg next "
        "to FILE, with the font inside",
    )
    rec.add_argument("--no-tour", action="store_true", help="do not play the preset's tour")
    rec.add_argument("--speed", type=_speed, default=1.0, metavar="X", help=SPEED_HELP)


def _add_export(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="write a scenario as a standalone Python script (standard library only)",
        description=(
            "Write the plain multiprocessing code that does what the scenario does: "
            "runnable with python3 where ipcplay is not installed, it prints the same "
            "totals as `ipcplay run --json`."
        ),
    )
    export.add_argument(
        "preset", metavar="PRESET", help="a built-in or user preset name, or a path"
    )
    export.add_argument(
        "-o", "--output", metavar="FILE", help="write the script to FILE (default: standard output)"
    )
    export.add_argument(
        "--start-method",
        choices=("fork", "spawn", "forkserver"),
        help="override the scenario's start method",
    )


def _size(text: str) -> tuple[int, int]:
    """`100x30`: a terminal of 100 columns and 30 rows."""
    cols, _, rows = text.lower().partition("x")
    if not (cols.isdigit() and rows.isdigit()):
        raise argparse.ArgumentTypeError(f"expected COLUMNSxROWS such as 100x30, got {text!r}")
    width, height = int(cols), int(rows)
    if not (40 <= width <= 500 and 10 <= height <= 200):
        raise argparse.ArgumentTypeError(
            f"expected 40 to 500 columns and 10 to 200 rows, got {text}"
        )
    return width, height


def _number(what: str, lo: float, hi: float, lo_included: bool) -> Callable[[str], float]:
    """An argparse type for a number in a range, with a one-line message."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ((lo <= value) if lo_included else (lo < value)) or value > hi:
            raise argparse.ArgumentTypeError(f"expected {what} from {lo:g} to {hi:g}, got {text}")
        return value

    return parse


_seconds = _number("seconds", 0, 86_400, lo_included=False)
_hz = _number("a rate in Hz", 0.5, 60, lo_included=True)
_speed = _number("a speed", 0.05, 1, lo_included=True)
SPEED_HELP = (
    "slow motion: the scenario's own time (work, sleeps, rates, timers, the tour) runs at X "
    "of real time, 0.05 to 1 (default 1); the IPC itself is never slowed"
)


def _times(text: str) -> list[float]:
    """`3,8.5`: seconds into a recording, for SVG stills."""
    return sorted({_seconds(part) for part in text.split(",") if part.strip()})


SUBCOMMANDS = ("list", "check", "run", "record", "export", "explore", "replay")


def tui_parser() -> argparse.ArgumentParser:
    """`ipcplay [PRESET...]`: the live TUI, and the options `record` passes it."""
    parser = Parser(
        prog="ipcplay",
        description=(
            "Open the live TUI: with no PRESET, the list of presets; with one, that scenario; "
            "with several, the list with those files added. Sub-commands: "
            + ", ".join(SUBCOMMANDS)
            + " (see ipcplay --help)."
        ),
    )
    parser.add_argument("presets", nargs="*", metavar="PRESET", help="a preset name or a path")
    parser.add_argument("--hz", type=_hz, default=10.0, help="refresh rate (default 10)")
    parser.add_argument(
        "--start-method",
        choices=("fork", "spawn", "forkserver"),
        help="override the scenario's start method",
    )
    parser.add_argument(
        "--tour", action="store_true", help="play the preset's guided tour, if it has one"
    )
    parser.add_argument("--speed", type=_speed, default=1.0, metavar="X", help=SPEED_HELP)
    parser.add_argument(
        "--step",
        action="store_true",
        help="step mode: every process waits before each operation until you let it go "
        "(Enter, 1-9, a; g runs freely; s steps again)",
    )
    parser.add_argument(
        "--schedule",
        metavar="FILE",
        help="with --step: replay a saved schedule (v on the run screen saves one), "
        "then keep stepping unless it ends with go",
    )
    # For `ipcplay record`: nobody presses `n`, so a held tour step ends after S seconds.
    parser.add_argument("--tour-hold", type=_seconds, default=None, help=argparse.SUPPRESS)
    # For `ipcplay record`: SVG stills at these seconds, named STEM-<T>s.svg.
    parser.add_argument("--svg-at", type=_times, default=[], help=argparse.SUPPRESS)
    parser.add_argument("--svg-stem", default=None, help=argparse.SUPPRESS)
    return parser
