"""A watched program's Manager: its server process and its proxies' calls.

`multiprocessing.Manager()` starts a server process (it shows as a process
of the program, role `manager`) and hands out proxies; every method call on
a proxy is a round trip to the server (`BaseProxy._callmethod`). So a
proxied list, dict or Namespace registers where the program makes it
(`shared = manager.list()` is `shared`), and each call is counted by the
process that makes it, in its own slots: calls, the time they took (round
trips included), and the calls that change the object. A proxied Queue is a
channel: puts and gets counted like any queue's (its depth is puts - gets),
and a get or put that waits in the server is marked, with the program's
line, like any blocking call.

The registration travels with the proxy: pickled into a child (`__reduce__`),
the proxy carries its index and slot, so every process counts on the same
object. Proxies of other types (a manager's Lock, Event, Value...) work as
ever, uncounted.

In step mode (issue 18) each counted call waits at the process's gate first:
a queue's put or get as itself, a call that changes a list, dict or
Namespace as a write, any other as a read (`ns.total += 1` is a read, then
a write, so another process's write in between is lost by hand).
"""

from __future__ import annotations

from time import monotonic_ns
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine import watch_runtime as _rt
from ipcplay.engine.watch_runtime import Runtime, runtime

# Manager type ids ipcplay counts, and the kind each is (scenario/kinds.py).
KINDS = {
    "list": ("shared", "ManagerList"),
    "dict": ("shared", "ManagerDict"),
    "Namespace": ("shared", "ManagerNamespace"),
    "Queue": ("channel", "ManagerQueue"),
    "JoinableQueue": ("channel", "ManagerQueue"),
}
# Calls that change a list, dict or Namespace (counted as updates too).
CHANGES = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "reverse",
        "sort",
        "clear",
        "update",
        "setdefault",
        "popitem",
        "__setitem__",
        "__delitem__",
        "__iadd__",
        "__imul__",
        "__setattr__",
        "__delattr__",
    }
)
PUTS = frozenset({"put", "put_nowait"})
GETS = frozenset({"get", "get_nowait"})


def _register(rt: Runtime, proxy: Any) -> None:
    from ipcplay.engine.watch_names import binding_name, unique

    typeid = getattr(proxy._token, "typeid", "")
    family, kind = KINDS.get(typeid, ("", ""))
    if not family:
        return
    name = unique(rt, binding_name(kind))
    index, slot = rt.register_object(family, kind, name, remote=True)
    if index >= 0:
        proxy.__dict__["_ipcplay_obj"] = (family, index, slot)


def _channel_call(rt: Runtime, index: int, slot: int, call: Any, method: str) -> Any:
    mv = rt.mv
    at = rt.layout.chan(rt.proc, index)
    pbase = rt.base
    if method in PUTS:
        counted, op, use = B.OUT_N, B.OP_PUT, "writes"
    else:
        counted, op, use = B.IN_N, B.OP_GET, "reads"
    rt.use(slot, use)
    seq = mv[at + counted]
    rt.where()
    t0 = monotonic_ns()
    mv[pbase + B.P_SINCE] = t0
    mv[pbase + B.P_MARK] = B.mark(seq, index, op, timed=True)
    try:
        result = call()
    finally:
        mv[pbase + B.P_MARK] = 0
        blocked = B.BLOCK_OUT_NS if op == B.OP_PUT else B.BLOCK_IN_NS
        mv[at + blocked] += monotonic_ns() - t0
    mv[at + counted] = seq + 1
    return result


def _shared_call(rt: Runtime, index: int, slot: int, call: Any, method: str) -> Any:
    mv = rt.mv
    at = rt.layout.shared(rt.proc, index)
    rt.use(slot, "uses")
    t0 = monotonic_ns()
    try:
        return call()
    finally:
        mv[at + B.S_OPS] += 1
        mv[at + B.S_WAIT_NS] += monotonic_ns() - t0
        if method in CHANGES:
            mv[at + B.S_UPDATES] += 1


def patch_managers(managers: Any) -> None:
    proxy_class = managers.BaseProxy
    init = proxy_class.__init__
    callmethod = proxy_class._callmethod
    reduce = proxy_class.__reduce__

    def watched_init(
        self: Any, token: Any, serializer: Any, manager: Any = None, *args: Any, **kw: Any
    ) -> None:
        init(self, token, serializer, manager, *args, **kw)
        rt = runtime()
        if manager is not None and rt is not None and rt.proc >= 0:
            _register(rt, self)

    def watched_callmethod(self: Any, methodname: str, args: Any = (), kwds: Any = {}) -> Any:  # noqa: B006 - the stdlib's signature
        info = self.__dict__.get("_ipcplay_obj")
        rt = runtime()
        if info is None or rt is None or rt.proc < 0:
            return callmethod(self, methodname, args, kwds)
        family, index, slot = info
        if _rt.gate_on[0]:
            _rt.gate(*_operation(family, index, methodname))

        def call() -> Any:
            return callmethod(self, methodname, args, kwds)

        if family == "channel":
            if methodname in PUTS or methodname in GETS:
                return _channel_call(rt, index, slot, call, methodname)
            return call()
        return _shared_call(rt, index, slot, call, methodname)

    def watched_reduce(self: Any) -> Any:
        rebuilt = reduce(self)
        info = self.__dict__.get("_ipcplay_obj")
        return rebuilt if info is None else (_rebuild, (rebuilt, info))

    proxy_class.__init__ = watched_init
    proxy_class._callmethod = watched_callmethod
    proxy_class.__reduce__ = watched_reduce


def _operation(family: str, index: int, method: str) -> tuple[str, int]:
    """The gate's (operation, target) of a counted proxy call."""
    if family == "channel":
        return ("put" if method in PUTS else "get" if method in GETS else "read"), index
    return ("write" if method in CHANGES else "read"), _rt.shared_code(index)


def _rebuild(rebuilt: Any, info: tuple[str, int, int]) -> Any:
    func, args = rebuilt
    proxy = func(*args)
    proxy.__dict__["_ipcplay_obj"] = info
    return proxy
