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

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ipcplay.export import literals
from ipcplay.export.code import LIMIT, Code, call, items, number, quoted
from ipcplay.export.topology import Channel, Template, Topology
from ipcplay.scenario.model import Payload, Scenario, Step, Work


@dataclass
class Emitter:
    """What every role emitter needs, and what the emitted code used (`needs`:
    helpers and imports for the script to include)."""

    scenario: Scenario
    topo: Topology
    needs: set[str] = field(default_factory=set)
    constants: list[str] = field(default_factory=list)  # module-level, for long payloads

    @property
    def endless(self) -> bool:
        return self.scenario.endless

    @property
    def fork_closes(self) -> bool:
        return self.scenario.start_method == "fork" and any(
            c.kind == "Pipe" for c in self.topo.channels.values()
        )

    def chan(self, name: str) -> Channel:
        return self.topo.channels[name]


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
    body = _payload(c, e, s.payload, "body", t)
    item = "i" if s.payload.kind == "int" else body
    uses_i = s.payload.kind == "int" or len(s.outputs) > 1
    _pace_setup(c, s.rate)
    once = s.count == 1 and not uses_i and not e.endless
    with c.block(_counted_loop(s.count, "i" if uses_i else "_", e), once=once):
        _pace(c, e, s.rate)
        _stop_check(c, e)
        _route(c, e, s.outputs, "i", lambda ch: _put(c, e, ch, item))
        _work(c, e, s.work)
    _endings(c, t, e, reachable=s.count > 0)


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
        _stop_check(c, e)
        used = forward or bool(t.pill_writers)
        _get(c, e, inp, "item" if used else "")
        _pill_check(c, t, e, "item", task_done=task_done, inp=inp)
        _work(c, e, s.work)
        if forward:
            result = "square(item)" if s.compute == "square" else "item"
            if s.compute == "square":
                e.needs.add("square")
            _route(c, e, s.outputs, "taken", lambda ch: _put(c, e, ch, result))
        if task_done:
            c(f"{var}.task_done()", f"one task_done() per item taken: {var}.join() counts them")
            _tally(c, "task_done", inp)
        if counted:
            c("taken += 1")
    _endings(c, t, e)


def pinger(c: Code, t: Template, e: Emitter) -> None:
    s = t.spec
    out, inp = s.outputs[0], s.inputs[0]
    body = _payload(c, e, s.payload, "body", t)
    _pace_setup(c, s.rate)
    uses_i = s.payload.kind == "int"
    with c.block(_counted_loop(s.count, "i" if uses_i else "_", e)):
        _pace(c, e, s.rate)
        _stop_check(c, e)
        _put(c, e, out, "i" if uses_i else body)
        _get(c, e, inp, "item" if t.pill_writers else "", comment="wait for the reply")
        if t.pill_writers:
            with c.block("if item is PILL:", "a poison pill instead of a reply"):
                c("break")
        _work(c, e, s.work)
    _endings(c, t, e, reachable=s.count > 0)


def ponger(c: Code, t: Template, e: Emitter) -> None:
    s = t.spec
    out, inp = s.outputs[0], s.inputs[0]
    reply = _payload(c, e, s.reply, "reply", t)
    counted = s.count > 0 or s.reply.kind == "int"
    if counted:
        c("n = 0")
    with c.block(f"while n < {s.count}:" if s.count else "while True:"):
        _stop_check(c, e)
        _get(c, e, inp, "item" if t.pill_writers else "")
        _pill_check(c, t, e, "item", task_done=False, inp=inp)
        _work(c, e, s.work)
        _put(c, e, out, "n" if s.reply.kind == "int" else reply)
        if counted:
            c("n += 1")
    _endings(c, t, e)


