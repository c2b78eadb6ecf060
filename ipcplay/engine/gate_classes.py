"""The gated twin of each instrumented class: the same object, whose
operations stop at the process's gate (gate.py) first.

Why a twin class and not a test in each method: the plain classes are the
hot path (benchmarks/channels.py), and a step-mode test there would be paid
on every put of every run. An object becomes its twin only when step mode
first comes on in its process (`obj.__class__ = twin`: the twin adds no
slots, so Python allows the swap), and stays one; with step mode off again
its gate is one board read.

Which method is which operation is written once, in GATED_METHODS.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from time import monotonic_ns
from typing import Any

from ipcplay.engine import gate as G
from ipcplay.engine.channels_pipe import InstrumentedConnection, InstrumentedSimpleQueue
from ipcplay.engine.channels_queue import InstrumentedJoinableQueue, InstrumentedQueue
from ipcplay.engine.primitives import (
    InstrumentedBarrier,
    InstrumentedBlock,
    InstrumentedCondition,
    InstrumentedData,
    InstrumentedEvent,
    InstrumentedLock,
    InstrumentedShareableList,
)

_LOCK = {"acquire": "acquire", "release": "release"}

# class -> {method: the operation it is}. put_nowait, __enter__ and the like
# call these, so they are gated once, through them.
GATED_METHODS: dict[type, dict[str, str]] = {
    InstrumentedQueue: {"put": "put", "get": "get"},
    InstrumentedJoinableQueue: {
        "put": "put",
        "get": "get",
        "task_done": "task_done",
        "join": "join",
    },
    InstrumentedSimpleQueue: {"put": "put", "get": "get"},
    InstrumentedConnection: {
        "send": "send",
        "recv": "recv",
        "send_bytes": "send",
        "recv_bytes": "recv",
    },
    InstrumentedLock: _LOCK,
    InstrumentedCondition: {
        **_LOCK,
        "wait": "wait",
        "notify": "notify",
        "notify_all": "notify_all",
    },
    InstrumentedEvent: {"set": "set", "clear": "clear", "wait": "wait"},
    InstrumentedBarrier: {"wait": "wait"},
    InstrumentedBlock: {"write": "write", "fill": "write", "read": "read"},
    InstrumentedShareableList: {"setitem": "write", "read": "read"},
}


def _gated(method: Callable[..., Any], word: str) -> Callable[..., Any]:
    op = G.OP[word]

    @functools.wraps(method)
    def gated(self: Any, *args: Any, **kwargs: Any) -> Any:
        gate = G.current
        if gate is not None:
            gate.stop(op, gate.code_of(self))
        return method(self, *args, **kwargs)

    return gated


class GatedData(InstrumentedData):
    """A Value or an Array whose update is the two operations it really is:
    a read, then a write of what was read plus the amount. Between the two
    another process may write: the lost update, made by hand. Under its lock
    (`locked`), the lock's acquire and release are operations too."""

    __slots__ = ()

    def update(self, op: str, amount: Any, locked: bool) -> None:
        gate = G.current
        if gate is None or not gate.wanted():
            super().update(op, amount, locked)
            return
        code = gate.code_of(self)
        if locked:
            self.lock.acquire(False)
        try:
            obj = self._obj
            if op == "value":
                new: Any = [amount] * len(obj) if self._array else amount
            else:
                gate.stop(G.OP["read"], code)
                old = list(obj[:]) if self._array else obj.value
                new = _combine(op, old, amount, self._array)
            said = new if type(new) is int else None
            gate.stop(G.OP["write"], code, said)
            if self._array:
                for position, number in enumerate(new):
                    obj[position] = number
            else:
                obj.value = new
        finally:
            if locked:
                self.lock.release(False)
        self._count(op, amount)


def _combine(op: str, old: Any, amount: Any, array: bool) -> Any:
    if array:
        return [_combine(op, item, amount, False) for item in old]
    return old + amount if op == "add" else old * amount


def _twin(cls: type, methods: dict[str, str]) -> type:
    body: dict[str, Any] = {"__slots__": (), "__doc__": f"{cls.__name__}, gated (gate.py)."}
    for name, word in methods.items():
        body[name] = _gated(getattr(cls, name), word)
    return type(f"Gated{cls.__name__.removeprefix('Instrumented')}", (cls,), body)


TWINS: dict[type, type] = {cls: _twin(cls, methods) for cls, methods in GATED_METHODS.items()}
TWINS[InstrumentedData] = GatedData


def _manager_twins() -> None:
    """The twins of a Manager's queue and objects, made the first time one is
    adopted: multiprocessing.managers is a tenth of a child's start-up, and
    only a scenario with a Manager needs it."""
    from ipcplay.engine.manager import InstrumentedManagerObject, InstrumentedManagerQueue

    if InstrumentedManagerQueue in TWINS:
        return
    TWINS[InstrumentedManagerQueue] = _twin(InstrumentedManagerQueue, {"put": "put", "get": "get"})
    plain = _twin(
        InstrumentedManagerObject, {"append": "write", "setitem": "write", "setattr": "write"}
    )

    class GatedManagerObject(plain):  # type: ignore[misc,valid-type]
        """`target[key].append(item)` on a Manager's list is a read of the
        inner list (a copy) and, with `assign`, a write of it back: two
        operations, so another process's write in between is lost by hand
        (manager-nested-lost)."""

        __slots__ = ()

        def append_at(self, key: Any, item: Any, assign: bool) -> None:
            gate = G.current
            if gate is None or not gate.wanted():
                super().append_at(key, item, assign)
                return
            code = gate.code_of(self)
            gate.stop(G.OP["read"], code)
            t0 = monotonic_ns()
            row = self._proxy[key]
            self._count("__getitem__", t0)
            row.append(item)
            if assign:
                gate.stop(G.OP["write"], code)
                t0 = monotonic_ns()
                self._proxy[key] = row
                self._count("__setitem__", t0)

    TWINS[InstrumentedManagerObject] = GatedManagerObject


def adopt(gate: G.Gate, obj: Any, code: int) -> None:
    """Let `gate` gate `obj` (target `code`) once step mode comes on; an object
    of a kind with no twin (a Manager's proxy) is left as it is."""
    if type(obj).__module__ == "ipcplay.engine.manager":
        _manager_twins()
    twin = TWINS.get(type(obj))
    if twin is None:
        return

    def arm() -> None:
        obj.__class__ = twin

    gate.adopt(obj, code, arm)
    lock = getattr(obj, "lock", None)
    if isinstance(obj, InstrumentedData) and lock is not None:
        adopt(gate, lock, code)  # its get_lock(): the same object to the user
