"""The `ipcplay` command: thin argument handling over scenario and engine.

Bad input is answered with one line on stderr and exit status 2, before
anything is started or any file is written.
"""

from __future__ import annotations

import argparse
import os
import signal
import stat
import sys
import threading
from pathlib import Path

# The guard below comes before the other imports (rich takes a while to load),
# so the rest of the module's imports are below it on purpose.
# ruff: noqa: E402


def _interrupted_while_loading(signum: int, frame: object) -> None:
    raise SystemExit(130)  # Ctrl+C before main() runs: the status of an interrupt, no traceback


def _is_the_command() -> bool:
    """Run as `ipcplay` or `python -m ipcplay`, not imported by a test or a tool."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    return argv0.name == "ipcplay" or (
        argv0.name == "__main__.py" and argv0.parent.name == "ipcplay"
    )


if (
    _is_the_command()
    and threading.current_thread() is threading.main_thread()
    and signal.getsignal(signal.SIGINT) is signal.default_int_handler
):
    signal.signal(signal.SIGINT, _interrupted_while_loading)

import tempfile
from collections.abc import Callable
from contextlib import ExitStack

from rich.console import Console
from rich.text import Text

from ipcplay import __version__
from ipcplay.report import EXIT_CODES
from ipcplay.safetext import neutralise
from ipcplay.sink import Sink

EPILOG = """exit status of `run`: 0 completed, 1 an output could not be written, 2 bad input,
3 timeout, 4 deadlock, 5 hang, 6 crashed, 130 interrupted (a finite scenario stopped by Ctrl+C
or SIGTERM)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2, like bad files."""

    def error(self, message: str) -> None:  # type: ignore[override]
        line = f"{self.prog}: {message} (see {self.prog.split()[0]} --help)"
        sys.stderr.write(neutralise(line, multiline=False) + "\n")  # it quotes the arguments
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
    rec = sub.add_parser(
        "record",
        help="record the TUI on a preset as an asciicast v2 file (plays its tour)",
        description=(
            "Run the real TUI on PRESET in a terminal of --size, playing the preset's tour "
            "if it has one, and write what the terminal showed as an asciicast v2 file "
            "(asciinema play), with markers at tour steps and at events such as a full "
            "queue or a deadlock; with --gif / --mp4 also a video (pip install "
            "'ipcplay[video]'). A toured recording ends --tail seconds after the tour's "
            "last step; otherwise, or with --duration, after that many seconds."
        ),
    )
    rec.add_argument("preset", metavar="PRESET", help="a built-in or user preset name, or a path")
    rec.add_argument("-o", "--output", required=True, metavar="FILE", help="the .cast file")
    rec.add_argument("--size", type=_size, default=(100, 30), metavar="WxH", help="default 100x30")
    rec.add_argument(
        "--duration",
        type=_seconds,
        metavar="S",
        help="seconds to record (default: until --tail after the tour's last step, at most "
        "120; 20 without a tour)",
    )
    rec.add_argument(
        "--tail",
        type=_number("seconds", 0, 60, lo_included=True),
        default=3.0,
        metavar="S",
        help="seconds to keep recording after the tour's last step (default 3)",
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


def _size(text: str) -> tuple[int, int]:
    """`100x30`: a terminal of 100 columns and 30 rows."""
    cols, _, rows = text.lower().partition("x")
    if not (cols.isdigit() and rows.isdigit()):
        raise argparse.ArgumentTypeError(f"expected COLUMNSxROWS such as 100x30, got {text!r}")
    w, h = int(cols), int(rows)
    if not (40 <= w <= 500 and 10 <= h <= 200):
        raise argparse.ArgumentTypeError(
            f"expected 40 to 500 columns and 10 to 200 rows, got {text}"
        )
    return w, h


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


def _err(message: str) -> int:
    """One line on stderr; names in it came from the user, and are neutralised."""
    if sys.stderr is not None:  # None when started with fd 2 closed
        line = neutralise(message.replace("\n", " "), multiline=False)
        sys.stderr.write(f"ipcplay: {line}\n")
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
            line = f"{f}: ok — {s.title} ({n} process templates, {len(s.channels)} channels)"
            print(neutralise(line, multiline=False))
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
    if args.tour and not scenario.tour:
        return _err(f"{scenario.source or args.preset}: tour: this scenario has no [[tour]] steps")
    if args.journal_size < 1 or args.journal_size > 1 << 22:
        return _err(f"--journal-size: expected 1 to {1 << 22} events, got {args.journal_size}")
    out = sys.stdout if isinstance(sys.stdout, Sink) else Sink(sys.stdout, "standard output")
    with ExitStack() as files:
        try:
            journal = (
                files.enter_context(_open_out(args.journal, "--journal", "w+"))
                if args.journal
                else None
            )
            trace_out = (
                files.enter_context(_open_out(args.trace, "--trace", "w")) if args.trace else None
            )
        except ValueError as exc:
            return _err(str(exc))
        if trace_out is not None and journal is None:
            # The trace is built from the journal after the run.
            journal = files.enter_context(
                Sink(tempfile.TemporaryFile("w+", encoding="utf-8"), "a temporary journal")  # noqa: SIM115
            )
        try:
            status = run(
                scenario,
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
            )
        except EngineError as exc:
            _err(str(exc).strip())
            status = EXIT_CODES["crashed"]
        return _written(status, journal, trace_out, out)


def _written(status: int, journal: Sink | None, trace: Sink | None, out: Sink) -> int:
    """Close the outputs; one line for each that could not be written, and a
    non-zero status (1, unless the run already has one). The trace is built
    from the journal: a journal that failed leaves the trace unwritten."""
    if trace is not None and journal is not None and journal.error and not trace.error:
        journal.flush()
        trace.error = f"not built: {journal.name} could not be written"
    failed = []
    for sink in (journal, trace, out):
        if sink is None:
            continue
        if sink is out:
            sink.flush()
            if sink is sys.stdout:
                continue  # main() says it, once
        else:
            sink.close()
        if sink.error:
            failed.append(sink)
    for sink in failed:
        _err(sink.message())
    return (status or 1) if failed else status


def _open_out(name: str, option: str, mode: str) -> Sink:
    """An output file opened before anything starts, so a bad path costs nothing."""
    path = Path(name)
    problem = _output_problem(path)
    if problem:
        raise ValueError(f"{name}: {option}: {problem}")
    try:
        return Sink(path.open(mode, encoding="utf-8"), name, option)
    except OSError as exc:
        raise ValueError(f"{name}: {option}: cannot write ({exc.strerror or exc})") from None


def _output_problem(path: Path) -> str | None:
    """Why `path` cannot be an output file, or None. A FIFO or a socket would
    block the run (opening a FIFO waits for a reader) or could not be read
    back; a device such as /dev/null is fine."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # not there yet (or unreadable): opening it says why
    if stat.S_ISDIR(mode):
        return "is a directory, expected a file to write"
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return "is a FIFO or a socket, expected a regular file to write"
    return None


