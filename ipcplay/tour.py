"""Guided tours: a preset's steps played against a live run.

A tour reads snapshots and steers through the same controls a user has, so a
tour played in the TUI, recorded to a .cast or checked in a test does the same
thing in the same order. It never imports Textual: the TUI shows what fires,
the recorder marks it, tests assert on it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from ipcplay.engine.snapshot import ProcessSample, Snapshot
from ipcplay.engine.stepper import Stepper
from ipcplay.scenario.model import Scenario, TourStep


class Controls(Protocol):
    """What a step may do; the engine and the TUI's sources both offer it."""

    def pause(self, name: str) -> None: ...
    def resume(self, name: str) -> None: ...
    def terminate(self, name: str) -> None: ...
    def kill(self, name: str) -> None: ...
    def pause_all(self) -> None: ...
    def resume_all(self) -> None: ...
    def set_rate(self, name: str, rate: float) -> None: ...
    def poison_pill(self, name: str) -> str: ...


@dataclass(frozen=True)
class Fired:
    """A step that fired, with the state that let it fire, in words."""

    index: int
    total: int
    step: TourStep
    elapsed_s: float  # the run's clock (Snapshot.elapsed_s) when it fired
    met: bool  # False: a state step that timed out
    seen: str  # what the snapshot showed, e.g. "tasks holds 50 of 50"
    done: tuple[str, ...] = ()  # what the step did, e.g. "paused worker-1 (pid 4242)"

    @property
    def label(self) -> str:
        """One line for a caption title or a recording marker."""
        text = self.step.say.strip().splitlines()[0] if self.step.say.strip() else self.seen
        return f"tour {self.index + 1}/{self.total}: {text}"


def starts_stepping(scenario: Scenario) -> bool:
    """Does the tour begin with step mode on (its first step says mode =
    "step" and waits for nothing)? Then the run starts in step mode, every
    process held before its first operation, so that the tour, not the
    machine's timing, chooses the first step."""
    if not scenario.tour:
        return False
    first = scenario.tour[0]
    return first.mode == "step" and not first.when and not first.after


def _few(names: list[str], most: int = 3) -> str:
    """`a, b, c and 7 more`: names for a one-line caption."""
    if len(names) <= most + 1:
        return ", ".join(names)
    return f"{', '.join(names[:most])} and {len(names) - most} more"


def _matches(process: ProcessSample, name: str) -> bool:
    return process.name == name or process.template == name


def check(step: TourStep, snap: Snapshot, since: Snapshot | None = None) -> str | None:
    """What makes a state step fire, in words, or None while it does not hold.

    A queue can fill and a writer block between two samples; the counters
    still say so exactly (a put that found the queue full, time spent
    blocked), so "full" and "blocked" also hold when those grew since `since`,
    the snapshot on which the step began to wait.
    """
    when = step.when
    if when in ("full", "depth"):
        return _channel_check(step, snap, since)
    if when == "blocked":
        return _blocked_check(step, snap, since)
    if when == "exited":
        procs = [process for process in snap.processes if _matches(process, step.on)]
        if procs and all(process.exitcode is not None for process in procs):
            return f"{step.on} has exited"
        return None
    if snap.stuck is not None and (when == "stuck" or snap.stuck.kind == when):
        return snap.stuck.description
    return None


def _channel_check(step: TourStep, snap: Snapshot, since: Snapshot | None) -> str | None:
    """`full` and `depth`: the channel holds enough now, or (full) a put found
    it full since `since`."""
    channel = next((c for c in snap.channels if c.name == step.on), None)
    if channel is None:
        return None
    need = channel.maxsize if step.when == "full" else step.at_least
    if need and channel.depth >= need:
        bound = f" of {channel.maxsize}" if channel.maxsize else ""
        return f"{channel.name} holds {channel.depth}{bound}"
    if step.when == "full":
        earlier = [c.full_hits for c in since.channels if c.name == channel.name] if since else []
        hits = channel.full_hits - (earlier[0] if earlier else 0)
        if hits > 0:
            return f"{channel.name} was full: {hits} put(s) found it at {channel.maxsize}"
    return None


def _blocked_check(step: TourStep, snap: Snapshot, since: Snapshot | None) -> str | None:
    """`blocked`: a process of `on` is blocked now, or was since `since`."""
    procs = [process for process in snap.processes if _matches(process, step.on)]
    hit = next((process for process in procs if process.blocked is not None), None)
    if hit is not None and hit.blocked is not None:
        blocked = hit.blocked
        return f"{hit.name} is blocked in {blocked.op} on '{blocked.channel}'"
    before = {process.name: process.blocked_s for process in since.processes} if since else {}
    for process in procs:
        waited = process.blocked_s - before.get(process.name, 0.0)
        if waited > 1e-3:
            return f"{process.name} was blocked for {waited:.2f} s"
    return None


