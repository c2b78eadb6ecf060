"""One emitter per role: the body of the function a process runs in the script.

Each emitter writes, for one `[[process]]` table, the loop that the engine's
role of the same name runs (`ipcplay.engine.roles`), in the same order of
steps, so the script's counts are the engine's counts: put/get, work after
the item, pills last and one per reader, task_done for pills too, EOFError
ends a pipe reader. Without the engine's instruments, every call is counted
on the process's `tally` right after it returns.

Two modes. A scenario that ends by itself is written as plain blocking code.
One that runs until stopped (some producer or pinger has count = 0) gets a
`stop` Event that every loop checks between items, and waits that look at it
(`take`, `receive`, `put_or_stop`, `stop.wait`), as the engine's roles read
their stop command between items.
"""

from __future__ import annotations

from collections.abc import Callable

from ipcplay.export import literals
from ipcplay.export.calls import (
    counted_loop,
    endings,
    get,
    pace,
    pace_setup,
    payload,
    pill_check,
    put,
    route,
    stop_check,
    tally,
    work,
)
from ipcplay.export.code import LIMIT, Code, call, items, quoted
from ipcplay.export.emitter import Emitter
from ipcplay.export.pool import emit as pool
from ipcplay.export.steps import steps, uses_index
from ipcplay.export.topology import Template

__all__ = ["ROLES", "Emitter", "emit", "uses_index"]


# --------------------------------------------------------------------------- one process


def emit(template: Template, emitter: Emitter) -> str:
    """The whole `def` for template `t`."""
    params = [
        *(["pipe_ends"] if emitter.fork_closes else []),
        *(emitter.chan(object_name).var for object_name in template.channels),
    ]
    params += list(template.kept_ends)
    params += [emitter.topo.shared[object_name] for object_name in template.spec.shared_used]
    params += [emitter.topo.exited[object_name] for object_name in _joins(template)]
    params += ["i"] if uses_index(template.spec) else []
    params += ["tally", *(["stop"] if emitter.endless else [])]
    code = Code()
    code.many(call(f"def {template.func}", params, ":"))
    code.level = 1
    text = literals.prose(_summary(template, emitter), width=LIMIT - 10)  # indent and quotes
    code.many(literals.docstring(text))
    for name in template.channels:
        if emitter.chan(name).spec.remote:
            var = emitter.chan(name).var
            code(f"{var} = connect({var}, {quoted(name)})", "by address and authkey, not inherited")
        _open(code, template, emitter, name)
    if emitter.fork_closes:
        mine = [
            emitter.chan(object_name).var
            for object_name in template.channels
            if emitter.chan(object_name).paired_ends
        ]
        mine += template.kept_ends
        code("# fork copied every pipe end into this process; close all but our own, or a")
        code("# reader elsewhere would never see EOFError (a copy of its write end is open here).")
        with code.block("for end in pipe_ends:"):
            if mine:
                with code.block(
                    f"if end not in ({', '.join(mine)}{',' if len(mine) == 1 else ''}):"
                ):
                    code("end.close()")
            else:
                code("end.close()")
    for end in template.kept_ends:
        code(f"# The mistake: this process was handed {end} too, and never closes it.")
        code("# recv() raises EOFError only once *every* copy of the write end is closed,")
        code("# so after the last message it waits forever, for a writer that is itself.")
    _join(code, template, emitter, template.spec.join_first, "before anything else")
    ROLES[template.spec.role](code, template, emitter)
    _join(code, template, emitter, template.spec.join_last, "now that it has taken everything")
    return code.text()


def _open(code: Code, template: Template, emitter: Emitter, name: str) -> None:
    """A channel of a kind no process inherits: this process opens its own end
    (its kind's `opens`: the first user's line, or every other's)."""
    channel = emitter.chan(name)
    opens = channel.entry.opens
    if not opens:
        return
    first = next(each for each in emitter.topo.templates if name in each.channels)
    line, _, comment = opens[0 if first is template else -1].partition("  # ")
    code(line.format(var=channel.var), comment)
    emitter.needs.update(channel.entry.helpers)


def _joins(template: Template) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*template.spec.join_first, *template.spec.join_last)))


