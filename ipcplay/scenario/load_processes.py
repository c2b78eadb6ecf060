"""The [[process]] tables, and the rules that need every process at once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ipcplay.safetext import neutralise
from ipcplay.scenario import kinds, model
from ipcplay.scenario.checks import (
    as_bool,
    as_choice,
    as_float,
    as_identifier,
    as_int,
    as_names,
    as_str,
    as_table,
    check_keys,
    described,
    fail,
    show,
    subkey,
    suggest,
)
from ipcplay.scenario.load_channels import missing_hint
from ipcplay.scenario.load_pool import parse_pool
from ipcplay.scenario.load_steps import parse_steps
from ipcplay.scenario.model import ChannelSpec, Payload, ProcessSpec, SharedSpec, Work

_PROCESS_KEYS = (
    "name",
    "role",
    "replicas",
    "in",
    "out",
    "count",
    "rate",
    "payload",
    "work",
    "compute",
    "reply",
    "finally",
    "task_done",
    "steps",
    "terminate_after",
    "join_first",
    "join_last",
    "joined_after",
    "pool",
)


# Keys of a [[process]] that mean nothing to a `steps` process.
_NOT_FOR_STEPS = ("rate", "payload", "work", "compute", "reply", "finally", "task_done")
_PAYLOAD_KEYS = ("kind", "size", "text", "value")
_WORK_KEYS = ("kind", "ms")
SIZED_PAYLOADS = ("bytes", "text")
DEFAULT_PAYLOAD = Payload()
DEFAULT_REPLY = ProcessSpec(name="x", role="ponger").reply
DEFAULT_WORK = Work()
CPU_COUNT = "cpu_count"


# (min inputs, max inputs, min outputs, max outputs); None = no upper bound.
_SHAPES: dict[str, tuple[int, int | None, int, int | None]] = {
    "producer": (0, 0, 1, None),
    "consumer": (1, 1, 0, 0),
    "worker": (1, 1, 1, None),
    "pinger": (1, 1, 1, 1),
    "ponger": (1, 1, 1, 1),
    "steps": (0, 0, 0, 0),
    "globals": (0, 0, 0, 0),
    "coroutines": (0, 0, 0, 0),
    "pool": (0, 0, 0, 0),
}


# A demo role's `count`: increments of its global, items its producer sends.
_DEMO_COUNT = {"globals": 3, "coroutines": 5}
_MAX_DEMO_COUNT = 1000


def parse_processes(
    doc: dict[str, Any], channels: dict[str, ChannelSpec], shared: dict[str, SharedSpec]
) -> list[ProcessSpec]:
    if "process" not in doc:
        fail("process", "no processes; add at least one [[process]] table")
    items = doc["process"]
    if isinstance(items, dict):
        fail("process", "expected an array of tables; write [[process]] with double brackets")
    if not isinstance(items, list):
        fail("process", f"expected an array of tables ([[process]]), got {described(items)}")
    if not items:
        fail("process", "no processes; add at least one [[process]] table")
    if len(items) > model.MAX_PROCESSES:
        fail(
            "process",
            f"{len(items)} processes, over the MAX_PROCESSES cap of {model.MAX_PROCESSES}",
        )
    return [
        _parse_process(f"process[{index}]", item, channels, shared)
        for index, item in enumerate(items)
    ]


def _parse_process(
    key: str, value: Any, channels: dict[str, ChannelSpec], shared: dict[str, SharedSpec]
) -> ProcessSpec:
    table = as_table(value, key)
    check_keys(table, key, _PROCESS_KEYS)
    fields: dict[str, Any] = {}
    for required in ("name", "role"):
        if required not in table:
            fail(subkey(key, required), "missing; every [[process]] needs a name and a role")
    fields["name"] = as_identifier(table["name"], subkey(key, "name"), "process")
    role = fields["role"] = as_choice(table["role"], subkey(key, "role"), model.ROLES)
    for side in ("in", "out") if role == "steps" else ():
        if side in table:
            fail(
                subkey(key, side),
                "a steps process names its channels in its steps: "
                '{ get = "NAME" } reads one, { put = "NAME", item = ... } writes one',
            )
    if "replicas" in table:
        fields.update(_parse_replicas(table["replicas"], subkey(key, "replicas")))
    fields["inputs"] = _channel_refs(table, key, "in", channels)
    fields["outputs"] = _channel_refs(table, key, "out", channels)
    _check_shape(key, role, fields["inputs"], fields["outputs"])
    for field in ("join_first", "join_last"):
        if field in table:
            fields[field] = _join_refs(table[field], subkey(key, field), fields["name"])
    for when in ("joined_after", "terminate_after"):
        if when in table:
            where = subkey(key, when)
            fields[when] = as_float(table[when], where, 0, model.MAX_SECONDS, "MAX_SECONDS")
            if fields[when] <= 0:
                fail(where, "expected seconds after the start, more than 0")
    if role == "steps":
        return _parse_steps_process(key, table, fields, channels, shared)
    if role in model.DEMO_ROLES:
        return _parse_demo(key, table, fields)
    if "steps" in table:
        fail(subkey(key, "steps"), f'applies to role "steps" only, not {role}')
    if role == "pool" or "pool" in table:
        return _parse_pool_process(key, table, fields, role)
    fields.update(_parse_activity(table, key, role))
    if "finally" in table:
        fields["ending"] = _parse_ending(table["finally"], subkey(key, "finally"))
        _check_ending(subkey(key, "finally"), fields, channels)
    if "task_done" in table:
        fields["task_done"] = as_bool(table["task_done"], subkey(key, "task_done"))
    return ProcessSpec(**fields)


def _parse_steps_process(
    key: str,
    table: dict[str, Any],
    fields: dict[str, Any],
    channels: dict[str, ChannelSpec],
    shared: dict[str, SharedSpec],
) -> ProcessSpec:
    """A steps process: what it does is its steps, run `count` times (once by default)."""
    for field in _NOT_FOR_STEPS:
        if field in table:
            fail(subkey(key, field), "does not apply to a steps process")
    if "steps" not in table:
        fail(subkey(key, "steps"), "missing; a steps process needs steps = [{ ... }, ...]")
    steps = fields["steps"] = parse_steps(table["steps"], subkey(key, "steps"), shared, channels)
    for side, op in (("inputs", "get"), ("outputs", "put")):  # as its steps use them
        fields[side] = tuple(dict.fromkeys(step.target for step in steps if step.op == op))
    fields["count"] = 1
    if "count" in table:
        fields["count"] = as_int(
            table["count"], subkey(key, "count"), 1, model.MAX_COUNT, "MAX_COUNT"
        )
    return ProcessSpec(**fields)


def _join_refs(value: Any, key: str, own_name: str) -> tuple[str, ...]:
    """Names of other process templates; checked against the file's processes
    once they are all read (see check_joins)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) for item in items):
        fail(key, f"expected a process name or a list of them, got {described(value)}")
    if own_name in items:
        fail(key, f"a process cannot join itself ({show(own_name)})")
    if len(set(items)) != len(items):
        fail(key, "lists a process twice")
    return tuple(items)


