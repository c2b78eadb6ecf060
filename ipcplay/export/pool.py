"""The pool role as plain stdlib code: `with ctx.Pool(...) as pool:` and one method.

The engine wraps each task to count it (engine/pool.py); the script calls the
task function itself, defined at module level so spawn workers can import it,
and prints the results the pool process collected, in the order they came:
the same numbers `ipcplay run --json` reports under "pools".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ipcplay.export import literals
from ipcplay.export.code import Code, number
from ipcplay.scenario.model import PoolCall, PoolSpec, Work

if TYPE_CHECKING:
    from ipcplay.export.emitter import Emitter
    from ipcplay.export.topology import Template

# name -> (parameters, docstring, body lines); the first parameter is the one
# fail_on and die_on look at.
FUNCTIONS: dict[str, tuple[str, str, list[str]]] = {
    "sum_range": (
        "n",
        "Seed 004's action(max): add up range(n).",
        ["my_sum = 0", "for i in range(n):", "    my_sum += i", "return my_sum"],
    ),
    "square": ("x", "x * x.", ["return x * x"]),
    "sleep_ms": ("ms", "Sleep ms milliseconds, return ms.", ["time.sleep(ms / 1000)", "return ms"]),
    "add": ("a, b", "a + b (starmap unpacks each task into a and b).", ["return a + b"]),
    "action": (
        'name="default"',
        "Seed 004: say which process runs it, with which argument.",
        ['print(f"({os.getpid()}) running, argument: {name}")'],
    ),
}


def _key_param(function: str) -> str:
    return FUNCTIONS[function][0].split(",")[0].split("=")[0].strip()


def init_lines() -> list[str]:
    """What a pool whose workers die once needs at module level (die_on)."""
    c = Code()
    c()
    c()
    c("died = None  # a Value shared by the workers: the deaths happen once (pool_init)")
    c()
    c()
    with c.block("def pool_init(flag):"):
        c('"""Pool initializer: every worker gets the shared flag."""')
        c("global died")
        c("died = flag")
    return c.lines


def module_lines(spec: PoolSpec, work: Work, e: Emitter, name: str = "") -> list[str]:
    """The task function at module level, with the scenario's work, failures
    and deaths written into it, as `name` (default: the function's own)."""
    params, doc, body = FUNCTIONS[spec.function]
    key = _key_param(spec.function)
    c = Code()
    c()
    c()
    if spec.die_on:
        e.needs.update({"os", "signal"})
    with c.block(f"def {name or spec.function}({params}):"):
        c(f'"""{doc}"""')
        if work.kind == "sleep" and work.ms > 0:
            e.needs.add("time")
            c(f"time.sleep({number(work.ms / 1000)})", "each task's work")
        elif work.kind == "cpu" and work.ms > 0:
            e.needs.add("time")
            c(f"end = time.perf_counter() + {number(work.ms / 1000)}", "each task's work: busy")
            with c.block("while time.perf_counter() < end:"):
                c("pass")
        if spec.die_on:
            with c.block(f"if {key} in {list(spec.die_on)!r} and not died.value:"):
                c("died.value = 1")
                c("os.kill(os.getpid(), signal.SIGKILL)", "killed mid-task, as the OOM killer")
        if spec.fail_on:
            with c.block(f"if {key} in {list(spec.fail_on)!r}:"):
                c(f'raise ValueError(f"{spec.function}({{{key}!r}}): bad input {{{key}!r}}")')
        if spec.function == "sleep_ms" or spec.function == "action":
            e.needs.add("time" if spec.function == "sleep_ms" else "os")
        for line in body:
            c(line)
    return c.lines


def _call_args(call: PoolCall) -> str:
    parts = []
    if call.args:
        parts.append(f"args={_tuple(call.args)}")
    if call.kwds:
        parts.append(f"kwds={literals.value(dict(call.kwds))}")
    return "".join(", " + p for p in parts)


def _tuple(values: tuple[Any, ...]) -> str:
    inner = ", ".join(literals.value(v) for v in values)
    return "(" + inner + ("," if len(values) == 1 else "") + ")"


def _items(spec: PoolSpec) -> str:
    """The iterable for map() & co, as ruff format writes it (double quotes)."""
    star = spec.method.startswith("starmap")
    if star:
        return "[" + ", ".join(_tuple(tuple(c.args)) for c in spec.calls) + "]"
    return "[" + ", ".join(literals.value(c.args[0]) for c in spec.calls) + "]"


def emit(c: Code, t: Template, e: Emitter) -> None:
    """The pool process's body."""
    spec = t.spec.pool
    assert spec is not None
    # Two pool processes may share a task function: written once if they use it
    # alike, else the second gets its own, named for its process, so each pool
    # fails, dies and works as its own spec says. ARGS likewise.
    args = "ARGS"
    for line in constants(spec):
        if line not in e.constants:
            if any(x.startswith("ARGS = ") for x in e.constants):
                args = f"ARGS_{t.func}"
                line = f"{args}{line[len('ARGS') :]}"
            e.constants.append(line)
    if spec.die_on and not _has(e.constants, init := init_lines()):
        e.constants += init
    f = _module_def(e, spec, t.spec.work, t.func)
    name = t.names[0]
    if e.scenario.expect != "completed":
        e.needs.update({"signal", "os"})
        c()  # a nested def stands apart, as ruff format wants it
        with c.block("def stop_pool(signum, frame):"):
            c('"""SIGTERM from the parent: end this process and every pool worker at once.')
            c("Not pool.terminate(): once a worker has been killed mid-task it can wait for")
            c("ever, and the Pool keeps forking replacements while it does. One signal to")
            c('the process group (see setpgrp below) reaches them all, new ones too."""')
            c("os.killpg(os.getpgrp(), signal.SIGKILL)")
        c()
        c("os.setpgrp()  # this process and the workers it forks: one process group")
        c("signal.signal(signal.SIGTERM, stop_pool)")
    c("ctx = multiprocessing.get_context(START_METHOD)")
    kw = [f"processes={spec.processes}"]
    if spec.maxtasksperchild:
        kw.append(f"maxtasksperchild={spec.maxtasksperchild}")
    if spec.die_on:
        c('flag = ctx.Value("i", 0)  # set by the first worker that dies')
        kw += ["initializer=pool_init", "initargs=(flag,)"]
    c("results = []  # in the order they reach this process")
    c("errors = []")
    if spec.callback:
        c()
        with c.block("def on_result(result):"):
            c('"""callback: runs in this process, in the pool\'s result thread."""')
            if spec.method.endswith("map_async"):
                c("results.extend(result)")
            else:
                c("results.append(result)")
    if spec.error_callback:
        c()
        with c.block("def on_error(exc):"):
            c('"""error_callback: the worker\'s exception, as soon as it is known."""')
            c('print(f"error_callback: {exc!r}")')
            c("errors.append(exc)")
    if spec.callback or spec.error_callback:
        c()
    cb = (", callback=on_result" if spec.callback else "") + (
        ", error_callback=on_error" if spec.error_callback else ""
    )
    chunk = f", chunksize={spec.chunksize}" if spec.chunksize else ""
    with c.block(f"with ctx.Pool({', '.join(kw)}) as pool:"):
        m = spec.method
        pending = False
        if m == "apply":
            for call in spec.calls:
                c(f"results.append(pool.apply({f}{_call_args(call)}))", "blocks until it is done")
        elif m == "apply_async":
            c("pending = [")
            for call in spec.calls:
                c(f"    pool.apply_async({f}{_call_args(call)}{cb}),")
            c("]")
            pending = True
            if spec.timeout:
                _timed(c, spec, f, args)
                pending = False
        elif m in ("map", "starmap"):
            c(f"results = pool.{m}({f}, {_items(spec)}{chunk})", "blocks until all are done")
        elif m in ("map_async", "starmap_async"):
            c(f"pending = [pool.{m}({f}, {_items(spec)}{chunk}{cb})]")
            pending = True
        else:
            with c.block(f"for result in pool.{m}({f}, {_items(spec)}{chunk}):"):
                c("results.append(result)", "one at a time, as they come")
        for step in spec.ending:
            c(f"pool.{step}()")
        if pending:
            _gets(c, spec)
    c(f'print(f"pool {name}: results={{results}} errors={{len(errors)}}")')


def _gets(c: Code, spec: PoolSpec) -> None:
    """get() each AsyncResult that no callback already collected."""
    many = spec.method.endswith("map_async")
    with c.block("for r in pending:"):
        if spec.callback:
            with c.block("if r.successful():"):
                c("continue", "on_result has it already")
        if spec.error_callback or spec.on_error == "report":
            with c.block("try:"):
                c("result = r.get()")
            with c.block(
                "except Exception:" if spec.error_callback else "except Exception as exc:"
            ):
                if spec.error_callback:
                    c("continue", "on_error has it already")
                else:
                    c('print(f"get() raised {exc!r}")')
                    c("errors.append(exc)")
                    c("continue")
        else:
            c("result = r.get()", "a worker's exception is raised here, and only here")
        c("results.extend(result)" if many else "results.append(result)")


def _timed(c: Code, spec: PoolSpec, f: str, args: str) -> None:
    t = number(spec.timeout)
    with c.block("for i, r in enumerate(pending):"), c.block("for _ in range(4):"):
        with c.block("try:"):
            c(f"results.append(r.get(timeout={t}))")
            c("break")
        with c.block("except multiprocessing.TimeoutError:"):
            if spec.resubmit:
                c(f'print(f"task {{i}}: no result after {t} s; submitting it again")')
                c(f"r = pool.apply_async({f}, {args}[i])")
            else:
                c("raise")


def constants(spec: PoolSpec) -> list[str]:
    """ARGS, for a task submitted again: each task's positional arguments."""
    if not spec.timeout:
        return []
    return [f"ARGS = {[tuple(c.args) for c in spec.calls]!r}  # each task's arguments"]


def _has(lines: list[str], block: list[str]) -> bool:
    """True if `block` (leading blank lines aside) already sits in `lines`."""
    start = next((i for i, x in enumerate(block) if x), len(block))
    body = block[start:]
    n = len(body)
    return n > 0 and any(lines[i : i + n] == body for i in range(len(lines) - n + 1))


def _module_def(e: Emitter, spec: PoolSpec, work: Work, owner: str) -> str:
    """Add a pool's task function to the module level, unless the very same is
    there already; return the name it has there (its own, or `name_owner` when
    another pool's differs)."""
    block = module_lines(spec, work, e)
    if _has(e.constants, block):
        return spec.function
    name = spec.function
    if any(x.startswith(f"def {name}(") for x in e.constants):
        name = f"{name}_{owner}"
        block = module_lines(spec, work, e, name)
    e.constants += block
    return name
