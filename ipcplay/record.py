"""`ipcplay record`: the real TUI in a pseudo-terminal, written down as an
asciicast v2 file.

Nothing is re-drawn or simulated for the recording: ipcplay runs as a person
would run it, in a terminal of the requested size, and everything it writes
to that terminal is kept with its time. The TUI sends marks (tour steps, a
queue filling, a deadlock) on a side pipe; they become `"m"` events, so a
player can jump from chapter to chapter. At the end the recorder presses
`q`, as a person would, and the app shuts every process down.

A preset's tour plays by default, so a recording is reproducible from the
preset file alone.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass
from pathlib import Path

from ipcplay.engine.child import PR_SET_PDEATHSIG
from ipcplay.markers import ENV as MARKER_ENV
from ipcplay.scenario.model import Scenario

TERM = "xterm-256color"
QUIT_GRACE_S = 10.0
"""How long the app gets to stop every process after `q`."""


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


def still_path(out: Path, t: float) -> Path:
    """Where `--svg-at T` puts its still: next to the recording, `<stem>-<T>s.svg`."""
    return out.with_name(f"{out.stem}-{t:g}s.svg")


def record(
    scenario: Scenario,
    source: Path,
    out: Path,
    *,
    width: int = 100,
    height: int = 30,
    duration: float = 20.0,
    svg_at: tuple[float, ...] = (),
    tour: bool = True,
) -> Recording:
    """Run ipcplay on `source` in a `width`x`height` pty for `duration` seconds."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    marks_r, marks_w = os.pipe()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM=TERM, COLORTERM="truecolor", **{MARKER_ENV: str(marks_w)})
    cmd = [sys.executable, "-m", "ipcplay", str(source)]
    if tour and scenario.tour:
        cmd.append("--tour")
    if svg_at:
        stem = out.with_name(out.stem)
        cmd += ["--svg-at", ",".join(f"{t:g}" for t in svg_at), "--svg-stem", str(stem)]
    wall = time.time()
    t0 = time.monotonic()
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
    quit_sent: float | None = None
    try:
        open_fds = {master, marks_r}
        while open_fds:
            now = time.monotonic()
            if quit_sent is None and now - t0 >= duration:
                with contextlib.suppress(OSError):
                    os.write(master, b"q")
                quit_sent = now
            if quit_sent is not None and now - quit_sent > QUIT_GRACE_S:
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
                if fd == master:
                    out_bytes += len(data)
                    text = decoder.decode(data)
                    if text:
                        events.append((t, "o", text))
                else:
                    pending += data
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        with contextlib.suppress(ValueError, KeyError, TypeError):
                            mark = json.loads(line)
                            events.append((max(0.0, mark["t"] - t0), "m", str(mark["label"])))
            if proc.poll() is not None and master not in open_fds:
                break
    finally:
        status = _stop(proc)
        os.close(master)
        os.close(marks_r)
    events.sort(key=lambda e: e[0])  # stable: output order within a time is kept
    end = max((e[0] for e in events), default=0.0)
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
    stills = tuple(p for p in (still_path(out, t) for t in svg_at) if p.exists())
    return Recording(
        out,
        width,
        height,
        end,
        sum(1 for e in events if e[1] == "o"),
        out_bytes,
        tuple((t, d) for t, c, d in events if c == "m"),
        stills,
        status,
    )


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
