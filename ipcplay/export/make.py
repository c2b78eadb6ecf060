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


def make_channels(code: Code, topo: Topology) -> None:
    for channel in topo.channels.values():
        spec = channel.spec
        if spec.kind == "Pipe":
            first, second = channel.ends
            if spec.duplex:
                code(f"{first}, {second} = ctx.Pipe()  # duplex: each end can send() and recv()")
            else:
                one_way = "  # one-way: (reader end, writer end)"
                code(f"{first}, {second} = ctx.Pipe(duplex=False){one_way}")
        elif spec.kind == "SimpleQueue":
            code(f"{channel.var} = ctx.SimpleQueue()  # no maxsize, no feeder thread, no timeouts")
        elif spec.kind == "ManagerQueue" and spec.remote:
            name = quoted(spec.name)
            code(f"server.get_queue({name}, {spec.maxsize})", "made now, before anyone connects")
            code(f"{channel.var} = (server.address, authkey)", "what a process needs to connect()")
        elif spec.kind == "ManagerQueue":
            arg = str(spec.maxsize) if spec.maxsize else ""
            code(
                f"{channel.var} = man.Queue({arg})", "a queue.Queue in the server; this is a proxy"
            )
        else:
            arg = str(spec.maxsize) if spec.maxsize else ""
            if spec.maxsize:
                note = f"bounded: put() blocks while it holds {items(spec.maxsize)}"
            elif spec.kind == "JoinableQueue":
                note = "a Queue with task_done() and join()"
            else:
                note = "unbounded"
            code(f"{channel.var} = ctx.{spec.kind}({arg})  # {note}")


def make_shared(code: Code, scenario: Scenario, topo: Topology) -> None:
    for obj in scenario.shared:
        var = topo.shared[obj.name]
        if obj.kind == "Value":
            init = number(obj.value) if obj.is_float else str(obj.value)
            if obj.is_float and "." not in init and "e" not in init:
                init += ".0"
            code(
                f"{var} = ctx.Value({quoted(obj.typecode)}, {init})", "with a lock: see get_lock()"
            )
        elif obj.kind == "Array":
            vals = ", ".join(repr(item) for item in obj.values)
            code.many(call(f"{var} = ctx.Array", [quoted(obj.typecode), f"[{vals}]"]))
        elif obj.kind in ("Semaphore", "BoundedSemaphore"):
            code(f"{var} = ctx.{obj.kind}({obj.value})", f"{obj.value} permits")
        elif obj.kind == "Barrier":
            code(
                f"{var} = ctx.Barrier({obj.parties})",
                f"lets {obj.parties} waiters through together",
            )
        elif obj.kind == "SharedMemory":
            code(f"{var} = shared_memory.SharedMemory(create=True, size={obj.size})", "in /dev/shm")
        elif obj.kind == "ManagerList":
            items = ", ".join(py_literal(item) for item in obj.values)
            code.many(call(f"{var} = man.list", [f"[{items}]"]))
        elif obj.kind == "ManagerDict":
            pairs = ", ".join(f"{py_literal(key)}: {py_literal(item)}" for key, item in obj.items)
            code.many(call(f"{var} = man.dict", ["{" + pairs + "}"]))
        elif obj.kind == "ManagerNamespace":
            code(
                f"{var} = man.Namespace()", "attributes only; each one set is a call to the server"
            )
        else:
            code(f"{var} = ctx.{obj.kind}()")


def make_processes(code: Code, template: Template, topo: Topology, emitter: Emitter) -> None:
    args = []
    if emitter.fork_closes:
        args.append("pipe_ends")
    for name in template.channels:
        channel = topo.channels[name]
        args.append(template.pipe_ends[name] if channel.kind == "Pipe" else channel.var)
    args += list(template.kept_ends)
    args += [topo.shared[count] for count in template.spec.shared_used]
    args += [
        topo.exited[count]
        for count in dict.fromkeys((*template.spec.join_first, *template.spec.join_last))
    ]
    if uses_index(template.spec):
        args.append("r - 1" if len(template.names) > 1 else "0")  # i: the process's index
    args.append("tallies[name]")
    if emitter.endless:
        args.append("stop")
    count = len(template.names)
    if count == 1:
        code(f"name = {quoted(template.names[0])}")
        _add_process(code, template, args)
    else:
        with code.block(
            f"for r in range(1, {count + 1}):  # {template.names[0]} ... {template.names[-1]}"
        ):
            code(f'name = f"{template.spec.name}-{{r}}"')
            _add_process(code, template, args)


def _add_process(code: Code, template: Template, args: list[str]) -> None:
    code("tallies[name] = Tally()")
    tup = "(" + ", ".join(args) + ("," if len(args) == 1 else "") + ")"
    kwargs = [f"target={template.func}", "name=name", f"args={tup}"]
    process = call("ctx.Process", kwargs, indent=code.level + 1)
    one = f"processes.append({process})"
    if "\n" not in process and len(one) + 4 * code.level <= LIMIT:
        code(one)
        return
    if max(len(line) for line in process.split("\n")) + 4 * (code.level + 1) > LIMIT:
        inner = "".join(f"{INDENT}{arg},\n" for arg in args)
        kwargs[-1] = f"args=(\n{inner})"
        process = (
            "ctx.Process(\n"
            + "".join(f"{INDENT}{kwarg.replace(chr(10), chr(10) + INDENT)},\n" for kwarg in kwargs)
            + ")"
        )
    code.many("processes.append(\n" + INDENT + process.replace("\n", "\n" + INDENT) + "\n)")
