"""The `ipcplay` command: thin argument handling over scenario and engine.

Bad input is answered with one line on stderr and exit status 2, before
anything is started or any file is written.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ipcplay import __version__
from ipcplay.report import EXIT_CODES

EPILOG = """exit status of `run`: 0 completed, 2 bad input, 3 timeout, 4 deadlock,
5 hang, 6 crashed, 130 interrupted (a finite scenario stopped by Ctrl+C or SIGTERM)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2, like bad files."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: {message} (see {self.prog.split()[0]} --help)\n")
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="ipcplay",
        description=(
            "A terminal playground for Python's multiprocessing: real processes, counted exactly."
        ),
        epilog=EPILOG,
    )
    ap.add_argument("--version", action="version", version=f"ipcplay {__version__}")
    sub = ap.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("list", help="list built-in and user presets")
    check = sub.add_parser("check", help="validate scenario files without running them")
    check.add_argument("files", nargs="+", metavar="FILE")
    run = sub.add_parser("run", help="run a scenario headless and report", epilog=EPILOG)
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
        "--journal-size",
        type=int,
        default=65536,
        metavar="N",
        help="journal ring size per process, in events (default 65536)",
    )
    run.add_argument("--hz", type=_hz, default=10.0, help="sampling rate (default 10)")
    run.add_argument(
        "--start-method",
        choices=("fork", "spawn", "forkserver"),
        help="override the scenario's start method",
    )
    export = sub.add_parser(
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
    return ap


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


def _err(message: str) -> int:
    sys.stderr.write("ipcplay: " + message.replace("\n", " ") + "\n")
    return 2


def cmd_list() -> int:
    from ipcplay.scenario import list_presets

    console = Console(soft_wrap=True)
    for info in list_presets():
        if info.error:
            console.print(Text(f"{info.name:<24} [{info.origin}] error: {info.error}", style="red"))
        else:
            console.print(Text(f"{info.name:<24} [{info.origin}] {info.title}"))
    return 0


def cmd_check(files: list[str]) -> int:
    from ipcplay.scenario import ScenarioError, load

    status = 0
    for f in files:
        try:
            s = load(f)
        except ScenarioError as exc:
            _err(str(exc))
            status = 2
        else:
            n = len(s.processes)
            print(f"{f}: ok — {s.title} ({n} process templates, {len(s.channels)} channels)")
    return status


def cmd_run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ipcplay.engine import EngineError
    from ipcplay.headless import run
    from ipcplay.scenario import ScenarioError, load, resolve

    try:
        scenario = load(resolve(args.preset))
    except ScenarioError as exc:
        return _err(str(exc))
    if args.start_method:
        scenario = replace(scenario, start_method=args.start_method)
    if args.journal_size < 1 or args.journal_size > 1 << 22:
        return _err(f"--journal-size: expected 1 to {1 << 22} events, got {args.journal_size}")
    journal = None
    if args.journal:
        path = Path(args.journal)
        if path.is_dir():
            return _err(f"{args.journal}: --journal: is a directory, expected a file to write")
        try:
            journal = path.open("w", encoding="utf-8")
        except OSError as exc:
            return _err(f"{args.journal}: --journal: cannot write ({exc.strerror})")
    try:
        return run(
            scenario,
            duration=args.duration,
            as_json=args.json,
            journal=journal,
            journal_name=args.journal,
            journal_events=args.journal_size,
            hz=args.hz,
        )
    except EngineError as exc:
        sys.stderr.write(f"ipcplay: {exc}\n".replace("\n", " ").rstrip() + "\n")
        return EXIT_CODES["crashed"]
    finally:
        if journal is not None:
            journal.close()


def cmd_export(args: argparse.Namespace) -> int:
    """The script is made in full before FILE is opened, so a bad scenario
    never truncates or creates it."""
    from dataclasses import replace

    from ipcplay.export import to_python
    from ipcplay.scenario import ScenarioError, load, resolve

    try:
        scenario = load(resolve(args.preset))
    except ScenarioError as exc:
        return _err(str(exc))
    if args.start_method:
        scenario = replace(scenario, start_method=args.start_method)
    source = to_python(scenario)
    if not args.output:
        return _write_stdout(source)
    path = Path(args.output)
    if path.is_dir():
        return _err(f"{args.output}: -o: is a directory, expected a file to write")
    try:
        path.write_text(source, encoding="utf-8")
    except OSError as exc:
        return _err(f"{args.output}: -o: cannot write ({exc.strerror})")
    print(f"{args.output}: {scenario.title} — run it with: python3 {args.output}")
    return 0


def _write_stdout(text: str) -> int:
    """Python source is UTF-8 whatever the terminal's encoding; a reader that
    stops early (`| head`) is not an error."""
    try:
        if hasattr(sys.stdout, "buffer"):
            sys.stdout.buffer.write(text.encode("utf-8"))
        else:
            sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit does not fail again
    return 0


SUBCOMMANDS = ("list", "check", "run", "export")


def _tui_parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="ipcplay",
        description=(
            "Open the live TUI: with no PRESET, the list of presets; with one, that scenario; "
            "with several, the list with those files added. Sub-commands: "
            + ", ".join(SUBCOMMANDS)
            + " (see ipcplay --help)."
        ),
    )
    ap.add_argument("presets", nargs="*", metavar="PRESET", help="a preset name or a path")
    ap.add_argument("--hz", type=_hz, default=10.0, help="refresh rate (default 10)")
    ap.add_argument(
        "--start-method",
        choices=("fork", "spawn", "forkserver"),
        help="override the scenario's start method",
    )
    return ap


def cmd_tui(argv: list[str]) -> int:
    from dataclasses import replace

    from ipcplay.scenario import ScenarioError, load, resolve

    args = _tui_parser().parse_args(argv)
    scenarios = []
    paths: list[Path] = []
    try:
        for name in args.presets:
            path = resolve(name)
            scenario = load(path)
            if args.start_method:
                scenario = replace(scenario, start_method=args.start_method)
            scenarios.append(scenario)
            paths.append(Path(path))
    except ScenarioError as exc:
        return _err(str(exc))
    from ipcplay.tui.app import IpcplayApp  # Textual only loads for the TUI

    app = IpcplayApp(
        initial=scenarios[0] if len(scenarios) == 1 else None,
        extra=[p for p in paths if not _is_builtin(p)],
        hz=args.hz,
    )
    try:
        result = app.run()
    finally:
        app.stop_all_now()
    return int(result or 0)


def _is_builtin(path: Path) -> bool:
    from ipcplay.scenario import list_presets

    return any(i.path == path and i.origin != "file" for i in list_presets())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version")):
        return cmd_tui(argv)
    args = _parser().parse_args(argv)
    if args.command == "list":
        return cmd_list()
    if args.command == "check":
        return cmd_check(args.files)
    if args.command == "run":
        return cmd_run(args)
    if args.command == "export":
        return cmd_export(args)
    _parser().print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
