"""`ipcplay record`: the real TUI in a pseudo-terminal, written down as an
asciicast v2 file.

Nothing is re-drawn or simulated for the recording: ipcplay runs as a person
would run it, in a terminal of the requested size, and everything it writes
to that terminal is kept with its time. The TUI sends marks (tour steps, a
queue filling, a deadlock) on a side pipe; they become `"m"` events, so a
player can jump from chapter to chapter. At the end the recorder presses
`q`, as a person would, and the app shuts every process down.

A preset's tour plays by default, so a recording is reproducible from the
preset file alone, and the recording ends `tail` seconds after the tour's last
step: a lesson, not a lesson and a still screen. A program (`record
PROGRAM.py`) has no tour: its recording ends `tail` seconds after every one
of its processes has exited, or at the default length if it never ends. What the app draws after `q`
(its goodbye) is kept, so a player leaves the terminal as it found it, but at
the moment of `q`: the recording lasts as long as the lesson did.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from ipcplay.engine.child import PR_SET_PDEATHSIG
from ipcplay.markers import ENV as MARKER_ENV
from ipcplay.markers import FINISHED
from ipcplay.safetext import neutralise
from ipcplay.scenario.model import Scenario
from ipcplay.svgfont import embed_font_in_file
from ipcplay.tour import HOLD_S

TERM = "xterm-256color"
APP = (sys.executable, "-m", "ipcplay")
"""The program recorded: ipcplay's TUI, run as a person runs it."""
QUIT_GRACE_S = 10.0
"""How long the app gets to stop every process after `q`."""
TAIL_S = 3.0
"""How long a recording goes on after the tour's last step: time to read it."""
UNTOURED_S = 20.0
"""How long a recording without a tour lasts when no --duration is given."""
TOUR_CAP_S = 120.0
"""A tour whose last step never fires (a step waiting for a state that never
comes, with a long timeout) still ends, here."""
SAVED_MARGIN_S = 5.0
"""A saved run's recording lasts at most this much longer than the run did
(the app's start, and a run that was saved before it ended)."""
STILL_WAIT_S = 15.0
"""How long past its time the recorder waits for a still the app is late with."""
_STEP = re.compile(r"tour (\d+)/(\d+):")


@dataclass(frozen=True)
class Recording:
    path: Path
    width: int
    height: int
    duration_s: float
    output_events: int
    output_bytes: int
    markers: tuple[tuple[float, str], ...]
    stills: tuple[Path, ...]
    exit_status: int | None
    idle_cut_s: float = 0.0  # seconds taken out by `idle_limit`
    ended_by_itself: bool = False  # the app exited before the recorder pressed `q`


def still_path(out: Path, at: float) -> Path:
    """Where `--svg-at T` puts its still: next to the recording, `<stem>-<T>s.svg`."""
    return out.with_name(f"{out.stem}-{at:g}s.svg")


def default_length(tour: bool, speed: float = 1.0) -> float:
    """The longest a recording may last without --duration (a tour in slow
    motion takes longer; a run without one is shown for a fixed time)."""
    return TOUR_CAP_S / speed if tour else UNTOURED_S


def record(
    scenario: Scenario,
    source: Path,
    out: Path,
    *,
    width: int = 100,
    height: int = 30,
    duration: float | None = None,
    tail: float = TAIL_S,
    idle_limit: float | None = None,
    svg_at: tuple[float, ...] = (),
    tour: bool = True,
    speed: float = 1.0,
) -> Recording:
    """Run ipcplay on `source` in a `width`x`height` pty and record it.

    With `duration`, the recording lasts that long. Without, it ends `tail`
    seconds after the tour's last step fires (at most TOUR_CAP_S), or after
    UNTOURED_S when there is no tour; never before every still is saved.
    `idle_limit` then shortens every stretch without output to that long.
    `speed` is the app's slow motion (`--speed`).
    """
    touring = tour and bool(scenario.tour)
    end_at = duration if duration is not None else default_length(touring, speed)
    capture = _Capture(time.monotonic(), end_at, None if duration is not None else tail)
    cmd = _command(source, out, touring, speed, svg_at)
    return _record(cmd, scenario.title, out, capture, (width, height), idle_limit, svg_at)


def record_program(
    source: Path,
    out: Path,
    *,
    width: int = 100,
    height: int = 30,
    duration: float | None = None,
    tail: float = TAIL_S,
    idle_limit: float | None = None,
    svg_at: tuple[float, ...] = (),
) -> Recording:
    """Run ipcplay on the program `source` (`ipcplay PROGRAM.py`) in a pty and
    record it. With `duration`, the recording lasts that long; without, it
    ends `tail` seconds after every process of the program has exited, or
    after UNTOURED_S if it is still running then (a hang, a server)."""
    if duration is not None:
        capture = _Capture(time.monotonic(), duration, None)
    else:
        capture = _Capture(time.monotonic(), UNTOURED_S, tail, end_mark=FINISHED)
    cmd = [*APP, *_stills_options(out, svg_at), str(source)]  # after the program: its own
    title = os.path.basename(source)
    return _record(cmd, title, out, capture, (width, height), idle_limit, svg_at)


