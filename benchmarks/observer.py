"""What the observer itself costs, side by side with htop, in one run.

For each scenario size — 16 processes / 8 channels (8 pipelines of producer →
Queue → consumer) and 128 processes / 32 channels (32 groups of producer →
Queue → 3 consumers) — this script:

1. writes the scenario as a TOML file in a temporary directory and validates it
   with `ipcplay check`;
2. starts the observer in a real terminal: a detached tmux session of 200x60 on
   a private tmux server (`tmux -L <unique> -f /dev/null`, so no user tmux
   config or server is involved), running `--command` (default: `ipcplay --hz
   10 FILE`, the TUI opening the run screen directly);
3. finds the observer process (the pane's process, below any wrapping shell)
   and the scenario's processes (its descendants), and waits until all of them
   are up;
4. starts `htop -d 1 -p OBSERVER,PID,PID,...` (htop's -d is in tenths of a
   second: ten refreshes a second, as ipcplay at 10 Hz) in a second tmux
   session of the same size, filtered to the same processes, with a fresh
   temporary HOME so no user htoprc applies;
5. after a warm-up, reads the CPU time (user + system, from psutil) of the
   observer process and of the htop process at the same two instants, a
   `--window` apart, and prints each as % of one core and their ratio.

Why this way: the two are measured concurrently over the same window, so the
machine load (the scenario's own processes, the tmux server, anything else) is
identical for both; and only the observer's own process is counted — not its
children, which are the scenario and would run the same under any observer.
htop is the yardstick because it is what one would otherwise use to watch the
same processes. The target is observer/htop ≤ 2.0.

Then, still in the same run, the latency from a key press to an updated
screen: the script sends `--latency-key` (default `?`, which opens the help
screen) with `send-keys` and polls `capture-pane -p` every ~5 ms, both through
one tmux control-mode client (~0.1 ms a command, so the polling itself does not
load the machine), until the screen shows the key's effect; then it sends
`--latency-close` (default `Escape`) and waits for the effect to go away;
`--presses` times. The clock starts before `send-keys` is sent and stops when
the capture that shows the effect returns: an upper bound, by the poll interval
and a round trip to the tmux server. "Shows the key's effect" cannot simply
mean "the screen changed": a live screen changes at every refresh. So either
`--latency-expect` names a string that must appear, or the script calibrates on
a first, untimed press: the words (letters only, ≥ 3 long) that appear after the
key, stay, and were on none of the screens of the second before it are the
key's signature (at least 3 of them), and a press counts as shown when at least
half of them are on screen. Target: median ≤ 100 ms.

Everything the script started is stopped at the end: the tmux sessions are
killed, the observer and all its descendants are waited for (up to 10 s) and
then killed by PID if still there (the script says so), the private tmux server
is stopped and the temporary files are removed. `--keep` leaves the sessions
running for inspection instead.

Program cases (`--programs`, issue 17): the same measurement with the TUI
watching a plain multiprocessing program, benchmarks/observer_program.py,
that ipcplay did not write (`ipcplay --hz 10 PROGRAM.py ARGS`):

* `128`, `512`: 128 or 512 processes (and the program's main) in the
  scenario cases' shape, groups of a producer → Queue → three consumers, the
  producers at 50 items/s (128) or 12.5 (512: the same traffic in all, since
  at 50 the program alone takes both cores of a small machine); 512 is past
  what a scenario may declare, 128 processes, and its 128 queues are the
  program board's channel cap;
* `churn`: 1,024 processes over the run, 32 started at a time, each putting
  10 items on one Queue the main process drains, the batches paced to span
  the warm-up and the window. The processes come and go, so htop is given
  the program's file name as its filter (`htop -F observer_program`, which
  matches the observer's command line and every process of the program)
  instead of a list of PIDs, and the program's own CPU is not summed;
* `objects`: 256 live objects, 128 Queues and 128 Locks (the board's caps,
  128 channels and 128 shared objects), used by 32 processes 20 times a
  second each (under the lock, put an item and get it back).

After each program case, the same program runs once more headless with a
known amount of work (`ipcplay run --json PROGRAM -- ARGS --items K`) and
the report is checked: every process, every object, every put, get and
acquire counted, none left uncounted. "All counted" or what was not is
printed under the case.

Run:  python benchmarks/observer.py [--window 20] [--scenarios 16,128]
      [--programs 512,churn,objects]
      [--command '{venv}/bin/ipcplay run {file} --duration 600 --hz {hz}']
Placeholders in --command: {venv} (this Python's prefix), {file} (the scenario,
shell-quoted; for a program case, the program and its arguments), {hz}.
Needs tmux and htop (`apt-get install htop`).
Exit status: 0 all targets met, 1 a target missed, 2 could not measure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import random
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import psutil

DEFAULT_COMMAND = "{venv}/bin/ipcplay --hz {hz} {file}"
TARGET_RATIO = 2.0
TARGET_LATENCY_MS = 100.0
HTOP_DELAY = 1  # htop -d is in tenths of a second: `htop -d 1` refreshes 10 times a second,
# the rate ipcplay is measured at (the yardstick)
WRAPPERS = frozenset(
    {"sh", "bash", "dash", "zsh", "env", "nice", "taskset", "timeout", "stdbuf", "setsid"}
)
# size -> (groups, consumers per group): each group is producer -> Queue -> consumers
SCENARIOS: dict[int, tuple[int, int]] = {16: (8, 1), 128: (32, 3)}
PROGRAM = Path(__file__).with_name("observer_program.py")
# program case -> (the program's arguments, processes alive once it is up
# besides its main, what it makes)
PROGRAMS: dict[str, tuple[tuple[str, ...], int, str]] = {
    "128": (("steady", "128"), 128, "128 processes / 32 queues"),
    # 512 at a quarter of the rate: the 128 case's traffic, which two cores carry
    # (at 50 items/s its own processes alone take the whole machine)
    "512": (("steady", "512", "--rate", "12.5"), 512, "512 processes / 128 queues"),
    "churn": (("churn", "1024", "--batch", "32"), 0, "1,024 processes over the run, 32 at a time"),
    "objects": (("objects", "256", "--workers", "32"), 32, "32 processes / 128 queues + 128 locks"),
}
CHURN_BATCHES = 1024 // 32
CHECK_ITEMS = 10  # per producer in the counted check
POLL_S = 0.005
CALIBRATE_S = 5.0  # how long the calibration press may take to show
MIN_SIGNATURE = 3  # new words that make a key's effect


class BenchError(Exception):
    """Could not measure; the message says why (with the pane's text if useful)."""


class StaleError(BenchError):
    """The observer's screen says its data is old: its sampler stopped, so the
    window measured an observer doing less than its work."""


STALE = re.compile(r"data (\d+(?:\.\d+)?) s old")


# --------------------------------------------------------------------------- scenarios


def scenario_toml(size: int) -> str:
    groups, consumers = SCENARIOS[size]
    procs = groups * (1 + consumers)
    lines = [
        "[scenario]",
        f'title = "Observer benchmark: {procs} processes, {groups} channels"',
        'explain = "Generated by benchmarks/observer.py: producers at 50 items/s, '
        f'each into its own Queue, read by {consumers} consumer(s); runs until stopped."',
        'start_method = "fork"',
        'expect = "completed"',
        "duration = 600",
        "",
    ]
    for g in range(groups):
        lines += [f"[channels.q{g:02d}]", 'kind = "Queue"', ""]
    for g in range(groups):
        lines += [
            "[[process]]",
            f'name = "prod{g:02d}"',
            'role = "producer"',
            f'out = "q{g:02d}"',
            "count = 0",
            "rate = 50",
            'payload = { kind = "bytes", size = 64 }',
            "",
            "[[process]]",
            f'name = "cons{g:02d}"',
            'role = "consumer"',
            f'in = "q{g:02d}"',
            f"replicas = {consumers}",
            'work = { kind = "sleep", ms = 2 }',
            "",
        ]
    return "\n".join(lines)


def check_scenario(ipcplay: str, path: Path) -> None:
    r = subprocess.run(
        [ipcplay, "check", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    if r.returncode != 0:
        raise BenchError(f"ipcplay check {path.name} failed: {(r.stderr or r.stdout).strip()}")


# --------------------------------------------------------------------------- tmux


class Tmux:
    """A private tmux server (its own socket, no config file)."""

    def __init__(self, socket: str, width: int, height: int) -> None:
        self.base = ["tmux", "-L", socket, "-f", os.devnull]
        self.width, self.height = width, height
        self.sessions: list[str] = []
        self.socket_path: str | None = None

    def __call__(self, *args: str, check: bool = True, timeout: float = 10.0) -> str:
        r = subprocess.run(
            [*self.base, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and r.returncode != 0:
            raise BenchError(f"tmux {' '.join(args[:2])} failed: {r.stderr.strip()}")
        return r.stdout

    def start(self) -> None:
        opts = ["start-server", ";", "set-option", "-g", "exit-empty", "off"]
        term = _terminal_type()
        if term:
            opts += [";", "set-option", "-g", "default-terminal", term]
        opts += [";", "set-option", "-gw", "remain-on-exit", "on"]
        self(*opts)
        self.socket_path = self("display-message", "-p", "#{socket_path}", check=False).strip()

    def new_session(self, name: str, command: str, env: dict[str, str] | None = None) -> None:
        args = ["new-session", "-d", "-s", name, "-x", str(self.width), "-y", str(self.height)]
        for k, v in (env or {}).items():
            args += ["-e", f"{k}={v}"]
        self(*args, command)
        self.sessions.append(name)

    def pane_pid(self, name: str) -> int:
        return int(self("display-message", "-p", "-t", name, "#{pane_pid}").strip())

    def pane_dead(self, name: str) -> str | None:
        """None while the pane's command runs; else its exit status as text."""
        out = self(
            "display-message", "-p", "-t", name, "#{pane_dead} #{pane_dead_status}", check=False
        )
        dead, _, status = out.strip().partition(" ")
        return (status or "?") if dead == "1" else None

    def capture(self, name: str) -> str:
        return self("capture-pane", "-p", "-t", name, timeout=5.0)

    def screen_and_history(self, name: str) -> str:
        """For error messages: the pane's text with its scrollback, or why not."""
        try:
            return self("capture-pane", "-p", "-S", "-", "-t", name, timeout=5.0)
        except (BenchError, subprocess.TimeoutExpired) as exc:
            return f"(could not capture the pane: {exc})"

    def send(self, name: str, key: str) -> None:
        self("send-keys", "-t", name, key)

    def kill_session(self, name: str) -> None:
        self("kill-session", "-t", name, check=False)
        if name in self.sessions:
            self.sessions.remove(name)

    def stop(self) -> None:
        for name in list(self.sessions):
            self.kill_session(name)
        self("kill-server", check=False)
        if self.socket_path:
            with contextlib.suppress(OSError):
                os.unlink(self.socket_path)


class Control:
    """A tmux control-mode client (`tmux -C attach`) on one session: capture-pane
    and send-keys as lines on a pipe, ~0.1 ms each instead of ~3 ms for a new
    tmux client process, so polling every 5 ms neither loads the machine nor
    adds a process start to every key press. Pane output notifications are
    switched off; the client takes no part in sizing the window."""

    def __init__(self, tmux: Tmux, session: str) -> None:
        self.proc = subprocess.Popen(
            [*tmux.base, "-C", "attach-session", "-t", session],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        self.blocks: queue.Queue[tuple[bool, list[str]] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._send_line("refresh-client -f no-output")
        token = f"ipcplay-bench-sync-{os.getpid()}"
        self._send_line(f"display-message -p {token}")
        deadline = time.monotonic() + 10.0
        while True:  # skip the replies to attach and refresh-client
            _, lines = self._next(max(0.1, deadline - time.monotonic()))
            if lines == [token]:
                break

    def _read(self) -> None:
        assert self.proc.stdout is not None
        lines: list[str] | None = None
        for line in self.proc.stdout:
            if line.startswith("%begin "):
                lines = []
            elif lines is not None and line.startswith(("%end ", "%error ")):
                self.blocks.put((line.startswith("%end "), lines))
                lines = None
            elif lines is not None:
                lines.append(line.rstrip("\n"))
        self.blocks.put(None)

    def _send_line(self, line: str) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except OSError as exc:
            raise BenchError(f"tmux control client: {exc}") from None

    def _next(self, timeout: float) -> tuple[bool, list[str]]:
        try:
            block = self.blocks.get(timeout=timeout)
        except queue.Empty:
            raise BenchError("tmux control client: no reply within the timeout") from None
        if block is None:
            raise BenchError("tmux control client: ended")
        return block

    def _call(self, *args: str) -> list[str]:
        self._send_line(" ".join(shlex.quote(a) for a in args))
        ok, lines = self._next(5.0)
        if not ok:
            raise BenchError(f"tmux {args[0]}: {' '.join(lines)}")
        return lines

    def capture(self, name: str) -> str:
        return "\n".join(self._call("capture-pane", "-p", "-t", name)) + "\n"

    def send(self, name: str, key: str) -> None:
        self._call("send-keys", "-t", name, key)

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


class Screen(Protocol):
    def capture(self, name: str) -> str: ...
    def send(self, name: str, key: str) -> None: ...


def _terminal_type() -> str | None:
    """tmux-256color if this machine's terminfo knows it (what a tmux user has)."""
    for term in ("tmux-256color", "screen-256color"):
        try:
            r = subprocess.run(["infocmp", term], capture_output=True, timeout=5, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if r.returncode == 0:
            return term
    return None


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False).stdout
    except OSError:
        return "?"
    return out.strip().splitlines()[0] if out.strip() else "?"


# --------------------------------------------------------------------------- processes


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _cpu_s(p: psutil.Process) -> float:
    t = p.cpu_times()
    return t.user + t.system  # the process's own threads; children_* not included


def pane_process(tmux: Tmux, name: str, timeout: float) -> psutil.Process:
    """The pane's program: the pane's process, or below it through wrapping shells."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _raise_if_dead(tmux, name)
        with contextlib.suppress(psutil.Error):
            p = psutil.Process(tmux.pane_pid(name))
            while p.name() in WRAPPERS:
                kids = p.children()
                if len(kids) != 1:
                    break
                p = kids[0]
            if p.name() not in WRAPPERS:
                return p
        time.sleep(0.05)
    raise BenchError(f"{name}: no program found in the tmux pane after {timeout:.0f} s")


def _raise_if_dead(tmux: Tmux, name: str, what: str = "the command") -> None:
    status = tmux.pane_dead(name)
    if status == "?":  # dead, but tmux has not collected the exit status yet
        time.sleep(0.3)
        status = tmux.pane_dead(name)
    if status is not None:
        raise BenchError(
            f"{what} in tmux session {name} exited early (status {status}); its screen:\n"
            + _indent(tmux.screen_and_history(name))
        )


def _indent(text: str, keep: int = 80) -> str:
    """The pane's text, indented: blank runs folded to one line, the last `keep` lines."""
    lines: list[str] = []
    for line in text.strip("\n").splitlines():
        if line.strip() or (lines and lines[-1].strip()):
            lines.append(line.rstrip())
    lines = lines[-keep:] or ["(empty)"]
    return "\n".join("    | " + line for line in lines)


def _check_running(tmux: Tmux, name: str, p: psutil.Process, what: str) -> None:
    if not _alive(p):
        time.sleep(0.3)  # let tmux notice, so the pane shows the exit status
        _raise_if_dead(tmux, name, what)
        raise BenchError(
            f"{what} (pid {p.pid}) is gone; tmux session {name} shows:\n"
            + _indent(tmux.screen_and_history(name))
        )


def _is_helper(p: psutil.Process) -> bool:
    """multiprocessing's own helper processes, not the scenario's."""
    try:
        cmd = " ".join(p.cmdline())
    except psutil.Error:
        return False
    return (
        "multiprocessing.resource_tracker" in cmd
        or "multiprocessing.forkserver" in cmd
        or "ipcplay.engine.watch_guard" in cmd  # a watched program's guardian
    )


def wait_for_scenario(
    tmux: Tmux,
    name: str,
    obs: psutil.Process,
    expected: int,
    timeout: float,
    stable: bool = True,
) -> tuple[list[psutil.Process], list[psutil.Process]]:
    """(scenario processes, helpers) once at least `expected` scenario processes
    are alive and the set of descendants has not changed for a second (unless
    not `stable`: processes that come and go all the time)."""
    deadline = time.monotonic() + timeout
    kids: list[psutil.Process] = []
    seen: set[int] = set()
    since = time.monotonic()
    while time.monotonic() < deadline:
        _check_running(tmux, name, obs, "the observer")
        with contextlib.suppress(psutil.Error):
            kids = [k for k in obs.children(recursive=True) if _alive(k)]
        pids = {k.pid for k in kids}
        if pids != seen:
            seen, since = pids, time.monotonic()
        helpers = [k for k in kids if _is_helper(k)]
        scenario = [k for k in kids if k not in helpers]
        if len(scenario) >= expected and (not stable or time.monotonic() - since >= 1.0):
            return scenario, helpers
        time.sleep(0.1)
    raise BenchError(
        f"{len(kids)} processes under the observer, {expected} expected, after"
        f" {timeout:.0f} s; the observer's screen:\n" + _indent(tmux.screen_and_history(name))
    )


def sleep_watching(
    seconds: float, watch: list[tuple[str, psutil.Process, str]], tmux: Tmux
) -> None:
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(0.5, left))
        for session, p, what in watch:
            _check_running(tmux, session, p, what)


# --------------------------------------------------------------------------- latency

WORD = re.compile(r"[^\W\d_]{3,}")


def _words(text: str) -> set[str]:
    return set(WORD.findall(text))


@dataclass
class Latency:
    samples_ms: list[float] = field(default_factory=list)
    missed: int = 0
    note: str = ""
    signature: list[str] = field(default_factory=list)


def _poll(
    tmux: Screen, name: str, pred: Callable[[str], bool], timeout: float
) -> tuple[float, str] | None:
    """Poll the pane every ~5 ms; (time when a capture satisfying pred returned, text)."""
    deadline = time.perf_counter() + timeout
    while True:
        t = time.perf_counter()
        text = tmux.capture(name)
        now = time.perf_counter()
        if pred(text):
            return now, text
        if now > deadline:
            return None
        time.sleep(max(0.0, POLL_S - (now - t)))


def _gone(tmux: Screen, name: str, pred: Callable[[str], bool], timeout: float) -> bool:
    """True once the key's effect has been off the screen for 100 ms."""
    deadline = time.perf_counter() + timeout
    while _poll(tmux, name, lambda text: not pred(text), deadline - time.perf_counter()):
        end = time.perf_counter() + 0.1
        while time.perf_counter() < end and not pred(tmux.capture(name)):
            time.sleep(0.02)
        if time.perf_counter() >= end:
            return True
    return False


def measure_latency(
    tmux: Screen, name: str, key: str, close: str, expect: str | None, presses: int
) -> Latency:
    res = Latency()
    # Calibration press (untimed; also the warm-up for a first, lazily built screen).
    before: set[str] = set()
    end = time.perf_counter() + 1.0
    while time.perf_counter() < end:
        text = tmux.capture(name)
        if expect is not None and expect in text:
            res.note = f"{expect!r} is on the screen before {key!r} is pressed"
            return res
        before |= _words(text)
        time.sleep(0.05)
    tmux.send(name, key)
    pred: Callable[[str], bool]
    if expect is not None:
        target = expect

        def pred(text: str) -> bool:
            return target in text

        if _poll(tmux, name, pred, 3.0) is None:
            res.note = f"{expect!r} did not appear within 3 s of pressing {key!r}"
            return res
        res.signature = [expect]
    else:
        # Wait for the first screen with a few new words, let it settle, and keep
        # the new words that stay.
        deadline = time.perf_counter() + CALIBRATE_S
        most = 0
        while time.perf_counter() < deadline:
            new = _words(tmux.capture(name)) - before
            most = max(most, len(new))
            if len(new) >= MIN_SIGNATURE:
                break
            time.sleep(0.05)
        time.sleep(0.5)
        after = _words(tmux.capture(name))
        for _ in range(5):
            time.sleep(0.1)
            after &= _words(tmux.capture(name))
        signature = after - before
        if len(signature) < MIN_SIGNATURE:
            res.note = (
                f"no visible response to {key!r} within {CALIBRATE_S:g} s ({most} new words"
                " at most; does the command handle the key? see --latency-expect)"
            )
            return res
        need = max(1, len(signature) // 2)
        res.signature = sorted(signature)

        def pred(text: str) -> bool:
            return len(signature & _words(text)) >= need

    if not close:
        res.note = "no --latency-close key: one calibration press only, nothing timed"
        return res
    for i in range(presses + 1):
        if i > 0:  # the first pass only closes the calibration press
            time.sleep(random.uniform(0.2, 0.4))  # not in step with the refresh
            t0 = time.perf_counter()
            tmux.send(name, key)
            hit = _poll(tmux, name, pred, 2.0)
            if hit is None:  # a miss (counted, not timed): shown later, or never
                res.missed += 1
                if _poll(tmux, name, pred, 3.0) is None:
                    continue  # never shown: nothing to close
            else:
                res.samples_ms.append((hit[0] - t0) * 1000)
        tmux.send(name, close)
        if not _gone(tmux, name, pred, 3.0):
            res.note = f"the screen did not go back after {close!r}; stopped pressing"
            break
    return res


# --------------------------------------------------------------------------- one scenario


@dataclass(frozen=True)
class Case:
    """One thing for the observer to show: a scenario file or a program."""

    key: str  # as named on the command line: "16", "128" (scenarios), "512", "churn"...
    label: str
    expected: int  # processes to wait for below the observer, helpers aside
    file_words: str  # what {file} in --command becomes
    program: tuple[str, ...] = ()  # the program's arguments (a program case)
    churn: bool = False  # processes come and go: no stable set, htop filtered by name


def scenario_case(size: int, tmp: Path, ipcplay: str) -> Case:
    groups, consumers = SCENARIOS[size]
    path = tmp / f"observer-{size}.toml"
    path.write_text(scenario_toml(size), encoding="utf-8")
    check_scenario(ipcplay, path)
    return Case(
        str(size),
        f"{size} processes / {groups} channels",
        groups * (1 + consumers),
        shlex.quote(str(path)),
    )


def program_case(key: str, args: argparse.Namespace) -> Case:
    words, kids, what = PROGRAMS[key]
    churn = key == "churn"
    if churn:  # the batches span the warm-up and the window, and a little more
        every = (args.warmup + args.window + 5.0) / CHURN_BATCHES
        words = (*words, "--every", f"{every:.3f}")
    file_words = " ".join(shlex.quote(w) for w in (str(PROGRAM), *words))
    return Case(f"program {key}", f"program: {what}", kids + 1, file_words, words, churn)


@dataclass
class Result:
    case: Case
    obs_pct: float
    htop_pct: float
    machine_pct: float
    scenario_pct: float
    window_s: float
    latency: Latency | None
    notes: list[str]

    @property
    def ratio(self) -> float:
        return self.obs_pct / self.htop_pct if self.htop_pct > 0 else float("inf")


def _busy(t: Any) -> tuple[float, float]:
    """(busy, total) CPU seconds of the machine; guest time is already in user."""
    total = sum(t) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
    return total - t.idle - getattr(t, "iowait", 0.0), total


def run_one(args: argparse.Namespace, case: Case, tmp: Path, tmux: Tmux) -> Result:
    expected = case.expected
    command = args.command.format(venv=sys.prefix, file=case.file_words, hz=f"{args.hz:g}")
    tag = f"{os.getpid()}-{case.key.replace(' ', '-')}"
    obs_session, htop_session = f"obs-{tag}", f"htop-{tag}"
    notes: list[str] = []
    procs: list[psutil.Process] = []
    try:
        tmux.new_session(obs_session, command)
        obs = pane_process(tmux, obs_session, 30.0)
        procs = [obs]
        kids, helpers = wait_for_scenario(
            tmux, obs_session, obs, expected, max(60.0, expected / 4), stable=not case.churn
        )
        procs += kids + helpers
        if len(kids) > expected and not case.churn:
            notes.append(f"{len(kids)} scenario processes, {expected} expected")
        for h in helpers:
            with contextlib.suppress(psutil.Error):
                m = re.search(r"multiprocessing\.\w+", " ".join(h.cmdline()))
                what = m[0] if m else h.name()
                notes.append(f"not counted as the scenario's: {what} (pid {h.pid})")

        home = tmp / f"htop-home-{tag}"
        home.mkdir(exist_ok=True)
        pids = ",".join(str(p.pid) for p in procs)
        htop_command = f"htop -d {HTOP_DELAY} -p {pids}"
        if case.churn:  # new PIDs all the time: the program's name matches them all
            htop_command = f"htop -d {HTOP_DELAY} -F {shlex.quote(PROGRAM.stem)}"
        tmux.new_session(
            htop_session,
            htop_command,
            env={"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")},
        )
        htop = pane_process(tmux, htop_session, 10.0)
        procs.append(htop)
        watch = [(obs_session, obs, "the observer"), (htop_session, htop, "htop")]
        sleep_watching(args.warmup, watch, tmux)

        # The window: both read at the same two instants.
        live = [k for k in kids if _alive(k)] if not case.churn else []
        k0 = sum(_cpu_or_0(k) for k in live)
        m0 = psutil.cpu_times()
        t0 = time.perf_counter()
        o0, h0 = _cpu_s(obs), _cpu_s(htop)
        sleep_watching(args.window, watch, tmux)
        o1, h1 = _cpu_s(obs), _cpu_s(htop)
        t1 = time.perf_counter()
        m1 = psutil.cpu_times()
        k1 = 0.0
        for k in live:
            with contextlib.suppress(psutil.Error):
                k1 += _cpu_s(k)
        dt = t1 - t0
        busy, total = _busy(m1)[0] - _busy(m0)[0], _busy(m1)[1] - _busy(m0)[1]
        machine_pct = 100.0 * busy / total * (psutil.cpu_count() or 1) if total > 0 else 0.0
        if case.churn:
            notes.append("the program's CPU is not summed: its processes come and go")
        elif len(live) < len(kids):
            notes.append(f"{len(kids) - len(live)} scenario process(es) ended before the window")

        stale = STALE.search(tmux.capture(obs_session))
        if stale and float(stale[1]) >= 3.0:
            raise StaleError(
                f"{case.label}: the observer's screen says its data is {stale[1]} s old (its"
                " sampler stopped); the window does not measure its work:\n"
                + _indent(tmux.screen_and_history(obs_session), 5)
            )
        if not args.keep:
            tmux.kill_session(htop_session)
        latency = None
        if args.presses > 0:
            control = Control(tmux, obs_session)
            try:
                latency = measure_latency(
                    control,
                    obs_session,
                    args.latency_key,
                    args.latency_close,
                    args.latency_expect,
                    args.presses,
                )
            finally:
                control.close()
        _check_running(tmux, obs_session, obs, "the observer")
        procs += [k for k in obs.children(recursive=True) if k not in procs]
        return Result(
            case=case,
            obs_pct=100.0 * (o1 - o0) / dt,
            htop_pct=100.0 * (h1 - h0) / dt,
            machine_pct=machine_pct,
            scenario_pct=100.0 * (k1 - k0) / dt,
            window_s=dt,
            latency=latency,
            notes=notes,
        )
    finally:
        if args.keep:
            print(
                f"--keep: left running: tmux {' '.join(tmux.base[1:])} attach -t {obs_session}"
                f" (and -t {htop_session})",
                file=sys.stderr,
            )
        else:
            tmux.kill_session(htop_session)
            tmux.kill_session(obs_session)
            leftover = _reap(procs)
            if leftover:
                print(
                    f"note: {leftover} process(es) of the {case.key} run were still there"
                    " 10 s after the tmux session was killed; killed them by PID",
                    file=sys.stderr,
                )


def _cpu_or_0(p: psutil.Process) -> float:
    try:
        return _cpu_s(p)
    except psutil.Error:
        return 0.0


def _reap(procs: list[psutil.Process], timeout: float = 10.0) -> int:
    """Wait for procs to end; SIGKILL (by PID, checked against reuse) those left."""
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    alive = [p for p in alive if _alive(p)]
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=5.0)
    return len(alive)


# --------------------------------------------------------------------------- main


def _report(r: Result, verbose: bool) -> bool:
    ok = r.ratio <= TARGET_RATIO
    ratio = f"{r.ratio:.2f}" if r.ratio != float("inf") else "n/a (htop used no CPU)"
    print(
        f"{r.case.label}: observer {r.obs_pct:.1f} % of a core,"
        f" htop {r.htop_pct:.1f} %, observer/htop cpu ratio = {ratio}"
        + ("" if ok else f"  (over the target {TARGET_RATIO:g})")
    )
    print(
        f"  same window: {'program' if r.case.program else 'scenario'} processes"
        f" {r.scenario_pct:.1f} % of a core,"
        f" whole machine {r.machine_pct:.0f} % of a core ({psutil.cpu_count() or 1} cores)"
    )
    for n in r.notes:
        print(f"  note: {n}")
    lat = r.latency
    if lat is None:
        return ok
    if lat.samples_ms:
        med = statistics.median(lat.samples_ms)
        n = len(lat.samples_ms)
        missed = f", {lat.missed} not shown within 2 s" if lat.missed else ""
        print(
            f"key press -> updated screen: median {med:.0f} ms, max {max(lat.samples_ms):.0f} ms"
            f" ({n} presses{missed})"
            + ("" if med <= TARGET_LATENCY_MS else f"  (over the target {TARGET_LATENCY_MS:g} ms)")
        )
        ok = ok and med <= TARGET_LATENCY_MS and not lat.missed
    if verbose and lat.samples_ms:
        print(f"  presses (ms): {' '.join(f'{x:.0f}' for x in lat.samples_ms)}")
        print(f"  shown when on screen: {', '.join(lat.signature) or '-'}")
    if lat.note:
        print(f"key press -> updated screen: not measured: {lat.note}")
        ok = ok and bool(lat.samples_ms)
    return ok


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 16,128, got {text!r}") from None
    bad = [s for s in sizes if s not in SCENARIOS]
    if bad:
        raise argparse.ArgumentTypeError(f"sizes must be among {sorted(SCENARIOS)}, got {text!r}")
    return sizes


def _parse_programs(text: str) -> list[str]:
    keys = [s.strip() for s in text.split(",") if s.strip()]
    bad = [k for k in keys if k not in PROGRAMS]
    if bad:
        raise argparse.ArgumentTypeError(
            f"program cases must be among {', '.join(PROGRAMS)} (or empty), got {text!r}"
        )
    return keys


def check_counted(ipcplay: str, case: Case) -> tuple[bool, str]:
    """Run the case's program headless with a known amount of work and check
    `ipcplay run --json`: every process and object counted, every item."""
    shape, n = case.program[0], int(case.program[1])
    words = list(case.program)
    if case.churn:  # as fast as it goes: the counts are what is checked
        words = [*case.program[: case.program.index("--every")], "--every", "0"]
    cmd = [ipcplay, "run", str(PROGRAM), "--json", "--", *words, "--items", str(CHECK_ITEMS)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        report = json.loads(r.stdout)
    except (subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        return False, f"`ipcplay run --json` of the program gave no report: {exc}"
    k = CHECK_ITEMS
    chans, shared = report.get("channels", []), report.get("shared", [])
    procs = len(report.get("processes", []))
    puts, gets = sum(c["puts"] for c in chans), sum(c["gets"] for c in chans)
    if shape == "steady":
        groups = n // 4
        want = {"processes": 4 * groups + 1, "queues": groups, "locks": 0}
        want_items = groups * (k + 3)  # and 3 end marks per queue
    elif shape == "churn":
        want = {"processes": n + 1, "queues": 1, "locks": 0}
        want_items = n * k
    else:
        want = {"processes": 33, "queues": n // 2, "locks": n // 2}
        want_items = n // 2 * k
    got = {"processes": procs, "queues": len(chans), "locks": len(shared)}
    acquires = sum(s.get("acquires", 0) for s in shared)
    uncounted = (report.get("program") or {}).get("uncounted_objects", 0)
    problems = [f"{got[w]} {w} of {want[w]}" for w in want if got[w] != want[w]]
    if puts != want_items or gets != want_items:
        problems.append(f"{puts} puts and {gets} gets of {want_items}")
    if want["locks"] and acquires != want_items:
        problems.append(f"{acquires} acquires of {want_items}")
    if uncounted:
        problems.append(f"{uncounted} objects uncounted")
    if report.get("verdict") != "completed":
        problems.append(f"verdict {report.get('verdict')}")
    if problems:
        return False, "NOT all counted (`ipcplay run --json`, --items " + f"{k}): " + ", ".join(
            problems
        )
    what = f"{procs} processes, {len(chans)} queues" + (
        f", {len(shared)} locks, {acquires:,} acquires" if shared else ""
    )
    return True, f"all counted (`ipcplay run --json`, --items {k}): {what}, {puts:,} puts and gets"


def _parse_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)x(\d+)", text)
    if not m:
        raise argparse.ArgumentTypeError(f"expected COLSxROWS such as 200x60, got {text!r}")
    return int(m[1]), int(m[2])


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="exit status: 0 all targets met, 1 a target missed, 2 could not measure",
    )
    ap.add_argument("--window", type=float, default=20.0, metavar="S", help="CPU window (20)")
    ap.add_argument("--warmup", type=float, default=3.0, metavar="S", help="warm-up (3)")
    ap.add_argument(
        "--scenarios", type=_parse_sizes, default=[16, 128], help="sizes to run (16,128)"
    )
    ap.add_argument(
        "--programs",
        type=_parse_programs,
        default=["512", "churn", "objects"],
        help=f"program cases to run, among {','.join(PROGRAMS)} (512,churn,objects; '' = none)",
    )
    ap.add_argument(
        "--command",
        default=DEFAULT_COMMAND,
        metavar="TEMPLATE",
        help="observer command line; placeholders {venv}, {file}, {hz}"
        f" (default: {DEFAULT_COMMAND!r})",
    )
    ap.add_argument("--hz", type=float, default=10.0, help="refresh rate for {hz} (10)")
    ap.add_argument("--terminal", type=_parse_size, default=(200, 60), help="COLSxROWS (200x60)")
    ap.add_argument("--presses", type=int, default=10, help="latency key presses (10; 0 = skip)")
    ap.add_argument("--latency-key", default="?", help="tmux key that changes the screen (?)")
    ap.add_argument(
        "--latency-close", default="Escape", help="tmux key that undoes it (Escape; '' = none)"
    )
    ap.add_argument(
        "--latency-expect",
        metavar="TEXT",
        help="text that must appear after the key (default: calibrate on a first press)",
    )
    ap.add_argument("--keep", action="store_true", help="leave the tmux sessions running")
    ap.add_argument("-v", "--verbose", action="store_true", help="per-press times, key signature")
    args = ap.parse_args()
    if args.window <= 0 or args.warmup < 0 or args.presses < 0 or not 0 < args.hz <= 60:
        ap.error("--window and --hz must be > 0, --warmup and --presses >= 0")
    if "{file}" not in args.command:
        ap.error("--command must contain {file}")

    if shutil.which("htop") is None:
        print(
            "htop is not installed; this benchmark measures the observer against htop."
            " Install it (e.g. apt-get install htop) and run again.",
            file=sys.stderr,
        )
        return 2
    if shutil.which("tmux") is None:
        print("tmux is not installed; install it (e.g. apt-get install tmux).", file=sys.stderr)
        return 2
    ipcplay = str(Path(sys.prefix) / "bin" / "ipcplay")
    if not os.access(ipcplay, os.X_OK):
        ipcplay = shutil.which("ipcplay") or ""
    if not ipcplay:
        print("ipcplay is not installed in this Python environment.", file=sys.stderr)
        return 2

    cols, rows = args.terminal
    tmux = Tmux(f"ipcplay-bench-{os.getpid()}", cols, rows)
    print(
        f"observer cost at {args.hz:g} Hz: {args.window:g} s window after {args.warmup:g} s"
        f" warm-up, {cols}x{rows} tmux ({_version(['tmux', '-V'])}) terminal,"
        f" vs {_version(['htop', '--version'])} `htop -d {HTOP_DELAY} -p <the same PIDs>`"
        " (churn: -F observer_program)"
        f" ({HTOP_DELAY / 10:g} s refresh);"
        f" observer: {args.command}",
        flush=True,
    )
    ok = True
    signal.signal(signal.SIGTERM, _interrupt)  # clean up on SIGTERM as on Ctrl+C
    tmp = Path(tempfile.mkdtemp(prefix="ipcplay-observer-bench-"))
    try:
        tmux.start()
        cases = [scenario_case(size, tmp, ipcplay) for size in args.scenarios]
        cases += [program_case(key, args) for key in args.programs]
        for case in cases:
            result = None
            for attempt in range(2):
                try:
                    result = run_one(args, case, tmp, tmux)
                    break
                except StaleError as exc:
                    again = "measuring it again" if attempt == 0 else "not measured"
                    print(f"{exc}\n  {case.label}: {again}", flush=True)
                    ok = False  # a stopped sampler is a fault, even if the next run is fine
            if result is not None:
                ok = _report(result, args.verbose) and ok
            if case.program:
                counted, line = check_counted(ipcplay, case)
                print(f"  {line}")
                ok = ok and counted
            sys.stdout.flush()
    except BenchError as exc:
        print(f"observer benchmark: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if not args.keep:
            tmux.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
