"""The steps role: one line of plain multiprocessing per step of a
`steps = [...]` process (a put, a get, a Value's add, a lock's acquire, a
Manager list's append...), in a loop when count > 1.
"""

from __future__ import annotations

from typing import Any

from ipcplay.export.calls import put, take_helper, tally
from ipcplay.export.code import Code, call, number
from ipcplay.export.emitter import Emitter
from ipcplay.export.literals import py_literal
from ipcplay.export.topology import Template
from ipcplay.scenario.kinds import SHARED_BY_NAME
from ipcplay.scenario.model import Step


def steps(code: Code, template: Template, emitter: Emitter) -> None:
    """One line of plain multiprocessing per step, in a loop when count > 1."""
    spec = template.spec
    if template.pill_writers > 1 and any(step.op == "get" for step in spec.steps):
        code("pills = 0")
    header = f"for _ in range({spec.count}):"
    with code.block(header, f"the steps, {spec.count} times", once=spec.count == 1):
        for step in spec.steps:
            if step.op == "put":
                put(code, emitter, step.target, _index_expr(step.item))
            elif step.op == "get":
                _steps_get(code, template, emitter, step.target)
            else:
                _step(code, emitter, step)


def _steps_get(code: Code, template: Template, emitter: Emitter, name: str) -> None:
    """A get step: as a consumer's get, but the end of the stream (EOF, the last
    poison pill) ends the function, whether or not the steps are in a loop."""
    channel = emitter.chan(name)
    if emitter.endless:
        helper = take_helper(channel)
        emitter.needs.add(helper)
        take = f"{helper}({channel.var}, stop)"
    else:
        take = f"{channel.var}.recv()" if channel.pipe_like else f"{channel.var}.get()"
    line = (
        f"item = {take}" if emitter.endless or template.pill_writers else take
    )  # kept if looked at
    if channel.pipe_like:
        with code.block("try:"):
            code(line)
        with code.block("except EOFError:", "every copy of the write end is closed:"):
            code("return", "nothing more can come")
    else:
        code(line)
    if emitter.endless:
        with code.block("if item is STOPPED:"):
            code("return", "the run's time is up")
    tally(code, "get", name)
    if channel.joinable:
        code(f"{channel.var}.task_done()", "done with it at once (a pill too)")
        tally(code, "task_done", name)
    if not template.pill_writers:
        return
    emitter.needs.add("PILL")
    with code.block("if item is PILL:", "a poison pill: its writer has no more items"):
        if template.pill_writers > 1:
            code("pills += 1")
            with code.block(f"if pills == {template.pill_writers}:", "the last writer's pill"):
                code("return")
        else:
            code("return")


def _step(code: Code, emitter: Emitter, step: Step) -> None:
    if step.op == "sleep":
        emitter.needs.add("time")
        code(f"time.sleep({number(step.ms / 1000)})", f"{number(step.ms)} ms")
        return
    var = emitter.topo.shared[step.target]
    kind = emitter.scenario.shared_object(step.target).kind
    entry = SHARED_BY_NAME[kind]
    data = entry.data
    if step.op in ("append", "setitem", "setattr"):
        item = _index_expr(step.item)
        note = "one call to the manager's server process" if entry.manager else ""
        if step.op == "append" and step.key is not None and step.assign:
            key = _index_expr(step.key)
            code(f"row = {var}[{key}]", "a copy of the inner list, not the server's")
            code(f"row.append({item})")
            code(f"{var}[{key}] = row", "put it back: now the server has it")
        elif step.op == "append" and step.key is not None:
            key = _index_expr(step.key)
            code(f"{var}[{key}].append({item})", "appends to a copy: lost")
        elif step.op == "append":
            code(f"{var}.append({item})", note)
        elif step.op == "setitem":
            code(f"{var}[{_index_expr(step.key)}] = {item}", note)
        else:
            code(f"{var}.{step.key} = {item}", note)
        return
    if step.op in ("acquire", "release"):
        lock = f"{var}.get_lock()" if data else var
        note = "blocks while another process holds it" if step.op == "acquire" else ""
        code(f"{lock}.{step.op}()", note)
        return
    if step.op in ("notify", "notify_all", "wait_for"):
        _condition_step(code, emitter, var, step)
        return
    if step.op == "read" and entry.show:
        _print_read(code, entry.show.format(var=var), step.target)
        return
    if step.op in ("write", "fill", "read"):
        _block_step(code, var, step)
        return
    if step.op in ("wait", "set", "clear"):
        notes = {
            ("wait", "Event"): "blocks until some process calls set()",
            ("wait", "Barrier"): "blocks until every party is waiting here",
            ("wait", "Condition"): "gives the lock up until notified, then takes it back",
        }
        code(f"{var}.{step.op}()", notes.get((step.op, kind), ""))
        return
    amount = number(step.amount) if isinstance(step.amount, float) else str(step.amount)
    number_only = "value" in SHARED_BY_NAME[kind].keys  # a Value; an Array has `values`
    if step.locked:
        with code.block(f"with {var}.get_lock():", "the whole update under the Value's lock"):
            _update(code, var, number_only, step.op, amount)
    else:
        _update(code, var, number_only, step.op, amount)