def cmd_record(args: argparse.Namespace) -> int:
    import signal

    from ipcplay.record import default_length, record, still_path
    from ipcplay.scenario import ScenarioError, load, resolve
    from ipcplay.video import MissingVideoPackages, require

    try:
        source = resolve(args.preset)
        scenario = load(source)
    except ScenarioError as exc:
        return _err(str(exc))
    out = Path(args.output)
    if out.is_dir():
        return _err(f"{args.output}: -o: is a directory, expected a .cast file to write")
    if _output_problem(out):
        return _err(f"{args.output}: -o: {_output_problem(out)}")
    if not out.parent.is_dir():
        return _err(f"{args.output}: -o: folder {str(out.parent)!r} does not exist")
    if not os.access(out.parent, os.W_OK):
        return _err(f"{args.output}: -o: cannot write in {str(out.parent)!r}")
    touring = bool(scenario.tour) and not args.no_tour
    longest = args.duration or default_length(touring, args.speed)
    late = [t for t in args.svg_at if t >= longest]
    if late:
        return _err(
            f"--svg-at: {late[0]:g} s is not before the end of the recording ({longest:g} s)"
        )
    videos: dict[str, Path] = {}
    for kind in ("gif", "mp4"):
        name = getattr(args, kind)
        if name is None:
            continue
        path = Path(name) if name else out.with_suffix(f".{kind}")
        if path.is_dir() or not path.parent.is_dir() or path.resolve() == out.resolve():
            return _err(f"{path}: --{kind}: expected a file to write in an existing folder")
        videos[kind] = path
    try:
        require(gif="gif" in videos, mp4="mp4" in videos)
    except MissingVideoPackages as exc:
        return _err(str(exc))

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # so the recorder stops the app and writes nothing half-done

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        rec = record(
            scenario,
            Path(source),
            out,
            width=args.size[0],
            height=args.size[1],
            duration=args.duration,
            tail=args.tail,
            idle_limit=args.idle_limit,
            svg_at=tuple(args.svg_at),
            tour=not args.no_tour,
            speed=args.speed,
        )
    except KeyboardInterrupt:
        sys.stderr.write("ipcplay record: interrupted; nothing written\n")
        return EXIT_CODES["interrupted"]
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    missing = [still_path(out, t).name for t in args.svg_at if still_path(out, t) not in rec.stills]
    lines = [
        f"{out}: {rec.width}x{rec.height}, {rec.duration_s:.1f} s, "
        f"{rec.output_events} output events ({rec.output_bytes / 1024:.0f} KiB), "
        f"{len(rec.markers)} markers"
        + (f", {rec.idle_cut_s:.1f} s of idle screen cut" if args.idle_limit else ""),
        *(f"  {t:6.2f} s  {label}" for t, label in rec.markers),
        *(f"  still: {p}" for p in rec.stills),
    ]
    sys.stderr.write("".join(f"{neutralise(line, multiline=False)}\n" for line in lines))
    if rec.ended_by_itself:
        sys.stderr.write(
            f"ipcplay record: the app ended by itself after {rec.duration_s:.1f} s (exit status "
            f"{rec.exit_status}), before the recording's end; what it showed is in the .cast\n"
        )
        return 1
    if videos and rec.output_events:
        from ipcplay.video import read_cast, write_gif, write_mp4

        _, events = read_cast(out)
        for kind, path in videos.items():
            write = write_gif if kind == "gif" else write_mp4
            try:
                v = write(events, rec.width, rec.height, rec.duration_s, path)
            except (OSError, RuntimeError) as exc:
                line = f"{path}: --{kind}: not written: {exc}"
                sys.stderr.write(neutralise(line, multiline=False) + "\n")
                return 1
            sys.stderr.write(
                neutralise(
                    f"{v.path}: {v.width_px}x{v.height_px} px, {v.duration_s:.1f} s, "
                    f"{v.frames} frames, {v.size_bytes / 1024:.0f} KiB "
                    f"(drawn in {v.render_s:.1f} s)",
                    multiline=False,
                )
                + "\n"
            )
    if missing:
        sys.stderr.write(neutralise(f"  stills not written: {', '.join(missing)}") + "\n")
        return 1
    return 0 if rec.output_events else 1


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
    problem = _output_problem(path)
    if problem:
        return _err(f"{args.output}: -o: {problem}")
    try:
        path.write_text(source, encoding="utf-8")
    except OSError as exc:
        return _err(f"{args.output}: -o: cannot write ({exc.strerror or exc})")
    line = f"{args.output}: {scenario.title} — run it with: python3 {args.output}"
    print(neutralise(line, multiline=False))
    return 0


