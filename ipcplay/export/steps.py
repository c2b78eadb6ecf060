"""The steps role: one line of plain multiprocessing per step of a
`steps = [...]` process (a put, a get, a Value's add, a lock's acquire, a
Manager list's append...), in a loop when count > 1.
"""

from __future__ import annotations

from typing import Any

from ipcplay.export.calls import put, tally
from ipcplay.export.code import Code, call, number
from ipcplay.export.emitter import Emitter
from ipcplay.export.literals import py_literal
from ipcplay.export.topology import Template
from ipcplay.scenario.model import Step


def steps(c: Code, t: Template, e: Emitter) -> None:
    """One line of plain multiprocessing per step, in a loop when count > 1."""
    s = t.spec
    if t.pill_writers > 1 and any(step.op == "get" for step in s.steps):
        c("pills = 0")
    header = f"for _ in range({s.count}):"
    with c.block(header, f"the steps, {s.count} times", once=s.count == 1):
        for step in s.steps:
            if step.op == "put":
                put(c, e, step.target, _index_expr(step.item))
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
    tally(c, "get", name)
    if ch.kind == "JoinableQueue":
        c(f"{ch.var}.task_done()", "done with it at once (a pill too)")
        tally(c, "task_done", name)
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
