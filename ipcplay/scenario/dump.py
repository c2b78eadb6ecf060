"""Write a `Scenario` back as TOML, leaving out defaults so it reads like a preset."""

from __future__ import annotations

from typing import Any

import tomli_w

from ipcplay.scenario import kinds, model
from ipcplay.scenario.load_pool import DEFAULT_POOL, STAR_METHODS
from ipcplay.scenario.load_processes import (
    CPU_COUNT,
    DEFAULT_PAYLOAD,
    DEFAULT_REPLY,
    DEFAULT_WORK,
    SIZED_PAYLOADS,
    payload_size_default,
)
from ipcplay.scenario.load_steps import STEP_MANAGER, STEP_UPDATES
from ipcplay.scenario.load_tour import DEFAULT_TOUR_STEP, TOUR_KEYS
from ipcplay.scenario.model import (
    ChannelSpec,
    Payload,
    ProcessSpec,
    Scenario,
    SharedSpec,
    Step,
    TourStep,
)

_DEFAULT_SCENARIO = Scenario(name="", title="")


def dumps(scenario: Scenario) -> str:
    """Write the file format back, leaving out defaults so the result reads like a preset."""
    parts = [_toml({"scenario": _dump_meta(scenario)})]
    if scenario.challenge is not None:
        parts.append(_toml({"challenge": _dump_challenge(scenario.challenge)}))
    if scenario.channels:
        parts.append(
            _toml(
                {
                    "channels": {
                        channel.name: _dump_channel(channel) for channel in scenario.channels
                    }
                }
            )
        )
    if scenario.shared:
        parts.append(_toml({"shared": {obj.name: _dump_shared(obj) for obj in scenario.shared}}))
    parts += [_dump_process_section(process) for process in scenario.processes]
    parts += ["[[tour]]\n" + _toml(_dump_tour_step(step)) for step in scenario.tour]
    return "\n".join(parts)


def _dump_tour_step(step: TourStep) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in TOUR_KEYS:
        value = getattr(step, field)
        if value != getattr(DEFAULT_TOUR_STEP, field):
            out[field] = (
                _plain(value)
                if isinstance(value, float)
                else list(value)
                if isinstance(value, tuple)
                else value
            )
    return out


def _dump_challenge(challenge: model.Challenge) -> dict[str, Any]:
    out: dict[str, Any] = {"goal": challenge.goal}
    if challenge.on:
        out["on"] = challenge.on
    if challenge.say:
        out["say"] = challenge.say
    return out


def _toml(doc: dict[str, Any]) -> str:
    return tomli_w.dumps(doc, multiline_strings=True)


def _dump_process_section(process: ProcessSpec) -> str:
    """Always `[[process]]`: tomli_w would inline short arrays of tables on one line."""
    fields = _dump_process(process)
    flat = {field: value for field, value in fields.items() if not isinstance(value, dict)}
    tables = {field: value for field, value in fields.items() if isinstance(value, dict)}
    section = "[[process]]\n" + _toml(flat)
    if tables:  # [process.payload] etc. belong to the [[process]] just above
        section += "\n" + _toml({"process": tables})
    return section


def _plain(number: float) -> int | float:
    """30.0 reads better as 30; the loader turns it back into a float."""
    return int(number) if float(number).is_integer() and abs(number) < 1e15 else number


def _dump_meta(scenario: Scenario) -> dict[str, Any]:
    default = _DEFAULT_SCENARIO
    out: dict[str, Any] = {"title": scenario.title}
    if scenario.explain != default.explain:
        out["explain"] = scenario.explain
    if scenario.start_method != default.start_method:
        out["start_method"] = scenario.start_method
    if scenario.seed != default.seed:
        out["seed"] = scenario.seed
    if scenario.expect != default.expect:
        out["expect"] = scenario.expect
    if scenario.duration != default.duration:
        out["duration"] = _plain(scenario.duration)
    if scenario.pitfall:
        out["pitfall"] = scenario.pitfall
    if scenario.pair:
        out["pair"] = scenario.pair
    if scenario.topics:
        out["topics"] = list(scenario.topics)
    return out


def _dump_channel(channel: ChannelSpec) -> dict[str, Any]:
    """Its kind, then each key its kind takes that is not the key's default."""
    out: dict[str, Any] = {"kind": channel.kind}
    for field in kinds.CHANNEL_BY_NAME[channel.kind].keys:
        value = getattr(channel, field)
        if value != kinds.KEYS[field].default:
            out[field] = value
    return out


