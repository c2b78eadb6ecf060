"""What a role sees and does between its channel calls: `RoleContext`.

Its own module, below both the roles (roles.py) and the pool owner
(pool.py), which each run with one, so that neither imports the other.
"""

from __future__ import annotations

import os
import random
import select
import time
from collections.abc import Callable
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine import gate, tempo
from ipcplay.engine.plan import ChildPlan
from ipcplay.scenario.kinds import channel_kind

STOPPED = "stopped"
_SLICE = 0.05  # longest uninterrupted sleep, so commands are seen within 50 ms


class RoleContext:
    """What a role sees: its channels, its board slots and its parameters."""

    def __init__(
        self,
        plan: ChildPlan,
        mv: memoryview,
        chans: list[Any],
        shared: dict[str, Any] | None = None,
    ) -> None:
        self.plan = plan
        self.shared = shared or {}
        self.spec = plan.spec
        self.mv = mv
        self.base = plan.layout.proc(plan.proc)
        self.chans = chans
        self.inputs = [chans[position] for position in plan.inputs]
        self.outputs = [chans[position] for position in plan.outputs]
        self.rng = random.Random(plan.seed)
        self._pills_handled = 0
        self.binds = 0  # times the objects changed class (step mode armed): see commands()
        self._rate_cmd = -1
        self._rate = plan.spec.rate
        self._speed = tempo.speed_of(mv)
        self._speed_micro = mv[B.G_SPEED_MICRO]  # compared as stored: one load per item
        self._next_due = time.monotonic()
        self._pills_sent = 0
        self._pills_received = 0
        self.body = self._make_body()
        # board offset of each endpoint's slots, looked up once, not per message
        self._chan_base = [plan.layout.chan(plan.proc, ep.chan) for ep in plan.endpoints]

    # --- messages -----------------------------------------------------------
    def _make_body(self) -> Any:
        payload = self.spec.payload
        if payload.kind == "bytes":
            return self.rng.randbytes(payload.size)
        if payload.kind == "text":
            if payload.size > 0:
                return (payload.text * (payload.size // max(1, len(payload.text)) + 1))[
                    : payload.size
                ]
            return payload.text
        if payload.kind == "value":
            return payload.value
        if payload.kind == "lambda":
            return lambda x: x * x  # pickle refuses it: it has no importable name
        if payload.kind == "function":
            return square  # pickled by reference: module and name
        return None  # int: the sequence number, made per item

    def item(self, seq: int) -> tuple[int, Any, int]:
        """(message id, body, when it was sent): the id lets the journal follow a
        message end to end; the time lets its reader measure how long it waited."""
        body = seq if self.spec.payload.kind == "int" else self.body
        return ((self.plan.proc << 32) | seq, body, time.monotonic_ns())

    def took(self, item: Any, chan_pos: int) -> None:
        """Record how long `item` waited between its put and our get: exact, per
        message, for every message ipcplay's roles sent."""
        if type(item) is not tuple or len(item) != 3 or type(item[2]) is not int:
            return
        waited = time.monotonic_ns() - item[2]
        chan_at = self._chan_base[chan_pos]
        mv = self.mv
        mv[chan_at + B.LAST_WAIT_NS] = waited
        if waited > mv[chan_at + B.MAX_WAIT_NS]:
            mv[chan_at + B.MAX_WAIT_NS] = waited

    def reply_body(self) -> Any:
        reply = self.spec.reply
        if reply.kind == "value":
            return reply.value
        if reply.kind == "bytes":
            return bytes(reply.size)
        return reply.text

    # --- commands and pacing ---------------------------------------------------
    def commands(self) -> bool:
        """Apply commands from the observer; True means stop now."""
        mv, base = self.mv, self.base
        if mv[base + B.C_STOP]:
            return True
        if mv[base + B.C_GATE] and gate.current is not None and not gate.current.armed:
            # Step mode came on: gated from the next operation (gate.py). A
            # role holding bound methods (chan.put) takes them again.
            gate.current.arm()
            self.binds += 1
        rate_cmd = mv[base + B.C_RATE_MILLI]
        if rate_cmd != self._rate_cmd:
            self._rate_cmd = rate_cmd
            self._rate = self.spec.rate if rate_cmd < 0 else rate_cmd / 1000.0
            self._next_due = time.monotonic()
        if mv[B.G_SPEED_MICRO] != self._speed_micro:
            # Slower or faster from now: the next item is due one (new) interval on.
            self._speed_micro = mv[B.G_SPEED_MICRO]
            self._speed = tempo.speed_of(mv)
            self._next_due = time.monotonic()
        wanted = mv[base + B.C_PILLS]
        while self._pills_handled < wanted:
            self._pills_handled += 1
            if self.outputs:
                self.send_pill(self.outputs[0])
        return False

    def pace(self) -> bool:
        """Wait for the next slot of the current rate; True means stop now."""
        if self._rate <= 0:
            return False
        self._next_due += 1.0 / (self._rate * self._speed)
        now = time.monotonic()
        if self._next_due < now - 1.0:
            self._next_due = now  # fell far behind (paused, blocked): don't burst to catch up
        if self._next_due > now:
            self.mv[self.base + B.P_ACTIVITY] = B.ACT_PACING
            while True:
                left = self._next_due - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(left, _SLICE))
                if self.commands():
                    return True
            self.mv[self.base + B.P_ACTIVITY] = B.ACT_BUSY
        return False

    def work(self) -> None:
        work = self.spec.work
        if work.kind == "none" or work.ms <= 0:
            return
        mv, slot = self.mv, self.base + B.P_ACTIVITY
        if work.kind == "sleep":
            mv[slot] = B.ACT_SLEEP
            tempo.sleep(mv, work.ms / 1000.0)
        else:
            mv[slot] = B.ACT_CPU
            tempo.spin(mv, work.ms / 1000.0)
        mv[slot] = B.ACT_BUSY

    def compute(self, body: Any) -> Any:
        compute = self.spec.compute
        if compute == "square":
            if isinstance(body, int) and not isinstance(body, bool):
                return f"{body} * {body} = {body * body}"
            return f"{body!r} * {body!r}"
        return body

    def join(self, targets: tuple[int, ...]) -> bool:
        """Wait until each target process has exited, as `p.join()` would; True
        means stop now. A sibling cannot be waitpid()ed, so the wait is on a
        pidfd (readable once the process has exited), or on /proc."""
        mv, base = self.mv, self.base
        for target in targets:
            if gate.current is not None:
                gate.current.stop(gate.OP["join process"], target)
            tbase = self.plan.layout.proc(target)
            mv[base + B.P_WAITS_ON] = target
            mv[base + B.P_SINCE] = time.monotonic_ns()
            mv[base + B.P_ACTIVITY] = B.ACT_JOINING
            while not mv[tbase + B.P_PID]:  # not started yet: nothing to join
                if self.commands():
                    return True
                time.sleep(0.01)
            pid = mv[tbase + B.P_PID]
            try:
                fd = os.pidfd_open(pid)
            except (AttributeError, OSError):
                fd = -1
            try:
                while not _exited(pid, fd):
                    if self.commands():
                        return True
                    if fd < 0:
                        time.sleep(0.02)
            finally:
                if fd >= 0:
                    os.close(fd)
        mv[base + B.P_ACTIVITY] = B.ACT_BUSY
        return False

    def done(self, count: int) -> None:
        self.mv[self.base + B.P_ITEMS] = count

    # --- poison pills and endings ------------------------------------------------
    def send_pill(self, chan: Any) -> None:
        putter(chan)(None)
        self._pills_sent += 1
        self.mv[self.base + B.P_PILLS_SENT] = self._pills_sent

    def got_pill(self) -> int:
        self._pills_received += 1
        self.mv[self.base + B.P_PILLS_RECEIVED] = self._pills_received
        return self._pills_received

    def finish(self) -> None:
        """Run the `finally` steps in order: pills, join, close."""
        self.mv[self.base + B.P_ACTIVITY] = B.ACT_ENDING
        for step in self.spec.ending:
            if step == "poison-pill":
                for chan, count in zip(self.outputs, self.plan.pills_to_send, strict=True):
                    for _ in range(count):
                        self.send_pill(chan)
            elif step == "join":
                for chan in self.outputs:
                    if hasattr(chan, "join"):
                        chan.join()
            elif step == "close":
                for chan, ep in zip(self.chans, self.plan.endpoints, strict=True):
                    if channel_kind(ep.kind).pipe_like:
                        chan.close()


def square(x: int) -> int:
    """The `function` payload: a module-level function, so pickle can send it
    (by its module and name) where it cannot send the same lambda."""
    return x * x


# Pickled by reference as `ipcplay.engine.roles.square`, where it was first and
# where roles.py still exports it: a message's bytes, and so its preview, stay the same.
square.__module__ = "ipcplay.engine.roles"


def _exited(pid: int, fd: int) -> bool:
    """Has `pid` exited? With a pidfd, wait up to _SLICE for it to say so."""
    if fd >= 0:
        return bool(select.select([fd], [], [], _SLICE)[0])
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            state = stat_file.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # gone, and reaped
    return state in (b"Z", b"X")


def putter(chan: Any) -> Callable[[Any], None]:
    return chan.put if hasattr(chan, "put") else chan.send


def getter(chan: Any) -> Callable[[], Any]:
    return chan.get if hasattr(chan, "get") else chan.recv