MIN_GAP_S = 2.0
"""A caption stays at least this long (real seconds) before the next replaces
it: the time to read two lines aloud. A step whose state shows sooner is
looked at when the time is up: a queue that was full or a process that was
blocked meanwhile still counts (check() compares with the snapshot the step
before fired on), a passing depth does not."""
HOLD_S = 5.0
"""Where nobody can press `n` (`ipcplay run --tour`, a recording), a held
step lets the tour go on after this many real seconds."""
STEP_GAP_S = 0.4
"""A tour's `step` lets one operation happen at a time, this many real
seconds apart at least: time to see each one land on the screen. A
schedule replayed by --schedule goes as fast as the processes can."""
STEP_WAIT_S = 30.0
"""How long a tour's `step` waits for a process to reach its gate, or for an
operation to be over, before it gives up on the rest (schedule.py's
STEP_TIMEOUT_S)."""


class TourPlayer:
    """Feeds snapshots to the steps in order; fires each at most once.

    Two clocks, both stopped while the tour is held: the scenario's own time
    (Snapshot.clock_s, slowed by slow motion) for a step's `after` and
    `timeout`, and real time for the reading gap between two captions, which
    is a person's and does not slow down.

    The tour is held by a step with `hold` (until `advance()`, the teacher's
    `n`, or `hold_s` seconds where given), and by anything the screen names in
    `holds` (a pause the teacher made, a caption browsed back to). A step
    never resumes a process named in `protected`: what the teacher paused
    stays paused until the teacher resumes it.
    """

    def __init__(
        self,
        scenario: Scenario,
        controls: Controls | None = None,
        *,
        min_gap_s: float = MIN_GAP_S,
        hold_s: float | None = None,
        step_gap_s: float = STEP_GAP_S,
    ) -> None:
        self.steps = scenario.tour
        self.step_gap_s = step_gap_s
        self.controls = controls
        self.min_gap_s = min_gap_s
        self.hold_s = hold_s
        self.next = 0
        self.fired: list[Fired] = []
        self.holds: set[str] = set()  # the screen's reasons to hold, e.g. "paused"
        self.protected: set[str] = set()  # process names the teacher paused
        self._last: Snapshot | None = None  # the snapshot fed before, for the clocks
        self._last_real: float | None = None  # and the caption clock then
        self._scene = 0.0  # scenario seconds the tour has run (not held)
        self._real = 0.0  # real seconds the tour has run (not held)
        self._since_scene = 0.0  # the tour's clocks when the previous step fired
        self._since_real: float | None = None  # None: no step yet, no gap to keep
        self._base: Snapshot | None = None  # the snapshot it fired on
        self._holding = False  # the last step fired has `hold`
        self._force = False  # the teacher asked for the next step now
        self._ops: list[str] = []  # a `step`'s processes still to go, one operation each
        self._op: tuple[str, int] | None = None  # the one going now: name, gate number
        self._op_real = 0.0  # the caption clock when it went (or the wait began)
        self.stepped: list[str] = []  # what the tour's `step`s did, in words, in order
        if controls is not None and starts_stepping(scenario):
            # A TUI source not started yet starts in step mode (and restarts so);
            # the headless run passes step=True to its Engine the same way.
            switch = getattr(controls, "set_step", None)
            if switch is not None:
                switch(True)

    @property
    def done(self) -> bool:
        return self.next >= len(self.steps)

    @property
    def held(self) -> bool:
        return self._holding or bool(self.holds)

    @property
    def stepping(self) -> bool:
        """A `step` is letting its processes go, one operation at a time."""
        return bool(self._ops) or self._op is not None

    @property
    def waiting_for_teacher(self) -> bool:
        """A step with `hold` fired and waits for `n`."""
        return self._holding

    def advance(self) -> None:
        """The teacher's `n`: end a held step, or fire the next step at the
        next snapshot fed, whatever it waits for; both when the screen holds
        the tour too (a pause by hand), so that `n` always shows something.

        A hold only keeps the tour from going past its step: the time it
        lasted counts for the next step's `after` and the reading gap, so
        after a long explanation `n` moves on at once."""
        if self._holding:
            self._holding = False
            if not self.holds:
                return
        if not self.done:
            self._force = True

    def feed(self, snap: Snapshot, now: float | None = None) -> list[Fired]:
        """Every step that fires on this snapshot (several only when forced
        or with no reading gap).

        `now` is the clock of whoever shows the captions (the TUI's monotonic
        time): a screen busy starting twenty processes may take in several
        snapshots at once, and the reading gap is about when a caption is
        seen. Without it, the run's clock (Snapshot.elapsed_s) is used."""
        last, self._last = self._last, snap
        real = snap.elapsed_s if now is None else now
        last_real, self._last_real = self._last_real, real
        if last is not None and not self.holds:  # a step's own hold keeps the clocks going
            self._scene += max(0.0, snap.clock_s - last.clock_s)
            self._real += max(0.0, real - (last_real if last_real is not None else real))
        out: list[Fired] = []
        if self._holding and self.hold_s is not None and not self.holds:
            assert self._since_real is not None
            if self._real - self._since_real >= self.hold_s:
                self._holding = False
        if self.stepping:
            self._play_ops(snap)
        while not self.done and not self.stepping and (self._force or not self.held):
            step = self.steps[self.next]
            forced, self._force = self._force, False
            waited = self._scene - self._since_scene
            gap_over = self._since_real is None or self._real - self._since_real >= self.min_gap_s
            if step.when:
                if not gap_over and not forced:
                    break  # a full queue, a blocked writer still show then: counted since base
                found = check(step, snap, self._base)
                met = found is not None
                if forced:
                    seen = found or f"shown before it happened: {step.when} {step.on}".rstrip()
                elif not met and waited < step.timeout:
                    break
                elif not met:
                    seen = f"not seen after {step.timeout:g} s: {step.when} {step.on}".rstrip()
                else:
                    seen = found or ""
            else:
                if not forced and (waited < step.after or not gap_over):
                    break
                met, seen = True, f"{snap.elapsed_s:.1f} s into the run"
            acting = time.monotonic()
            done = self._act(step, snap)
            # Pausing ten processes can take a while (each is waited for until
            # it has stopped): the caption is up once that is done, and its
            # reading time starts then.
            acted = time.monotonic() - acting
            acted = acted if acted >= 0.05 else 0.0  # less than a sample: not worth a word
            fired = Fired(self.next, len(self.steps), step, snap.elapsed_s, met, seen, done)
            self.fired.append(fired)
            out.append(fired)
            self.next += 1
            self._since_scene = self._scene
            self._since_real = self._real + acted
            self._base = snap
            if step.hold:
                self._holding = True
            if self.min_gap_s > 0:
                break  # one caption at a time
        return out

    def _play_ops(self, snap: Snapshot) -> None:
        """One more operation of a `step`, once the one before is over (the
        process is at its next gate, blocked inside it, or gone) and the gap
        has passed; a process held before it acts is waited for. What
        schedule.play does, spread over the snapshots so the UI never waits."""
        stepper = self._stepper()
        real = self._real
        if stepper is None:
            self.stepped.append(f"could not step {', '.join(self._ops)}: no step mode here")
            self._ops.clear()
            self._op = None
            return
        if self._op is not None:
            name, arrived = self._op
            if not _op_over(snap, name, arrived):
                if real - self._op_real > STEP_WAIT_S:
                    self._give_up(f"{name}'s operation was not over after {STEP_WAIT_S:g} s")
                return
            self._op = None
            self._op_real = real
        if not self._ops or real - self._op_real < self.step_gap_s:
            return
        name = self._ops[0]
        held = next((h for h in stepper.held() if h.name == name), None) if stepper.on else None
        if held is None:
            if real - self._op_real > STEP_WAIT_S:
                self._give_up(f"{name} did not reach its next operation")
            return
        process = next((p for p in snap.processes if p.name == name), None)
        doing = ""  # its next operation in words, if this snapshot saw it at this gate
        if process is not None and process.next is not None and process.gates == held.arrived:
            doing = process.next.words
        arrived = stepper.step(name)
        if arrived:
            self._ops.pop(0)
            self._op = (name, arrived)
            self._op_real = real
            self.stepped.append(f"{name}: {doing}" if doing else name)

    def _give_up(self, why: str) -> None:
        self.stepped.append(f"stopped stepping: {why} ({len(self._ops)} left)")
        self._ops.clear()
        self._op = None

    def _stepper(self) -> Stepper | None:
        """The run's step-mode controls: the engine's, or a TUI source's."""
        return getattr(self.controls, "stepper", None)

    def _set_mode(self, on: bool) -> None:
        """Step mode on or off through the controls' own switch where they
        have one (a TUI source remembers it for a restart), else the stepper."""
        switch = getattr(self.controls, "set_step", None)
        if switch is not None:
            switch(on)
            return
        stepper = self._stepper()
        if stepper is not None:
            stepper.set_mode(on)

    def _act_steps(self, step: TourStep) -> tuple[str, ...]:
        """`mode` and `step`: step mode on or off, and the operations to let
        happen from the next snapshot on, one at a time (_play_ops)."""
        done: list[str] = []
        stepper = self._stepper()
        if stepper is None:
            return ("no step mode in this run",)
        if step.mode == "go" and stepper.on:
            self._set_mode(False)
            done.append("step mode off: every process runs freely (g)")
        if (step.mode == "step" or step.step) and not stepper.on:
            self._set_mode(True)
            done.append("step mode on: every process stops before its next operation")
        elif step.mode == "step":
            done.append("step mode: every process waits before its next operation")
        if step.step:
            self._ops = list(step.step)
            self._op = None
            self._op_real = self._real - self.step_gap_s  # the first one goes at once
            many = len(step.step)
            ops = "operation" if many == 1 else "operations"
            done.append(f"stepping {_few(list(dict.fromkeys(step.step)))}: {many} {ops}")
        return tuple(done)

    def _act(self, step: TourStep, snap: Snapshot) -> tuple[str, ...]:
        if (step.mode or step.step) and self.controls is not None:
            return self._act_steps(step)
        if not step.do or self.controls is None:
            return ()
        controls = self.controls
        if step.do == "pause-all":
            controls.pause_all()
            return ("paused every process (SIGSTOP)",)
        if step.do == "resume-all":
            return self._resume_all(controls, snap)
        targets = [
            process for process in snap.processes if _matches(process, step.to) and process.alive
        ]
        actions: dict[str, tuple[Callable[[str], object], str]] = {
            "pause": (controls.pause, "paused {} with SIGSTOP"),
            "resume": (controls.resume, "resumed {} with SIGCONT"),
            "terminate": (controls.terminate, "sent SIGTERM to {}"),
            "kill": (controls.kill, "sent SIGKILL to {}"),
            "pill": (controls.poison_pill, "poison pill for {}"),
            "rate": (
                lambda name: controls.set_rate(name, step.rate),
                f"set {{}} to {step.rate:g} items/s",
            ),
        }
        action, words = actions[step.do]
        done = []
        many = getattr(controls, "pause_many", None)  # the engine's: one wait for them all
        if step.do == "pause" and many is not None and len(targets) > 1:
            return _pause_many(many, step, targets, words)
        for process in targets:
            if step.do == "resume" and process.name in self.protected:
                done.append(f"left {process.name} (pid {process.pid}) paused: you paused it")
                continue
            try:
                action(process.name)
            except Exception as exc:  # it exited between the snapshot and now
                done.append(f"{step.do} {process.name}: {exc}")
                continue
            done.append(words.format(f"{process.name} (pid {process.pid})"))
        return tuple(done) or (f"{step.do}: no live process named {step.to}",)

    def _resume_all(self, controls: Controls, snap: Snapshot) -> tuple[str, ...]:
        """Every process resumed, but those the teacher paused by hand."""
        if not self.protected:
            controls.resume_all()
            return ("resumed every process (SIGCONT)",)
        others = [
            process
            for process in snap.processes
            if process.alive and process.name not in self.protected
        ]
        if not others:
            return ("left every process paused: you paused them",)
        for process in others:
            with contextlib.suppress(Exception):
                controls.resume(process.name)
        kept = sorted(
            name
            for name in self.protected
            if any(process.name == name for process in snap.processes)
        )
        return (f"resumed every process but {_few(kept)}, which you paused",)


def _op_over(snap: Snapshot, name: str, arrived: int) -> bool:
    """Is `name`'s operation at gate `arrived` over in this snapshot: at a
    later gate, blocked inside it, or ended?"""
    process = next((p for p in snap.processes if p.name == name), None)
    if process is None or process.exitcode is not None or process.blocked is not None:
        return True
    return process.next is not None and process.gates > arrived


def _pause_many(
    pause_many: Callable[[list[str]], Iterable[str]],
    step: TourStep,
    targets: list[ProcessSample],
    words: str,
) -> tuple[str, ...]:
    """Several processes paused with one wait for them all (the engine's pause_many)."""
    try:
        paused = set(pause_many([process.name for process in targets]))
    except Exception as exc:  # the run was stopped between the snapshot and now
        return (f"pause {step.to}: {exc}",)
    return tuple(
        words.format(f"{process.name} (pid {process.pid})")
        if process.name in paused
        else f"pause {process.name}: it is not running"
        for process in targets
    )
