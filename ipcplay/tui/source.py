"""Where the app's snapshots come from: a live engine, or a frozen picture.

The app depends only on `SnapshotSource`, so tests and screenshots can feed
it a fixed snapshot while the real thing drives real processes.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from ipcplay.engine.snapshot import Snapshot
from ipcplay.engine.stepper import Stepper
from ipcplay.engine.supervisor import Engine
from ipcplay.scenario.model import Scenario

Deliver = Callable[[Snapshot, int], None]


class _EngineThread:
    """One long-lived thread that starts and stops every engine of the app, in
    order. Children get PR_SET_PDEATHSIG, which fires when the *thread* that
    forked them ends, so they must not be started from short-lived threads.

    A plain thread, not a ThreadPoolExecutor: a child forked from an
    executor's worker inherits the executor's exit hook, which at the child's
    exit tries to join that very thread, fails, and turns every forked child's
    clean exit into status 1.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, call: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="ipcplay-engine", daemon=True
                )
                self._thread.start()
        self._jobs.put((future, call))
        return future

    def _run(self) -> None:
        while True:
            future, call = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:  # reported through the future, as an executor would
                future.set_exception(exc)


_ENGINE_THREAD = _EngineThread()


class SnapshotSource(Protocol):
    scenario: Scenario
    hz: float

    def start(self, deliver: Deliver) -> Future[None]: ...
    def restart(self) -> Future[None]: ...
    def stop(self) -> Future[None]: ...
    def stop_now(self) -> None: ...
    def now(self) -> float: ...
    def pause(self, name: str) -> None: ...
    def resume(self, name: str) -> None: ...
    def terminate(self, name: str) -> None: ...
    def kill(self, name: str) -> None: ...
    def pause_all(self) -> None: ...
    def resume_all(self) -> None: ...
    def set_rate(self, name: str, rate: float) -> None: ...
    def rate_of(self, name: str) -> float: ...
    def poison_pill(self, name: str) -> str: ...
    def set_hz(self, hz: float) -> None: ...
    @property
    def speed(self) -> float: ...
    def set_speed(self, speed: float) -> None: ...


class Stepping:
    """Step mode's controls of a source whose `_engine` (a scenario's Engine
    or a program's ProgramEngine) has a `stepper`, and whose `step` says how
    a (re)start begins."""

    _engine: Any
    step: bool

    @property
    def stepper(self) -> Stepper | None:
        """Step mode's controls of the run now (engine/stepper.py), if one runs."""
        engine = self._engine
        return engine.stepper if engine is not None else None

    def set_step(self, on: bool) -> None:
        """Step mode on or off now (`s`, `g`); a restart starts the same way."""
        self.step = on
        stepper = self.stepper
        if stepper is not None:
            stepper.set_mode(on)