def steps(c: Code, t: Template, e: Emitter) -> None:
    """One line of plain multiprocessing per step, in a loop when count > 1."""
    s = t.spec
    if t.pill_writers > 1 and any(step.op == "get" for step in s.steps):
        c("pills = 0")
    header = f"for _ in range({s.count}):"
    with c.block(header, f"the steps, {s.count} times", once=s.count == 1):
        for step in s.steps:
            if step.op == "put":
                _put(c, e, step.target, _index_expr(step.item))
            elif step.op == "get":
                _steps_get(c, t, e, step.target)
            else:
                _step(c, e, step)


def _steps_get(c: Code, t: Template, e: Emitter, name: str) -> None:
    """A get step: as a consumer's get, but the end of the stream (EOF, the last
    poison pill) ends the function, whether or not the steps are in a loop."""
    ch = e.chan(name)
    if e.endless:
        helper = {"Pipe": "receive", "SimpleQueue": "take_simple"}.get(ch.kind, "take")
        e.needs.add(helper)
        take = f"{helper}({ch.var}, stop)"
    else:
        take = f"{ch.var}.recv()" if ch.kind == "Pipe" else f"{ch.var}.get()"
    line = f"item = {take}" if e.endless or t.pill_writers else take  # kept if looked at
    if ch.kind == "Pipe":
        with c.block("try:"):
            c(line)
        with c.block("except EOFError:", "every copy of the write end is closed:"):
            c("return", "nothing more can come")
    else:
        c(line)
    if e.endless:
        with c.block("if item is STOPPED:"):
            c("return", "the run's time is up")
    _tally(c, "get", name)
    if ch.kind == "JoinableQueue":
        c(f"{ch.var}.task_done()", "done with it at once (a pill too)")
        _tally(c, "task_done", name)
    if not t.pill_writers:
        return
    e.needs.add("PILL")
    with c.block("if item is PILL:", "a poison pill: its writer has no more items"):
        if t.pill_writers > 1:
            c("pills += 1")
            with c.block(f"if pills == {t.pill_writers}:", "the last writer's pill"):
                c("return")
        else:
            c("return")


def _step(c: Code, e: Emitter, step: Step) -> None:
    if step.op == "sleep":
        e.needs.add("time")
        c(f"time.sleep({number(step.ms / 1000)})", f"{number(step.ms)} ms")
        return
    var = e.topo.shared[step.target]
    kind = e.scenario.shared_object(step.target).kind
    data = kind in ("Value", "Array")
    if step.op in ("append", "setitem", "setattr"):
        item = _index_expr(step.item)
        note = "one call to the manager's server process"
        if step.op == "append" and step.key is not None and step.assign:
            key = _index_expr(step.key)
            c(f"row = {var}[{key}]", "a copy of the inner list, not the server's")
            c(f"row.append({item})")
            c(f"{var}[{key}] = row", "put it back: now the server has it")
        elif step.op == "append" and step.key is not None:
            key = _index_expr(step.key)
            c(f"{var}[{key}].append({item})", "appends to a copy: lost")
        elif step.op == "append":
            c(f"{var}.append({item})", note)
        elif step.op == "setitem":
            c(f"{var}[{_index_expr(step.key)}] = {item}", note)
        else:
            c(f"{var}.{step.key} = {item}", note)
        return
    if step.op in ("acquire", "release"):
        lock = f"{var}.get_lock()" if data else var
        note = "blocks while another process holds it" if step.op == "acquire" else ""
        c(f"{lock}.{step.op}()", note)
        return
    if step.op in ("notify", "notify_all", "wait_for"):
        _condition_step(c, e, var, step)
        return
    if step.op in ("write", "fill", "read"):
        _block_step(c, var, step)
        return
    if step.op in ("wait", "set", "clear"):
        notes = {
            ("wait", "Event"): "blocks until some process calls set()",
            ("wait", "Barrier"): "blocks until every party is waiting here",
            ("wait", "Condition"): "gives the lock up until notified, then takes it back",
        }
        c(f"{var}.{step.op}()", notes.get((step.op, kind), ""))
        return
    amount = number(step.amount) if isinstance(step.amount, float) else str(step.amount)
    if step.locked:
        with c.block(f"with {var}.get_lock():", "the whole update under the Value's lock"):
            _update(c, var, kind, step.op, amount)
    else:
        _update(c, var, kind, step.op, amount)


