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
from ipcplay.scenario.kinds import CHANNEL_BY_NAME, SHARED_BY_NAME
from ipcplay.scenario.model import Scenario, SharedSpec


def make_channels(code: Code, topo: Topology) -> None:
    """One line per channel, from its kind's `make` (scenario/kinds.py); a
    pipe-like kind's two ends and a remote queue are the export's own."""
    for channel in topo.channels.values():
        spec = channel.spec
        kind = CHANNEL_BY_NAME[spec.kind]
        if channel.paired_ends:
            first, second = channel.ends
            if spec.duplex:
                code(f"{first}, {second} = ctx.Pipe()  # duplex: each end can send() and recv()")
            else:
                one_way = "  # one-way: (reader end, writer end)"
                code(f"{first}, {second} = ctx.Pipe(duplex=False){one_way}")
        elif spec.remote:
            name = quoted(spec.name)
            code(f"server.get_queue({name}, {spec.maxsize})", "made now, before anyone connects")
            code(f"{channel.var} = (server.address, authkey)", "what a process needs to connect()")
        else:
            if spec.maxsize:
                queue_note = f"bounded: put() blocks while it holds {items(spec.maxsize)}"
            elif kind.joinable:
                queue_note = "a Queue with task_done() and join()"
            else:
                queue_note = "unbounded"
            fields = {
                "maxsize": str(spec.maxsize) if spec.maxsize else "",
                "queue_note": queue_note,
            }
            _construct(code, channel.var, kind.make, kind.make_note, fields)


def make_shared(code: Code, scenario: Scenario, topo: Topology) -> None:
    """One line (or a wrapped call) per shared object, from its kind's `make`."""
    for obj in scenario.shared:
        kind = SHARED_BY_NAME[obj.kind]
        make = kind.make or f"ctx.{kind.name}()"
        _construct(code, topo.shared[obj.name], make, kind.make_note, _shared_fields(obj))


def _shared_fields(obj: SharedSpec) -> dict[str, str]:
    """A shared object's keys written as Python, for its kind's `make` and `make_note`."""
    value = number(obj.value) if obj.is_float else str(obj.value)
    if obj.is_float and "." not in value and "e" not in value:
        value += ".0"
    pairs = ", ".join(f"{py_literal(key)}: {py_literal(item)}" for key, item in obj.items)
    return {
        "typecode": quoted(obj.typecode),
        "value": value,
        "values": "[" + ", ".join(py_literal(item) for item in obj.values) + "]",
        "items": "{" + pairs + "}",
        "parties": str(obj.parties),
        "size": str(obj.size),
    }


def _construct(code: Code, var: str, make: str, note: str, fields: dict[str, str]) -> None:
    """`var = make`: with a note, beside it or above it; without, a call wrapped
    as ruff format wraps it (one argument of `make` per `, `)."""
    if note or "  # " in make:
        code(f"{var} = {make.format(**fields)}", note.format(**fields))
        return
    head, _, rest = make.partition("(")
    args = [arg.format(**fields) for arg in rest[:-1].split(", ")] if rest[:-1] else []
    code.many(call(f"{var} = {head}", args))


def make_processes(code: Code, template: Template, topo: Topology, emitter: Emitter) -> None:
    args = []
    if emitter.fork_closes:
        args.append("pipe_ends")
    for name in template.channels:
        channel = topo.channels[name]
        args.append(template.pipe_ends[name] if channel.paired_ends else channel.var)
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