class EngineSource(Stepping):
    """Real processes: an Engine started and stopped on the engine thread."""

    def __init__(
        self,
        scenario: Scenario,
        hz: float = 10.0,
        journal_events: int = 16384,
        step: bool = False,
    ) -> None:
        self.scenario = scenario
        self.hz = hz
        self._journal_events = journal_events
        # A challenge is met by stepping: its run opens held, as --step would.
        self.step = step or scenario.challenge is not None
        """Start (and restart) with every process held at its first gate."""
        self._engine: Engine | None = None
        self._deliver: Deliver | None = None
        self.generation = 0
        self._speed = 1.0  # slow motion; kept across a restart

    def start(self, deliver: Deliver) -> Future[None]:
        self._deliver = deliver
        return _ENGINE_THREAD.submit(self._start)

    def _start(self) -> None:
        self.generation += 1
        gen = self.generation
        deliver = self._deliver

        def on_snapshot(snap: Snapshot) -> None:
            if deliver is not None:
                deliver(snap, gen)

        engine = Engine(
            self.scenario,
            journal_events=self._journal_events,
            sample_hz=self.hz,
            on_snapshot=on_snapshot,
            hang_after=1.0,
            speed=self._speed,
            step=self.step,
        )
        self._engine = engine
        engine.start()

    def _stop(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            final = engine.shutdown()
            if self._deliver is not None:
                self._deliver(final, self.generation)

    def restart(self) -> Future[None]:
        def again() -> None:
            self._stop()
            self._start()

        return _ENGINE_THREAD.submit(again)

    def stop(self) -> Future[None]:
        return _ENGINE_THREAD.submit(self._stop)

    def stop_now(self) -> None:
        """Synchronous stop, for exit paths where the event loop is gone.

        On the engine thread, after what it is doing: a stop the screen began
        may be under way there, and returning before it ends let the
        interpreter's exit hook join a process that stop was closing
        ("process object is closed", a traceback after a crash's one line)."""
        try:
            self.stop().result(timeout=30)
        except TimeoutError:  # the engine thread is stuck: stop from here
            self._stop()

    @property
    def running(self) -> bool:
        """An engine is started and not yet stopped (its processes may exist)."""
        return self._engine is not None

    def now(self) -> float:
        return time.monotonic()

    def _e(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("the scenario is not running")
        return self._engine

    def pause(self, name: str) -> None:
        self._e().pause(name)

    def resume(self, name: str) -> None:
        self._e().resume(name)

    def terminate(self, name: str) -> None:
        self._e().terminate(name)

    def kill(self, name: str) -> None:
        self._e().kill(name)

    def pause_all(self) -> None:
        self._e().pause_all()

    def pause_many(self, names: list[str]) -> list[str]:
        return self._e().pause_many(names)

    def resume_all(self) -> None:
        self._e().resume_all()

    def set_rate(self, name: str, rate: float) -> None:
        self._e().set_rate(name, rate)

    def rate_of(self, name: str) -> float:
        return self._e().rate_of(name)

    def poison_pill(self, name: str) -> str:
        return self._e().poison_pill(name)

    def set_hz(self, hz: float) -> None:
        self.hz = hz
        if self._engine is not None:
            self._engine.set_sample_rate(hz)

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Slow motion, live: the running children read it within 50 ms."""
        engine = self._engine
        if engine is not None:
            engine.set_speed(speed)
        self._speed = speed


class FrozenSource:
    """A fixed snapshot and a fixed clock: deterministic pictures for tests.

    Controls are recorded, not performed: there are no processes behind it.
    """

    def __init__(self, scenario: Scenario, snapshot: Snapshot, hz: float = 10.0) -> None:
        self.scenario = scenario
        self.snapshot = snapshot
        self.hz = hz
        self.calls: list[tuple[str, ...]] = []
        self.generation = 1

    def _done(self) -> Future[None]:
        f: Future[None] = Future()
        f.set_result(None)
        return f

    def start(self, deliver: Deliver) -> Future[None]:
        deliver(self.snapshot, self.generation)
        return self._done()

    def restart(self) -> Future[None]:
        self.calls.append(("restart",))
        return self._done()

    def stop(self) -> Future[None]:
        return self._done()

    def stop_now(self) -> None:
        pass

    def now(self) -> float:
        return self.snapshot.t + 0.05

    def _record(self, *call: str) -> None:
        self.calls.append(call)

    def pause(self, name: str) -> None:
        self._record("pause", name)

    def resume(self, name: str) -> None:
        self._record("resume", name)

    def terminate(self, name: str) -> None:
        self._record("terminate", name)

    def kill(self, name: str) -> None:
        self._record("kill", name)

    def pause_all(self) -> None:
        self._record("pause_all")

    def resume_all(self) -> None:
        self._record("resume_all")

    def set_rate(self, name: str, rate: float) -> None:
        self._record("set_rate", name, f"{rate:g}")

    def rate_of(self, name: str) -> float:
        for proc in self.scenario.processes:
            if name == proc.name or name.startswith(proc.name + "-"):
                return proc.rate
        return 0.0

    def poison_pill(self, name: str) -> str:
        self._record("poison_pill", name)
        return name

    def set_hz(self, hz: float) -> None:
        self.hz = hz

    @property
    def speed(self) -> float:
        return self.snapshot.speed

    def set_speed(self, speed: float) -> None:
        from dataclasses import replace

        self._record("set_speed", f"{speed:g}")
        self.snapshot = replace(self.snapshot, speed=speed)