def check_joins(processes: list[ProcessSpec]) -> None:
    names = [process.name for process in processes]
    for index, process in enumerate(processes):
        for field in ("join_first", "join_last"):
            for target in getattr(process, field):
                if target not in names:
                    fail(
                        f"process[{index}].{field}",
                        f"no process named {show(target)}{suggest(target, names)}",
                    )


def _parse_demo(key: str, table: dict[str, Any], fields: dict[str, Any]) -> ProcessSpec:
    """globals and coroutines take a name, a role, replicas and a count; nothing else."""
    role = fields["role"]
    for field in table:
        if field not in ("name", "role", "replicas", "count", "in", "out"):
            fail(subkey(key, field), f"does not apply to a {role} process")
    fields["count"] = _DEMO_COUNT[role]
    if "count" in table:
        fields["count"] = as_int(table["count"], subkey(key, "count"), 1, _MAX_DEMO_COUNT)
    return ProcessSpec(**fields)


def _parse_replicas(value: Any, key: str) -> dict[str, Any]:
    """`cpu_count` is resolved now (capped to MAX_REPLICAS) so the engine gets a number."""
    if value == CPU_COUNT:
        return {"replicas": cpu_replicas(), "replicas_cpu_count": True}
    if isinstance(value, str):
        fail(
            key,
            f'expected a whole number from 1 to {model.MAX_REPLICAS} or "{CPU_COUNT}", '
            f"got {show(value)}{suggest(value, [CPU_COUNT])}",
        )
    return {"replicas": as_int(value, key, 1, model.MAX_REPLICAS, "MAX_REPLICAS")}