def _join(
    code: Code, template: Template, emitter: Emitter, names: tuple[str, ...], when: str
) -> None:
    """join_first / join_last: this process stands for the parent that joins."""
    if not names:
        return
    who = " and ".join(names)
    code(f"# {template.spec.name} stands for the parent: it joins {who} {when}.")
    code("# Only a process's own parent can join() it, so main() does the join()")
    code("# and sets an Event when it returns; waiting for that Event is the join.")
    for name in names:
        code(f"{emitter.topo.exited[name]}.wait()  # {name}.join()")


def _summary(template: Template, emitter: Emitter) -> str:
    """The function's docstring: generated words and checked names only."""
    spec = template.spec
    who = (
        template.names[0]
        if len(template.names) == 1
        else f"{template.names[0]} ... {template.names[-1]}"
    )
    ins, outs = ", ".join(spec.inputs), ", ".join(spec.outputs)

    if spec.role == "globals":
        return f"{who}: reads its copy of the module's global COUNTER, adds 1 {spec.count} times."
    if spec.role == "coroutines":
        return f"{who}: a generator producer sends 1..{spec.count} to a generator consumer."
    if spec.pool is not None:
        pool = spec.pool
        return f"Pool process {who}: Pool({pool.processes}).{pool.method}({pool.function}, ...)."
    if spec.role == "steps":
        times = "once" if spec.count == 1 else f"{spec.count} times"
        objects = ", ".join((*spec.shared_used, *dict.fromkeys((*spec.inputs, *spec.outputs))))
        return f"{who}: runs its steps {times}, on {objects}."
    if spec.role == "producer":
        verb = "sends" if all(emitter.chan(name).pipe_like for name in spec.outputs) else "puts"
        what = f"{verb} {items(spec.count)} on {outs}" if spec.count else f"{verb} items on {outs}"
        if not spec.count:
            what += " until stopped"
    elif spec.role == "pinger":
        trips = items(spec.count, "round trip") if spec.count else "round trips"
        what = f"{trips}: sends on {outs}, then waits for the reply on {ins}"
    elif spec.role == "ponger":
        what = f"answers each message from {ins} on {outs}"
        if spec.count:
            what += f", {items(spec.count)}"
    else:
        if spec.count:
            what = f"takes {items(spec.count)} from {ins}"
        elif template.pill_writers:
            what = f"takes items from {ins} until a poison pill"
        elif emitter.chan(spec.inputs[0]).pipe_like:
            what = f"takes items from {ins} until EOFError"
        elif emitter.endless:
            what = f"takes items from {ins} until stopped"
        else:
            what = f"takes items from {ins} for as long as they come (nothing tells it to stop)"
        if spec.role == "worker":
            what += f"; puts each result on {outs}"
    steps = {"poison-pill": "poison pills", "join": "join()", "close": "close()"}
    if spec.ending:
        what += "; then " + ", ".join(steps[step] for step in spec.ending)
    return f"{spec.role.capitalize()} {who}: {what}."


# --------------------------------------------------------------------------- roles


def producer(code: Code, template: Template, emitter: Emitter) -> None:
    spec = template.spec
    body = payload(code, emitter, spec.payload, "body", template)
    item = "i" if spec.payload.kind == "int" else body
    uses_i = spec.payload.kind == "int" or len(spec.outputs) > 1
    pace_setup(code, spec.rate)
    once = spec.count == 1 and not uses_i and not emitter.endless
    with code.block(counted_loop(spec.count, "i" if uses_i else "_", emitter), once=once):
        pace(code, emitter, spec.rate)
        stop_check(code, emitter)
        route(code, emitter, spec.outputs, "i", lambda channel: put(code, emitter, channel, item))
        work(code, emitter, spec.work)
    endings(code, template, emitter, reachable=spec.count > 0)


def consumer(code: Code, template: Template, emitter: Emitter) -> None:
    _consume(code, template, emitter, forward=False)


def worker(code: Code, template: Template, emitter: Emitter) -> None:
    _consume(code, template, emitter, forward=True)