def record_saved(
    saved: Path,
    title: str,
    run_s: float,
    out: Path,
    *,
    width: int = 100,
    height: int = 30,
    duration: float | None = None,
    tail: float = TAIL_S,
    idle_limit: float | None = None,
    svg_at: tuple[float, ...] = (),
) -> Recording:
    """Record the TUI playing a saved run (`ipcplay replay FILE --play`):
    the same app as a live run's, fed from the file, no process started.
    With `duration`, the recording lasts that long; without, it ends `tail`
    seconds after the run's last process exited, or SAVED_MARGIN_S after the
    run's own length `run_s` (a run saved before it ended)."""
    end_at = duration if duration is not None else run_s + SAVED_MARGIN_S
    capture = _Capture(
        time.monotonic(), end_at, None if duration is not None else tail, end_mark=FINISHED
    )
    cmd = [*APP, "replay", str(saved), "--play", *_stills_options(out, svg_at)]
    return _record(cmd, title, out, capture, (width, height), idle_limit, svg_at)


def _record(
    cmd: list[str],
    title: str,
    out: Path,
    capture: _Capture,
    size: tuple[int, int],
    idle_limit: float | None,
    svg_at: tuple[float, ...],
) -> Recording:
    """The app run by `cmd` in a pty of `size`, captured as `capture` says
    (until when), and written to `out`."""
    width, height = size
    wall = time.time()
    stills = _StillWatch([still_path(out, at) for at in svg_at], wall)
    proc, master, marks = _start_app(cmd, width, height)
    try:
        capture.run(proc, master, marks, stills)
    finally:
        status = _stop(proc)
        os.close(master)
        os.close(marks)
    events, end, cut = _timeline(capture.events, idle_limit)
    header = {
        "version": 2,
        "width": width,
        "height": height,
        "timestamp": int(wall),
        "duration": round(end, 6),
        "title": neutralise(f"ipcplay: {title}", multiline=False),
        "env": {"TERM": TERM, "SHELL": "/bin/sh"},
    }
    _write_atomic(out, [header, *([round(at, 6), code, data] for at, code, data in events)])
    return Recording(
        out,
        width,
        height,
        end,
        sum(1 for event in events if event[1] == "o"),
        capture.output_bytes,
        tuple((at, data) for at, code, data in events if code == "m"),
        stills.saved(),
        status,
        cut,
        capture.quit_at is None,
    )


def _start_app(cmd: list[str], width: int, height: int) -> tuple[subprocess.Popen[bytes], int, int]:
    """The app in a new pty of `width`x`height`, with a pipe for its markers:
    the process, the pty's master end and the pipe's read end."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    marks_r, marks_w = os.pipe()
    env = {name: value for name, value in os.environ.items() if name not in ("COLUMNS", "LINES")}
    env.update(TERM=TERM, COLORTERM="truecolor", **{MARKER_ENV: str(marks_w)})
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            pass_fds=(marks_w,),
            start_new_session=True,  # a signal to the recorder's group is not the app's
            preexec_fn=_quit_with_recorder,
        )
    finally:
        os.close(slave)
        os.close(marks_w)
    return proc, master, marks_r


def _timeline(
    captured: list[tuple[float, str, str]], idle_limit: float | None
) -> tuple[list[tuple[float, str, str]], float, float]:
    """The events in time order, idle stretches cut: (events, end, seconds cut)."""
    events = sorted(captured, key=lambda event: event[0])  # stable: output order kept
    end = max((event[0] for event in events), default=0.0)
    if idle_limit is None or not events:
        return events, end, 0.0
    events = cut_idle(events, idle_limit)
    return events, events[-1][0], end - events[-1][0]


def _command(
    source: Path, out: Path, touring: bool, speed: float, svg_at: tuple[float, ...]
) -> list[str]:
    """The app's command line: the preset, its tour, slow motion, the stills."""
    cmd = [*APP, str(source)]
    if touring:
        # Nobody presses `n` in a recording: a held step goes on after HOLD_S.
        cmd += ["--tour", "--tour-hold", f"{HOLD_S:g}"]
    if speed != 1.0:
        cmd += ["--speed", f"{speed:g}"]
    return cmd + _stills_options(out, svg_at)


def _stills_options(out: Path, svg_at: tuple[float, ...]) -> list[str]:
    """The app's options for SVG stills at these seconds, next to `out`."""
    if not svg_at:
        return []
    stem = out.with_name(out.stem)
    return ["--svg-at", ",".join(f"{at:g}" for at in svg_at), "--svg-stem", str(stem)]


