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


def emit(t: Template, e: Emitter) -> str:
    """The whole `def` for template `t`."""
    params = [*(["pipe_ends"] if e.fork_closes else []), *(e.chan(n).var for n in t.channels)]
    params += list(t.kept_ends)
    params += [e.topo.shared[n] for n in t.spec.shared_used]
    params += [e.topo.exited[n] for n in _joins(t)]
    params += ["i"] if uses_index(t.spec) else []
    params += ["tally", *(["stop"] if e.endless else [])]
    c = Code()
    c.many(call(f"def {t.func}", params, ":"))
    c.level = 1
    text = literals.prose(_summary(t, e), width=LIMIT - 10)  # indent and quotes
    c.many(literals.docstring(text))
    for name in t.channels:
        if e.chan(name).spec.remote:
            var = e.chan(name).var
            c(f"{var} = connect({var}, {quoted(name)})", "by address and authkey, not inherited")
    if e.fork_closes:
        mine = [e.chan(n).var for n in t.channels if e.chan(n).kind == "Pipe"]
        mine += t.kept_ends
        c("# fork copied every pipe end into this process; close all but our own, or a")
        c("# reader elsewhere would never see EOFError (a copy of its write end is open here).")
        with c.block("for end in pipe_ends:"):
            if mine:
                with c.block(f"if end not in ({', '.join(mine)}{',' if len(mine) == 1 else ''}):"):
                    c("end.close()")
            else:
                c("end.close()")
    for end in t.kept_ends:
        c(f"# The mistake: this process was handed {end} too, and never closes it.")
        c("# recv() raises EOFError only once *every* copy of the write end is closed,")
        c("# so after the last message it waits forever, for a writer that is itself.")
    _join(c, t, e, t.spec.join_first, "before anything else")
    ROLES[t.spec.role](c, t, e)
    _join(c, t, e, t.spec.join_last, "now that it has taken everything")
    return c.text()


def _joins(t: Template) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*t.spec.join_first, *t.spec.join_last)))


def _join(c: Code, t: Template, e: Emitter, names: tuple[str, ...], when: str) -> None:
    """join_first / join_last: this process stands for the parent that joins."""
    if not names:
        return
    who = " and ".join(names)
    c(f"# {t.spec.name} stands for the parent: it joins {who} {when}.")
    c("# Only a process's own parent can join() it, so main() does the join()")
    c("# and sets an Event when it returns; waiting for that Event is the join.")
    for n in names:
        c(f"{e.topo.exited[n]}.wait()  # {n}.join()")


def _summary(t: Template, e: Emitter) -> str:
    """The function's docstring: generated words and checked names only."""
    s = t.spec
    who = t.names[0] if len(t.names) == 1 else f"{t.names[0]} ... {t.names[-1]}"
    ins, outs = ", ".join(s.inputs), ", ".join(s.outputs)

    if s.role == "globals":
        return f"{who}: reads its copy of the module's global COUNTER, adds 1 {s.count} times."
    if s.role == "coroutines":
        return f"{who}: a generator producer sends 1..{s.count} to a generator consumer."
    if s.pool is not None:
        p = s.pool
        return f"Pool process {who}: Pool({p.processes}).{p.method}({p.function}, ...)."
    if s.role == "steps":
        times = "once" if s.count == 1 else f"{s.count} times"
        on = ", ".join((*s.shared_used, *dict.fromkeys((*s.inputs, *s.outputs))))
        return f"{who}: runs its steps {times}, on {on}."
    if s.role == "producer":
        verb = "sends" if all(e.chan(n).kind == "Pipe" for n in s.outputs) else "puts"
        what = f"{verb} {items(s.count)} on {outs}" if s.count else f"{verb} items on {outs}"
        if not s.count:
            what += " until stopped"
    elif s.role == "pinger":
        trips = items(s.count, "round trip") if s.count else "round trips"
        what = f"{trips}: sends on {outs}, then waits for the reply on {ins}"
    elif s.role == "ponger":
        what = f"answers each message from {ins} on {outs}"
        if s.count:
            what += f", {items(s.count)}"
    else:
        if s.count:
            what = f"takes {items(s.count)} from {ins}"
        elif t.pill_writers:
            what = f"takes items from {ins} until a poison pill"
        elif e.chan(s.inputs[0]).kind == "Pipe":
            what = f"takes items from {ins} until EOFError"
        elif e.endless:
            what = f"takes items from {ins} until stopped"
        else:
            what = f"takes items from {ins} for as long as they come (nothing tells it to stop)"
        if s.role == "worker":
            what += f"; puts each result on {outs}"
    steps = {"poison-pill": "poison pills", "join": "join()", "close": "close()"}
    if s.ending:
        what += "; then " + ", ".join(steps[x] for x in s.ending)
    return f"{s.role.capitalize()} {who}: {what}."


# --------------------------------------------------------------------------- roles