def _consume(code: Code, template: Template, emitter: Emitter, *, forward: bool) -> None:
    spec = template.spec
    inp = spec.inputs[0]
    channel = emitter.chan(inp)
    var = channel.var
    task_done = channel.joinable and spec.task_done
    # One item from a queue, with no pill to look out for, needs no loop.
    once = (
        spec.count == 1
        and not channel.pipe_like
        and not template.pill_writers
        and not emitter.endless
    )
    counted = not once and (spec.count > 0 or (forward and len(spec.outputs) > 1))
    if counted:
        code("taken = 0")
    if template.pill_writers > 1:
        code("pills = 0")
    if channel.joinable and not spec.task_done:
        code(f"# task_done = false: this process never calls {var}.task_done(),")
        code(f"# so a join() on {inp} waits forever.")
    if spec.compute != "none" and not forward:
        code(f"# compute = {spec.compute}: a consumer sends no result on, so it computes nothing.")
    header = f"while taken < {spec.count}:" if spec.count else "while True:"
    with code.block(header, once=once):
        stop_check(code, emitter)
        used = forward or bool(template.pill_writers)
        get(code, emitter, inp, "item" if used else "")
        pill_check(code, template, emitter, "item", task_done=task_done, inp=inp)
        work(code, emitter, spec.work)
        if forward:
            result = "square(item)" if spec.compute == "square" else "item"
            if spec.compute == "square":
                emitter.needs.add("square")
            route(
                code,
                emitter,
                spec.outputs,
                "taken",
                lambda channel: put(code, emitter, channel, result),
            )
        if task_done:
            code(f"{var}.task_done()", f"one task_done() per item taken: {var}.join() counts them")
            tally(code, "task_done", inp)
        if counted:
            code("taken += 1")
    endings(code, template, emitter)


def pinger(code: Code, template: Template, emitter: Emitter) -> None:
    spec = template.spec
    out, inp = spec.outputs[0], spec.inputs[0]
    body = payload(code, emitter, spec.payload, "body", template)
    pace_setup(code, spec.rate)
    uses_i = spec.payload.kind == "int"
    with code.block(counted_loop(spec.count, "i" if uses_i else "_", emitter)):
        pace(code, emitter, spec.rate)
        stop_check(code, emitter)
        put(code, emitter, out, "i" if uses_i else body)
        get(
            code,
            emitter,
            inp,
            "item" if template.pill_writers else "",
            comment="wait for the reply",
        )
        if template.pill_writers:
            with code.block("if item is PILL:", "a poison pill instead of a reply"):
                code("break")
        work(code, emitter, spec.work)
    endings(code, template, emitter, reachable=spec.count > 0)


def ponger(code: Code, template: Template, emitter: Emitter) -> None:
    spec = template.spec
    out, inp = spec.outputs[0], spec.inputs[0]
    reply = payload(code, emitter, spec.reply, "reply", template)
    counted = spec.count > 0 or spec.reply.kind == "int"
    if counted:
        code("n = 0")
    with code.block(f"while n < {spec.count}:" if spec.count else "while True:"):
        stop_check(code, emitter)
        get(code, emitter, inp, "item" if template.pill_writers else "")
        pill_check(code, template, emitter, "item", task_done=False, inp=inp)
        work(code, emitter, spec.work)
        put(code, emitter, out, "n" if spec.reply.kind == "int" else reply)
        if counted:
            code("n += 1")
    endings(code, template, emitter)


def globals_role(code: Code, template: Template, emitter: Emitter) -> None:
    """Seed 003: a module-level global, read and changed in this process's own copy."""
    line = "COUNTER = 0  # a module-level global: every process has its own copy"
    if line not in emitter.constants:
        emitter.constants.append(line)
    code("global COUNTER  # this process's copy of the module's global")
    code("seen = COUNTER  # fork: the parent's value at fork time; spawn: the module's own, 0")
    with code.block(f"for _ in range({template.spec.count}):"):
        code("COUNTER += 1")
    code("me = multiprocessing.current_process().name")
    code('print(f"{me}: global at start={seen} now={COUNTER}", flush=True)')


def coroutines(code: Code, template: Template, emitter: Emitter) -> None:
    """Seed 003's generator producer/consumer, both in this one process."""
    emitter.needs.update({"coroutines", "time"})
    code("taken = []  # what the consumer took: one process, so a plain list")
    code(f"sent, replies, switches = produce(consumer(taken), {template.spec.count})")
    code("received = len(taken)")
    code('print(f"coroutines in one process: sent={sent} received={received}", end=" ")')
    code('print(f"replies={replies} switches={switches}", flush=True)')


ROLES: dict[str, Callable[[Code, Template, Emitter], None]] = {
    "pool": pool,
    "globals": globals_role,
    "coroutines": coroutines,
    "steps": steps,
    "producer": producer,
    "consumer": consumer,
    "worker": worker,
    "pinger": pinger,
    "ponger": ponger,
}
