"""The command line of a watched program: `ipcplay PROGRAM.py [ARGS...]`,
`ipcplay -m MODULE [ARGS...]`, `ipcplay run PROGRAM.py [OPTIONS] [-- ARGS...]`.

A `.py` path or `-m` is a program; anything else is a preset, as before. A
program that cannot run (no such file, a folder, a syntax error, no such
module) is bad input: one line naming it and what was expected, exit
status 2, and nothing is started.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from contextlib import ExitStack

from ipcplay.cli_args import Parser, _hz, _seconds
from ipcplay.cli_outputs import close_outputs, open_journal_and_trace, say_error
from ipcplay.example_programs import close_example, resolve_program
from ipcplay.report import EXIT_CODES
from ipcplay.sink import Sink


def is_program(token: str) -> bool:
    """Does this command-line word start a program rather than name a preset?"""
    return token == "-m" or token.endswith(".py")


def problem_with(target: str, module: bool) -> str | None:
    """Why the program cannot be run, in one line; None if it can."""
    if module:
        if not target:
            return "-m: expected a module name"
        saved = sys.path[:]
        sys.path.insert(0, os.getcwd())
        try:
            spec = importlib.util.find_spec(target)
        except (ImportError, ValueError) as exc:
            return f"-m {target}: cannot find the module ({exc})"
        finally:
            sys.path[:] = saved
        if spec is None:
            return f"-m {target}: no module named {target!r}"
        return None
    if not os.path.exists(target):
        hint = _example_hint(target)
        return f"{target}: no such file (expected a Python program, a .py file{hint})"
    if os.path.isdir(target):
        return f"{target}: is a folder (expected a Python program, a .py file)"
    try:
        with open(target, "rb") as file:
            source = file.read()
    except OSError as exc:
        return f"{target}: cannot read it ({exc.strerror or exc})"
    try:
        compile(source, target, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"{target}:{exc.lineno}" if exc.lineno else target
        return f"{where}: SyntaxError: {exc.msg} (expected a Python program that compiles)"
    except ValueError as exc:
        return f"{target}: {exc} (expected Python source)"
    return None


def _example_hint(target: str) -> str:
    """For a bare file name, the shipped example it may have meant."""
    if os.sep in target:
        return ""
    near = close_example(target)
    hint = f"; did you mean the example {near}?" if near else ""
    return f", or a shipped example's file name: ipcplay list{hint}"


def program_of(argv: list[str]) -> tuple[object, list[str]] | str:
    """(Program, the words after it) from `PROGRAM.py ...` or `-m MODULE ...`;
    a one-line problem instead if it cannot run."""
    from ipcplay.engine.program import Program

    module = argv[0] == "-m"
    if module and len(argv) < 2:
        return "-m: expected a module name"
    target = argv[1] if module else argv[0]
    rest = argv[2:] if module else argv[1:]
    if not module:  # `seed001_bounded_queue.py`, not in this folder: the shipped example
        target = resolve_program(target)
    problem = problem_with(target, module)
    if problem:
        return problem
    return Program(target, (), module), rest


def run_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="ipcplay run",
        description=(
            "Run PROGRAM.py (or -m MODULE) under ipcplay, headless: its output passes through "
            "as in a plain run, and the report follows on standard error; with --json, one "
            "JSON object with every process's output in it. Arguments for the program go "
            "after --. A PROGRAM.py with no folder in its name that is not in the current "
            "folder is the shipped example of that name (ipcplay list)."
        ),
    )
    parser.add_argument("--duration", type=_seconds, metavar="S", help="stop after S seconds")
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object")
    parser.add_argument("--journal", metavar="FILE", help="save every operation as JSON Lines")
    parser.add_argument("--trace", metavar="FILE", help="save a Chrome trace / Perfetto file")
    parser.add_argument("--journal-size", type=int, default=65536, metavar="N")
    parser.add_argument("--no-preview", action="store_true", help="no message contents")
    parser.add_argument("--hz", type=_hz, default=10.0, help="sampling rate (default 10)")
    parser.add_argument(
        "--schedule",
        metavar="FILE",
        help="step mode: replay a schedule (the order processes were let go), then run freely",
    )
    return parser


def schedule_steps(path: str, program: object) -> tuple[str, ...]:
    """The steps of a schedule file made for this program, or ValueError in
    one line. Its process names cannot be checked before the run: a
    program's processes appear as it starts them."""
    from ipcplay import schedule as S

    plan = S.load(path)
    title = str(getattr(program, "title", ""))
    if plan.scenario and plan.scenario != title:
        raise S.ScheduleError(
            f"{path}: scenario: this schedule is for {plan.scenario!r}, not {title!r}"
        )
    if plan.overrides:
        raise S.ScheduleError(
            f"{path}: set: a program takes no overrides (expected no set; "
            "its arguments go after --)"
        )
    return plan.steps


