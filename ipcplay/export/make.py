"""main()'s first half: the channels, shared objects and processes it makes.

One line of construction per object, with the comment a reader needs (a
bound, a lock, where it lives), and the `ctx.Process(...)` call per replica,
wrapped as ruff format wraps it.
"""

from __future__ import annotations

from ipcplay.export.code import INDENT, LIMIT, Code, call, items, number, quoted
from ipcplay.export.emitter import Emitter
from ipcplay.export.literals import py_literal
from ipcplay.export.steps import uses_index
from ipcplay.export.topology import Template, Topology
from ipcplay.scenario.model import Scenario


def make_channels(c: Code, topo: Topology) -> None:
    for ch in topo.channels.values():
        spec = ch.spec
        if spec.kind == "Pipe":
            a, b = ch.ends
            if spec.duplex:
                c(f"{a}, {b} = ctx.Pipe()  # duplex: each end can send() and recv()")
            else:
                c(f"{a}, {b} = ctx.Pipe(duplex=False)  # one-way: (reader end, writer end)")
        elif spec.kind == "SimpleQueue":
            c(f"{ch.var} = ctx.SimpleQueue()  # no maxsize, no feeder thread, no timeouts")
        elif spec.kind == "ManagerQueue" and spec.remote:
            name = quoted(spec.name)
            c(f"server.get_queue({name}, {spec.maxsize})", "made now, before anyone connects")
            c(f"{ch.var} = (server.address, authkey)", "what a process needs to connect()")
        elif spec.kind == "ManagerQueue":
            arg = str(spec.maxsize) if spec.maxsize else ""
            c(f"{ch.var} = man.Queue({arg})", "a queue.Queue in the server; this is a proxy")
        else:
            arg = str(spec.maxsize) if spec.maxsize else ""
            if spec.maxsize:
                note = f"bounded: put() blocks while it holds {items(spec.maxsize)}"
            elif spec.kind == "JoinableQueue":
                note = "a Queue with task_done() and join()"
            else:
                note = "unbounded"
            c(f"{ch.var} = ctx.{spec.kind}({arg})  # {note}")


def make_shared(c: Code, s: Scenario, topo: Topology) -> None:
    for o in s.shared:
        var = topo.shared[o.name]
        if o.kind == "Value":
            init = number(o.value) if o.is_float else str(o.value)
            if o.is_float and "." not in init and "e" not in init:
                init += ".0"
            c(f"{var} = ctx.Value({quoted(o.typecode)}, {init})", "with a lock: see get_lock()")
        elif o.kind == "Array":
            vals = ", ".join(repr(v) for v in o.values)
            c.many(call(f"{var} = ctx.Array", [quoted(o.typecode), f"[{vals}]"]))
        elif o.kind in ("Semaphore", "BoundedSemaphore"):
            c(f"{var} = ctx.{o.kind}({o.value})", f"{o.value} permits")
        elif o.kind == "Barrier":
            c(f"{var} = ctx.Barrier({o.parties})", f"lets {o.parties} waiters through together")
        elif o.kind == "SharedMemory":
            c(f"{var} = shared_memory.SharedMemory(create=True, size={o.size})", "in /dev/shm")
        elif o.kind == "ManagerList":
            items = ", ".join(py_literal(v) for v in o.values)
            c.many(call(f"{var} = man.list", [f"[{items}]"]))
        elif o.kind == "ManagerDict":
            pairs = ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in o.items)
            c.many(call(f"{var} = man.dict", ["{" + pairs + "}"]))
        elif o.kind == "ManagerNamespace":
            c(f"{var} = man.Namespace()", "attributes only; each one set is a call to the server")
        else:
            c(f"{var} = ctx.{o.kind}()")


def make_processes(c: Code, t: Template, topo: Topology, e: Emitter) -> None:
    args = []
    if e.fork_closes:
        args.append("pipe_ends")
    for name in t.channels:
        ch = topo.channels[name]
        args.append(t.pipe_ends[name] if ch.kind == "Pipe" else ch.var)
    args += list(t.kept_ends)
    args += [topo.shared[n] for n in t.spec.shared_used]
    args += [topo.exited[n] for n in dict.fromkeys((*t.spec.join_first, *t.spec.join_last))]
    if uses_index(t.spec):
        args.append("r - 1" if len(t.names) > 1 else "0")  # i: the process's index
    args.append("tallies[name]")
    if e.endless:
        args.append("stop")
    n = len(t.names)
    if n == 1:
        c(f"name = {quoted(t.names[0])}")
        _add_process(c, t, args)
    else:
        with c.block(f"for r in range(1, {n + 1}):  # {t.names[0]} ... {t.names[-1]}"):
            c(f'name = f"{t.spec.name}-{{r}}"')
            _add_process(c, t, args)


def _add_process(c: Code, t: Template, args: list[str]) -> None:
    c("tallies[name] = Tally()")
    tup = "(" + ", ".join(args) + ("," if len(args) == 1 else "") + ")"
    kwargs = [f"target={t.func}", "name=name", f"args={tup}"]
    process = call("ctx.Process", kwargs, indent=c.level + 1)
    one = f"processes.append({process})"
    if "\n" not in process and len(one) + 4 * c.level <= LIMIT:
        c(one)
        return
    if max(len(line) for line in process.split("\n")) + 4 * (c.level + 1) > LIMIT:
        inner = "".join(f"{INDENT}{a},\n" for a in args)
        kwargs[-1] = f"args=(\n{inner})"
        process = (
            "ctx.Process(\n"
            + "".join(f"{INDENT}{k.replace(chr(10), chr(10) + INDENT)},\n" for k in kwargs)
            + ")"
        )
    c.many("processes.append(\n" + INDENT + process.replace("\n", "\n" + INDENT) + "\n)")
