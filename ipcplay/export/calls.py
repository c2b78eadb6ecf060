"""The calls every role makes, written out: put, get, the poison pill, pacing,
work, the payload and the `finally` steps.

Each writes the plain multiprocessing call and counts it on the process's
`tally` right after it returns, as the engine's instruments count it. In a
scenario that runs until stopped, a blocking call becomes a helper that looks
at `stop` (`take`, `receive`, `put_or_stop`, `stop.wait`).
"""

from __future__ import annotations

from collections.abc import Callable

from ipcplay.export import literals
from ipcplay.export.code import LIMIT, Code, items, number, quoted
from ipcplay.export.emitter import Emitter
from ipcplay.export.topology import Template
from ipcplay.scenario.model import Payload, Work


def counted_loop(count: int, var: str, e: Emitter) -> str:
    if count:
        return f"for {var} in range({count}):"
    # count = 0 only happens in a scenario that runs until stopped
    if var == "_":
        return "while True:"
    e.needs.add("itertools")
    return f"for {var} in itertools.count():"


def stop_check(c: Code, e: Emitter) -> None:
    if e.endless:
        with c.block("if stop.is_set():"):
            c("return", "the run's time is up: stop between two items")


def tally(c: Code, op: str, channel: str) -> None:
    c(f"tally.add({quoted(op)}, {quoted(channel)})")


def put(c: Code, e: Emitter, name: str, expr: str, comment: str = "") -> None:
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
    tally(c, "put", name)


def get(c: Code, e: Emitter, name: str, var: str, comment: str = "") -> None:
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
    tally(c, "get", name)


def pill_check(c: Code, t: Template, e: Emitter, var: str, *, task_done: bool, inp: str) -> None:
    """A reader stops at a poison pill, or at the last one when several writers send them."""
    if not t.pill_writers:
        return
    e.needs.add("PILL")
    with c.block(f"if {var} is PILL:", "a poison pill: its writer has no more items"):
        if task_done:
            var_ = e.chan(inp).var
            c(f"{var_}.task_done()", "the pill was put too: join() waits for its task_done()")
            tally(c, "task_done", inp)
        if t.pill_writers > 1:
            c("pills += 1")
            with c.block(f"if pills < {t.pill_writers}:"):
                c("continue", f"{t.pill_writers} writers send pills: stop at the last one")
        c("break")


def route(c: Code, e: Emitter, outputs: tuple[str, ...], counter: str, put: Callable) -> None:
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


def work(c: Code, e: Emitter, w: Work) -> None:
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


def pace_setup(c: Code, rate: float) -> None:
    if rate > 0:
        c("next_due = time.monotonic()")


def pace(c: Code, e: Emitter, rate: float) -> None:
    if rate <= 0:
        return
    e.needs.add("time")
    c(f"next_due += 1 / {number(rate)}", f"rate: {number(rate)} items per second, on a fixed beat")
    wait = "stop.wait" if e.endless else "time.sleep"
    c(f"{wait}(max(0.0, next_due - time.monotonic()))")


def payload(c: Code, e: Emitter, p: Payload, var: str, t: Template) -> str:
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


def endings(c: Code, t: Template, e: Emitter, *, reachable: bool = True) -> None:
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
        put(c, e, name, "PILL", comment="the pill")
        return
    c(f"# Poison pills go last, one per reader of {name} ({n}): each stops at its own.")
    with c.block(f"for _ in range({n}):"):
        put(c, e, name, "PILL", comment="a pill")
