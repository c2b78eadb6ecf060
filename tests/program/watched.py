"""Run small programs under `ipcplay run` and plainly, and read what came back.

Every program-mode test goes through here, so that each run is bounded (a
timeout on every wait), started the same way a person would (`python -m
ipcplay run PROGRAM.py ...`, with this interpreter), and read the same way
(the one JSON object of `--json`, or the pass-through output).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

RUN_TIMEOUT = 60.0  # no program here needs more than a few seconds


def plain_env() -> dict[str, str]:
    """The environment of both runs: no PYTHONUNBUFFERED (a plain run with its
    output to a pipe is block-buffered, as a student's redirect would be), and
    no watch variable inherited from an outer run."""
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    env.pop("PYTHONSAFEPATH", None)
    return env


def write(folder: Path, name: str, source: str) -> Path:
    """A program file, its source dedented (tests write it indented)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


def line_of(source: str, text: str) -> int:
    """The line number (1-based, as `write` writes the file) of the one line holding `text`."""
    lines = textwrap.dedent(source).lstrip("\n").splitlines()
    found = [n for n, line in enumerate(lines, 1) if text in line]
    assert len(found) == 1, f"{text!r} on lines {found}"
    return found[0]


@dataclass(frozen=True)
class Run:
    """One finished run: its exit status and both streams, as bytes and text."""

    code: int
    out: bytes
    err: bytes

    @property
    def stdout(self) -> str:
        return self.out.decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        return self.err.decode("utf-8", "replace")

    @property
    def report(self) -> dict[str, Any]:
        """The one JSON object of `--json`: the whole of standard output."""
        text = self.stdout
        assert text.count("\n") == 1 and text.endswith("\n"), (
            f"--json printed more than one line:\n{text[:2000]}\nstderr:\n{self.stderr[-2000:]}"
        )
        return json.loads(text)


def ipcplay(*words: str | Path, cwd: Path | None = None, timeout: float = RUN_TIMEOUT) -> Run:
    """`python -m ipcplay WORDS...`, to its end (bounded)."""
    done = subprocess.run(
        [sys.executable, "-m", "ipcplay", *map(str, words)],
        cwd=cwd,
        env=plain_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def watch(
    program: str | Path,
    *options: str,
    args: tuple[str, ...] = (),
    cwd: Path | None = None,
    json_report: bool = True,
    timeout: float = RUN_TIMEOUT,
) -> Run:
    """`ipcplay run PROGRAM [--json] OPTIONS... [-- ARGS...]`."""
    words: list[str | Path] = ["run", program, *(["--json"] if json_report else []), *options]
    if args:
        words += ["--", *args]
    return ipcplay(*words, cwd=cwd, timeout=timeout)


def watch_module(
    module: str, *options: str, args: tuple[str, ...] = (), cwd: Path | None = None
) -> Run:
    """`ipcplay run -m MODULE --json OPTIONS... [-- ARGS...]`."""
    words: list[str] = ["run", "-m", module, "--json", *options]
    if args:
        words += ["--", *args]
    return ipcplay(*words, cwd=cwd)


def plain(
    program: str | Path,
    *args: str,
    cwd: Path | None = None,
    module: bool = False,
    timeout: float = RUN_TIMEOUT,
) -> Run:
    """`python PROGRAM ARGS...` (or `python -m MODULE ARGS...`), as a student runs it."""
    head = ["-m", str(program)] if module else [str(program)]
    done = subprocess.run(
        [sys.executable, *head, *args],
        cwd=cwd,
        env=plain_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


# ---------------------------------------------------------------- the report


def by_name(entries: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [e for e in entries if e["name"] == name]
    assert len(found) == 1, f"{name!r}: {len(found)} entries among {[e['name'] for e in entries]}"
    return found[0]


def process(report: dict[str, Any], name: str) -> dict[str, Any]:
    return by_name(report["processes"], name)


def channel(report: dict[str, Any], name: str) -> dict[str, Any]:
    return by_name(report["channels"], name)


def shared(report: dict[str, Any], name: str) -> dict[str, Any]:
    return by_name(report["shared"], name)


def names(entries: list[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in entries]


def pids(report: dict[str, Any]) -> list[int]:
    return [p["pid"] for p in report["processes"] if p["pid"]]


# ---------------------------------------------------------------- leftovers


def alive(pid: int) -> bool:
    """Is `pid` a running process (a zombie has ended: it only waits to be reaped)?"""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            state = file.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")


def still_alive(pid_list: list[int], within: float = 3.0) -> list[int]:
    """The pids still running after `within` seconds (polled; [] as soon as none is)."""
    deadline = time.monotonic() + within
    while True:
        left = [pid for pid in pid_list if alive(pid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def shm() -> set[str]:
    try:
        return set(os.listdir("/dev/shm"))
    except FileNotFoundError:
        return set()


def _in_use(found: set[str]) -> set[str]:
    """The /dev/shm names some live process maps or holds open (another test's, maybe)."""
    used: set[str] = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as file:
                text = file.read()
            fds = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        for name in found:
            path = f"/dev/shm/{name}"
            if path in text or any(fd.startswith(path) for fd in fds):
                used.add(name)
    return used


def left_in_shm(before: set[str], settle: float = 5.0) -> set[str]:
    """The names that appeared in /dev/shm since `before`, that no live process
    uses, and that stay so for `settle` seconds: what a run left there. (Other
    programs on the machine make and unlink semaphores at any moment: what is
    gone within a few seconds was someone's, in use, not a leak.)"""
    deadline = time.monotonic() + settle
    while True:
        new = shm() - before
        left = new - _in_use(new) if new else set()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def remove_from_shm(found: set[str]) -> None:
    """Unlink what a run left, so later tests start clean (after its check)."""
    for name in found:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"/dev/shm/{name}")


def subreaper(on: bool) -> None:
    """Orphans come to this process (not to init), so a leftover is seen and reaped."""
    ctypes.CDLL(None).prctl(36, int(on), 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap() -> None:
    """Reap the orphans that ended while they were ours (they are zombies)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_all(pid_list: list[int]) -> None:
    """After a failed check: do not leave what the run left to later tests."""
    for pid in pid_list:
        if alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, 9)


@pytest.fixture
def adopt_orphans() -> Iterator[None]:
    """Orphans of a killed run come back to the test: a watched program's
    processes are not ipcplay's children (only its main process is). When a
    test kills ipcplay itself, the guardian and the program's processes would
    be reparented to init, out of the shared leftover guard's sight; as a
    child subreaper the test process adopts them instead, so the guard
    (tests/conftest.py) sees any that is still running, and those that ended
    are reaped here. Only tests that kill ipcplay ask for it: an adopted
    zombie the test does not reap at once would look to a live ipcplay like
    a process still running. (A fixture here, not in a conftest.py of this
    folder: a second conftest module shadows tests/conftest.py's names for
    every test that imports them.)"""
    subreaper(True)
    try:
        yield
    finally:
        subreaper(False)
        reap()
