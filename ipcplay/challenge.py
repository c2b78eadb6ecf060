"""Is a preset's challenge met? Told from one snapshot, nothing else.

A challenge ([challenge] in a preset, scenario/goals.py lists the goals) is
a state the student makes happen by stepping the real processes: a lost
update, a deadlock, a full queue. Whether it is reached is read from what
the engine counted, the same numbers the panels show, so the verdict can
never disagree with the screen: a Value's `lost` (counted adds minus the
value), the stuck detector's deadlock or hang, a queue's depth against its
maxsize, the processes blocked on a Pipe.

Each goal's check returns the words of what was reached ("" while it is
not), so the check and the sentence that reports it are one function, under
the goal's name in CHECKS. The TUI's status line and the headless report
both call `reached` / `verdict` / `met_line`; neither imports Textual here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ipcplay.engine.snapshot import Snapshot, crashed
from ipcplay.engine.stepper import GO
from ipcplay.scenario.goals import GOALS
from ipcplay.scenario.model import Challenge


def _lost_update(snap: Snapshot, on: str) -> str:
    for s in snap.shared:
        if s.name == on and s.lost:
            return f"lost an update on '{on}': {s.value}, expected {s.expected} ({s.lost} lost)"
    return ""


def _waits_on(snap: Snapshot, on: str) -> bool:
    """Is one of the stuck processes waiting on `on`? (True when `on` is "")."""
    if not on or snap.stuck is None:
        return True
    stuck = set(snap.stuck.processes)
    if any(e.obj == on and e.waiter in stuck for e in snap.waits):
        return True
    return any(
        p.name in stuck and p.blocked is not None and p.blocked.channel == on
        for p in snap.processes
    )


def _stuck(kind: str) -> Callable[[Snapshot, str], str]:
    def check(snap: Snapshot, on: str) -> str:
        stuck = snap.stuck
        if stuck is None or stuck.kind != kind or not _waits_on(snap, on):
            return ""
        said = stuck.description
        return said if said.startswith(kind) else f"{kind}: {said}" if said else kind

    return check


def _no_deadlock(snap: Snapshot, on: str) -> str:
    if not snap.finished or snap.stuck is not None or crashed(snap.processes):
        return ""
    if any(p.stopped_by_engine or p.exitcode not in (0, None) for p in snap.processes):
        return ""
    return f"finished without deadlock: all {len(snap.processes)} processes exited 0"


def _queue_full(snap: Snapshot, on: str) -> str:
    for c in snap.channels:
        if c.name == on and c.maxsize > 0 and c.depth >= c.maxsize:
            return f"'{on}' is full: {c.depth}/{c.maxsize}"
    return ""


def _both_wait(snap: Snapshot, on: str) -> str:
    """Every process at an end of the Pipe is blocked, one of them on the
    Pipe itself: no end can do anything for the other. (With two processes
    and a Pipe alone this never depends on the order; a lock held across a
    recv is what makes it a challenge, so the other end's wait may be on
    that lock.)"""
    channel = next((c for c in snap.channels if c.name == on), None)
    if channel is None:
        return ""
    ends = set(channel.writers) | set(channel.readers)
    users = [p for p in snap.processes if p.name in ends]
    if len(users) < 2 or any(p.blocked is None for p in users):
        return ""
    if not any(p.blocked is not None and p.blocked.channel == on for p in users):
        return ""
    said = " and ".join(
        f"{p.name} in {p.blocked.op} on '{p.blocked.channel}'"
        for p in users
        if p.blocked is not None
    )
    return f"both ends of '{on}' wait: {said}"


# Every goal of scenario/goals.py, by name: the words of what was reached, or "".
CHECKS: dict[str, Callable[[Snapshot, str], str]] = {
    "lost-update": _lost_update,
    "deadlock": _stuck("deadlock"),
    "no-deadlock": _no_deadlock,
    "queue-full": _queue_full,
    "hang": _stuck("hang"),
    "both-wait": _both_wait,
}


def verdict(challenge: Challenge, snapshot: Snapshot) -> str:
    """What the snapshot shows of the goal, in words, or "" while it is not
    reached: "lost an update on 'counter': 3, expected 4 (1 lost)"."""
    return CHECKS[challenge.goal](snapshot, challenge.on)


def reached(challenge: Challenge, snapshot: Snapshot) -> bool:
    """Is the goal reached in this snapshot?"""
    return bool(verdict(challenge, snapshot))


def task(challenge: Challenge) -> str:
    """The task in a few words, from the goals table: "lose an update on 'counter'"."""
    return GOALS[challenge.goal].task_words(challenge.on)


def steps_taken(schedule: Sequence[str]) -> int:
    """Operations the student let happen one at a time (the stepper's
    schedule without its "go"s: a free run is not a step)."""
    return sum(1 for name in schedule if name != GO)


def met_line(challenge: Challenge, snapshot: Snapshot, steps: int) -> str:
    """The status line's verdict once reached, "" before:
    "CHALLENGE MET in 8 steps: lost an update on 'counter': 3, expected 4 (1 lost)"."""
    words = verdict(challenge, snapshot)
    if not words:
        return ""
    unit = "step" if steps == 1 else "steps"
    return f"CHALLENGE MET in {steps} {unit}: {words}"


GOAL_WAIT_S = 3.0
"""After a schedule is replayed, how long to look for its goal before the
run goes free: the stuck detector names a deadlock or a hang only once the
waits have not moved for a second (the engine's hang_after)."""


def wait_reached(
    challenge: Challenge,
    latest: Callable[[], Snapshot | None],
    timeout: float = GOAL_WAIT_S,
    stop: Callable[[], bool] | None = None,
) -> Snapshot | None:
    """The first snapshot `latest()` gives that shows the goal reached,
    polled until `timeout`; None if none did (or `stop()` said so)."""
    deadline = time.monotonic() + timeout
    while True:
        snap = latest()
        if snap is not None and reached(challenge, snap):
            return snap
        if time.monotonic() >= deadline or (stop is not None and stop()):
            return None
        time.sleep(0.02)


def summary(challenge: Challenge, snapshot: Snapshot | None, steps: int) -> dict[str, Any]:
    """The report's `challenge` section: the goal, whether `snapshot` shows
    it reached, in how many steps, and the verdict's words."""
    words = verdict(challenge, snapshot) if snapshot is not None else ""
    return {
        "goal": challenge.goal,
        "on": challenge.on or None,
        "task": task(challenge),
        "reached": bool(words),
        "steps": steps,
        "verdict": words or None,
    }


def summary_line(section: dict[str, Any]) -> str:
    """The text report's line for a `summary`."""
    if section["reached"]:
        unit = "step" if section["steps"] == 1 else "steps"
        return f"CHALLENGE MET in {section['steps']} {unit}: {section['verdict']}"
    return f"challenge not met: {section['task']}"
