"""`ipcplay record`: the TUI on a preset or a program, recorded; its videos and stills."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ipcplay.cli_outputs import output_problem, say_error
from ipcplay.report import EXIT_CODES
from ipcplay.safetext import neutralise

if TYPE_CHECKING:
    from ipcplay.record import Recording
    from ipcplay.scenario.model import Scenario


def cmd_record(args: argparse.Namespace) -> int:
    """Every input and output is checked before the app starts: a bad one costs
    nothing. Then the recording, its summary on stderr, and the videos."""
    from ipcplay.cli_program import is_program, program_of
    from ipcplay.record import still_path
    from ipcplay.scenario import ScenarioError, load, resolve

    if (args.preset is None) == (args.from_run is None):
        return say_error("record: expected PRESET or --from-run FILE (one of them)")
    if args.from_run is not None:
        return _record_saved(args)
    scenario: Scenario | None = None
    if is_program(args.preset):  # PROGRAM.py: no tour, its own pace
        got = program_of([args.preset])
        if isinstance(got, str):
            return say_error(got)
        source = got[0].target  # type: ignore[attr-defined]
        if args.speed != 1.0:
            return say_error(
                f"{args.preset}: --speed: a program runs at its own speed (expected 1)"
            )
    else:
        try:
            source = resolve(args.preset)
            scenario = load(source)
        except ScenarioError as exc:
            return say_error(str(exc))
    out = Path(args.output)
    problem = _cast_problem(args, out) or _stills_problem(args, scenario)
    if problem:
        return say_error(problem)
    videos = _videos(args, out)
    if isinstance(videos, str):
        return say_error(videos)
    recording = _record(args, scenario, Path(source), out)
    if recording is None:
        sys.stderr.write("ipcplay record: interrupted; nothing written\n")
        return EXIT_CODES["interrupted"]
    _summary(args, recording, out)
    if recording.ended_by_itself:
        sys.stderr.write(
            f"ipcplay record: the app ended by itself after {recording.duration_s:.1f} s "
            f"(exit status {recording.exit_status}), before the recording's end; what it "
            "showed is in the .cast\n"
        )
        return 1
    if videos and recording.output_events and not _write_videos(videos, recording, out):
        return 1
    missing = [
        still_path(out, at).name
        for at in args.svg_at
        if still_path(out, at) not in recording.stills
    ]
    if missing:
        sys.stderr.write(neutralise(f"  stills not written: {', '.join(missing)}") + "\n")
        return 1
    return 0 if recording.output_events else 1


def _record_saved(args: argparse.Namespace) -> int:
    """`record --from-run FILE`: the saved run checked (one line if it is no
    saved run), then the TUI playing it recorded, as a preset's would be."""
    from ipcplay.record import SAVED_MARGIN_S, record_saved, still_path
    from ipcplay.savedrun import SavedRunError, load

    if args.speed != 1.0 or args.no_tour:
        option = "--speed" if args.speed != 1.0 else "--no-tour"
        return say_error(f"{args.from_run}: {option}: a saved run plays as it ran (no tour)")
    try:
        run = load(args.from_run, whole=False)
    except SavedRunError as exc:
        return say_error(str(exc))
    out = Path(args.output)
    longest = args.duration or run.duration_s + SAVED_MARGIN_S
    late = [at for at in args.svg_at if at >= longest]
    problem = _cast_problem(args, out) or (
        f"--svg-at: {late[0]:g} s is not before the end of the recording ({longest:g} s)"
        if late
        else None
    )
    if problem:
        return say_error(problem)
    videos = _videos(args, out)
    if isinstance(videos, str):
        return say_error(videos)
    title = str(run.scenario.get("title", "") or "saved run")

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # the recorder stops the app and writes nothing half-done

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        recording = record_saved(
            Path(args.from_run),
            title,
            run.duration_s,
            out,
            width=args.size[0],
            height=args.size[1],
            duration=args.duration,
            tail=args.tail,
            idle_limit=args.idle_limit,
            svg_at=tuple(args.svg_at),
        )
    except KeyboardInterrupt:
        sys.stderr.write("ipcplay record: interrupted; nothing written\n")
        return EXIT_CODES["interrupted"]
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    _summary(args, recording, out)
    if videos and recording.output_events and not _write_videos(videos, recording, out):
        return 1
    missing = [still_path(out, at).name for at in args.svg_at]
    missing = [name for name in missing if out.with_name(name) not in recording.stills]
    if missing:
        sys.stderr.write(neutralise(f"  stills not written: {', '.join(missing)}") + "\n")
        return 1
    return 0 if recording.output_events else 1


