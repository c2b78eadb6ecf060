"""The [[tour]] steps: captions, what each waits for and what it does."""

from __future__ import annotations

from typing import Any

from ipcplay.safetext import neutralise
from ipcplay.scenario import model
from ipcplay.scenario.checks import (
    as_bool,
    as_choice,
    as_float,
    as_int,
    as_str,
    as_table,
    check_keys,
    described,
    fail,
    show,
    subkey,
    suggest,
)
from ipcplay.scenario.load_processes import replica_names
from ipcplay.scenario.model import ChannelSpec, ProcessSpec, TourStep

TOUR_KEYS = (
    "say",
    "after",
    "when",
    "on",
    "at_least",
    "timeout",
    "do",
    "to",
    "rate",
    "highlight",
    "hold",
    "mode",
    "step",
)
_ON_CHANNEL = ("full", "depth")
_ON_PROCESS = ("blocked", "exited")
DEFAULT_TOUR_STEP = TourStep()


def parse_tour(
    value: Any, channels: dict[str, ChannelSpec], processes: list[ProcessSpec]
) -> tuple[TourStep, ...]:
    if not isinstance(value, list):
        fail("tour", f"expected [[tour]] steps, got {described(value)}")
    if len(value) > model.MAX_TOUR_STEPS:
        fail("tour", f"{len(value)} steps, over the MAX_TOUR_STEPS cap of {model.MAX_TOUR_STEPS}")
    procs = {process.name: process for process in processes}
    for process in processes:
        for inst in replica_names(process):
            procs.setdefault(inst, process)
    return tuple(
        _parse_tour_step(f"tour[{index}]", step, channels, procs)
        for index, step in enumerate(value)
    )


def _parse_tour_step(
    key: str, value: Any, channels: dict[str, ChannelSpec], procs: dict[str, ProcessSpec]
) -> TourStep:
    table = as_table(value, key, "a [[tour]] step table")
    check_keys(table, key, TOUR_KEYS)
    fields: dict[str, Any] = {}
    if "say" in table:
        fields["say"] = neutralise(as_str(table["say"], subkey(key, "say")), multiline=True)
    if "after" in table and "when" in table:
        fail(key, "has both 'after' and 'when'; a step waits for a time or for a state, not both")
    if "after" in table:
        fields["after"] = as_float(
            table["after"], subkey(key, "after"), 0, model.MAX_SECONDS, "MAX_SECONDS"
        )
    fields.update(_tour_wait(key, table, channels, procs))
    fields.update(_tour_action(key, table, channels, procs))
    fields.update(_tour_stepping(key, table, procs))
    if "highlight" in table:
        name = as_str(table["highlight"], subkey(key, "highlight"), "a channel or process name")
        if name not in channels and name not in procs:
            known = [*channels, *procs]
            fail(
                subkey(key, "highlight"),
                f"no channel or process named {show(name)}{suggest(name, known)}",
            )
        fields["highlight"] = name
    if "hold" in table:
        fields["hold"] = as_bool(table["hold"], subkey(key, "hold"))
    if not any(fields.get(field) for field in ("say", "do", "highlight", "mode", "step")):
        fail(key, "does nothing; expected one of 'say', 'do', 'highlight', 'mode', 'step'")
    return TourStep(**fields)


def _tour_wait(
    key: str, table: dict[str, Any], channels: dict[str, ChannelSpec], procs: dict[str, ProcessSpec]
) -> dict[str, Any]:
    """`when`, and the keys that say what it waits on: `on`, `at_least`, `timeout`."""
    if "when" not in table:
        for field in ("on", "at_least", "timeout"):
            if field in table:
                fail(subkey(key, field), "applies only to a step with 'when'")
        return {}
    fields: dict[str, Any] = {}
    when = fields["when"] = as_choice(table["when"], subkey(key, "when"), model.TOUR_WHEN)
    if when in _ON_CHANNEL + _ON_PROCESS:
        if "on" not in table:
            what = "channel" if when in _ON_CHANNEL else "process"
            fail(subkey(key, "on"), f"missing; 'when = \"{when}\"' needs the {what} it is about")
        fields["on"] = _tour_target(
            table["on"], subkey(key, "on"), when in _ON_CHANNEL, channels, procs
        )
        if when == "full" and not channels[fields["on"]].maxsize:
            fail(
                subkey(key, "on"),
                f"channel {show(fields['on'])} has no maxsize, so it is never full",
            )
    elif "on" in table:
        fail(subkey(key, "on"), f"does not apply to 'when = \"{when}\"'")
    if when == "depth":
        if "at_least" not in table:
            fail(subkey(key, "at_least"), "missing; 'when = \"depth\"' needs a number of items")
        fields["at_least"] = as_int(table["at_least"], subkey(key, "at_least"), 1, model.MAX_COUNT)
    elif "at_least" in table:
        fail(subkey(key, "at_least"), "applies only to 'when = \"depth\"'")
    if "timeout" in table:
        where = subkey(key, "timeout")
        fields["timeout"] = as_float(
            table["timeout"], where, 0, model.MAX_SECONDS, "MAX_SECONDS", above=True
        )
    return fields


