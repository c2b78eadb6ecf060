"""The [challenge] table: a goal to reach by stepping, checked against the
goals table (scenario/goals.py) and the objects the scenario declares."""

from __future__ import annotations

from typing import Any

from ipcplay.safetext import neutralise
from ipcplay.scenario import kinds
from ipcplay.scenario.checks import as_str, as_table, check_keys, fail, show, suggest
from ipcplay.scenario.goals import GOALS, Goal
from ipcplay.scenario.model import Challenge, ChannelSpec, SharedSpec

CHALLENGE_KEYS = ("goal", "on", "say")


def parse_challenge(
    value: Any, channels: dict[str, ChannelSpec], shared: dict[str, SharedSpec]
) -> Challenge:
    table = as_table(value, "challenge", "a [challenge] table")
    check_keys(table, "challenge", CHALLENGE_KEYS)
    if "goal" not in table:
        fail("challenge.goal", f"missing; expected one of {', '.join(GOALS)}")
    name = as_str(table["goal"], "challenge.goal", "a goal name (a string)")
    goal = GOALS.get(name)
    if goal is None:
        fail(
            "challenge.goal",
            f"expected one of {', '.join(GOALS)}, got {show(name)}{suggest(name, list(GOALS))}",
        )
    on = _on(goal, table, channels, shared)
    say = ""
    if "say" in table:
        say = neutralise(as_str(table["say"], "challenge.say"), multiline=True)
    return Challenge(goal.name, on, say)


_WANTS = {
    "value": "a shared Value",
    "bounded": "a queue with a maxsize",
    "pipe": "a Pipe",
    "object": "a channel or shared object",
}


def _on(
    goal: Goal,
    table: dict[str, Any],
    channels: dict[str, ChannelSpec],
    shared: dict[str, SharedSpec],
) -> str:
    """The object the goal is about: required, optional or refused, as the
    goal says, and of the kind it must be."""
    if not goal.on:
        if "on" in table:
            fail("challenge.on", f'does not apply to goal = "{goal.name}" (it is about no object)')
        return ""
    if "on" not in table:
        if goal.needs_on:
            fail("challenge.on", f'missing; goal = "{goal.name}" needs {_WANTS[goal.on]}')
        return ""
    name = as_str(table["on"], "challenge.on", f"{_WANTS[goal.on]} (its name)")
    known = {**channels, **shared}
    if name not in known:
        known_names = list(known)
        fail(
            "challenge.on",
            f"no channel or shared object named {show(name)}{suggest(name, known_names)}",
        )
    if goal.on == "value" and (name not in shared or shared[name].kind != "Value"):
        fail("challenge.on", f"{show(name)} is not a Value; an update is lost on a Value")
    if goal.on == "bounded":
        channel = channels.get(name)
        if channel is None or not kinds.channel_has(channel.kind, "bounded") or not channel.maxsize:
            fail("challenge.on", f"{show(name)} is not a queue with a maxsize, so it is never full")
    if goal.on == "pipe":
        channel = channels.get(name)
        if channel is None or not kinds.channel_has(channel.kind, "pipe_like"):
            fail("challenge.on", f"{show(name)} is not a Pipe")
    return name
