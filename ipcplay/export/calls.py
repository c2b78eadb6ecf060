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
from ipcplay.export.topology import Channel, Template
from ipcplay.scenario.model import Payload, Work


def counted_loop(count: int, var: str, emitter: Emitter) -> str:
    if count:
        return f"for {var} in range({count}):"
    # count = 0 only happens in a scenario that runs until stopped
    if var == "_":
        return "while True:"
    emitter.needs.add("itertools")
    return f"for {var} in itertools.count():"


def stop_check(code: Code, emitter: Emitter) -> None:
    if emitter.endless:
        with code.block("if stop.is_set():"):
            code("return", "the run's time is up: stop between two items")


def tally(code: Code, op: str, channel: str) -> None:
    code(f"tally.add({quoted(op)}, {quoted(channel)})")


def take_helper(channel: Channel) -> str:
    """The script's helper for a get() that looks at `stop`: poll() on a pipe,
    get(timeout=...) on a queue that has one, empty() on one that has not."""
    if channel.pipe_like:
        return "receive"
    return "take" if channel.timeouts else "take_simple"


def put(code: Code, emitter: Emitter, name: str, expr: str, comment: str = "") -> None:
    channel = emitter.chan(name)
    if channel.bounded and not comment:
        comment = f"blocks while {name} holds {items(channel.spec.maxsize)}: back pressure"
    if emitter.endless and channel.bounded:
        emitter.needs.add("put_or_stop")
        with code.block(f"if not put_or_stop({channel.var}, {expr}, stop):"):
            code("return", "the run's time is up (the queue stayed full)")
    else:
        method = "send" if channel.pipe_like else "put"
        code(f"{channel.var}.{method}({expr})", comment)
    tally(code, "put", name)


def get(code: Code, emitter: Emitter, name: str, var: str, comment: str = "") -> None:
    """Take one item into `var` (or drop it when `var` is empty: nothing reads it)."""
    channel = emitter.chan(name)
    if emitter.endless:
        var = var or "item"  # it is compared with STOPPED
        helper = take_helper(channel)
        emitter.needs.add(helper)
        take = f"{helper}({channel.var}, stop)"
    else:
        take = f"{channel.var}.recv()" if channel.pipe_like else f"{channel.var}.get()"
    line = f"{var} = {take}" if var else take
    if channel.pipe_like:
        with code.block("try:"):
            code(line, comment)
        with code.block("except EOFError:", "every copy of the write end is closed,"):
            code("break", "so nothing more can come: the stream is over")
    else:
        code(line, comment)
    if emitter.endless:
        with code.block(f"if {var} is STOPPED:"):
            code("return", "the run's time is up")
    tally(code, "get", name)


def pill_check(
    code: Code, template: Template, emitter: Emitter, var: str, *, task_done: bool, inp: str
) -> None:
    """A reader stops at a poison pill, or at the last one when several writers send them."""
    if not template.pill_writers:
        return
    emitter.needs.add("PILL")
    with code.block(f"if {var} is PILL:", "a poison pill: its writer has no more items"):
        if task_done:
            var_ = emitter.chan(inp).var
            code(f"{var_}.task_done()", "the pill was put too: join() waits for its task_done()")
            tally(code, "task_done", inp)
        if template.pill_writers > 1:
            code("pills += 1")
            with code.block(f"if pills < {template.pill_writers}:"):
                code(
                    "continue", f"{template.pill_writers} writers send pills: stop at the last one"
                )
        code("break")


def route(
    code: Code, emitter: Emitter, outputs: tuple[str, ...], counter: str, put: Callable
) -> None:
    """One output: put there. Several: round robin, item k to output k % n."""
    if len(outputs) == 1:
        put(outputs[0])
        return
    count = len(outputs)
    for index, name in enumerate(outputs):
        if index == 0:
            header, note = f"if {counter} % {count} == 0:", f"round robin over {count} outputs"
        elif index < count - 1:
            header, note = f"elif {counter} % {count} == {index}:", ""
        else:
            header, note = "else:", ""
        with code.block(header, note):
            put(name)


def work(code: Code, emitter: Emitter, work: Work) -> None:
    if work.kind == "none" or work.ms <= 0:
        return
    secs = number(work.ms / 1000)
    ms = number(work.ms)
    if work.kind == "sleep":
        if emitter.endless:
            code(f"stop.wait({secs})", f"work: {ms} ms asleep (cut short when the run is over)")
        else:
            emitter.needs.add("time")
            code(
                f"time.sleep({secs})", f"work: {ms} ms asleep, like waiting for a disk or a network"
            )
    else:
        emitter.needs.add("burn_cpu")
        code(f"burn_cpu({secs})", f"work: {ms} ms of CPU")