def _tour_action(
    key: str, table: dict[str, Any], channels: dict[str, ChannelSpec], procs: dict[str, ProcessSpec]
) -> dict[str, Any]:
    """`do`, and the keys that say what it acts on: `to` and, for "rate", `rate`."""
    if "do" not in table:
        for field in ("to", "rate"):
            if field in table:
                fail(subkey(key, field), "applies only to a step with 'do'")
        return {}
    fields: dict[str, Any] = {}
    do = fields["do"] = as_choice(table["do"], subkey(key, "do"), model.TOUR_DO)
    if do in ("pause-all", "resume-all"):
        if "to" in table:
            fail(subkey(key, "to"), f"does not apply to 'do = \"{do}\"' (every process)")
    else:
        if "to" not in table:
            fail(subkey(key, "to"), f"missing; 'do = \"{do}\"' needs the process to act on")
        fields["to"] = _tour_target(table["to"], subkey(key, "to"), False, channels, procs)
        spec = procs[fields["to"]]
        if do == "rate" and spec.role not in ("producer", "pinger"):
            fail(
                subkey(key, "to"),
                f"{show(fields['to'])} is a {spec.role}; only a producer or pinger has a rate",
            )
        if do == "pill" and not spec.inputs:
            fail(
                subkey(key, "to"),
                f"{show(fields['to'])} reads no channel, so a poison pill cannot reach it",
            )
    if do == "rate":
        if "rate" not in table:
            fail(subkey(key, "rate"), "missing; 'do = \"rate\"' needs items per second")
        fields["rate"] = as_float(
            table["rate"], subkey(key, "rate"), 0, model.MAX_RATE, "MAX_RATE", above=True
        )
    elif "rate" in table:
        fail(subkey(key, "rate"), "applies only to 'do = \"rate\"'")
    return fields


def _tour_stepping(
    key: str, table: dict[str, Any], procs: dict[str, ProcessSpec]
) -> dict[str, Any]:
    """`mode` (step mode on or off) and `step` (process instances that each
    do one operation, in order): what a schedule file says, inside a tour."""
    fields: dict[str, Any] = {}
    if "mode" in table:
        fields["mode"] = as_choice(table["mode"], subkey(key, "mode"), model.TOUR_MODES)
    if "step" not in table:
        return fields
    where = subkey(key, "step")
    if fields.get("mode") == "go":
        fail(where, 'does not apply with mode = "go" (every process runs freely)')
    if "do" in table:
        fail(where, "cannot share a tour step with 'do'; put them in two steps")
    names = table["step"]
    if not isinstance(names, list):
        fail(
            where,
            f'expected a list of process names such as ["left", "right"], got {described(names)}',
        )
    if not names:
        fail(where, "expected at least one process name, got an empty list")
    if len(names) > model.MAX_TOUR_STEP_OPS:
        fail(
            where,
            f"{len(names)} operations, over the MAX_TOUR_STEP_OPS cap of {model.MAX_TOUR_STEP_OPS}",
        )
    instances = [
        name for name, spec in procs.items() if name in (replica_names(spec) or [spec.name])
    ]
    for index, name in enumerate(names):
        item = as_str(name, f"{where}[{index}]", "a process name (a string)")
        if item not in instances:
            fail(f"{where}[{index}]", f"no process named {show(item)}{suggest(item, instances)}")
    return {**fields, "step": tuple(names)}


def _tour_target(
    value: Any,
    key: str,
    channel: bool,
    channels: dict[str, ChannelSpec],
    procs: dict[str, ProcessSpec],
) -> str:
    what = "channel" if channel else "process"
    name = as_str(value, key, f"a {what} name (a string)")
    known = channels if channel else procs
    if name not in known:
        fail(key, f"no {what} named {show(name)}{suggest(name, list(known))}")
    return name