def producer(c: Code, t: Template, e: Emitter) -> None:
    s = t.spec
    body = payload(c, e, s.payload, "body", t)
    item = "i" if s.payload.kind == "int" else body
    uses_i = s.payload.kind == "int" or len(s.outputs) > 1
    pace_setup(c, s.rate)
    once = s.count == 1 and not uses_i and not e.endless
    with c.block(counted_loop(s.count, "i" if uses_i else "_", e), once=once):
        pace(c, e, s.rate)
        stop_check(c, e)
        route(c, e, s.outputs, "i", lambda ch: put(c, e, ch, item))
        work(c, e, s.work)
    endings(c, t, e, reachable=s.count > 0)


def consumer(c: Code, t: Template, e: Emitter) -> None:
    _consume(c, t, e, forward=False)


def worker(c: Code, t: Template, e: Emitter) -> None:
    _consume(c, t, e, forward=True)


def _consume(c: Code, t: Template, e: Emitter, *, forward: bool) -> None:
    s = t.spec
    inp = s.inputs[0]
    kind = e.chan(inp).kind
    var = e.chan(inp).var
    task_done = kind == "JoinableQueue" and s.task_done
    # One item from a queue, with no pill to look out for, needs no loop.
    once = s.count == 1 and kind != "Pipe" and not t.pill_writers and not e.endless
    counted = not once and (s.count > 0 or (forward and len(s.outputs) > 1))
    if counted:
        c("taken = 0")
    if t.pill_writers > 1:
        c("pills = 0")
    if kind == "JoinableQueue" and not s.task_done:
        c(f"# task_done = false: this process never calls {var}.task_done(),")
        c(f"# so a join() on {inp} waits forever.")
    if s.compute != "none" and not forward:
        c(f"# compute = {s.compute}: a consumer sends no result on, so it computes nothing.")
    header = f"while taken < {s.count}:" if s.count else "while True:"
    with c.block(header, once=once):
        stop_check(c, e)
        used = forward or bool(t.pill_writers)
        get(c, e, inp, "item" if used else "")
        pill_check(c, t, e, "item", task_done=task_done, inp=inp)
        work(c, e, s.work)
        if forward:
            result = "square(item)" if s.compute == "square" else "item"
            if s.compute == "square":
                e.needs.add("square")
            route(c, e, s.outputs, "taken", lambda ch: put(c, e, ch, result))
        if task_done:
            c(f"{var}.task_done()", f"one task_done() per item taken: {var}.join() counts them")
            tally(c, "task_done", inp)
        if counted:
            c("taken += 1")
    endings(c, t, e)


def pinger(c: Code, t: Template, e: Emitter) -> None:
    s = t.spec
    out, inp = s.outputs[0], s.inputs[0]
    body = payload(c, e, s.payload, "body", t)
    pace_setup(c, s.rate)
    uses_i = s.payload.kind == "int"
    with c.block(counted_loop(s.count, "i" if uses_i else "_", e)):
        pace(c, e, s.rate)
        stop_check(c, e)
        put(c, e, out, "i" if uses_i else body)
        get(c, e, inp, "item" if t.pill_writers else "", comment="wait for the reply")
        if t.pill_writers:
            with c.block("if item is PILL:", "a poison pill instead of a reply"):
                c("break")
        work(c, e, s.work)
    endings(c, t, e, reachable=s.count > 0)


def ponger(c: Code, t: Template, e: Emitter) -> None:
    s = t.spec
    out, inp = s.outputs[0], s.inputs[0]
    reply = payload(c, e, s.reply, "reply", t)
    counted = s.count > 0 or s.reply.kind == "int"
    if counted:
        c("n = 0")
    with c.block(f"while n < {s.count}:" if s.count else "while True:"):
        stop_check(c, e)
        get(c, e, inp, "item" if t.pill_writers else "")
        pill_check(c, t, e, "item", task_done=False, inp=inp)
        work(c, e, s.work)
        put(c, e, out, "n" if s.reply.kind == "int" else reply)
        if counted:
            c("n += 1")
    endings(c, t, e)


def globals_role(c: Code, t: Template, e: Emitter) -> None:
    """Seed 003: a module-level global, read and changed in this process's own copy."""
    line = "COUNTER = 0  # a module-level global: every process has its own copy"
    if line not in e.constants:
        e.constants.append(line)
    c("global COUNTER  # this process's copy of the module's global")
    c("seen = COUNTER  # fork: the parent's value at fork time; spawn: the module's own, 0")
    with c.block(f"for _ in range({t.spec.count}):"):
        c("COUNTER += 1")
    c("me = multiprocessing.current_process().name")
    c('print(f"{me}: global at start={seen} now={COUNTER}", flush=True)')


def coroutines(c: Code, t: Template, e: Emitter) -> None:
    """Seed 003's generator producer/consumer, both in this one process."""
    e.needs.update({"coroutines", "time"})
    c("taken = []  # what the consumer took: one process, so a plain list")
    c(f"sent, replies, switches = produce(consumer(taken), {t.spec.count})")
    c("received = len(taken)")
    c('print(f"coroutines in one process: sent={sent} received={received}", end=" ")')
    c('print(f"replies={replies} switches={switches}", flush=True)')


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