class _Capture:
    """What the app writes to its terminal and its marker pipe, with times on
    the recording's clock (seconds since `started`), until it has quit.

    `end_at` moves earlier when the tour's last step fires, or the mark
    `end_mark` comes (`tail` seconds after it; `tail` is None when a
    --duration fixes the end). At `end_at`
    the recorder presses `q`; what comes after (the goodbye) is kept at the
    moment of `q`."""

    def __init__(
        self, started: float, end_at: float, tail: float | None, end_mark: str | None = None
    ) -> None:
        self.started = started
        self.end_at = end_at
        self.tail = tail
        self.end_mark = end_mark
        self.events: list[tuple[float, str, str]] = []
        self.output_bytes = 0
        self.quit_at: float | None = None  # on the recording's clock
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = b""  # a marker line not yet ended

    def run(
        self, proc: subprocess.Popen[bytes], master: int, marks: int, stills: _StillWatch
    ) -> None:
        open_fds = {master, marks}
        while open_fds:
            now = time.monotonic() - self.started
            if self.quit_at is None and now >= self.end_at:
                late = self.tail is not None and not stills.done()
                if not (late and now < self.end_at + STILL_WAIT_S):
                    with contextlib.suppress(OSError):
                        os.write(master, b"q")
                    self.quit_at = now
            if self.quit_at is not None and now - self.quit_at > QUIT_GRACE_S:
                break
            ready, _, _ = select.select(list(open_fds), [], [], 0.05)
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: the app closed the terminal
                    data = b""
                if not data:
                    open_fds.discard(fd)
                elif fd == master:
                    self._output(data)
                else:
                    self._marks(data)
            if proc.poll() is not None and master not in open_fds:
                break

    def _now(self) -> float:
        """The time of what arrives now: the goodbye, after `q`, at the moment of `q`."""
        if self.quit_at is not None:
            return self.quit_at
        return time.monotonic() - self.started

    def _output(self, data: bytes) -> None:
        at = self._now()
        self.output_bytes += len(data)
        text = self._decoder.decode(data)
        if text:
            self.events.append((at, "o", text))

    def _marks(self, data: bytes) -> None:
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                mark = json.loads(line)
                at = max(0.0, mark["t"] - self.started)
                label = str(mark["label"])
                self.events.append((at if self.quit_at is None else self.quit_at, "m", label))
                step = _STEP.match(label)
                last = bool(step) and step.group(1) == step.group(2)  # type: ignore[union-attr]
                if self.tail is not None and (last or label == self.end_mark):
                    self.end_at = min(self.end_at, at + self.tail)  # the end: a little more


def cut_idle(
    events: Sequence[tuple[float, str, str]], limit: float
) -> list[tuple[float, str, str]]:
    """Every stretch longer than `limit` between two outputs (or from the
    start to the first) made `limit` long, as asciinema's idle_time_limit
    does on playback, but in the file, so every player and the video agree.

    A marker inside a cut stretch keeps its place in proportion, so it stays
    between the same two screens it was recorded between.
    """
    anchors = [0.0, *sorted({at for at, code, _ in events if code == "o"})]
    mapped = [0.0]
    for start, stop in pairwise(anchors):
        mapped.append(mapped[-1] + min(stop - start, limit))

    def shift(at: float) -> float:
        index = bisect_right(anchors, at) - 1
        if index < 0:
            return at
        if index == len(anchors) - 1:
            return mapped[index] + min(at - anchors[index], limit)
        gap = anchors[index + 1] - anchors[index]
        scale = 1.0 if gap <= limit else limit / gap
        return mapped[index] + (at - anchors[index]) * scale

    return [(shift(at), code, data) for at, code, data in events]


class _StillWatch:
    """The stills this recording asked for, and whether the app saved them yet
    (a file from an earlier recording, with the same name, does not count)."""

    def __init__(self, paths: list[Path], since_wall: float) -> None:
        self.paths = paths
        self.since = since_wall - 1.0  # file times are coarser than the clock

    def fresh(self, path: Path) -> bool:
        try:
            return path.stat().st_mtime >= self.since
        except OSError:
            return False

    def done(self) -> bool:
        return all(self.fresh(path) for path in self.paths)

    def saved(self) -> tuple[Path, ...]:
        """The stills this recording made, each with the font ipcplay ships
        put inside, so it draws the same whatever fonts the viewer has."""
        saved = tuple(path for path in self.paths if self.fresh(path))
        for path in saved:
            with contextlib.suppress(OSError, ValueError):
                embed_font_in_file(path)
        return saved


def _quit_with_recorder() -> None:
    """In the app's process before exec: if the recorder dies, even by SIGKILL,
    the app gets SIGTERM, which it handles like `q` (everything stopped)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _stop(proc: subprocess.Popen[bytes]) -> int | None:
    """The app normally quit on `q`; if not, stop it as its own SIGTERM path
    does (every scenario process is stopped and joined), then kill."""
    for sig, wait in ((None, 1.0), (signal.SIGTERM, 8.0), (signal.SIGKILL, 5.0)):
        if sig is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
        try:
            return proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
    return proc.poll()


def _write_atomic(out: Path, lines: list[object]) -> None:
    """The whole file or none: a failed recording never leaves half a .cast."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # as a plain open() would have made it
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            for line in lines:
                file.write(json.dumps(line, ensure_ascii=False) + "\n")
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