def _block_step(c: Code, var: str, step: Step) -> None:
    """A SharedMemory block is plain bytes: slices in, a sum out."""
    if step.op == "write":
        end = step.offset + 8
        number = f'({int(step.amount)}).to_bytes(8, "little", signed=True)'
        c(f"{var}.buf[{step.offset}:{end}] = {number}")
    elif step.op == "fill":
        c(f"{var}.buf[:] = bytes([{int(step.amount)}]) * {var}.size", "every byte")
    else:
        c("me = multiprocessing.current_process().name")
        c(f'print(f"{{me}}: read {{sum({var}.buf)}} from {step.target}", flush=True)')


def _condition_step(c: Code, e: Emitter, var: str, step: Step) -> None:
    """notify(n), notify_all(), wait_for(predicate) on a Condition this process holds."""
    if step.op == "notify":
        n = int(step.amount)
        c(f"{var}.notify({n if n != 1 else ''})", "wakes a process waiting now, if any")
    elif step.op == "notify_all":
        c(f"{var}.notify_all()", "wakes every process waiting now")
    else:
        value = e.topo.shared[step.other]
        amount = number(step.amount) if isinstance(step.amount, float) else str(step.amount)
        c("# Checks the predicate first, so a notify sent before this wait is not needed.")
        c.many(call(f"{var}.wait_for", [f"lambda: {value}.value >= {amount}"], indent=c.level))


def uses_index(spec: Any) -> bool:
    """Whether a steps process needs its index i ("{i}" in a Manager step)."""
    return any(
        isinstance(v, str) and v.startswith("{i") for s in spec.steps for v in (s.key, s.item)
    )


def _index_expr(value: Any) -> str:
    """ "{i**i}" is the expression i**i; anything else, its Python literal."""
    if isinstance(value, str) and value.startswith("{i") and value.endswith("}"):
        return value[1:-1]
    return py_literal(value)


def py_literal(value: Any) -> str:
    """A number, boolean or string as ruff format writes it (double quotes);
    an inner list (kept as a tuple by the scenario) as a list."""
    if isinstance(value, tuple):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _update(c: Code, var: str, kind: str, op: str, amount: str) -> None:
    if kind == "Value":
        if op == "value":
            c(f"{var}.value = {amount}")
        else:
            sign = "+=" if op == "add" else "*="
            c(f"{var}.value {sign} {amount}", "a read, then a write: not one step")
        return
    with c.block(f"for i in range(len({var})):"):
        if op == "value":
            c(f"{var}[i] = {amount}")
        else:
            sign = "+" if op == "add" else "*"
            c(f"{var}[i] = {var}[i] {sign} {amount}")


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


def pool(c: Code, t: Template, e: Emitter) -> None:
    from ipcplay.export.pool import emit as emit_pool

    emit_pool(c, t, e)


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


# --------------------------------------------------------------------------- steps


def _counted_loop(count: int, var: str, e: Emitter) -> str:
    if count:
        return f"for {var} in range({count}):"
    # count = 0 only happens in a scenario that runs until stopped
    if var == "_":
        return "while True:"
    e.needs.add("itertools")
    return f"for {var} in itertools.count():"


def _stop_check(c: Code, e: Emitter) -> None:
    if e.endless:
        with c.block("if stop.is_set():"):
            c("return", "the run's time is up: stop between two items")


def _tally(c: Code, op: str, channel: str) -> None:
    c(f"tally.add({quoted(op)}, {quoted(channel)})")


