"""Guided tours: a preset's steps played against a live run.

A tour reads snapshots and steers through the same controls a user has, so a
tour played in the TUI, recorded to a .cast or checked in a test does the same
thing in the same order. It never imports Textual: the TUI shows what fires,
the recorder marks it, tests assert on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ipcplay.engine.snapshot import ProcessSample, Snapshot
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


def _matches(p: ProcessSample, name: str) -> bool:
    return p.name == name or p.template == name


def check(step: TourStep, snap: Snapshot, since: Snapshot | None = None) -> str | None:
    """What makes a state step fire, in words, or None while it does not hold.

    A queue can fill and a writer block between two samples; the counters
    still say so exactly (a put that found the queue full, time spent
    blocked), so "full" and "blocked" also hold when those grew since `since`,
    the snapshot on which the step began to wait.
    """
    when = step.when
    if when in ("full", "depth"):
        c = next((c for c in snap.channels if c.name == step.on), None)
        if c is None:
            return None
        need = c.maxsize if when == "full" else step.at_least
        if need and c.depth >= need:
            return f"{c.name} holds {c.depth}" + (f" of {c.maxsize}" if c.maxsize else "")
        if when == "full":
            before = (
                next((b.full_hits for b in since.channels if b.name == c.name), 0) if since else 0
            )
            if c.full_hits > before:
                return f"{c.name} was full: {c.full_hits - before} put(s) found it at {c.maxsize}"
        return None
    if when in ("blocked", "exited"):
        procs = [p for p in snap.processes if _matches(p, step.on)]
        if when == "blocked":
            hit = next((p for p in procs if p.blocked is not None), None)
            if hit is not None and hit.blocked is not None:
                b = hit.blocked
                return f"{hit.name} is blocked in {b.op} on '{b.channel}'"
            before = {p.name: p.blocked_s for p in since.processes} if since else {}
            grew = next((p for p in procs if p.blocked_s > before.get(p.name, 0.0) + 1e-3), None)
            if grew is not None:
                waited = grew.blocked_s - before.get(grew.name, 0.0)
                return f"{grew.name} was blocked for {waited:.2f} s"
            return None
        if procs and all(p.exitcode is not None for p in procs):
            return f"{step.on} has exited"
        return None
    if snap.stuck is not None and (when == "stuck" or snap.stuck.kind == when):
        return snap.stuck.description
    return None


class TourPlayer:
    """Feeds snapshots to the steps in order; fires each at most once."""

    def __init__(self, scenario: Scenario, controls: Controls | None = None) -> None:
        self.steps = scenario.tour
        self.controls = controls
        self.next = 0
        self._since: float | None = None  # when the previous step fired (run clock)
        self._base: Snapshot | None = None  # the snapshot it fired on
        self.fired: list[Fired] = []

    @property
    def done(self) -> bool:
        return self.next >= len(self.steps)

    def feed(self, snap: Snapshot) -> list[Fired]:
        """Every step that fires on this snapshot (several when each holds)."""
        out: list[Fired] = []
        if self._since is None:
            self._since = snap.elapsed_s
        while not self.done:
            step = self.steps[self.next]
            waited = snap.elapsed_s - self._since
            if step.when:
                seen = check(step, snap, self._base)
                met = seen is not None
                if not met:
                    if waited < step.timeout:
                        break
                    seen = f"not seen after {step.timeout:g} s: {step.when} {step.on}".rstrip()
            else:
                if waited < step.after:
                    break
                met, seen = True, f"{snap.elapsed_s:.1f} s into the run"
            done = self._act(step, snap)
            fired = Fired(self.next, len(self.steps), step, snap.elapsed_s, met, seen or "", done)
            self.fired.append(fired)
            out.append(fired)
            self.next += 1
            self._since = snap.elapsed_s
            self._base = snap
        return out

    def _act(self, step: TourStep, snap: Snapshot) -> tuple[str, ...]:
        if not step.do or self.controls is None:
            return ()
        c = self.controls
        if step.do == "pause-all":
            c.pause_all()
            return ("paused every process (SIGSTOP)",)
        if step.do == "resume-all":
            c.resume_all()
            return ("resumed every process (SIGCONT)",)
        targets = [p for p in snap.processes if _matches(p, step.to) and p.alive]
        actions: dict[str, tuple[Callable[[str], object], str]] = {
            "pause": (c.pause, "paused {} with SIGSTOP"),
            "resume": (c.resume, "resumed {} with SIGCONT"),
            "terminate": (c.terminate, "sent SIGTERM to {}"),
            "kill": (c.kill, "sent SIGKILL to {}"),
            "pill": (c.poison_pill, "poison pill for {}"),
            "rate": (lambda n: c.set_rate(n, step.rate), f"set {{}} to {step.rate:g} items/s"),
        }
        fn, words = actions[step.do]
        done = []
        for p in targets:
            try:
                fn(p.name)
            except Exception as exc:  # it exited between the snapshot and now
                done.append(f"{step.do} {p.name}: {exc}")
                continue
            done.append(words.format(f"{p.name} (pid {p.pid})"))
        return tuple(done) or (f"{step.do}: no live process named {step.to}",)