def cpu_replicas() -> int:
    return max(1, min(os.cpu_count() or 1, model.MAX_REPLICAS))


def _channel_refs(
    table: dict[str, Any], key: str, field: str, channels: dict[str, ChannelSpec]
) -> tuple[str, ...]:
    if field not in table:
        return ()
    where = subkey(key, field)
    names = as_names(table[field], where)
    for name in names:
        if name not in channels:
            fail(where, f"no channel named {show(name)}{missing_hint(name, channels)}")
    return names


def _check_shape(key: str, role: str, inputs: tuple[str, ...], outputs: tuple[str, ...]) -> None:
    """Each role's loop reads and writes a fixed number of channels."""
    min_in, max_in, min_out, max_out = _SHAPES[role]
    for field, names, low, high, what in (
        ("in", inputs, min_in, max_in, "input"),
        ("out", outputs, min_out, max_out, "output"),
    ):
        if high == 0 and names:
            fail(subkey(key, field), f"a {role} has no {what} channel; remove '{field}'")
        if not low <= len(names) <= (high if high is not None else len(names)):
            need = "exactly one" if low == high else "at least one"
            got = ", ".join(names) if names else "none"
            fail(subkey(key, field), f"a {role} needs {need} {what} channel, got {got}")


def _parse_activity(table: dict[str, Any], key: str, role: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "count" in table:
        fields["count"] = as_int(
            table["count"], subkey(key, "count"), 0, model.MAX_COUNT, "MAX_COUNT"
        )
    if "rate" in table:
        fields["rate"] = as_float(table["rate"], subkey(key, "rate"), 0, model.MAX_RATE, "MAX_RATE")
    if "payload" in table:
        fields["payload"] = _parse_payload(
            table["payload"], subkey(key, "payload"), DEFAULT_PAYLOAD
        )
    if "work" in table:
        fields["work"] = _parse_work(table["work"], subkey(key, "work"))
    if "compute" in table:
        if role not in ("worker", "consumer"):
            fail(subkey(key, "compute"), f"applies to worker and consumer only, not {role}")
        fields["compute"] = as_choice(table["compute"], subkey(key, "compute"), model.COMPUTES)
    if "reply" in table:
        if role != "ponger":
            fail(subkey(key, "reply"), f"applies to ponger only, not {role}")
        fields["reply"] = _parse_payload(table["reply"], subkey(key, "reply"), DEFAULT_REPLY)
    return fields


def payload_size_default(kind: str) -> int:
    """Only bytes have a size by default; text is sent as written unless sized."""
    return DEFAULT_PAYLOAD.size if kind == "bytes" else 0


def _parse_payload(value: Any, key: str, base: Payload) -> Payload:
    table = as_table(value, key, 'a table such as { kind = "bytes", size = 64 }')
    check_keys(table, key, _PAYLOAD_KEYS)
    kind = base.kind
    if "kind" in table:
        kind = as_choice(table["kind"], subkey(key, "kind"), model.PAYLOAD_KINDS)
    size = payload_size_default(kind)
    if "size" in table:
        if kind not in SIZED_PAYLOADS:
            fail(subkey(key, "size"), f"applies to payload kinds bytes and text only, not {kind}")
        size = as_int(
            table["size"], subkey(key, "size"), 0, model.MAX_PAYLOAD_BYTES, "MAX_PAYLOAD_BYTES"
        )
    text = base.text
    if "text" in table:
        if kind != "text":
            fail(subkey(key, "text"), f'applies to kind "text" only, not {kind}')
        text = neutralise(as_str(table["text"], subkey(key, "text")), multiline=True)
        if not text and size:
            fail(subkey(key, "text"), f"cannot repeat an empty text to size {size}")
    if "value" in table and kind != "value":
        fail(subkey(key, "value"), f'applies to kind "value" only, not {kind}')
    if kind == "value" and "value" not in table:
        fail(subkey(key, "value"), 'missing; kind "value" sends this TOML value as is')
    payload_value = _clean_value(table["value"]) if kind == "value" else None
    return Payload(kind=kind, size=size, text=text, value=payload_value)


def _clean_value(value: Any) -> Any:
    """A `value` payload may be shown in the UI, so its strings are neutralised too."""
    if isinstance(value, str):
        return neutralise(value, multiline=True)
    if isinstance(value, list):
        return [_clean_value(item) for item in value]
    if isinstance(value, dict):
        return {
            neutralise(name, multiline=True): _clean_value(item) for name, item in value.items()
        }
    return value


def _parse_work(value: Any, key: str) -> Work:
    table = as_table(value, key, 'a table such as { kind = "sleep", ms = 100 }')
    check_keys(table, key, _WORK_KEYS)
    if "kind" not in table:
        fail(subkey(key, "kind"), f"missing; expected one of {', '.join(model.WORK_KINDS)}")
    kind = as_choice(table["kind"], subkey(key, "kind"), model.WORK_KINDS)
    if "ms" not in table:
        return Work(kind=kind)
    if kind == "none":
        fail(subkey(key, "ms"), 'applies to work kinds sleep and cpu only, not "none"')
    ms = as_float(table["ms"], subkey(key, "ms"), 0, model.MAX_WORK_MS, "MAX_WORK_MS")
    return Work(kind=kind, ms=ms)


def _parse_ending(value: Any, key: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        fail(
            key,
            f"expected one of {', '.join(model.ENDINGS)} or a list of them, got {described(value)}",
        )
    endings: list[str] = []
    for index, item in enumerate(items):
        where = key if isinstance(value, str) else f"{key}[{index}]"
        ending = as_choice(item, where, model.ENDINGS)
        if ending in endings:
            fail(key, f"{show(ending)} is listed twice")
        endings.append(ending)
    return tuple(endings)


def _check_ending(key: str, fields: dict[str, Any], channels: dict[str, ChannelSpec]) -> None:
    """An ending acts on a channel, so the process must hold one of the right kind."""
    outputs = [channels[name] for name in fields["outputs"]]
    ends = [channels[name] for name in (*fields["inputs"], *fields["outputs"])]
    for ending in fields["ending"]:
        if ending == "poison-pill" and not outputs:
            fail(key, "'poison-pill' needs an output channel ('out') to send the pill on")
        if ending == "join" and not any(_channel(channel).joinable for channel in outputs):
            fail(key, "'join' needs an output channel ('out') that is a JoinableQueue")
        if ending == "close" and not any(_channel(channel).pipe_like for channel in ends):
            fail(key, "'close' needs a Pipe among the process's 'in' or 'out' channels")


def check_whole(
    channels: dict[str, ChannelSpec],
    processes: list[ProcessSpec],
    shared: Mapping[str, SharedSpec] | None = None,
) -> None:
    """Rules that need every process at once, in the order a reader would fix them."""
    _check_unique_names(processes)
    _check_total(processes, channels, shared or {})
    _check_replica_names(processes)
    _check_channels_used(channels, processes)
    for channel in channels.values():
        if _channel(channel).pipe_like:
            _check_pipe(channel, processes)


def _check_unique_names(processes: list[ProcessSpec]) -> None:
    first: dict[str, int] = {}
    for index, process in enumerate(processes):
        if process.name in first:
            fail(
                f"process[{index}].name",
                f"{show(process.name)} is already used by process[{first[process.name]}]",
            )
        first[process.name] = index


def _check_total(
    processes: list[ProcessSpec],
    channels: Mapping[str, ChannelSpec],
    shared: Mapping[str, SharedSpec],
) -> None:
    """The cap counts every process a scenario starts: its processes, each
    pool's workers, and the Manager servers. Pool workers used to slip past
    it (nine pools of 16 workers started 155 processes)."""
    roles = sum(process.replicas for process in processes)
    workers = sum(
        process.replicas * process.pool.processes
        for process in processes
        if process.pool is not None
    )
    queues = [channel for channel in channels.values() if _channel(channel).manager]
    local = any(kinds.SHARED_BY_NAME[obj.kind].manager for obj in shared.values())
    local = local or any(not channel.remote for channel in queues)
    servers = int(local) + int(any(channel.remote for channel in queues))
    total = roles + workers + servers
    if total > model.MAX_PROCESSES:
        counted = "after replicas"
        if workers or servers:
            parts = [f"{roles} after replicas", f"{workers} pool workers"]
            parts.append(f"{servers} Manager server{'s' if servers != 1 else ''}")
            counted = f"({', '.join(parts)})"
        fail(
            "process",
            f"{total} processes {counted}, over the MAX_PROCESSES cap of {model.MAX_PROCESSES}",
        )


def replica_names(process: ProcessSpec) -> list[str]:
    """`cpu_count` could mean any count, so reserve every name it might take."""
    count = model.MAX_REPLICAS if process.replicas_cpu_count else process.replicas
    return [f"{process.name}-{number}" for number in range(1, count + 1)] if count > 1 else []


def _check_replica_names(processes: list[ProcessSpec]) -> None:
    owners = {process.name: index for index, process in enumerate(processes)}
    for index, process in enumerate(processes):
        for replica in replica_names(process):
            if replica in owners:
                fail(
                    f"process[{owners[replica]}].name",
                    f"{show(replica)} collides with a replica name of process[{index}] "
                    f"({show(process.name)} runs as {process.name}-1, {process.name}-2, ...)",
                )


def _check_channels_used(channels: dict[str, ChannelSpec], processes: list[ProcessSpec]) -> None:
    used = {used_name for process in processes for used_name in (*process.inputs, *process.outputs)}
    for name in channels:
        if name not in used:
            fail(subkey("channels", name), "declared but no process reads or writes it")


def _check_pipe(channel: ChannelSpec, processes: list[ProcessSpec]) -> None:
    """A Pipe has exactly two ends and each end belongs to one process (so
    has any pipe-like kind: a Listener's connection); messages name its kind."""
    users = [
        (index, process)
        for index, process in enumerate(processes)
        if channel.name in (*process.inputs, *process.outputs)
    ]
    for index, process in users:
        if process.replicas != 1 or process.replicas_cpu_count:
            got = f'"{CPU_COUNT}"' if process.replicas_cpu_count else str(process.replicas)
            fail(
                f"process[{index}].replicas",
                f"must be 1 because the process uses {channel.kind} {show(channel.name)} "
                f"(a {channel.kind} end belongs to one process), got {got}",
            )
    key = subkey("channels", channel.name)
    if channel.duplex:
        if len(users) > 2:
            names = ", ".join(process.name for _, process in users)
            fail(
                key,
                f"a duplex {channel.kind} joins at most 2 processes, one per end; used by {names}",
            )
        return
    for index, process in users:
        if channel.name in process.inputs and channel.name in process.outputs:
            fail(
                f"process[{index}].in",
                f"uses both ends of one-way Pipe {show(channel.name)}; "
                "one process writes it ('out') and another reads it ('in')",
            )
    for field, what in (("outputs", "writer ('out')"), ("inputs", "reader ('in')")):
        ends = [process.name for _, process in users if channel.name in getattr(process, field)]
        if len(ends) != 1:
            found = f"{len(ends)} ({', '.join(ends)})" if ends else "none"
            fail(key, f"a one-way Pipe needs exactly one {what}, found {found}")


# Keys of a [[process]] that mean nothing to a pool process (`work` does: each task's work).
_NOT_FOR_POOL = ("count", "rate", "payload", "compute", "reply", "finally", "task_done")


def _parse_pool_process(
    key: str, table: dict[str, Any], fields: dict[str, Any], role: str
) -> ProcessSpec:
    """A pool process: everything it does is in its [process.pool] table."""
    if role != "pool":
        fail(subkey(key, "pool"), f'applies to role "pool" only, not {role}')
    for field in _NOT_FOR_POOL:
        if field in table:
            where = subkey(key, field)
            if field == "finally":
                fail(where, "a pool process ends as its [process.pool] 'finally' says")
            fail(where, "does not apply to a pool process")
    if "pool" not in table:
        fail(subkey(key, "pool"), "missing; a pool process needs a [process.pool] table")
    if "work" in table:
        fields["work"] = _parse_work(table["work"], subkey(key, "work"))
    fields["pool"] = parse_pool(table["pool"], subkey(key, "pool"))
    return ProcessSpec(**fields)


def _channel(channel: ChannelSpec) -> kinds.ChannelKind:
    return kinds.CHANNEL_BY_NAME[channel.kind]