def _put(c: Code, e: Emitter, name: str, expr: str, comment: str = "") -> None:
    ch = e.chan(name)
    if ch.bounded and not comment:
        comment = f"blocks while {name} holds {items(ch.spec.maxsize)}: back pressure"
    if e.endless and ch.bounded:
        e.needs.add("put_or_stop")
        with c.block(f"if not put_or_stop({ch.var}, {expr}, stop):"):
            c("return", "the run's time is up (the queue stayed full)")
    else:
        method = "send" if ch.kind == "Pipe" else "put"
        c(f"{ch.var}.{method}({expr})", comment)
    _tally(c, "put", name)


def _get(c: Code, e: Emitter, name: str, var: str, comment: str = "") -> None:
    """Take one item into `var` (or drop it when `var` is empty: nothing reads it)."""
    ch = e.chan(name)
    if e.endless:
        var = var or "item"  # it is compared with STOPPED
        helper = {"Pipe": "receive", "SimpleQueue": "take_simple"}.get(ch.kind, "take")
        e.needs.add(helper)
        take = f"{helper}({ch.var}, stop)"
    else:
        take = f"{ch.var}.recv()" if ch.kind == "Pipe" else f"{ch.var}.get()"
    line = f"{var} = {take}" if var else take
    if ch.kind == "Pipe":
        with c.block("try:"):
            c(line, comment)
        with c.block("except EOFError:", "every copy of the write end is closed,"):
            c("break", "so nothing more can come: the stream is over")
    else:
        c(line, comment)
    if e.endless:
        with c.block(f"if {var} is STOPPED:"):
            c("return", "the run's time is up")
    _tally(c, "get", name)


def _pill_check(c: Code, t: Template, e: Emitter, var: str, *, task_done: bool, inp: str) -> None:
    """A reader stops at a poison pill, or at the last one when several writers send them."""
    if not t.pill_writers:
        return
    e.needs.add("PILL")
    with c.block(f"if {var} is PILL:", "a poison pill: its writer has no more items"):
        if task_done:
            var_ = e.chan(inp).var
            c(f"{var_}.task_done()", "the pill was put too: join() waits for its task_done()")
            _tally(c, "task_done", inp)
        if t.pill_writers > 1:
            c("pills += 1")
            with c.block(f"if pills < {t.pill_writers}:"):
                c("continue", f"{t.pill_writers} writers send pills: stop at the last one")
        c("break")


def _route(c: Code, e: Emitter, outputs: tuple[str, ...], counter: str, put: Callable) -> None:
    """One output: put there. Several: round robin, item k to output k % n."""
    if len(outputs) == 1:
        put(outputs[0])
        return
    n = len(outputs)
    for k, name in enumerate(outputs):
        if k == 0:
            header, note = f"if {counter} % {n} == 0:", f"round robin over {n} outputs"
        elif k < n - 1:
            header, note = f"elif {counter} % {n} == {k}:", ""
        else:
            header, note = "else:", ""
        with c.block(header, note):
            put(name)


def _work(c: Code, e: Emitter, w: Work) -> None:
    if w.kind == "none" or w.ms <= 0:
        return
    secs = number(w.ms / 1000)
    ms = number(w.ms)
    if w.kind == "sleep":
        if e.endless:
            c(f"stop.wait({secs})", f"work: {ms} ms asleep (cut short when the run is over)")
        else:
            e.needs.add("time")
            c(f"time.sleep({secs})", f"work: {ms} ms asleep, like waiting for a disk or a network")
    else:
        e.needs.add("burn_cpu")
        c(f"burn_cpu({secs})", f"work: {ms} ms of CPU")


def _pace_setup(c: Code, rate: float) -> None:
    if rate > 0:
        c("next_due = time.monotonic()")


def _pace(c: Code, e: Emitter, rate: float) -> None:
    if rate <= 0:
        return
    e.needs.add("time")
    c(f"next_due += 1 / {number(rate)}", f"rate: {number(rate)} items per second, on a fixed beat")
    wait = "stop.wait" if e.endless else "time.sleep"
    c(f"{wait}(max(0.0, next_due - time.monotonic()))")