def pace_setup(code: Code, rate: float) -> None:
    if rate > 0:
        code("next_due = time.monotonic()")


def pace(code: Code, emitter: Emitter, rate: float) -> None:
    if rate <= 0:
        return
    emitter.needs.add("time")
    code(
        f"next_due += 1 / {number(rate)}", f"rate: {number(rate)} items per second, on a fixed beat"
    )
    wait = "stop.wait" if emitter.endless else "time.sleep"
    code(f"{wait}(max(0.0, next_due - time.monotonic()))")


def payload(code: Code, emitter: Emitter, payload: Payload, var: str, template: Template) -> str:
    """Set up what every message carries; return the expression to send."""
    if payload.kind == "int":
        return "i" if var == "body" else "n"
    if payload.kind == "bytes":
        if var == "reply":
            code(f"{var} = bytes({payload.size})", f"{payload.size} zero bytes")
            return var
        emitter.needs.add("random")
        code(
            f"# {payload.size} random bytes, the same in every message; seeded, so every run sends"
        )
        code("# the same ones (each process its own)")
        code('rng = random.Random(f"{SEED}:{multiprocessing.current_process().name}")')
        code(f"{var} = rng.randbytes({payload.size})")
        return var
    if payload.kind == "lambda":
        code("# The mistake: pickle cannot send a lambda (it has no importable name). On a")
        code("# Queue, put() returns anyway; the feeder thread fails later, prints a")
        code("# traceback (or nothing, if this process is already exiting) and drops")
        code("# the item. The reader waits forever.")
        code(f"{var} = lambda x: x * x  # noqa: E731")
        return var
    if payload.kind == "function":
        emitter.needs.add("square_function")
        code("# A module-level function pickles by reference (its module and name), so")
        code("# the reader gets it and can call it.")
        code(f"{var} = square_function")
        return var
    if payload.kind == "text":
        times = payload.size // max(1, len(payload.text)) + 1
        tail = f" * {times})[:{payload.size}]" if payload.size > 0 else ""
        text = _literal(emitter, payload.text, template, var, code.level, len(tail) + 1)
        if payload.size > 0:
            code(
                f"{var} = ({text} * {times})[:{payload.size}]",
                f"the text repeated to {payload.size} characters",
            )
        else:
            code(f"{var} = {text}")
        return var
    code(f"{var} = {_literal(emitter, payload.value, template, var, code.level)}")
    if literals.needs_datetime(payload.value):
        emitter.needs.add("datetime")
    return var


def _literal(
    emitter: Emitter, value: object, template: Template, var: str, level: int, extra: int = 0
) -> str:
    """Short values go inline; long ones become a module-level constant.
    `extra` is what follows the value on its line."""
    inline = literals.value(value)
    if len(inline) + len(var) + 3 + 4 * level + extra <= LIMIT:
        return inline
    const = f"{template.func.upper()}_{var.upper()}"
    emitter.constants.append(f"{const} = {literals.value_block(value, LIMIT, used=len(const) + 3)}")
    return const


def endings(code: Code, template: Template, emitter: Emitter, *, reachable: bool = True) -> None:
    """The `finally` steps, in order, after the last item."""
    spec = template.spec
    if not spec.ending:
        return
    if not reachable:
        code("# It runs until the parent stops it, so its finally steps never run (as in ipcplay).")
        return
    for step in spec.ending:
        if step == "poison-pill":
            emitter.needs.add("PILL")
            for name, count in zip(spec.outputs, template.pills_to_send, strict=True):
                _pills(code, emitter, name, count)
        elif step == "join":
            for name in spec.outputs:
                channel = emitter.chan(name)
                if channel.joinable:
                    code(f"# join() returns once every item put on {name}, pills too, has had")
                    code("# its task_done(): the moment every task is really finished.")
                    code(f"{channel.var}.join()")
        elif step == "close":
            for name in template.channels:
                channel = emitter.chan(name)
                if not channel.pipe_like:
                    continue
                if channel.spec.duplex:
                    why = "the other end's next recv() raises EOFError"
                elif name in spec.outputs:
                    why = "the reader gets EOFError after the rest"
                else:
                    why = "done reading"
                code(f"{channel.var}.close()", f"closing this end: {why}")


def _pills(code: Code, emitter: Emitter, name: str, count: int) -> None:
    if count == 0:
        code(f"# No other process reads {name}: no poison pill to send.")
        return
    if count == 1:
        code(f"# The poison pill goes last: the reader of {name} stops when it takes it.")
        put(code, emitter, name, "PILL", comment="the pill")
        return
    code(f"# Poison pills go last, one per reader of {name} ({count}): each stops at its own.")
    with code.block(f"for _ in range({count}):"):
        put(code, emitter, name, "PILL", comment="a pill")
