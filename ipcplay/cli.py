"""The `ipcplay` command: thin argument handling over scenario and engine.

Bad input is answered with one line on stderr and exit status 2, before
anything is started or any file is written. This module dispatches and owns
Ctrl+C; the grammar is in cli_args, each command's work in cli_run (run,
export) and cli_record, and where they write in cli_outputs.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

# The guard below comes before the other imports (rich takes a while to load),
# and needs only what the interpreter has already loaded, so that a Ctrl+C in
# the first tenth of a second finds it; the rest of the module's imports are
# below it on purpose.
# ruff: noqa: E402


def _interrupted_while_loading(signum: int, frame: object) -> None:
    raise SystemExit(130)  # Ctrl+C before main() runs: the status of an interrupt, no traceback


def _is_the_command() -> bool:
    """Run as `ipcplay` or `python -m ipcplay`, not imported by a test or a tool."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    name = os.path.basename(argv0)
    folder = os.path.basename(os.path.dirname(argv0))
    return name == "ipcplay" or (name == "__main__.py" and folder == "ipcplay")


if _is_the_command() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    try:
        signal.signal(signal.SIGINT, _interrupted_while_loading)
        # A mask is inherited across exec, and one that blocks SIGINT would
        # leave Ctrl+C pending for ever (an ignored SIGINT, a background job's,
        # stays ignored: that one is the shell's to decide).
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    except ValueError:  # not the main thread: the signal is not this module's to handle
        pass

from pathlib import Path

from ipcplay.cli_args import SUBCOMMANDS, main_parser, tui_parser
from ipcplay.cli_outputs import say_error
from ipcplay.cli_program import cmd_run_program, is_program, tui_program
from ipcplay.report import EXIT_CODES
from ipcplay.safetext import neutralise
from ipcplay.sink import Sink

_parser = main_parser  # the name a test (and older tools) call to build the parser


def cmd_list() -> int:
    from rich.console import Console
    from rich.text import Text

    from ipcplay.scenario import list_presets

    console = Console(soft_wrap=True)
    for info in list_presets():
        if info.error:
            console.print(Text(f"{info.name:<24} [{info.origin}] error: {info.error}", style="red"))
        else:
            console.print(Text(f"{info.name:<24} [{info.origin}] {info.title}"))
    _list_examples(console)
    return 0


def _list_examples(console: Any) -> None:
    """The second section: the programs ipcplay ships, run by file name alone."""
    from rich.text import Text

    from ipcplay.example_programs import list_examples

    examples = list_examples()
    if not examples:
        return
    console.print(Text("\nPrograms (ipcplay NAME.py opens one, ipcplay run NAME.py runs it):"))
    width = max(len(info.file) for info in examples)
    for info in examples:
        seed = f"[seed {info.seed}]" if info.seed else "[example]"
        console.print(Text(f"{info.file:<{width}} {seed} {info.description}"))


def cmd_check(files: list[str]) -> int:
    from ipcplay.scenario import ScenarioError, load

    status = 0
    for file in files:
        try:
            scenario = load(file)
        except ScenarioError as exc:
            say_error(str(exc))
            status = 2
        else:
            templates, channels = len(scenario.processes), len(scenario.channels)
            counts = f"{templates} process templates, {channels} channels"
            line = f"{file}: ok — {scenario.title} ({counts})"
            print(neutralise(line, multiline=False))
    return status


def cmd_tui(argv: list[str]) -> int:
    from dataclasses import replace

    from ipcplay.scenario import ScenarioError, load, resolve
    from ipcplay.schedule import ScheduleError

    args = tui_parser().parse_args(argv)
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
        replay = _tui_schedule(args.schedule, scenarios) if args.schedule else None
    except (ScenarioError, ScheduleError) as exc:
        return say_error(str(exc))
    if replay is not None:
        scenarios[0] = replay[0]
    from ipcplay.tui.app import IpcplayApp  # Textual only loads for the TUI

    app = IpcplayApp(
        initial=scenarios[0] if len(scenarios) == 1 else None,
        extra=[preset_path for preset_path in paths if not _is_builtin(preset_path)],
        hz=args.hz,
        tour=args.tour,
        speed=args.speed,
        tour_hold_s=args.tour_hold,
        svg_at=args.svg_at,
        svg_stem=args.svg_stem,
        step=args.step or replay is not None,
        replay=replay[1].steps if replay is not None else None,
        overrides=replay[1].overrides if replay is not None else (),
    )
    return app.run_for_status()


def _tui_schedule(file: str, scenarios: list[Any]) -> tuple[Any, Any]:
    """`--schedule FILE` for the one preset named: (the scenario with the
    schedule's `set` applied, the schedule), or a one-line error naming the
    file and the key, before the TUI starts."""
    from ipcplay.schedule import ScheduleError, for_scenario

    if len(scenarios) != 1:
        raise ScheduleError(
            f"--schedule: expected one PRESET to replay it on, got {len(scenarios)}"
        )
    return for_scenario(file, scenarios[0])


def _names_program(argv: list[str]) -> bool:
    """A `.py` path or `-m` before any `--`: a program (anything else is a preset)."""
    words = argv[: argv.index("--")] if "--" in argv else argv
    return any(is_program(word) for word in words)


def cmd_tui_program(argv: list[str]) -> int:
    """The live TUI on a program: `ipcplay PROGRAM.py ARGS...`."""
    svg_at, svg_stem = [], None
    # `ipcplay record PROGRAM.py --svg-at T` passes the stills before the program.
    while argv[:1] in (["--svg-at"], ["--svg-stem"]) and len(argv) > 1:
        if argv[0] == "--svg-at":
            svg_at = tui_parser().parse_args(["--svg-at", argv[1]]).svg_at
        else:
            svg_stem = argv[1]
        argv = argv[2:]
    got = tui_program(argv)
    if isinstance(got, str):
        return say_error(got)
    program, hz = got
    from ipcplay.tui.app import IpcplayApp

    app = IpcplayApp(program=program, hz=hz, svg_at=svg_at, svg_stem=svg_stem)
    return app.run_for_status()


def _is_builtin(path: Path) -> bool:
    from ipcplay.scenario import list_presets

    return any(info.path == path and info.origin != "file" for info in list_presets())


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
        say_error(out.message())
        return status or 1
    return status


def _interruptible(argv: list[str]) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        sys.stderr.write("ipcplay: interrupted\n")
        return EXIT_CODES["interrupted"]


def _main(argv: list[str]) -> int:
    if argv[:1] == ["run"] and len(argv) > 1 and _names_program(argv[1:]):
        return cmd_run_program(argv[1:])
    if argv and argv[0] not in SUBCOMMANDS and _names_program(argv):
        return cmd_tui_program(argv)
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version")):
        return cmd_tui(argv)
    args = main_parser().parse_args(argv)
    if args.command == "list":
        return cmd_list()
    if args.command == "check":
        return cmd_check(args.files)
    # Each command's module loads when it runs: `run PROGRAM.py` (above) need
    # not wait for rich and the scenario's modules to start the program.
    if args.command == "run":
        from ipcplay.cli_run import cmd_run

        return cmd_run(args)
    if args.command == "record":
        from ipcplay.cli_record import cmd_record

        return cmd_record(args)
    if args.command == "export":
        from ipcplay.cli_run import cmd_export

        return cmd_export(args)
    if args.command == "explore":
        from ipcplay.cli_explore import cmd_explore

        return cmd_explore(args)
    if args.command == "replay":
        from ipcplay.cli_replay import cmd_replay

        return cmd_replay(args)
    main_parser().print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
