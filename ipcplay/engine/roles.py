"""Roles: the module-level functions that run inside the children.

They are plain loops over the instrumented channels, written the way a
student would write them (put, get, poison pill, task_done), so that what the
user watches is ordinary multiprocessing code. Between items a role reads its
command slots (live rate, requested poison pills, stop); it never blocks on
anything but the channels and its own pacing/work.

A role's own time (its rate, its work, its sleep steps) runs at the board's
speed (engine/tempo.py): slow motion stretches it; the channel calls between
are never slowed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine import tempo
from ipcplay.engine.context import STOPPED, RoleContext, getter, putter, square
from ipcplay.engine.demos import DEMO_ROLES
from ipcplay.engine.pool import owner
from ipcplay.scenario.kinds import channel_kind


def index_value(value: Any, index: int) -> Any:
    """Resolve "{i}", "{i*i}", "{i**i}" for the process with index `index` (model.INDEX_FORMS)."""
    if value == "{i}":
        return index
    if value == "{i*i}":
        return index * index
    if value == "{i**i}":
        return index**index
    return value


def producer(ctx: RoleContext) -> str | None:
    """Put `count` items (0: until stopped) at `rate`, then the `finally` steps."""
    outs = [putter(chan) for chan in ctx.outputs]
    fanout = len(outs)
    count = ctx.spec.count
    seq = 0
    binds = ctx.binds
    while count == 0 or seq < count:
        if ctx.commands() or ctx.pace():
            return STOPPED
        if ctx.binds != binds:  # step mode armed its objects: their methods changed
            binds = ctx.binds
            outs = [putter(chan) for chan in ctx.outputs]
        outs[seq % fanout](ctx.item(seq))
        ctx.work()
        seq += 1
        ctx.done(seq)
    ctx.finish()
    return None


def _consume(ctx: RoleContext, forward: bool) -> str | None:
    inp = ctx.inputs[0]
    get = getter(inp)
    outs = [putter(chan) for chan in ctx.outputs] if forward else []
    fanout = len(outs)
    ep = ctx.plan.endpoints[ctx.plan.inputs[0]]
    task_done = inp.task_done if channel_kind(ep.kind).joinable and ctx.spec.task_done else None
    count = ctx.spec.count
    taken = 0
    binds = ctx.binds
    while count == 0 or taken < count:
        if ctx.commands():
            return STOPPED
        if ctx.binds != binds:  # step mode armed its objects: their methods changed
            binds = ctx.binds
            get = getter(inp)
            outs = [putter(chan) for chan in ctx.outputs] if forward else []
            task_done = inp.task_done if task_done else None
        try:
            item = get()
        except EOFError:
            break  # every write end is closed: the stream is over
        if item is None:
            pills = ctx.got_pill()
            if task_done:
                task_done()
            if pills >= ctx.plan.pills_needed:
                break
            continue
        ctx.took(item, ctx.plan.inputs[0])
        ctx.work()
        if fanout:
            mid, body = (item[0], item[1]) if type(item) is tuple and len(item) >= 2 else (-1, item)
            outs[taken % fanout]((mid, ctx.compute(body), time.monotonic_ns()))
        if task_done:
            task_done()
        taken += 1
        ctx.done(taken)
    ctx.finish()
    return None


def consumer(ctx: RoleContext) -> str | None:
    """Take items until `count`, a poison pill from every pill-sending writer, or EOF."""
    return _consume(ctx, forward=False)


def worker(ctx: RoleContext) -> str | None:
    """A pipeline stage: take, work, forward the result; pills end it like a consumer."""
    return _consume(ctx, forward=True)


def pinger(ctx: RoleContext) -> str | None:
    """Send, then wait for the reply; `count` round trips (0: until stopped)."""
    put = putter(ctx.outputs[0])
    get = getter(ctx.inputs[0])
    count = ctx.spec.count
    seq = 0
    binds = ctx.binds
    while count == 0 or seq < count:
        if ctx.commands() or ctx.pace():
            return STOPPED
        if ctx.binds != binds:  # step mode armed its objects: their methods changed
            binds = ctx.binds
            put, get = putter(ctx.outputs[0]), getter(ctx.inputs[0])
        put(ctx.item(seq))
        try:
            reply = get()
        except EOFError:
            break
        ctx.took(reply, ctx.plan.inputs[0])
        if reply is None:
            ctx.got_pill()
            break
        ctx.work()
        seq += 1
        ctx.done(seq)
    ctx.finish()
    return None


def ponger(ctx: RoleContext) -> str | None:
    """Wait for a message, answer it; ends on a poison pill, EOF or `count`."""
    get = getter(ctx.inputs[0])
    put = putter(ctx.outputs[0])
    reply = ctx.reply_body()
    count = ctx.spec.count
    answered = 0
    binds = ctx.binds
    while count == 0 or answered < count:
        if ctx.commands():
            return STOPPED
        if ctx.binds != binds:  # step mode armed its objects: their methods changed
            binds = ctx.binds
            put, get = putter(ctx.outputs[0]), getter(ctx.inputs[0])
        try:
            item = get()
        except EOFError:
            break
        ctx.took(item, ctx.plan.inputs[0])
        if item is None:
            if ctx.got_pill() >= ctx.plan.pills_needed:
                break
            continue
        ctx.work()
        mid = item[0] if type(item) is tuple and item else -1
        put((mid, reply, time.monotonic_ns()))
        answered += 1
        ctx.done(answered)
    ctx.finish()
    return None


def _nap(ctx: RoleContext, ms: float) -> bool:
    """A `sleep` step, in slices so a stop command is seen; True means stop now."""
    mv, slot = ctx.mv, ctx.base + B.P_ACTIVITY
    mv[slot] = B.ACT_SLEEP
    if tempo.sleep(mv, ms / 1000.0, ctx.commands):
        return True
    mv[slot] = B.ACT_BUSY
    return False


def steps(ctx: RoleContext) -> str | None:
    """Run the `steps` in order, `count` times: acquire and release locks, wait
    on and set Events, wait at Barriers, update Values and Arrays, sleep, put
    on and get from channels.

    A stop command is obeyed between two steps; whatever the process holds
    then is released first, so stopping one process does not strand the rest.
    A get that finds EOF, or the last poison pill its writers send, ends the
    steps, as it ends a consumer.
    """
    objs = ctx.shared
    ends = {
        ep.name: position for position, ep in enumerate(ctx.plan.endpoints)
    }  # a put/get's channel
    plan = [
        (step.op, ends[step.target] if step.op in ("put", "get") else objs.get(step.target), step)
        for step in ctx.spec.steps
    ]
    run = _StepRun(ctx)
    for rounds in range(ctx.spec.count):
        for op, obj, step in plan:
            outcome = STOPPED if ctx.commands() else run.step(op, obj, step)
            if outcome is not None:
                run.release_all()
                if outcome == _ENDED:
                    ctx.done(rounds)
                    return None
                return STOPPED
        ctx.done(rounds + 1)
    return None


_ENDED = "ended"  # a get step found the stream over
_MANAGER_STEPS = ("append", "setitem", "setattr")


class _StepRun:
    """A `steps` process between its steps: the locks it holds (released if it
    is stopped), the messages it has put, its loop index for "{i}"."""

    def __init__(self, ctx: RoleContext) -> None:
        self.ctx = ctx
        self.held: list[Any] = []
        self.sent = 0
        self.index = ctx.plan.replica - 1  # the seeds' loop index: "{i}" in a Manager step

    def release_all(self) -> None:
        for lock in reversed(self.held):
            lock.release()

    def step(self, op: str, obj: Any, step: Any) -> str | None:
        """Do one step: STOPPED to stop now, _ENDED when its input is over, else None."""
        ctx = self.ctx
        if op == "put":
            body = index_value(step.item, self.index)
            putter(ctx.chans[obj])(((ctx.plan.proc << 32) | self.sent, body, time.monotonic_ns()))
            self.sent += 1
        elif op == "get":
            return None if _step_get(ctx, obj) else _ENDED
        elif op == "sleep":
            return STOPPED if _nap(ctx, step.ms) else None
        elif op in ("acquire", "release"):
            self._lock(op, obj.lock if hasattr(obj, "lock") else obj)
        elif op in _MANAGER_STEPS:
            self._manager(op, obj, step)
        else:
            _object_step(op, obj, step, ctx.shared)
        return None

    def _lock(self, op: str, lock: Any) -> None:
        if op == "acquire":
            lock.acquire()
            self.held.append(lock)
            return
        lock.release()
        # the most recent acquire of this lock is the one released
        self.held.reverse()
        self.held.remove(lock)
        self.held.reverse()

    def _manager(self, op: str, obj: Any, step: Any) -> None:
        index = self.index
        if op == "append" and step.key is not None:
            obj.append_at(index_value(step.key, index), index_value(step.item, index), step.assign)
        elif op == "append":
            obj.append(index_value(step.item, index))
        elif op == "setitem":
            obj.setitem(index_value(step.key, index), index_value(step.item, index))
        else:
            obj.setattr(step.key, index_value(step.item, index))


def _object_step(op: str, obj: Any, step: Any, objs: dict[str, Any]) -> None:
    """A step on a Value, Array, Event, Barrier, Condition or block."""
    if op in ("add", "multiply", "value"):
        obj.update(op, step.amount, step.locked)
    elif op == "wait":
        obj.wait()
    elif op == "wait_for":
        obj.wait(objs[step.other], step.amount)
    elif op == "notify":
        obj.notify(int(step.amount))
    elif op == "notify_all":
        obj.notify_all()
    elif op == "write":
        obj.write(step.offset, int(step.amount))
    elif op == "fill":
        obj.fill(int(step.amount))
    elif op == "read":
        obj.read()
    elif op == "set":
        obj.set()
    elif op == "clear":
        obj.clear()


def _step_get(ctx: RoleContext, position: int) -> bool:
    """A get step on endpoint position; False when the stream is over (EOF, or the last
    pill). A JoinableQueue's item is marked done at once, as a consumer's is."""
    chan = ctx.chans[position]
    try:
        item = getter(chan)()
    except EOFError:
        return False
    if channel_kind(ctx.plan.endpoints[position].kind).joinable:
        chan.task_done()
    if item is None:
        return ctx.got_pill() < ctx.plan.pills_needed
    ctx.took(item, position)
    return True


def pool(ctx: RoleContext) -> str | None:
    """Own a multiprocessing.Pool and run one method over its tasks (engine/pool.py)."""
    return owner(ctx)


ROLES: dict[str, Callable[[RoleContext], str | None]] = {
    "pool": pool,
    "steps": steps,
    "producer": producer,
    "consumer": consumer,
    "worker": worker,
    "pinger": pinger,
    "ponger": ponger,
}
ROLES.update(DEMO_ROLES)

__all__ = ["ROLES", "STOPPED", "RoleContext", "getter", "index_value", "putter", "square"]