def _cast_problem(args: argparse.Namespace, out: Path) -> str | None:
    """Why -o cannot be written, or None."""
    if out.is_dir():
        return f"{args.output}: -o: is a directory, expected a .cast file to write"
    if output_problem(out):
        return f"{args.output}: -o: {output_problem(out)}"
    if not out.parent.is_dir():
        return f"{args.output}: -o: folder {str(out.parent)!r} does not exist"
    if not os.access(out.parent, os.W_OK):
        return f"{args.output}: -o: cannot write in {str(out.parent)!r}"
    return None


def _stills_problem(args: argparse.Namespace, scenario: Scenario | None) -> str | None:
    """A still asked for at or after the recording's end (at the latest: a
    program may end sooner), or None."""
    from ipcplay.record import default_length

    touring = scenario is not None and bool(scenario.tour) and not args.no_tour
    longest = args.duration or default_length(touring, args.speed)
    late = [at for at in args.svg_at if at >= longest]
    if late:
        return f"--svg-at: {late[0]:g} s is not before the end of the recording ({longest:g} s)"
    return None


def _videos(args: argparse.Namespace, out: Path) -> dict[str, Path] | str:
    """--gif and --mp4: kind -> file, or why one cannot be written."""
    from ipcplay.video import MissingVideoPackages, require

    videos: dict[str, Path] = {}
    for kind in ("gif", "mp4"):
        name = getattr(args, kind)
        if name is None:
            continue
        path = Path(name) if name else out.with_suffix(f".{kind}")
        if path.is_dir() or not path.parent.is_dir() or path.resolve() == out.resolve():
            return f"{path}: --{kind}: expected a file to write in an existing folder"
        videos[kind] = path
    try:
        require(gif="gif" in videos, mp4="mp4" in videos)
    except MissingVideoPackages as exc:
        return str(exc)
    return videos


def _record(
    args: argparse.Namespace, scenario: Scenario | None, source: Path, out: Path
) -> Recording | None:
    """The recording (of a program when `scenario` is None), or None when
    SIGTERM, SIGHUP or Ctrl+C cut it short."""
    from ipcplay.record import record, record_program

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # so the recorder stops the app and writes nothing half-done

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        if scenario is None:
            return record_program(
                source,
                out,
                width=args.size[0],
                height=args.size[1],
                duration=args.duration,
                tail=args.tail,
                idle_limit=args.idle_limit,
                svg_at=tuple(args.svg_at),
            )
        return record(
            scenario,
            source,
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
        return None
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _summary(args: argparse.Namespace, recording: Recording, out: Path) -> None:
    """What was recorded, its markers and stills, on stderr."""
    cut = f", {recording.idle_cut_s:.1f} s of idle screen cut" if args.idle_limit else ""
    lines = [
        f"{out}: {recording.width}x{recording.height}, {recording.duration_s:.1f} s, "
        f"{recording.output_events} output events ({recording.output_bytes / 1024:.0f} KiB), "
        f"{len(recording.markers)} markers" + cut,
        *(f"  {at:6.2f} s  {label}" for at, label in recording.markers),
        *(f"  still: {path}" for path in recording.stills),
    ]
    sys.stderr.write("".join(f"{neutralise(line, multiline=False)}\n" for line in lines))


def _write_videos(videos: dict[str, Path], recording: Recording, out: Path) -> bool:
    """Each video drawn from the .cast; False (and one line) at the first that fails."""
    from ipcplay.video import read_cast, write_gif, write_mp4

    _, events = read_cast(out)
    for kind, path in videos.items():
        write = write_gif if kind == "gif" else write_mp4
        try:
            video = write(events, recording.width, recording.height, recording.duration_s, path)
        except (OSError, RuntimeError) as exc:
            line = f"{path}: --{kind}: not written: {exc}"
            sys.stderr.write(neutralise(line, multiline=False) + "\n")
            return False
        sys.stderr.write(
            neutralise(
                f"{video.path}: {video.width_px}x{video.height_px} px, "
                f"{video.duration_s:.1f} s, {video.frames} frames, "
                f"{video.size_bytes / 1024:.0f} KiB (drawn in {video.render_s:.1f} s)",
                multiline=False,
            )
            + "\n"
        )
    return True
