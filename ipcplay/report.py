"""A run's outcome as plain data: the `--json` object and the final tables.

Kept apart from the CLI so the TUI and recorders can produce the same report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ipcplay.engine.snapshot import (
    ChannelSample,
    ManagerSample,
    PoolSample,
    ProcessSample,
    SharedSample,
    Snapshot,
)

EXIT_CODES = {
    "completed": 0,
    "timeout": 3,
    "deadlock": 4,
    "hang": 5,
    "crashed": 6,
    "interrupted": 130,
}


@dataclass(frozen=True)
class RunHeader:
    """What a report says before any figure: which run this was.

    Built by the caller from whatever it started (a scenario today, any
    program tomorrow), so the report never reads a Scenario."""

    scenario: str  # its name
    title: str
    start_method: str
    expected: str  # the verdict it is documented to end with


def as_dict(
    header: RunHeader,
    verdict: str,
    duration_s: float,
    snap: Snapshot,
    journal_file: str | None = None,
) -> dict[str, Any]:
    """The `--json` object; its keys and their order are a format others read."""
    return {
        "scenario": header.scenario,
        "title": header.title,
        "start_method": header.start_method,
        "verdict": verdict,
        "expected": header.expected,
        "duration_s": round(duration_s, 3),
        "processes": [process_dict(process) for process in snap.processes],
        "channels": [channel_dict(channel) for channel in snap.channels],
        "shared": [shared_dict(obj) for obj in snap.shared],
        "pools": [pool_dict(pool) for pool in snap.pools],
        "managers": [manager_dict(manager) for manager in snap.managers],
        "stuck": stuck_dict(snap),
        "journal": {
            "events": snap.events_total,
            "dropped": snap.events_dropped,
            # events that reached the observer after newer ones had been written
            # (engine/order.py): the file's times go back once for each
            "late": snap.events_late,
            "file": journal_file,
        },
    }


def process_dict(process: ProcessSample) -> dict[str, Any]:
    """One process: how it ended and what it did, counted."""
    return {
        "name": process.name,
        "role": process.role,
        "template": process.template,
        "pid": process.pid,
        "ppid": process.ppid,
        "exitcode": process.exitcode,
        "state": process.state,
        "cpu_s": round(process.cpu_s, 3),
        "sent": process.sent,
        "received": process.received,
        "items": process.items,
        "pills_sent": process.pills_sent,
        "pills_received": process.pills_received,
        "blocked_s": round(process.blocked_s, 4),
        "rss": process.rss,
        "ctx_switches": process.ctx_switches,
        "stopped_by_ipcplay": process.stopped_by_engine,
        "error": process.error or None,
        **({"notes": dict(process.notes)} if process.notes else {}),
    }


def channel_dict(channel: ChannelSample) -> dict[str, Any]:
    """One channel: its traffic, its depth, its waits, and a pipe's directions."""
    return {
        "name": channel.name,
        "kind": channel.kind,
        "maxsize": channel.maxsize,
        "puts": channel.puts,
        "gets": channel.gets,
        "depth": channel.depth,
        "max_depth": channel.max_depth,
        "bytes": channel.bytes,
        "task_done": channel.task_done,
        "unfinished": channel.unfinished,
        "full_hits": channel.full_hits,
        "lost": channel.lost,
        "blocked_put_s": round(channel.blocked_put_s, 4),
        "blocked_get_s": round(channel.blocked_get_s, 4),
        # An item's age in the channel (put to get), the longest so far;
        # "max_wait_s" is its old name, kept for readers of old reports.
        "max_age_s": round(channel.max_wait_s, 4),
        "max_wait_s": round(channel.max_wait_s, 4),
        "writers": list(channel.writers),
        "readers": list(channel.readers),
        "directions": [
            {
                "from": direction.src,
                "to": direction.dst,
                "sent": direction.sent,
                "received": direction.received,
                "in_flight": direction.in_flight,
                "bytes": direction.bytes,
            }
            for direction in channel.directions
        ],
    }


def manager_dict(manager: ManagerSample) -> dict[str, Any]:
    """One Manager's server process and the calls made to it."""
    return {
        "name": manager.name,
        "kind": manager.kind,
        "pid": manager.pid,
        "address": manager.address,
        "exitcode": manager.exitcode,
        "calls": dict(manager.calls),
        "observer_reads": manager.observer_reads,
        "objects": list(manager.objects),
    }


