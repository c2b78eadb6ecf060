"""Write a `Scenario` back as TOML, leaving out defaults so it reads like a preset."""

from __future__ import annotations

from typing import Any

import tomli_w

from ipcplay.scenario import model
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
    if scenario.channels:
        parts.append(_toml({"channels": {c.name: _dump_channel(c) for c in scenario.channels}}))
    if scenario.shared:
        parts.append(_toml({"shared": {s.name: _dump_shared(s) for s in scenario.shared}}))
    parts += [_dump_process_section(p) for p in scenario.processes]
    parts += ["[[tour]]\n" + _toml(_dump_tour_step(t)) for t in scenario.tour]
    return "\n".join(parts)


def _dump_tour_step(t: TourStep) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in TOUR_KEYS:
        v = getattr(t, k)
        if v != getattr(DEFAULT_TOUR_STEP, k):
            out[k] = _plain(v) if isinstance(v, float) else v
    return out


def _toml(doc: dict[str, Any]) -> str:
    return tomli_w.dumps(doc, multiline_strings=True)


def _dump_process_section(p: ProcessSpec) -> str:
    """Always `[[process]]`: tomli_w would inline short arrays of tables on one line."""
    fields = _dump_process(p)
    flat = {k: v for k, v in fields.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in fields.items() if isinstance(v, dict)}
    section = "[[process]]\n" + _toml(flat)
    if tables:  # [process.payload] etc. belong to the [[process]] just above
        section += "\n" + _toml({"process": tables})
    return section


def _plain(x: float) -> int | float:
    """30.0 reads better as 30; the loader turns it back into a float."""
    return int(x) if float(x).is_integer() and abs(x) < 1e15 else x


def _dump_meta(s: Scenario) -> dict[str, Any]:
    d = _DEFAULT_SCENARIO
    out: dict[str, Any] = {"title": s.title}
    if s.explain != d.explain:
        out["explain"] = s.explain
    if s.start_method != d.start_method:
        out["start_method"] = s.start_method
    if s.seed != d.seed:
        out["seed"] = s.seed
    if s.expect != d.expect:
        out["expect"] = s.expect
    if s.duration != d.duration:
        out["duration"] = _plain(s.duration)
    if s.pitfall:
        out["pitfall"] = s.pitfall
    if s.pair:
        out["pair"] = s.pair
    if s.topics:
        out["topics"] = list(s.topics)
    return out


def _dump_channel(c: ChannelSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": c.kind}
    if c.maxsize:
        out["maxsize"] = c.maxsize
    if not c.duplex:
        out["duplex"] = False
    if c.reader_keeps_write_end:
        out["reader_keeps_write_end"] = True
    if c.remote:
        out["remote"] = True
    return out


def _dump_shared(s: SharedSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": s.kind}
    if s.kind in model.DATA_KINDS and s.typecode != "i":
        out["typecode"] = s.typecode
    if s.kind == "Value" and s.value:
        out["value"] = s.value
    if s.kind in ("Semaphore", "BoundedSemaphore") and s.value != 1:
        out["value"] = s.value
    if s.kind == "Array":
        out["values"] = list(s.values)
    if s.kind == "Barrier":
        out["parties"] = s.parties
    if s.kind == "SharedMemory":
        out["size"] = s.size
    if s.kind == "ManagerList" and s.values:
        out["values"] = [list(v) if isinstance(v, tuple) else v for v in s.values]
    if s.kind == "ManagerDict" and s.items:
        out["items"] = {k: list(v) if isinstance(v, tuple) else v for k, v in s.items}
    return out


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


def _dump_process(p: ProcessSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "role": p.role}
    if p.replicas_cpu_count:
        out["replicas"] = CPU_COUNT
    elif p.replicas != 1:
        out["replicas"] = p.replicas
    if p.inputs and p.role != "steps":  # a steps process's come from its steps
        out["in"] = _one_or_list(p.inputs)
    if p.outputs and p.role != "steps":
        out["out"] = _one_or_list(p.outputs)
    if p.count:
        out["count"] = p.count
    if p.rate:
        out["rate"] = _plain(p.rate)
    if p.payload != DEFAULT_PAYLOAD:
        out["payload"] = _dump_payload(p.payload, DEFAULT_PAYLOAD)
    if p.work != DEFAULT_WORK:
        out["work"] = {"kind": p.work.kind, **({"ms": _plain(p.work.ms)} if p.work.ms else {})}
    if p.compute != "none":
        out["compute"] = p.compute
    if p.reply != DEFAULT_REPLY:
        out["reply"] = _dump_payload(p.reply, DEFAULT_REPLY)
    if p.ending:
        out["finally"] = _one_or_list(p.ending)
    if not p.task_done:
        out["task_done"] = False
    if p.steps:
        out["steps"] = [_dump_process_step(step) for step in p.steps]
    if p.terminate_after:
        out["terminate_after"] = _plain(p.terminate_after)
    if p.joined_after:
        out["joined_after"] = _plain(p.joined_after)
    if p.join_first:
        out["join_first"] = list(p.join_first)
    if p.join_last:
        out["join_last"] = list(p.join_last)
    if p.pool is not None:
        out["pool"] = _dump_pool(p.pool)
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


def _dump_pool(p: model.PoolSpec) -> dict[str, Any]:
    d = DEFAULT_POOL
    out: dict[str, Any] = {}
    for k in ("processes", "maxtasksperchild", "method", "function"):
        if getattr(p, k) != getattr(d, k):
            out[k] = getattr(p, k)
    out["args"] = [_dump_pool_call(c, p.method) for c in p.calls]
    for k in ("chunksize", "callback", "error_callback", "resubmit"):
        if getattr(p, k) != getattr(d, k):
            out[k] = getattr(p, k)
    for k in ("fail_on", "die_on"):
        if getattr(p, k):
            out[k] = list(getattr(p, k))
    if p.timeout:
        out["timeout"] = _plain(p.timeout)
    if p.on_error != d.on_error:
        out["on_error"] = p.on_error
    if p.ending != d.ending:
        out["finally"] = list(p.ending)
    return out


def _dump_pool_call(c: model.PoolCall, method: str) -> Any:
    if c.kwds:
        return dict(c.kwds)
    if len(c.args) == 1 and method not in STAR_METHODS:
        return c.args[0]
    return list(c.args)
