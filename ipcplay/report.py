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
        "processes": [process_dict(p) for p in snap.processes],
        "channels": [channel_dict(c) for c in snap.channels],
        "shared": [shared_dict(o) for o in snap.shared],
        "pools": [pool_dict(o) for o in snap.pools],
        "managers": [manager_dict(m) for m in snap.managers],
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


def process_dict(p: ProcessSample) -> dict[str, Any]:
    """One process: how it ended and what it did, counted."""
    return {
        "name": p.name,
        "role": p.role,
        "template": p.template,
        "pid": p.pid,
        "ppid": p.ppid,
        "exitcode": p.exitcode,
        "state": p.state,
        "cpu_s": round(p.cpu_s, 3),
        "sent": p.sent,
        "received": p.received,
        "items": p.items,
        "pills_sent": p.pills_sent,
        "pills_received": p.pills_received,
        "blocked_s": round(p.blocked_s, 4),
        "rss": p.rss,
        "ctx_switches": p.ctx_switches,
        "stopped_by_ipcplay": p.stopped_by_engine,
        "error": p.error or None,
        **({"notes": dict(p.notes)} if p.notes else {}),
    }


def channel_dict(c: ChannelSample) -> dict[str, Any]:
    """One channel: its traffic, its depth, its waits, and a pipe's directions."""
    return {
        "name": c.name,
        "kind": c.kind,
        "maxsize": c.maxsize,
        "puts": c.puts,
        "gets": c.gets,
        "depth": c.depth,
        "max_depth": c.max_depth,
        "bytes": c.bytes,
        "task_done": c.task_done,
        "unfinished": c.unfinished,
        "full_hits": c.full_hits,
        "lost": c.lost,
        "blocked_put_s": round(c.blocked_put_s, 4),
        "blocked_get_s": round(c.blocked_get_s, 4),
        # An item's age in the channel (put to get), the longest so far;
        # "max_wait_s" is its old name, kept for readers of old reports.
        "max_age_s": round(c.max_wait_s, 4),
        "max_wait_s": round(c.max_wait_s, 4),
        "writers": list(c.writers),
        "readers": list(c.readers),
        "directions": [
            {
                "from": d.src,
                "to": d.dst,
                "sent": d.sent,
                "received": d.received,
                "in_flight": d.in_flight,
                "bytes": d.bytes,
            }
            for d in c.directions
        ],
    }


def manager_dict(m: ManagerSample) -> dict[str, Any]:
    """One Manager's server process and the calls made to it."""
    return {
        "name": m.name,
        "kind": m.kind,
        "pid": m.pid,
        "address": m.address,
        "exitcode": m.exitcode,
        "calls": dict(m.calls),
        "observer_reads": m.observer_reads,
        "objects": list(m.objects),
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
                "waiter": w.waiter,
                "op": w.op,
                "object": w.obj,
                "reason": w.reason,
                "waits_for": list(w.waits_for),
                "holder": w.holder,
                "in_cycle": w.in_cycle,
            }
            for w in snap.waits
        ],
    }


def pool_dict(o: PoolSample) -> dict[str, Any]:
    """One Pool: its task flow, counted, and its results in arrival order."""
    return {
        "name": o.name,
        "method": o.method,
        "function": o.function,
        "processes": o.processes,
        "maxtasksperchild": o.maxtasksperchild or None,
        "chunksize": o.chunksize or None,
        "state": o.state,
        "tasks": list(o.tasks),
        "submitted": o.submitted,
        "taken": o.taken,
        "returned": o.returned,
        "failed": o.failed,
        "collected": o.collected,
        "errors": o.errors,
        "callbacks": o.callbacks,
        "error_callbacks": o.error_callbacks,
        "timeouts": o.timeouts,
        "resubmitted": o.resubmitted,
        "queued": o.queued,
        "running": o.running,
        "arrived": list(o.arrived),
        "results": list(o.results),
        "results_in_task_order": [
            r for _, r in sorted(zip(o.arrived, o.results, strict=True), key=lambda x: x[0])
        ],
        "workers_started": o.workers_started,
        "workers_exited": o.workers_exited,
        "lost": list(o.lost),
    }


def shared_dict(o: SharedSample) -> dict[str, Any]:
    """One shared object: what every kind has, then what its kind adds."""
    out: dict[str, Any] = {"name": o.name, "kind": o.kind, "users": list(o.users)}
    if o.kind.startswith("Manager"):  # a proxy's object: its value as last read, calls by method
        value: Any = o.value
        if o.kind == "ManagerList" and value is not None:
            value = list(value)
        elif value is not None:
            out["repr"] = repr(dict(value) if o.kind == "ManagerDict" else value)
            value = {str(k): v for k, v in value}
        out["value"] = value
        if o.expected is not None:
            out["expected"] = o.expected
            out["lost_updates"] = o.lost
        out["calls"] = dict(o.calls)
        out["call_s"] = round(o.wait_s, 4)
        return out
    if o.kind in ("Value", "Array"):
        out["typecode"] = o.typecode
        out["value"] = list(o.value) if isinstance(o.value, tuple) else o.value
        out["updates"] = o.updates
        if o.expected is not None:
            out["expected"] = o.expected
            out["lost_updates"] = o.lost
    if o.kind == "SharedMemory":
        pass  # nothing to acquire or wait for: its counts are below
    elif o.kind in ("Event", "Barrier"):
        out["waits"] = o.acquires
    else:
        out["acquires"] = o.acquires
        out["releases"] = o.releases
        out["contended"] = o.contended
        out["hold_s"] = round(o.hold_s, 4)
        out["holders"] = [
            {"name": n, "pid": pid} for n, pid in zip(o.holders, o.holder_pids, strict=True)
        ]
    if o.kind in ("Semaphore", "BoundedSemaphore"):
        out["permits"] = o.permits
        out["free"] = o.free
    if o.kind == "Event":
        out["is_set"] = o.is_set
        out["sets"] = o.sets
        out["clears"] = o.clears
    if o.kind == "Condition":
        out["notifies"] = o.notifies
    if o.kind == "SharedMemory":
        out.update(block=o.block, size=o.size, byte_sum=o.value, head=o.head)
        out["per_process"] = [
            {"name": n, "reads": r, "writes": w, "last_sum_read": last}
            for n, r, w, last in o.per_process
        ]
    if o.kind == "Barrier":
        out["parties"] = o.parties
        out["arrived"] = o.arrived
        out["broken"] = o.broken
    out["waiting"] = list(o.waiting)
    out["wait_s"] = round(o.wait_s, 4)
    return out
