"""The supervisor: start a scenario's processes, steer them, stop them cleanly.

One `Engine` per run. It creates the board and the real channels, starts one
real process per instance, closes its own copies of every pipe end (the
observer never touches a channel), and runs one sampler thread that publishes
immutable snapshots, latest wins. Shutdown is graceful (stop command), then
SIGTERM, then SIGKILL, each bounded by a timeout; every child is joined.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import IO, Any

from ipcplay.engine import board as B
from ipcplay.engine import demos, tempo
from ipcplay.engine import plan as P
from ipcplay.engine.child import child_entry, hold_interrupts, release_interrupts
from ipcplay.engine.manager_watch import Managers, start_managers
from ipcplay.engine.objects import RunObjects, new_registry, register_process
from ipcplay.engine.pool_watch import PoolWatch
from ipcplay.engine.registry import Registry
from ipcplay.engine.sampler import Sampler
from ipcplay.engine.snapshot import ProcessSample, Snapshot, crashed
from ipcplay.engine.stepper import Stepper
from ipcplay.engine.stops import until_stopped
from ipcplay.scenario.model import Scenario

LINGER_MAX_S = 30.0  # how far past its duration a run may go on for a tour's last steps


class EngineError(RuntimeError):
    """The scenario could not be started; nothing is left running."""


@dataclass(frozen=True)
class Outcome:
    verdict: str
    reason: str  # "finished", "duration", "stuck", "interrupted"
    snapshot: Snapshot
    duration_s: float


# Roles that end when they take a poison pill (engine/roles.py).
PILL_TAKERS = frozenset({"consumer", "worker", "ponger"})


class Engine:
    def __init__(
        self,
        scenario: Scenario,
        *,
        journal_events: int = 0,
        sample_hz: float = 10.0,
        quiet: bool = True,
        journal_out: IO[str] | None = None,
        hang_after: float = 1.0,
        on_snapshot: Callable[[Snapshot], None] | None = None,
        drain_at_end: bool = False,
        speed: float = 1.0,
        previews: bool = True,
        step: bool = False,
    ) -> None:
        self.scenario = scenario
        self._step_at_start = step
        self.stepper: Stepper | None = None  # step mode (engine/stepper.py), from start()
        # Slow motion: the scenario's own time runs at `speed` (engine/tempo.py).
        self._speed = tempo.check_speed(speed)
        self.clock: tempo.ScenarioClock | None = None  # from start()
        self.sample_hz = sample_hz
        self._journal_events = journal_events
        self._journal_out = journal_out
        self._quiet = quiet
        self._hang_after = hang_after
        self._on_snapshot = on_snapshot
        self._drain_at_end = drain_at_end
        self.leftovers: dict[str, int] = {}
        self._ctx = mp.get_context(scenario.start_method)
        self._procs: list[Any] = []
        self._run: RunObjects | None = None  # the real channels and shared objects
        self.registry: Registry | None = None  # what exists, as the observer reads it
        self._managers: Managers | None = None  # Manager server processes, if any
        self._latest: Snapshot | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sampler: Sampler | None = None
        self._t0 = 0.0
        self._started = False
        self._shut = False
        # Pauses asked for before the process had armed its death signal,
        # played by the sampling thread as soon as it has (see board.C_HOLD).
        self._held: set[int] = set()
        self._hold_lock = threading.Lock()
        self.layout, self.instances, self._plans = P.build(
            scenario, journal_events=journal_events, quiet=quiet, previews=previews
        )
        # terminate_after, still to play: (instance, name, seconds); usually
        # empty, so the sampling loop pays nothing for it.
        self._to_terminate = [
            (inst.index, inst.name, inst.spec.terminate_after)
            for inst in self.instances
            if inst.spec.terminate_after > 0
        ]

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Make the board, the registry and every object; start every process;
        then sample once, so `latest` is there on return."""
        if self._started:
            raise EngineError("already started")
        self._started = True
        # Every process starts with SIGINT blocked: see hold_interrupts.
        held = hold_interrupts()
        try:
            self._start_processes()
        except BaseException as exc:
            self._abort()
            if isinstance(exc, Exception):
                raise EngineError(f"could not start the scenario: {exc}") from exc
            raise
        finally:
            release_interrupts(held)
        assert self._run is not None
        self._run.close_pipe_ends()
        self._sampler = self._new_sampler()
        self._latest = self._sampler.sample()
        self._thread = threading.Thread(
            target=self._sample_loop, name="ipcplay-sampler", daemon=True
        )
        self._thread.start()

    def _start_processes(self) -> None:
        """The board, the Manager servers, the objects (each registering
        itself), then one Process per plan, registered as it is made."""
        ctx = self._ctx
        self._raw = B.create(self.layout)
        tempo.write_speed(B.view(self._raw), self._speed)  # before any child reads it
        self.stepper = Stepper(B.view(self._raw), self.layout, [i.name for i in self.instances])
        self.stepper.set_mode(self._step_at_start)  # before any child reaches its first gate
        if self.scenario.start_method == "forkserver":
            # Before the server starts, so its first act is to arm its death signal.
            ctx.set_forkserver_preload(["ipcplay.engine.forkserver_guard"])
        self._managers = start_managers(self.scenario, ctx, os.getpid(), self._quiet)
        self.registry = new_registry(self.scenario, self.instances)
        self._run = RunObjects(self.scenario, ctx, self.registry, self._managers)
        self._run.create(self.instances)
        self._t0 = time.monotonic()
        for plan in self._plans:
            handles, foreign, kept = self._run.handed_to(plan)
            shared = tuple(self._run.shared[ep.index] for ep in plan.shared)
            proc = ctx.Process(
                target=child_entry,
                args=(plan, self._raw, handles, foreign, shared, kept),
                name=f"ipcplay:{plan.name}",
                # A daemonic process may not have children, and a pool
                # process starts its workers; the engine joins it anyway.
                daemon=plan.spec.role != "pool",
            )
            register_process(self.registry, plan)
            self._procs.append(proc)
        demos.parent_before_start(self.scenario)
        for proc in self._procs:
            proc.start()
        demos.parent_after_start(self.scenario)

    def _new_sampler(self) -> Sampler:
        """The observer's side: it learns what exists from the registry, and
        gets the live objects by index (never the scenario)."""
        assert self._run is not None
        pools = None
        if any(inst.spec.pool is not None for inst in self.instances):
            pools = PoolWatch(self.instances, B.view(self._raw), self.layout)
        sampler = Sampler(
            self.layout,
            self.registry,
            self._raw,
            self._procs,
            self._t0,
            self._journal_out,
            self._hang_after,
            shared=self._run.shared,
            managers=self._managers,
            pools=pools,
        )
        sampler.hz = self.sample_hz
        self.clock = sampler.clock = tempo.ScenarioClock(self._t0, self._speed)
        return sampler

    def _abort(self) -> None:
        for proc in self._procs:
            if proc.pid is not None and proc.exitcode is None:
                with contextlib.suppress(OSError):
                    proc.kill()
                proc.join(5)
        self._procs = []
        self._close_objects()

    def _terminate_due(self, now: float) -> float:
        """Play the scenario's `terminate_after`: as a parent's `proc.terminate()`
        would, SIGTERM the process wherever it is. Returns when the next is due.

        The time counts from when the child itself began to run (it stamps the
        board), not from when it was asked to start: under spawn on a busy
        machine that can differ by a second, and the lesson must not depend
        on how fast an interpreter boots. It is the scenario's time: slow
        motion delays it as much as everything the process does before."""
        nxt = float("inf")
        if not self._to_terminate:
            return nxt
        mv = B.view(self._raw)
        for entry in list(self._to_terminate):
            index, name, after = entry
            started_ns = mv[self.layout.proc(index) + B.P_STARTED_NS]
            if not started_ns:
                nxt = min(nxt, now + 0.01)  # look again soon: it is about to start
                continue
            due = started_ns / 1e9 + after
            if self.clock is not None:
                due = self.clock.real_after(started_ns / 1e9, after, now)
            if due > now:
                nxt = min(nxt, due)
                continue
            self._to_terminate.remove(entry)
            with contextlib.suppress(EngineError, OSError):
                self.terminate(name)
        return nxt

    def _sample_loop(self) -> None:
        next_t = time.monotonic()
        while not self._stop.is_set():
            assert self._sampler is not None
            # A termination is played on time, not at the next sample; waking
            # for one does not move the sampling beat.
            next_due = self._terminate_due(time.monotonic())
            if self._held:  # look again soon: a held pause is played once armed
                self._stop_armed()
                next_due = min(next_due, time.monotonic() + 0.002) if self._held else next_due
            if time.monotonic() >= next_t:
                snap = self._sampler.sample()
                self._latest = snap
                if self._on_snapshot is not None:
                    self._on_snapshot(snap)
                next_t += 1.0 / self.sample_hz
                if next_t < time.monotonic():
                    next_t = time.monotonic()  # fell behind: skip, don't burst
            self._stop.wait(max(0.0, min(next_t, next_due) - time.monotonic()))

    @property
    def latest(self) -> Snapshot:
        if self._latest is None:
            raise EngineError("not started")
        return self._latest

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self._procs if proc.pid is not None]

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Slow motion, live: every child reads the new speed within one slice
        (50 ms) of its own time; the observer's timers follow its clock."""
        self._speed = tempo.check_speed(speed)
        if self.clock is not None:
            self.clock.set_speed(speed)
        if self._started and hasattr(self, "_raw"):
            tempo.write_speed(B.view(self._raw), speed)

    def set_sample_rate(self, hz: float) -> None:
        self.sample_hz = max(0.5, min(60.0, hz))
        if self._sampler is not None:
            self._sampler.hz = self.sample_hz

    def run(
        self,
        duration: float | None = None,
        stop: threading.Event | None = None,
        linger: Callable[[], bool] | None = None,
    ) -> Outcome:
        """Wait until every process exits, a hang is confirmed, `duration`
        passes or `stop` is set; then shut down and give the verdict.

        `duration` is the scenario's time: in slow motion a run lasts as much
        longer as everything in it (a finite scenario is not a timeout for
        being slowed down). While `linger()` says so, a run that has ended or
        is stuck keeps being sampled, and one that is still running may go
        LINGER_MAX_S past `duration`, so a tour can show its last captions;
        the verdict is the one it would have had."""
        if not self._started:
            self.start()
        limit = self.scenario.duration if duration is None else duration
        clock = self.clock
        reason = "duration"
        looked = time.monotonic()
        while True:
            now = time.monotonic()
            if self.stepper is not None and self.stepper.on:
                limit += (now - looked) * self._speed  # held by the user: no time runs out
            looked = now
            snap = self.latest
            ended = "finished" if snap.finished else "stuck" if snap.stuck is not None else None
            # A Ctrl+C first: the user stopped it, whatever the run came to meanwhile.
            if stop is not None and stop.is_set():
                reason = "interrupted"
                break
            if ended is not None and not (linger is not None and linger()):
                reason = ended
                break
            now = time.monotonic()
            scene = clock.at(now) if clock is not None else now - self._t0
            lingering = linger is not None and scene < limit + LINGER_MAX_S and linger()
            if scene >= limit and not lingering:
                reason = ended or reason
                break
            time.sleep(0.02)
        last = self.latest
        stuck = last.stuck
        final = self.shutdown()
        verdict = self._verdict(reason, final, stuck)
        if stuck is not None and final.stuck is None:
            # Keep the verdict and the wait-for graph that led to it: the
            # processes are stopped now, so the final sample has no waits.
            final = replace(final, stuck=stuck, waits=last.waits or final.waits)
        return Outcome(verdict, reason, final, final.elapsed_s)

    def _verdict(self, reason: str, final: Snapshot, stuck: Any) -> str:
        if reason == "stuck" and stuck is not None:
            return stuck.kind
        if crashed(final.processes):
            return "crashed"
        if reason == "finished":
            return "completed"
        if reason == "interrupted":
            return "interrupted"
        return "completed" if self.scenario.endless else "timeout"

    def shutdown(self, grace: float = 0.3, term_wait: float = 2.0) -> Snapshot:
        """Stop every child (stop command → SIGTERM → SIGKILL), join all, and
        return the exact final snapshot. Safe to call twice."""
        if self._shut:
            return self.latest
        self._shut = True
        if self._managers is not None:  # exiting children call their server: it must run
            self._managers.resume()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        mv = B.view(self._raw) if self._started and hasattr(self, "_raw") else None
        running = [
            (index, proc)
            for index, proc in enumerate(self._procs)
            if proc.pid is not None and proc.exitcode is None
        ]
        live = [proc for _, proc in running]
        if self._sampler is not None:
            self._sampler.stopped_by_engine.update(index for index, _ in running)
        if mv is not None:
            for index, proc in running:
                mv[self.layout.proc(index) + B.C_STOP] = 1
                self._unhold(index)
                with contextlib.suppress(OSError):
                    os.kill(proc.pid, signal.SIGCONT)
        _join_all(live, grace)
        for proc in live:
            if proc.exitcode is None:
                with contextlib.suppress(OSError):
                    proc.terminate()
        _join_all(live, term_wait)
        for proc in live:
            if proc.exitcode is None:
                with contextlib.suppress(OSError):
                    proc.kill()
        _join_all(live, 5.0)
        final = self._sampler.sample() if self._sampler is not None else self._latest
        if self._sampler is not None:
            self._sampler.close()
        self._latest = final
        if self._drain_at_end and all(proc.exitcode == 0 for proc in self._procs):
            self.leftovers = self._drain_leftovers()
        self._close_objects()
        if self._managers is not None and final is not None:  # their servers are reaped now
            final = replace(final, managers=self._managers.ended(final.managers))
            self._latest = final
        for proc in self._procs:
            with contextlib.suppress(ValueError):
                proc.close()
        assert final is not None
        return final

    def _drain_leftovers(self) -> dict[str, int]:
        return self._run.drain_leftovers() if self._run is not None else {}

    def _close_objects(self) -> None:
        if self._managers is not None:  # first: then the proxies below need not say goodbye
            self._managers.shutdown()
        if self._run is not None:
            self._run.close()

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # ------------------------------------------------------------ controls
    def _proc(self, name: str) -> tuple[int, Any]:
        for index, inst in enumerate(self.instances):
            if inst.name == name:
                return index, self._procs[index]
        raise KeyError(name)

    def _signal(self, name: str, sig: int) -> int:
        """Send `sig` to a running process; its pid."""
        index, proc = self._proc(name)
        if proc.pid is None or proc.exitcode is not None:
            raise EngineError(f"{name} is not running")
        if sig in (signal.SIGTERM, signal.SIGKILL) and self._sampler is not None:
            self._sampler.stopped_by_engine.add(index)
        os.kill(proc.pid, sig)
        if self._sampler is not None:
            self._sampler.poke.add(index)
        return proc.pid

    def pause(self, name: str) -> None:
        """SIGSTOP: the process freezes wherever it is, as `kill -STOP` would."""
        until_stopped([self._pause(name)])
        self._note_stopped([self._proc(name)[0]])

    def _note_stopped(self, procs: list[int]) -> None:
        """Tell the sampler what each process was inside when it stopped: the
        time it then spends stopped is not blocked time (engine/stops.py)."""
        if self._sampler is None or self._raw is None:
            return
        mv = B.view(self._raw)
        now = time.monotonic()
        for index in procs:
            base = self.layout.proc(index)
            self._sampler.stops.stopped(index, mv[base + B.P_MARK], mv[base + B.P_SINCE], now)

    def _pause(self, name: str) -> int:
        """SIGSTOP now if the process has armed its death signal, else hold it.

        Why: a process stopped before it has armed PR_SET_PDEATHSIG (or its
        pidfd watch) could never act on it, and would outlive a SIGKILLed
        observer in state T for ever. A held process waits on its board slot
        instead of running its role, and is stopped the moment it is armed
        (by the sampling thread, see `_stop_armed`)."""
        index, proc = self._proc(name)
        if proc.pid is None or proc.exitcode is not None:
            raise EngineError(f"{name} is not running")
        mv = B.view(self._raw)
        base = self.layout.proc(index)
        with self._hold_lock:
            mv[base + B.C_HOLD] = 1
            if not mv[base + B.P_PID]:
                self._held.add(index)
                return proc.pid
        return self._signal(name, signal.SIGSTOP)

    def _stop_armed(self) -> None:
        """Play every held pause whose process has armed itself since."""
        mv = B.view(self._raw)
        with self._hold_lock:
            for index in list(self._held):
                proc = self._procs[index]
                if proc.exitcode is not None:
                    self._held.discard(index)
                elif mv[self.layout.proc(index) + B.P_PID]:
                    self._held.discard(index)
                    with contextlib.suppress(OSError):
                        os.kill(proc.pid, signal.SIGSTOP)
                    if self._sampler is not None:
                        self._sampler.poke.add(index)

    def _unhold(self, index: int) -> None:
        """Forget a held pause: the process goes on (or ends) by itself."""
        with self._hold_lock:
            self._held.discard(index)
            B.view(self._raw)[self.layout.proc(index) + B.C_HOLD] = 0

    def resume(self, name: str) -> None:
        index = self._proc(name)[0]
        self._unhold(index)
        if self._sampler is not None:
            self._sampler.stops.continued(index, time.monotonic())
        self._signal(name, signal.SIGCONT)

    def terminate(self, name: str) -> None:
        self._signal(name, signal.SIGTERM)

    def kill(self, name: str) -> None:
        self._signal(name, signal.SIGKILL)

    def pause_all(self) -> None:
        pids, paused = [], []
        for inst in self.instances:
            with contextlib.suppress(EngineError, OSError):
                pids.append(self._pause(inst.name))
                paused.append(inst.index)
        until_stopped(pids)
        self._note_stopped(paused)

    def pause_many(self, names: list[str]) -> list[str]:
        """SIGSTOP several processes, then wait for them together: a tour that
        pauses ten readers waits once (0.2 s at most), not once per process
        (2 s of a frozen screen). Returns the names it paused."""
        pids, paused, done = [], [], []
        for name in names:
            with contextlib.suppress(EngineError, OSError, KeyError):
                pids.append(self._pause(name))
                paused.append(self._proc(name)[0])
                done.append(name)
        until_stopped(pids)
        self._note_stopped(paused)
        return done

    def resume_all(self) -> None:
        for inst in self.instances:
            with contextlib.suppress(EngineError, OSError):
                self.resume(inst.name)

    def set_rate(self, name: str, rate: float) -> None:
        """Change a producer's (or pinger's) items per second, live; <= 0 = unlimited."""
        index, _ = self._proc(name)
        B.view(self._raw)[self.layout.proc(index) + B.C_RATE_MILLI] = max(0, int(rate * 1000))

    def rate_of(self, name: str) -> float:
        index, _ = self._proc(name)
        cmd = B.view(self._raw)[self.layout.proc(index) + B.C_RATE_MILLI]
        return self.instances[index].spec.rate if cmd < 0 else cmd / 1000.0

    def poison_pill(self, name: str) -> str:
        """Stop `name` with a poison pill down its own input; says who sent it.

        Why its input: a student who selects a worker and asks for a pill
        expects that worker to stop. (Sent down the worker's output instead,
        as it once was, the pill stopped the collector after it.) The observer
        holds no channel end, so a live writer of that input sends it, between
        two of its items; only a writer whose first output is that channel can
        (the one its command slot sends on). When other processes read the same
        channel, whichever takes the pill first is the one that stops: the
        sentence returned says so.
        """
        index, proc = self._proc(name)
        inst = self.instances[index]
        if proc.exitcode is not None:
            raise EngineError(f"{name} has already exited")
        if not inst.spec.inputs or inst.spec.role not in PILL_TAKERS:
            raise EngineError(f"{name} does not stop on a poison pill (it reads no queue or pipe)")
        chan = inst.spec.inputs[0]
        writers = P.writers_of(self.scenario, self.instances)[chan]
        live = [
            w
            for w in writers
            if w != index
            and self._procs[w].exitcode is None
            and self.instances[w].spec.outputs[:1] == (chan,)
        ]
        if not live:
            raise EngineError(f"no live writer of '{chan}' is left to send {name} a poison pill")
        sender = live[0]
        mv = B.view(self._raw)
        mv[self.layout.proc(sender) + B.C_PILLS] += 1
        words = f"sent by {self.instances[sender].name} into '{chan}'"
        readers = [
            self.instances[r].name
            for r in P.readers_of(self.scenario, self.instances)[chan]
            if r != sender and self._procs[r].exitcode is None
        ]
        if len(readers) > 1:
            words += f"; whichever of {', '.join(readers)} takes it first stops"
        needed = self._plans[index].pills_needed
        if needed > 1:
            words += f"; {name} stops after {needed} pills"
        return words

    def process(self, name: str) -> ProcessSample:
        for sample in self.latest.processes:
            if sample.name == name:
                return sample
        raise KeyError(name)


def _join_all(procs: list[Any], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