def _dump_shared(spec: SharedSpec) -> dict[str, Any]:
    """Its kind, then each key its kind takes that it requires or that is not
    the kind's default; tuples (a list in a list, a dict's items) as TOML has them."""
    kind = kinds.SHARED_BY_NAME[spec.kind]
    out: dict[str, Any] = {"kind": spec.kind}
    for field in kind.keys:
        value = getattr(spec, field)
        if field not in kind.required and value == kinds.default_of(kind, field):
            continue
        if kinds.KEYS[field].type == "list":
            value = [_toml_item(item) for item in value]
        elif kinds.KEYS[field].type == "table":
            value = {name: _toml_item(item) for name, item in value}
        out[field] = value
    return out


def _toml_item(item: Any) -> Any:
    return list(item) if isinstance(item, tuple) else item


def _dump_process_step(step: Step) -> dict[str, Any]:
    if step.op == "sleep":
        return {"sleep": _plain(step.ms)}
    if step.op == "notify" and step.amount != 1:
        return {"notify": step.target, "n": step.amount}
    if step.op == "wait_for":
        return {"wait_for": step.target, "until": step.other, "at_least": step.amount}
    if step.op == "write":
        return {"write": step.target, "offset": step.offset, "number": step.amount}
    if step.op == "fill":
        return {"fill": step.target, "byte": step.amount}
    if step.op in STEP_UPDATES:
        out: dict[str, Any] = {"on": step.target, step.op: step.amount}
        if step.locked:
            out["locked"] = True
        return out
    if step.op in STEP_MANAGER:
        out = {"on": step.target, step.op: step.item}
        if step.key is not None:
            out["key"] = step.key
        if step.assign:
            out["assign"] = True
        return out
    if step.op == "put":
        return {"put": step.target, "item": step.item}
    return {step.op: step.target}


def _one_or_list(items: tuple[str, ...]) -> str | list[str]:
    return items[0] if len(items) == 1 else list(items)


def _dump_process(process: ProcessSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": process.name, "role": process.role}
    if process.replicas_cpu_count:
        out["replicas"] = CPU_COUNT
    elif process.replicas != 1:
        out["replicas"] = process.replicas
    if process.inputs and process.role != "steps":  # a steps process's come from its steps
        out["in"] = _one_or_list(process.inputs)
    if process.outputs and process.role != "steps":
        out["out"] = _one_or_list(process.outputs)
    if process.count:
        out["count"] = process.count
    if process.rate:
        out["rate"] = _plain(process.rate)
    if process.payload != DEFAULT_PAYLOAD:
        out["payload"] = _dump_payload(process.payload, DEFAULT_PAYLOAD)
    if process.work != DEFAULT_WORK:
        out["work"] = {
            "kind": process.work.kind,
            **({"ms": _plain(process.work.ms)} if process.work.ms else {}),
        }
    if process.compute != "none":
        out["compute"] = process.compute
    if process.reply != DEFAULT_REPLY:
        out["reply"] = _dump_payload(process.reply, DEFAULT_REPLY)
    if process.ending:
        out["finally"] = _one_or_list(process.ending)
    if not process.task_done:
        out["task_done"] = False
    if process.steps:
        out["steps"] = [_dump_process_step(step) for step in process.steps]
    if process.terminate_after:
        out["terminate_after"] = _plain(process.terminate_after)
    if process.joined_after:
        out["joined_after"] = _plain(process.joined_after)
    if process.join_first:
        out["join_first"] = list(process.join_first)
    if process.join_last:
        out["join_last"] = list(process.join_last)
    if process.pool is not None:
        out["pool"] = _dump_pool(process.pool)
    return out


def _dump_payload(payload: Payload, base: Payload) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": payload.kind}
    if payload.kind in SIZED_PAYLOADS and payload.size != payload_size_default(payload.kind):
        out["size"] = payload.size
    if payload.kind == "text" and payload.text != base.text:
        out["text"] = payload.text
    if payload.kind == "value":
        out["value"] = payload.value
    return out


def _dump_pool(pool: model.PoolSpec) -> dict[str, Any]:
    default = DEFAULT_POOL
    out: dict[str, Any] = {}
    for field in ("processes", "maxtasksperchild", "method", "function"):
        if getattr(pool, field) != getattr(default, field):
            out[field] = getattr(pool, field)
    out["args"] = [_dump_pool_call(call, pool.method) for call in pool.calls]
    for field in ("chunksize", "callback", "error_callback", "resubmit"):
        if getattr(pool, field) != getattr(default, field):
            out[field] = getattr(pool, field)
    for field in ("fail_on", "die_on"):
        if getattr(pool, field):
            out[field] = list(getattr(pool, field))
    if pool.timeout:
        out["timeout"] = _plain(pool.timeout)
    if pool.on_error != default.on_error:
        out["on_error"] = pool.on_error
    if pool.ending != default.ending:
        out["finally"] = list(pool.ending)
    return out


def _dump_pool_call(call: model.PoolCall, method: str) -> Any:
    if call.kwds:
        return dict(call.kwds)
    if len(call.args) == 1 and method not in STAR_METHODS:
        return call.args[0]
    return list(call.args)