def cmd_run_program(argv: list[str]) -> int:
    """`ipcplay run PROGRAM.py [OPTIONS] [-- ARGS...]` (argv: after `run`)."""
    from dataclasses import replace

    from ipcplay.program_run import ProgramOptions, run_program

    args_at = argv.index("--") if "--" in argv else len(argv)
    words, program_args = argv[:args_at], argv[args_at + 1 :]
    got = program_of(words)
    if isinstance(got, str):
        return say_error(got)
    program, options_words = got
    args = run_parser().parse_args(options_words)
    program = replace(program, args=tuple(program_args))  # type: ignore[type-var]
    if args.journal_size < 1 or args.journal_size > 1 << 22:
        return say_error(f"--journal-size: expected 1 to {1 << 22} events, got {args.journal_size}")
    steps: tuple[str, ...] | None = None
    if args.schedule:
        try:
            steps = schedule_steps(args.schedule, program)
        except ValueError as exc:
            return say_error(str(exc))
    out = sys.stdout if isinstance(sys.stdout, Sink) else Sink(sys.stdout, "standard output")
    with ExitStack() as files:
        try:
            journal, trace_out = open_journal_and_trace(files, args.journal, args.trace)
        except ValueError as exc:
            return say_error(str(exc))
        options = ProgramOptions(
            duration=args.duration,
            as_json=args.json,
            journal=journal,
            journal_name=args.journal,
            journal_events=args.journal_size,
            hz=args.hz,
            out=out,  # type: ignore[arg-type]
            err=sys.stderr,
            trace_out=trace_out,
            trace_name=args.trace,
            previews=not args.no_preview,
            schedule=steps,
            schedule_name=args.schedule,
        )
        try:
            status = run_program(program, options)  # type: ignore[arg-type]
        except OSError as exc:
            say_error(f"{program}: could not start: {exc}")
            status = EXIT_CODES["crashed"]
        return close_outputs(status, journal, trace_out, out)


def tui_program(argv: list[str]) -> tuple[object, float] | str:
    """`ipcplay [--hz N] [--step] PROGRAM.py ARGS...`: (Program, hz), or a
    problem. Every word after the program is the program's, as with python:
    ipcplay's own options come before it."""
    from dataclasses import replace

    hz = 10.0
    step = False
    words = list(argv)
    while words and not is_program(words[0]):
        if words[0] == "--step":
            step = True
            words = words[1:]
            continue
        if words[0] == "--hz" and len(words) > 1:
            try:
                hz = _hz(words[1])
            except argparse.ArgumentTypeError as exc:
                return f"--hz: {exc}"
            words = words[2:]
            continue
        return (
            f"{words[0]}: not an option before a program "
            "(expected --hz N or --step, then PROGRAM.py)"
        )
    got = program_of(words)
    if isinstance(got, str):
        return got
    program, rest = got
    return replace(program, args=tuple(rest), step=step), hz  # type: ignore[type-var]
