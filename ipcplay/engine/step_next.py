"""What a process held at its gate will do next, in words a class can read:
"put 'queue' — queue 3/3 full, will block".

Read from the board's P_NEXT (gate.py) and told from the same sample's
channels and shared objects, so the forecast and the panels never disagree.
It is a forecast: another process let go first can change it, which is the
point of step mode.
"""

from __future__ import annotations

from dataclasses import replace

from ipcplay.engine import board as B
from ipcplay.engine import gate as G
from ipcplay.engine.snapshot import ChannelSample, NextOp, ProcessSample, SharedSample

_LOCKS = ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition")


def attach(
    procs: list[ProcessSample],
    vals: list[list[int]],
    nchan: int,
    names: tuple[str, ...],
    channels: tuple[ChannelSample, ...] | list[ChannelSample],
    shared: tuple[SharedSample, ...] | list[SharedSample],
) -> list[ProcessSample]:
    """`procs` with `next` and `gates` filled in for every process that has
    stopped at a gate; the same list, untouched, when none has (a free run)."""
    out = procs
    for p, values in enumerate(vals):
        if p >= len(procs) or not values[B.P_ARRIVED]:
            continue
        if out is procs:
            out = list(procs)
        sample = procs[p]
        nxt = None
        code = values[B.P_NEXT]
        if code and sample.alive and sample.exitcode is None and sample.blocked is None:
            nxt = forecast(code, values[B.P_NEXT_ARG], nchan, names, channels, shared, sample.name)
        out[p] = replace(
            sample,
            next=nxt,
            gates=values[B.P_ARRIVED],
            state="held" if nxt is not None else sample.state,
        )
    return out


def forecast(
    code: int,
    arg: int,
    nchan: int,
    names: tuple[str, ...],
    channels: tuple[ChannelSample, ...] | list[ChannelSample],
    shared: tuple[SharedSample, ...] | list[SharedSample],
    me: str,
) -> NextOp:
    op, target, has_arg = G.decode(code)
    said = arg if has_arg else None
    if op == "join process":
        other = names[target] if 0 <= target < len(names) else "?"
        return NextOp("join", other, None, "until it exits", True)
    if target < nchan:
        chan = next((c for c in channels if c.index == target), None)
        if chan is None:
            return NextOp(op, "?", said)
        why, block = _channel(op, chan)
        return NextOp(op, chan.name, said, why, block)
    obj = next((s for s in shared if s.index == target - nchan), None)
    if obj is None:
        return NextOp(op, "?", said)
    why, block = _shared(op, obj, me, said)
    return NextOp(op, obj.name, said, why, block)


def _channel(op: str, chan: ChannelSample) -> tuple[str, bool | None]:
    word = "pipe" if chan.kind == "Pipe" else "queue"
    if op == "put" and chan.maxsize > 0:
        full = chan.depth >= chan.maxsize
        return f"{word} {chan.depth}/{chan.maxsize}{' full' if full else ''}", full
    if op in ("put", "send"):
        return f"{chan.depth} in it", None if op == "send" else False
    if op in ("get", "recv"):
        if chan.depth <= 0:
            return f"{word} empty", True
        return f"{chan.depth} waiting", False
    if op == "join":
        if chan.unfinished > 0:
            return f"{chan.unfinished} not done", True
        return "all done", False
    return "", None


def _shared(op: str, obj: SharedSample, me: str, said: int | None) -> tuple[str, bool | None]:
    if op == "acquire" and obj.kind in _LOCKS:
        if obj.kind == "RLock" and me in obj.holders:
            return "held by itself", False
        if obj.kind in ("Semaphore", "BoundedSemaphore"):
            free = obj.free or 0
            return f"{free} of {obj.permits} free", free <= 0
        if obj.holders:
            return f"held by {', '.join(obj.holders)}", True
        return "free", False
    if op == "acquire":  # a Value's or an Array's get_lock()
        if obj.holders:
            return f"held by {', '.join(obj.holders)}", True
        return "free", False
    if op == "wait" and obj.kind == "Event":
        return ("set", False) if obj.is_set else ("not set", True)
    if op == "wait" and obj.kind == "Barrier":
        last = obj.arrived + 1 >= obj.parties
        return f"{obj.arrived} of {obj.parties} there", not last
    if op == "wait" and obj.kind == "Condition":
        return "until notified", True
    if op == "read" and obj.value is not None:  # a Value's own lock is held for an instant
        return f"it is {_number(obj.value)}", None
    if op == "write" and obj.value is not None:
        return f"it is {_number(obj.value)} now", None
    return "", None


def _number(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_number(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
