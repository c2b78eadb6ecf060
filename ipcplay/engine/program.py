"""Watch a program ipcplay did not write: start it, sample it, stop it.

`ProgramEngine` is the supervisor of `ipcplay PROGRAM.py`: the same public
face as the scenario's `Engine` (start, latest, run, shutdown, pause...), so
the TUI and the headless report drive either. It makes the program's board
(watch_board), starts the program's main process with the hooks
(watch_boot), and samples with the scenario's own Sampler, which learns
from the registry what the program makes as it makes it.

Nothing is left behind, on any path:

* the program runs in its own process group (its own session: it never
  reads the terminal the TUI draws on), so the observer can signal all of
  it at once: Ctrl+C as a terminal would (SIGINT), then SIGTERM, then SIGKILL;
* a guardian process (watch_guard), started before the program, waits for
  the observer's end on a pipe; if the observer dies first, even by
  SIGKILL, the guardian kills the program's group and every process the
  board names;
* the board is a memfd and the output socket is abstract: neither has a
  name anywhere to leave.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import IO, TYPE_CHECKING, Any

from ipcplay.engine import board as B
from ipcplay.engine.program_output import OutputCollector, OutputLine
from ipcplay.engine.program_procs import MainView, ProgramProcesses, map_data
from ipcplay.engine.program_step import ProgramStepper
from ipcplay.engine.snapshot import ProcessSample, Snapshot, crashed
from ipcplay.engine.stops import until_stopped
from ipcplay.engine.watch_board import (
    BOOT,
    ENV,
    G_UNCOUNTED,
    T_MAPPED,
    WatchBoard,
    WatchSpec,
    group_members,
    kill_group,
)

if TYPE_CHECKING:
    from ipcplay.engine.sampler import Sampler

GUARD = "from ipcplay.engine.watch_guard import main; main()"


class ProgramError(RuntimeError):
    """The program could not be started; nothing is left running."""


@dataclass(frozen=True)
class Program:
    """What to run: a file (`path`) or a module (`-m`), with its arguments;
    `step`: in step mode from its first operation (`ipcplay --step PROGRAM.py`)."""

    target: str
    args: tuple[str, ...] = ()
    module: bool = False
    step: bool = False

    @property
    def title(self) -> str:
        return f"-m {self.target}" if self.module else os.path.basename(self.target)

    def command(self) -> list[str]:
        mode = "module" if self.module else "path"
        return [sys.executable, "-c", BOOT, "--", mode, self.target, *self.args]


@dataclass(frozen=True)
class ProgramOutcome:
    verdict: str
    reason: str  # "finished", "duration", "stuck", "interrupted"
    snapshot: Snapshot
    duration_s: float
    exit_status: int | None  # the main process's, as a shell would see it; None if still running


class ProgramEngine:
    """One run of one program."""

    def __init__(
        self,
        program: Program,
        *,
        journal_events: int = 0,
        sample_hz: float = 10.0,
        capture: bool = True,
        journal_out: IO[str] | None = None,
        hang_after: float = 1.0,
        on_snapshot: Callable[[Snapshot], None] | None = None,
        previews: bool = True,
        own_stdin: bool = False,
        step: bool = False,
    ) -> None:
        """`capture`: each process's output is kept apart (the TUI, --json);
        else it goes where ipcplay's own goes. `own_stdin`: the program reads
        ipcplay's standard input (`ipcplay run`); else /dev/null (the TUI owns
        the terminal). `step`: in step mode from the program's first
        operation (engine/program_step.py)."""
        self.program = program
        self._own_stdin = own_stdin
        self._step_at_start = step or program.step
        self.stepper: ProgramStepper | None = None  # step mode, from start()
        self.sample_hz = sample_hz
        self._journal_events = journal_events
        self._journal_out = journal_out
        self._capture = capture
        self._hang_after = hang_after
        self._on_snapshot = on_snapshot
        self._previews = previews and journal_events > 0
        self.board: WatchBoard | None = None
        self.output: OutputCollector | None = None
        self._popen: subprocess.Popen[bytes] | None = None
        self._guard: subprocess.Popen[bytes] | None = None
        self._guard_w = -1
        self._procs: ProgramProcesses | None = None
        self._sampler: Sampler | None = None
        self._latest: Snapshot | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0
        self._started = False
        self._shut = False
        self.clock = None
        self.leftovers: dict[str, int] = {}
        self.speed = 1.0
        # A sample that raised (a bug of ours, never the program's): the
        # sampler goes on with the next tick, and this says what happened.
        self.sample_error: str | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._started:
            raise ProgramError("already started")
        self._started = True
        board = self.board = WatchBoard.create(self._journal_events, self._previews)
        with board.locked():
            main = board.allocate("process")
        board.registry.register_process(main, "main", "main")
        self.stepper = ProgramStepper(board)
        self.stepper.set_mode(self._step_at_start)  # before the program's first operation
        try:
            self._start_guard(board)
            self._start_main(board)
        except BaseException as exc:
            self._abort()
            if isinstance(exc, OSError):
                raise ProgramError(f"could not start the program: {exc}") from exc
            raise
        assert self._popen is not None
        # Imported once the program is on its way (psutil and the sampler
        # load while its interpreter starts, on the other core).
        from ipcplay.engine.sampler import Sampler

        self._procs = ProgramProcesses(board.mv, board.layout, MainView(self._popen))
        if self.stepper is not None:
            self.stepper.procs = self._procs
        self._sampler = Sampler(
            board.layout,
            board.registry,
            board.raw,
            self._procs,  # type: ignore[arg-type]  # list-like, by process index
            self._t0,
            self._journal_out,
            self._hang_after,
        )
        self._sampler.hz = self.sample_hz
        self._sampler.open_world = True
        self._latest = self._sample()
        self._thread = threading.Thread(
            target=self._sample_loop, name="ipcplay-sampler", daemon=True
        )
        self._thread.start()

    def _start_guard(self, board: WatchBoard) -> None:
        """The guardian first: from here on, the program cannot outlive us."""
        read, write = os.pipe()
        os.set_inheritable(board.fd, True)
        try:
            self._guard = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    GUARD,
                    str(read),
                    str(board.fd),
                    str(board.size),
                    str(board.layout.proc_slots),
                ],
                pass_fds=(read, board.fd),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            os.close(read)
        self._guard_w = write

    def _start_main(self, board: WatchBoard) -> None:
        output = ""
        if self._capture:
            self.output = OutputCollector()
            output = self.output.address
        spec = WatchSpec(
            os.getpid(),
            board.fd,
            board.size,
            self._journal_events,
            self._previews,
            self._capture,
            output,
        )
        env = dict(os.environ)
        env[ENV] = spec.encode()
        pipe = subprocess.PIPE if self._capture else None
        self._t0 = time.monotonic()
        self._popen = subprocess.Popen(
            self.program.command(),
            env=env,
            pass_fds=(board.fd,),
            stdin=None if self._own_stdin else subprocess.DEVNULL,
            stdout=pipe,
            stderr=pipe,
            start_new_session=True,
        )
        # The guardian learns the group to kill on its pipe: the pgid is the main's pid.
        os.write(self._guard_w, f"{self._popen.pid}\n".encode())
        if self.output is not None:
            assert self._popen.stdout is not None and self._popen.stderr is not None
            self.output.add(0, "stdout", os.dup(self._popen.stdout.fileno()))
            self.output.add(0, "stderr", os.dup(self._popen.stderr.fileno()))
            self._popen.stdout.close()
            self._popen.stderr.close()

    def _abort(self) -> None:
        self._kill_group(signal.SIGKILL)
        if self._popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(5)
        self._finish_guard()
        if self.output is not None:
            self.output.close(0.5)
        if self.board is not None:
            self.board.close()
            self.board = None

    def _sample(self) -> Snapshot:
        """One sample, after mapping the memory of any Value or Array made
        since the last one (the sampler reads their values there)."""
        assert self._sampler is not None and self.board is not None
        topology = self.board.registry.read()
        shared = topology.shared
        objects = self._sampler.shared_watch.objects
        while len(objects) < len(shared):
            objects.append(map_data(shared[len(objects)]))
        # Mapped up to this generation: a process that made one may exit now.
        self.board.mv[self.board.layout.pool_base + T_MAPPED] = topology.generation
        if self.stepper is not None:
            self.stepper.forget_the_dead()
        return self._sampler.sample()

    def _sample_loop(self) -> None:
        """Sample at the rate asked, and at once when the main process ends:
        a short program's run is over when it is, not a tick later."""
        main_fd = _pidfd(self._popen.pid) if self._popen is not None else -1
        next_t = time.monotonic()
        try:
            while not self._stop.is_set():
                assert self._sampler is not None
                if time.monotonic() >= next_t:
                    try:
                        snap = self._sample()
                    except Exception as exc:  # keep watching; say it once
                        if self.sample_error is None:
                            self.sample_error = f"{type(exc).__name__}: {exc}"
                        next_t = time.monotonic() + 1.0 / self.sample_hz
                        continue
                    self._latest = snap
                    if self._on_snapshot is not None:
                        self._on_snapshot(snap)
                    next_t += 1.0 / self.sample_hz
                    if next_t < time.monotonic():
                        next_t = time.monotonic()
                wait = max(0.0, min(next_t - time.monotonic(), 0.05))
                if main_fd >= 0 and select.select([main_fd], [], [], wait)[0]:
                    os.close(main_fd)
                    main_fd = -1
                    next_t = time.monotonic()  # it has ended: look now
                elif main_fd < 0:
                    self._stop.wait(wait)
        finally:
            if main_fd >= 0:
                os.close(main_fd)

    @property
    def latest(self) -> Snapshot:
        if self._latest is None:
            raise ProgramError("not started")
        return self._latest

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.latest.processes if p.pid]

    @property
    def registry(self) -> Any:
        return self.board.registry if self.board is not None else None

    @property
    def uncounted(self) -> int:
        """Objects made once the board was full: they worked, uncounted."""
        return self.board.mv[G_UNCOUNTED] if self.board is not None else 0

    def set_speed(self, speed: float) -> None:
        """A program runs at its own speed: slow motion is for scenarios."""

    def set_sample_rate(self, hz: float) -> None:
        self.sample_hz = max(0.5, min(60.0, hz))
        if self._sampler is not None:
            self._sampler.hz = self.sample_hz

    def output_since(self, seq: int) -> list[OutputLine]:
        return self.output.since(seq) if self.output is not None else []

    # ------------------------------------------------------------ running
    def run(
        self,
        duration: float | None = None,
        stop: threading.Event | None = None,
        linger: Callable[[], bool] | None = None,
    ) -> ProgramOutcome:
        """Until the program and all its processes end, a hang is confirmed,
        `duration` passes or `stop` is set; then stop it and give the verdict."""
        if not self._started:
            self.start()
        reason = "duration"
        held_s = 0.0  # time in step mode: the user's, not the program's
        looked = time.monotonic()
        while True:
            now = time.monotonic()
            if self.stepper is not None and self.stepper.on:
                held_s += now - looked
            looked = now
            snap = self.latest
            if stop is not None and stop.is_set():  # a Ctrl+C first, as for a scenario
                reason = "interrupted"
                break
            if snap.finished:
                reason = "finished"
                break
            if snap.stuck is not None:
                reason = "stuck"
                break
            if duration is not None and now - self._t0 - held_s >= duration:
                break
            time.sleep(0.005)
        last = self.latest
        stuck = last.stuck
        final = self.shutdown()
        if stuck is not None and final.stuck is None:
            final = replace(final, stuck=stuck, waits=last.waits or final.waits)
        verdict = _verdict(reason, final, stuck)
        return ProgramOutcome(verdict, reason, final, final.elapsed_s, self.exit_status)

    @property
    def exit_status(self) -> int | None:
        """The main process's status as a shell shows it (128 + signal)."""
        if self._popen is None or self._popen.returncode is None:
            return None
        code = self._popen.returncode
        return 128 - code if code < 0 else code

    def shutdown(self, grace: float = 1.0, term_wait: float = 2.0) -> Snapshot:
        """Stop the whole program, as a terminal's Ctrl+C would first (SIGINT
        to its group), then SIGTERM, then SIGKILL; the exact final snapshot.
        Safe to call twice."""
        if self._shut:
            return self.latest
        self._shut = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._popen is not None and not self._ended():
            if self._sampler is not None:
                # A fresh look: a process started since the last tick is one
                # ipcplay stops too, not one that crashed.
                with contextlib.suppress(Exception):
                    self._latest = self._sample()
                self._sampler.stopped_by_engine.update(self._live_indices())
            self._kill_group(signal.SIGCONT)
            for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, term_wait)):
                self._kill_group(sig)
                if self._wait_ended(wait):
                    break
            else:
                self._kill_group(signal.SIGKILL)
                self._wait_ended(5.0)
        if self._popen is not None:
            # Whatever is left of the group: its resource tracker, which exits
            # by itself once the program's processes have; else it is killed.
            kill_group(self._popen.pid)
        if self._popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(5)
        final = self._sample() if self._sampler is not None else self._latest
        if self._sampler is not None:
            for view in self._sampler.shared_watch.objects:
                if view is not None:
                    view.close()
            self._sampler.close()
        self._finish_guard()
        if self.output is not None:
            self.output.close()
        self._latest = final
        assert final is not None
        return final

    def _live_indices(self) -> list[int]:
        return [p.index for p in self.latest.processes if p.exitcode is None]

    def _ended(self) -> bool:
        """The main process and every registered process have ended."""
        if self._popen is None or self._popen.poll() is None:
            return False
        procs = self._procs
        if procs is None or self.board is None:
            return True
        count = self.board.registry.read().processes
        return all(procs[p.index].exitcode is not None for p in count)

    def _wait_ended(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ended():
                return True
            time.sleep(0.01)
        return self._ended()

    def _kill_group(self, sig: int) -> None:
        """Signal the program's process group (its resource tracker spared a
        SIGKILL: see watch_board.kill_group), and every registered process
        still alive that left it."""
        if self._popen is None:
            return
        if sig == signal.SIGKILL:
            for pid, tracker in group_members(self._popen.pid):
                if not tracker:
                    with contextlib.suppress(OSError):
                        os.kill(pid, sig)
        else:
            with contextlib.suppress(OSError):
                os.killpg(self._popen.pid, sig)
        if self._procs is None or self.board is None:
            return
        for info in self.board.registry.read().processes[1:]:
            view = self._procs[info.index]
            if view.pid and view.exitcode is None:
                with contextlib.suppress(OSError):
                    os.kill(view.pid, sig)

    def _finish_guard(self) -> None:
        """Our end is orderly: tell the guardian (EOF), and reap it."""
        if self._guard_w >= 0:
            os.close(self._guard_w)
            self._guard_w = -1
        if self._guard is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._guard.wait(5)
            self._guard = None

    def close(self) -> None:
        """Give the board back (after shutdown)."""
        if self.board is not None:
            self.board.close()
            self.board = None

    def __enter__(self) -> ProgramEngine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # ------------------------------------------------------------ controls
    def _find(self, name: str) -> tuple[int, int]:
        for sample in self.latest.processes:
            if sample.name == name:
                if not sample.pid or sample.exitcode is not None:
                    raise ProgramError(f"{name} is not running")
                return sample.index, sample.pid
        raise KeyError(name)

    def _signal(self, name: str, sig: int) -> int:
        index, pid = self._find(name)
        if sig in (signal.SIGTERM, signal.SIGKILL) and self._sampler is not None:
            self._sampler.stopped_by_engine.add(index)
        os.kill(pid, sig)
        if self._sampler is not None:
            self._sampler.poke.add(index)
        return pid

    def _note_stopped(self, procs: list[int]) -> None:
        if self._sampler is None or self.board is None:
            return
        mv, now = self.board.mv, time.monotonic()
        for index in procs:
            base = self.board.layout.proc(index)
            self._sampler.stops.stopped(index, mv[base + B.P_MARK], mv[base + B.P_SINCE], now)

    def pause(self, name: str) -> None:
        until_stopped([self._signal(name, signal.SIGSTOP)])
        self._note_stopped([self._find(name)[0]])

    def resume(self, name: str) -> None:
        index = self._find(name)[0]
        if self._sampler is not None:
            self._sampler.stops.continued(index, time.monotonic())
        self._signal(name, signal.SIGCONT)

    def terminate(self, name: str) -> None:
        self._signal(name, signal.SIGTERM)

    def kill(self, name: str) -> None:
        self._signal(name, signal.SIGKILL)

    def pause_many(self, names: list[str]) -> list[str]:
        pids, paused, done = [], [], []
        for name in names:
            with contextlib.suppress(ProgramError, OSError, KeyError):
                pids.append(self._signal(name, signal.SIGSTOP))
                paused.append(self._find(name)[0])
                done.append(name)
        until_stopped(pids)
        self._note_stopped(paused)
        return done

    def pause_all(self) -> None:
        self.pause_many([p.name for p in self.latest.processes if p.exitcode is None])

    def resume_all(self) -> None:
        for sample in self.latest.processes:
            with contextlib.suppress(ProgramError, OSError, KeyError):
                self.resume(sample.name)

    def set_rate(self, name: str, rate: float) -> None:
        raise ProgramError("a program sets its own pace: rates are for scenarios")

    def rate_of(self, name: str) -> float:
        return 0.0

    def poison_pill(self, name: str) -> str:
        raise ProgramError("a program decides what it sends: poison pills are for scenarios")

    def process(self, name: str) -> ProcessSample:
        for sample in self.latest.processes:
            if sample.name == name:
                return sample
        raise KeyError(name)


def _pidfd(pid: int) -> int:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return -1


def _verdict(reason: str, final: Snapshot, stuck: Any) -> str:
    if reason == "stuck" and stuck is not None:
        return stuck.kind
    if crashed(final.processes):
        return "crashed"
    if reason == "finished":
        return "completed"
    if reason == "interrupted":
        return "interrupted"
    return "timeout"
