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
step: a lesson, not a lesson and a still screen. What the app draws after `q`
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


def still_path(out: Path, t: float) -> Path:
    """Where `--svg-at T` puts its still: next to the recording, `<stem>-<T>s.svg`."""
    return out.with_name(f"{out.stem}-{t:g}s.svg")


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
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    marks_r, marks_w = os.pipe()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM=TERM, COLORTERM="truecolor", **{MARKER_ENV: str(marks_w)})
    cmd = [*APP, str(source)]
    if touring:
        # Nobody presses `n` in a recording: a held step goes on after HOLD_S.
        cmd += ["--tour", "--tour-hold", f"{HOLD_S:g}"]
    if speed != 1.0:
        cmd += ["--speed", f"{speed:g}"]
    if svg_at:
        stem = out.with_name(out.stem)
        cmd += ["--svg-at", ",".join(f"{t:g}" for t in svg_at), "--svg-stem", str(stem)]
    end_at = duration if duration is not None else default_length(touring, speed)
    wall = time.time()
    t0 = time.monotonic()
    stills = _StillWatch([still_path(out, t) for t in svg_at], wall)
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
    events: list[tuple[float, str, str]] = []
    out_bytes = 0
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = b""
    quit_at: float | None = None  # on the recording's clock
    try:
        open_fds = {master, marks_r}
        while open_fds:
            now = time.monotonic() - t0
            if quit_at is None and now >= end_at:
                late = duration is None and not stills.done() and now < end_at + STILL_WAIT_S
                if not late:
                    with contextlib.suppress(OSError):
                        os.write(master, b"q")
                    quit_at = now
            if quit_at is not None and now - quit_at > QUIT_GRACE_S:
                break
            ready, _, _ = select.select(list(open_fds), [], [], 0.05)
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: the app closed the terminal
                    data = b""
                if not data:
                    open_fds.discard(fd)
                    continue
                t = time.monotonic() - t0
                if quit_at is not None:
                    t = quit_at  # the goodbye, at the moment of `q`
                if fd == master:
                    out_bytes += len(data)
                    text = decoder.decode(data)
                    if text:
                        events.append((t, "o", text))
                    continue
                pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        mark = json.loads(line)
                        at = max(0.0, mark["t"] - t0)
                        label = str(mark["label"])
                        events.append((at if quit_at is None else quit_at, "m", label))
                        step = _STEP.match(label)
                        if duration is None and step and step.group(1) == step.group(2):
                            end_at = min(end_at, at + tail)  # the last step: a little more
            if proc.poll() is not None and master not in open_fds:
                break
    finally:
        status = _stop(proc)
        os.close(master)
        os.close(marks_r)
    events.sort(key=lambda e: e[0])  # stable: output order within a time is kept
    end = max((e[0] for e in events), default=0.0)
    cut = 0.0
    if idle_limit is not None and events:
        events = cut_idle(events, idle_limit)
        cut = end - events[-1][0]
        end = events[-1][0]
    header = {
        "version": 2,
        "width": width,
        "height": height,
        "timestamp": int(wall),
        "duration": round(end, 6),
        "title": f"ipcplay: {scenario.title}",
        "env": {"TERM": TERM, "SHELL": "/bin/sh"},
    }
    _write_atomic(out, [header, *([round(t, 6), code, data] for t, code, data in events)])
    saved = tuple(p for p in stills.paths if stills.fresh(p))
    for path in saved:  # drawn with the font ipcplay ships, whatever the viewer has
        with contextlib.suppress(OSError, ValueError):
            embed_font_in_file(path)
    return Recording(
        out,
        width,
        height,
        end,
        sum(1 for e in events if e[1] == "o"),
        out_bytes,
        tuple((t, d) for t, c, d in events if c == "m"),
        saved,
        status,
        cut,
        quit_at is None,
    )


def cut_idle(
    events: Sequence[tuple[float, str, str]], limit: float
) -> list[tuple[float, str, str]]:
    """Every stretch longer than `limit` between two outputs (or from the
    start to the first) made `limit` long, as asciinema's idle_time_limit
    does on playback, but in the file, so every player and the video agree.

    A marker inside a cut stretch keeps its place in proportion, so it stays
    between the same two screens it was recorded between.
    """
    anchors = [0.0, *sorted({t for t, code, _ in events if code == "o"})]
    mapped = [0.0]
    for a, b in pairwise(anchors):
        mapped.append(mapped[-1] + min(b - a, limit))

    def shift(t: float) -> float:
        i = bisect_right(anchors, t) - 1
        if i < 0:
            return t
        if i == len(anchors) - 1:
            return mapped[i] + min(t - anchors[i], limit)
        gap = anchors[i + 1] - anchors[i]
        scale = 1.0 if gap <= limit else limit / gap
        return mapped[i] + (t - anchors[i]) * scale

    return [(shift(t), code, data) for t, code, data in events]


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
        return all(self.fresh(p) for p in self.paths)


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
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for line in lines:
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