def stuck_dict(snap: Snapshot) -> dict[str, Any] | None:
    """A confirmed hang or deadlock and the wait-for graph that shows it."""
    if snap.stuck is None:
        return None
    return {
        "kind": snap.stuck.kind,
        "processes": list(snap.stuck.processes),
        "description": snap.stuck.description,
        "waits": [
            {
                "waiter": wait.waiter,
                "op": wait.op,
                "object": wait.obj,
                "reason": wait.reason,
                "waits_for": list(wait.waits_for),
                "holder": wait.holder,
                "in_cycle": wait.in_cycle,
            }
            for wait in snap.waits
        ],
    }


def pool_dict(pool: PoolSample) -> dict[str, Any]:
    """One Pool: its task flow, counted, and its results in arrival order."""
    return {
        "name": pool.name,
        "method": pool.method,
        "function": pool.function,
        "processes": pool.processes,
        "maxtasksperchild": pool.maxtasksperchild or None,
        "chunksize": pool.chunksize or None,
        "state": pool.state,
        "tasks": list(pool.tasks),
        "submitted": pool.submitted,
        "taken": pool.taken,
        "returned": pool.returned,
        "failed": pool.failed,
        "collected": pool.collected,
        "errors": pool.errors,
        "callbacks": pool.callbacks,
        "error_callbacks": pool.error_callbacks,
        "timeouts": pool.timeouts,
        "resubmitted": pool.resubmitted,
        "queued": pool.queued,
        "running": pool.running,
        "arrived": list(pool.arrived),
        "results": list(pool.results),
        "results_in_task_order": [
            result
            for _, result in sorted(
                zip(pool.arrived, pool.results, strict=True), key=lambda pair: pair[0]
            )
        ],
        "workers_started": pool.workers_started,
        "workers_exited": pool.workers_exited,
        "lost": list(pool.lost),
    }


def shared_dict(obj: SharedSample) -> dict[str, Any]:
    """One shared object: what every kind has, then what its kind adds."""
    out: dict[str, Any] = {"name": obj.name, "kind": obj.kind, "users": list(obj.users)}
    if obj.kind.startswith("Manager"):  # a proxy's object: its value as last read, calls by method
        value: Any = obj.value
        if obj.kind == "ManagerList" and value is not None:
            value = list(value)
        elif value is not None:
            out["repr"] = repr(dict(value) if obj.kind == "ManagerDict" else value)
            value = {str(key): item for key, item in value}
        out["value"] = value
        if obj.expected is not None:
            out["expected"] = obj.expected
            out["lost_updates"] = obj.lost
        out["calls"] = dict(obj.calls)
        out["call_s"] = round(obj.wait_s, 4)
        return out
    if obj.kind in ("Value", "Array"):
        out["typecode"] = obj.typecode
        out["value"] = list(obj.value) if isinstance(obj.value, tuple) else obj.value
        out["updates"] = obj.updates
        if obj.expected is not None:
            out["expected"] = obj.expected
            out["lost_updates"] = obj.lost
    if obj.per_process:
        pass  # in a block: nothing to acquire or wait for; its counts are below
    elif obj.kind in ("Event", "Barrier"):
        out["waits"] = obj.acquires
    else:
        out["acquires"] = obj.acquires
        out["releases"] = obj.releases
        out["contended"] = obj.contended
        out["hold_s"] = round(obj.hold_s, 4)
        out["holders"] = [
            {"name": name, "pid": pid}
            for name, pid in zip(obj.holders, obj.holder_pids, strict=True)
        ]
    if obj.kind in ("Semaphore", "BoundedSemaphore"):
        out["permits"] = obj.permits
        out["free"] = obj.free
    if obj.kind == "Event":
        out["is_set"] = obj.is_set
        out["sets"] = obj.sets
        out["clears"] = obj.clears
    if obj.kind == "Condition":
        out["notifies"] = obj.notifies
    if obj.per_process:
        out.update(_block_dict(obj))
    if obj.kind == "Barrier":
        out["parties"] = obj.parties
        out["arrived"] = obj.arrived
        out["broken"] = obj.broken
    out["waiting"] = list(obj.waiting)
    out["wait_s"] = round(obj.wait_s, 4)
    return out


def _block_dict(obj: SharedSample) -> dict[str, Any]:
    """An object in a named shared-memory block, as its sample holds it: the
    block's name and size; what it holds, items (a list over the block) or raw
    bytes (their sum and first bytes); and each process's reads and writes."""
    out: dict[str, Any] = {"block": obj.block, "size": obj.size}
    if isinstance(obj.value, tuple):
        out["value"] = list(obj.value)
        out["per_process"] = [
            {"name": name, "reads": reads, "writes": writes}
            for name, reads, writes, _ in obj.per_process
        ]
        return out
    out.update(byte_sum=obj.value, head=obj.head)
    out["per_process"] = [
        {"name": name, "reads": reads, "writes": writes, "last_sum_read": last}
        for name, reads, writes, last in obj.per_process
    ]
    return out
