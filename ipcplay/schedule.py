"""Schedules: the order in which step mode let processes go, as a small
TOML file a person can read and a test can replay.

    # ipcplay schedule: each name did one operation, in this order
    version = 1
    scenario = "value-lost-updates"
    set = ["adder.replicas=2", "adder.count=2"]
    steps = ["adder-1", "adder-2", "adder-1", "adder-2", "go"]

`steps` are process names; "go" lets everything run freely from there (the
`g` key). `set` are the overrides the run was made with (explore's --set),
so a replay runs the same processes. Replaying lets each named process do
one operation once it is at its gate, and waits for that operation to be
over (engine/stepper.py, `settle`) before the next: the same operations in
the same order, so the same lost updates and the same deadlock, every time.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from ipcplay.engine.plan import instances
from ipcplay.engine.stepper import GO, Stepper
from ipcplay.scenario import overrides
from ipcplay.scenario.model import Scenario

VERSION = 1
# How long a replay waits for a process to reach its gate, or for its step
# to be over (a sleep step in between counts), before it says it cannot.
STEP_TIMEOUT_S = 30.0


class ScheduleError(ValueError):
    """A schedule file that cannot be used: one line naming the file, the key
    and what was expected."""


@dataclass(frozen=True)
class Schedule:
    scenario: str
    steps: tuple[str, ...]
    overrides: tuple[str, ...] = ()
    version: int = VERSION
    notes: dict[str, Any] = field(default_factory=dict, compare=False)


def dumps(schedule: Schedule) -> str:
    body: dict[str, Any] = {"version": schedule.version, "scenario": schedule.scenario}
    if schedule.overrides:
        body["set"] = list(schedule.overrides)
    body["steps"] = list(schedule.steps)
    head = "# ipcplay schedule: each name did one operation, in this order; go = ran freely\n"
    return head + tomli_w.dumps(body)


def save(schedule: Schedule, path: str | Path) -> None:
    Path(path).write_text(dumps(schedule), encoding="utf-8")


def load(path: str | Path) -> Schedule:
    """Read a schedule file, or ScheduleError in one line."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScheduleError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ScheduleError(f"{where}: not a text file (expected a TOML schedule)") from None
    return loads(text, where)


def loads(text: str, where: str = "<schedule>") -> Schedule:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"{where}: not valid TOML ({exc})") from None
    version = data.get("version", VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ScheduleError(f"{where}: version: expected a whole number, got {version!r}")
    if version > VERSION:
        raise ScheduleError(
            f"{where}: version: {version} is newer than this ipcplay reads ({VERSION})"
        )
    scenario = data.get("scenario", "")
    if not isinstance(scenario, str):
        raise ScheduleError(f"{where}: scenario: expected a preset name, got {scenario!r}")
    steps = data.get("steps")
    if not isinstance(steps, list) or not all(isinstance(s, str) and s for s in steps):
        raise ScheduleError(f"{where}: steps: expected a list of process names")
    if GO in steps[:-1]:
        raise ScheduleError(f'{where}: steps: "{GO}" may only be the last step')
    overrides = data.get("set", [])
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise ScheduleError(f'{where}: set: expected a list of "PROCESS.KEY=VALUE" strings')
    unknown = sorted(set(data) - {"version", "scenario", "steps", "set"})
    if unknown:
        raise ScheduleError(
            f"{where}: {unknown[0]}: unknown key (expected version, scenario, set, steps)"
        )
    return Schedule(scenario, tuple(steps), tuple(overrides), version)


def check_names(schedule: Schedule, names: list[str], where: str) -> None:
    """Every step names a process of this run, or ScheduleError."""
    for number, step in enumerate(schedule.steps, 1):
        if step != GO and step not in names:
            raise ScheduleError(
                f"{where}: steps[{number}]: expected one of {', '.join(names)}, got {step!r}"
            )


def for_scenario(path: str, scenario: Scenario) -> tuple[Scenario, Schedule]:
    """A schedule file to replay on `scenario`: (the scenario with the
    schedule's `set` applied, the schedule), or a one-line ScheduleError /
    ScenarioError naming the file and the key, before anything starts."""
    plan = load(path)
    if plan.scenario and plan.scenario != scenario.name:
        raise ScheduleError(
            f"{path}: scenario: this schedule is for {plan.scenario!r}, not {scenario.name!r}"
        )
    scenario = overrides.apply(scenario, plan.overrides, where=f"{path}: set")
    check_names(plan, [inst.name for inst in instances(scenario)], path)
    return scenario, plan


@dataclass(frozen=True)
class Played:
    """How a replay went: steps done, and where it could not go on."""

    done: int
    stopped_at: int | None = None  # the 1-based step it could not play
    why: str = ""


def play(
    stepper: Stepper,
    steps: tuple[str, ...] | list[str],
    timeout: float = STEP_TIMEOUT_S,
    on_step: Callable[[int, str], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> Played:
    """Play `steps` on a run in step mode; the run stays in step mode after
    the last one unless it is "go". `on_step(number, name)` is called after
    each step is over (a TUI's progress); `stop()` True ends the replay
    where it is (Ctrl+C, a closed screen)."""
    for number, name in enumerate(steps, 1):
        if name == GO:
            stepper.set_mode(False)
            return Played(number - 1)  # the steps before it: "go" is no operation
        end = time.monotonic() + timeout
        while not stepper.wait_held(name, 0.05):
            if stop is not None and stop():
                return Played(number - 1, number, "stopped")
            if time.monotonic() >= end:
                return Played(number - 1, number, f"{name} did not reach its next operation")
        arrived = stepper.step(name)
        if not arrived:
            return Played(number - 1, number, f"{name} could not be stepped")
        stepper.settle(name, arrived, timeout)
        if on_step is not None:
            on_step(number, name)
    return Played(len(steps))