def _payload(c: Code, e: Emitter, p: Payload, var: str, t: Template) -> str:
    """Set up what every message carries; return the expression to send."""
    if p.kind == "int":
        return "i" if var == "body" else "n"
    if p.kind == "bytes":
        if var == "reply":
            c(f"{var} = bytes({p.size})", f"{p.size} zero bytes")
            return var
        e.needs.add("random")
        c(f"# {p.size} random bytes, the same in every message; seeded, so every run sends")
        c("# the same ones (each process its own)")
        c('rng = random.Random(f"{SEED}:{multiprocessing.current_process().name}")')
        c(f"{var} = rng.randbytes({p.size})")
        return var
    if p.kind == "lambda":
        c("# The mistake: pickle cannot send a lambda (it has no importable name). On a")
        c("# Queue, put() returns anyway; the feeder thread fails later, prints a")
        c("# traceback (or nothing, if this process is already exiting) and drops")
        c("# the item. The reader waits forever.")
        c(f"{var} = lambda x: x * x  # noqa: E731")
        return var
    if p.kind == "function":
        e.needs.add("square_function")
        c("# A module-level function pickles by reference (its module and name), so")
        c("# the reader gets it and can call it.")
        c(f"{var} = square_function")
        return var
    if p.kind == "text":
        times = p.size // max(1, len(p.text)) + 1
        tail = f" * {times})[:{p.size}]" if p.size > 0 else ""
        text = _literal(e, p.text, t, var, c.level, len(tail) + 1)
        if p.size > 0:
            c(f"{var} = ({text} * {times})[:{p.size}]", f"the text repeated to {p.size} characters")
        else:
            c(f"{var} = {text}")
        return var
    c(f"{var} = {_literal(e, p.value, t, var, c.level)}")
    if literals.needs_datetime(p.value):
        e.needs.add("datetime")
    return var


def _literal(e: Emitter, value: object, t: Template, var: str, level: int, extra: int = 0) -> str:
    """Short values go inline; long ones become a module-level constant.
    `extra` is what follows the value on its line."""
    inline = literals.value(value)
    if len(inline) + len(var) + 3 + 4 * level + extra <= LIMIT:
        return inline
    const = f"{t.func.upper()}_{var.upper()}"
    e.constants.append(f"{const} = {literals.value_block(value, LIMIT, used=len(const) + 3)}")
    return const


def _endings(c: Code, t: Template, e: Emitter, *, reachable: bool = True) -> None:
    """The `finally` steps, in order, after the last item."""
    s = t.spec
    if not s.ending:
        return
    if not reachable:
        c("# It runs until the parent stops it, so its finally steps never run (as in ipcplay).")
        return
    for step in s.ending:
        if step == "poison-pill":
            e.needs.add("PILL")
            for name, n in zip(s.outputs, t.pills_to_send, strict=True):
                _pills(c, e, name, n)
        elif step == "join":
            for name in s.outputs:
                ch = e.chan(name)
                if ch.kind == "JoinableQueue":
                    c(f"# join() returns once every item put on {name}, pills too, has had")
                    c("# its task_done(): the moment every task is really finished.")
                    c(f"{ch.var}.join()")
        elif step == "close":
            for name in t.channels:
                ch = e.chan(name)
                if ch.kind != "Pipe":
                    continue
                if ch.spec.duplex:
                    why = "the other end's next recv() raises EOFError"
                elif name in s.outputs:
                    why = "the reader gets EOFError after the rest"
                else:
                    why = "done reading"
                c(f"{ch.var}.close()", f"closing this end: {why}")


def _pills(c: Code, e: Emitter, name: str, n: int) -> None:
    if n == 0:
        c(f"# No other process reads {name}: no poison pill to send.")
        return
    if n == 1:
        c(f"# The poison pill goes last: the reader of {name} stops when it takes it.")
        _put(c, e, name, "PILL", comment="the pill")
        return
    c(f"# Poison pills go last, one per reader of {name} ({n}): each stops at its own.")
    with c.block(f"for _ in range({n}):"):
        _put(c, e, name, "PILL", comment="a pill")