def _write_stdout(text: str) -> int:
    """Python source is UTF-8 whatever the terminal's encoding; a reader that
    stops early (`| head`) is not an error."""
    out = sys.stdout if isinstance(sys.stdout, Sink) else Sink(sys.stdout, "standard output")
    try:
        if hasattr(out.file, "buffer"):
            out.file.buffer.write(text.encode("utf-8"))
        else:
            out.write(text)
    except OSError as exc:
        out.fail(exc)
    out.flush()
    if out.error and out is not sys.stdout:
        _err(out.message())
        return 1
    return 0


SUBCOMMANDS = ("list", "check", "run", "record", "export")


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
    ap.add_argument(
        "--tour", action="store_true", help="play the preset's guided tour, if it has one"
    )
    ap.add_argument("--speed", type=_speed, default=1.0, metavar="X", help=SPEED_HELP)
    # For `ipcplay record`: nobody presses `n`, so a held tour step ends after S seconds.
    ap.add_argument("--tour-hold", type=_seconds, default=None, help=argparse.SUPPRESS)
    # For `ipcplay record`: SVG stills at these seconds, named STEM-<T>s.svg.
    ap.add_argument("--svg-at", type=_times, default=[], help=argparse.SUPPRESS)
    ap.add_argument("--svg-stem", default=None, help=argparse.SUPPRESS)
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
        tour=args.tour,
        speed=args.speed,
        tour_hold_s=args.tour_hold,
        svg_at=args.svg_at,
        svg_stem=args.svg_stem,
    )
    try:
        result = app.run()
    finally:
        app.stop_all_now()
    if app.crash_message:
        print(app.crash_message, file=sys.stderr)
    if app.return_code:  # a crash: Textual returns None for it, which is not a success
        return app.return_code
    return int(result or 0)


def _is_builtin(path: Path) -> bool:
    from ipcplay.scenario import list_presets

    return any(i.path == path and i.origin != "file" for i in list_presets())


def main(argv: list[str] | None = None) -> int:
    """Ctrl+C at any moment is exit status 130 and one line, never a traceback."""
    if signal.getsignal(signal.SIGINT) is _interrupted_while_loading:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in SUBCOMMANDS:  # the TUI owns the terminal
        return _interruptible(argv)
    # A sub-command's standard output may be a full disk: one line, status 1.
    stdout = sys.stdout
    out = sys.stdout = Sink(stdout, "standard output")  # type: ignore[assignment]
    try:
        status = _interruptible(argv)
        out.flush()
    finally:
        sys.stdout = stdout
    if out.error:
        _err(out.message())
        return status or 1
    return status


def _interruptible(argv: list[str]) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        sys.stderr.write("ipcplay: interrupted\n")
        return EXIT_CODES["interrupted"]


def _main(argv: list[str]) -> int:
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version")):
        return cmd_tui(argv)
    args = _parser().parse_args(argv)
    if args.command == "list":
        return cmd_list()
    if args.command == "check":
        return cmd_check(args.files)
    if args.command == "run":
        return cmd_run(args)
    if args.command == "record":
        return cmd_record(args)
    if args.command == "export":
        return cmd_export(args)
    _parser().print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