def _block_step(code: Code, var: str, step: Step) -> None:
    """A SharedMemory block is plain bytes: slices in, a sum out."""
    if step.op == "write":
        end = step.offset + 8
        number = f'({int(step.amount)}).to_bytes(8, "little", signed=True)'
        code(f"{var}.buf[{step.offset}:{end}] = {number}")
    elif step.op == "fill":
        code(f"{var}.buf[:] = bytes([{int(step.amount)}]) * {var}.size", "every byte")
    else:
        _print_read(code, f"sum({var}.buf)", step.target)


def _print_read(code: Code, what: str, target: str) -> None:
    """A read step: the process prints what it read, and from what."""
    code("me = multiprocessing.current_process().name")
    code(f'print(f"{{me}}: read {{{what}}} from {target}", flush=True)')


def _condition_step(code: Code, emitter: Emitter, var: str, step: Step) -> None:
    """notify(n), notify_all(), wait_for(predicate) on a Condition this process holds."""
    if step.op == "notify":
        count = int(step.amount)
        code(f"{var}.notify({count if count != 1 else ''})", "wakes a process waiting now, if any")
    elif step.op == "notify_all":
        code(f"{var}.notify_all()", "wakes every process waiting now")
    else:
        value = emitter.topo.shared[step.other]
        amount = number(step.amount) if isinstance(step.amount, float) else str(step.amount)
        code("# Checks the predicate first, so a notify sent before this wait is not needed.")
        code.many(
            call(f"{var}.wait_for", [f"lambda: {value}.value >= {amount}"], indent=code.level)
        )


def uses_index(spec: Any) -> bool:
    """Whether a steps process needs its index i ("{i}" in a Manager step)."""
    return any(
        isinstance(value, str) and value.startswith("{i")
        for step in spec.steps
        for value in (step.key, step.item)
    )


def _index_expr(value: Any) -> str:
    """ "{i**i}" is the expression i**i; anything else, its Python literal."""
    if isinstance(value, str) and value.startswith("{i") and value.endswith("}"):
        return value[1:-1]
    return py_literal(value)


def _update(code: Code, var: str, number_only: bool, op: str, amount: str) -> None:
    """A data step: on a Value's one number, or on every number of an Array."""
    if number_only:
        if op == "value":
            code(f"{var}.value = {amount}")
        else:
            sign = "+=" if op == "add" else "*="
            code(f"{var}.value {sign} {amount}", "a read, then a write: not one step")
        return
    with code.block(f"for i in range(len({var})):"):
        if op == "value":
            code(f"{var}[i] = {amount}")
        else:
            sign = "+" if op == "add" else "*"
            code(f"{var}[i] = {var}[i] {sign} {amount}")
