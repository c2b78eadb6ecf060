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
    code = Code()
    code()
    code()
    code("died = None  # a Value shared by the workers: the deaths happen once (pool_init)")
    code()
    code()
    with code.block("def pool_init(flag):"):
        code('"""Pool initializer: every worker gets the shared flag."""')
        code("global died")
        code("died = flag")
    return code.lines


def module_lines(spec: PoolSpec, work: Work, emitter: Emitter, name: str = "") -> list[str]:
    """The task function at module level, with the scenario's work, failures
    and deaths written into it, as `name` (default: the function's own)."""
    params, doc, body = FUNCTIONS[spec.function]
    key = _key_param(spec.function)
    code = Code()
    code()
    code()
    if spec.die_on:
        emitter.needs.update({"os", "signal"})
    with code.block(f"def {name or spec.function}({params}):"):
        code(f'"""{doc}"""')
        if work.kind == "sleep" and work.ms > 0:
            emitter.needs.add("time")
            code(f"time.sleep({number(work.ms / 1000)})", "each task's work")
        elif work.kind == "cpu" and work.ms > 0:
            emitter.needs.add("time")
            code(f"end = time.perf_counter() + {number(work.ms / 1000)}", "each task's work: busy")
            with code.block("while time.perf_counter() < end:"):
                code("pass")
        if spec.die_on:
            with code.block(f"if {key} in {list(spec.die_on)!r} and not died.value:"):
                code("died.value = 1")
                code("os.kill(os.getpid(), signal.SIGKILL)", "killed mid-task, as the OOM killer")
        if spec.fail_on:
            with code.block(f"if {key} in {list(spec.fail_on)!r}:"):
                code(f'raise ValueError(f"{spec.function}({{{key}!r}}): bad input {{{key}!r}}")')
        if spec.function == "sleep_ms" or spec.function == "action":
            emitter.needs.add("time" if spec.function == "sleep_ms" else "os")
        for line in body:
            code(line)
    return code.lines


def _call_args(call: PoolCall) -> str:
    parts = []
    if call.args:
        parts.append(f"args={_tuple(call.args)}")
    if call.kwds:
        parts.append(f"kwds={literals.value(dict(call.kwds))}")
    return "".join(", " + part for part in parts)


def _tuple(values: tuple[Any, ...]) -> str:
    inner = ", ".join(literals.value(value) for value in values)
    return "(" + inner + ("," if len(values) == 1 else "") + ")"


def _items(spec: PoolSpec) -> str:
    """The iterable for map() & co, as ruff format writes it (double quotes)."""
    star = spec.method.startswith("starmap")
    if star:
        return "[" + ", ".join(_tuple(tuple(call.args)) for call in spec.calls) + "]"
    return "[" + ", ".join(literals.value(call.args[0]) for call in spec.calls) + "]"


def emit(code: Code, template: Template, emitter: Emitter) -> None:
    """The pool process's body."""
    spec = template.spec.pool
    assert spec is not None
    args = _module_constants(template, spec, emitter)
    function = _module_def(emitter, spec, template.spec.work, template.func)
    if emitter.scenario.expect != "completed":
        _stop_on_sigterm(code, emitter)
    code("ctx = multiprocessing.get_context(START_METHOD)")
    keywords = [f"processes={spec.processes}"]
    if spec.maxtasksperchild:
        keywords.append(f"maxtasksperchild={spec.maxtasksperchild}")
    if spec.die_on:
        code('flag = ctx.Value("i", 0)  # set by the first worker that dies')
        keywords += ["initializer=pool_init", "initargs=(flag,)"]
    code("results = []  # in the order they reach this process")
    code("errors = []")
    _callbacks(code, spec)
    with code.block(f"with ctx.Pool({', '.join(keywords)}) as pool:"):
        pending = _submit(code, spec, function, args)
        for step in spec.ending:
            code(f"pool.{step}()")
        if pending:
            _gets(code, spec)
    code(f'print(f"pool {template.names[0]}: results={{results}} errors={{len(errors)}}")')


def _module_constants(template: Template, spec: PoolSpec, emitter: Emitter) -> str:
    """ARGS and pool_init at module level; the name ARGS has there.

    Two pool processes may share a task function: written once if they use it
    alike, else the second gets its own, named for its process, so each pool
    fails, dies and works as its own spec says. ARGS likewise."""
    args = "ARGS"
    for line in constants(spec):
        if line not in emitter.constants:
            if any(constant.startswith("ARGS = ") for constant in emitter.constants):
                args = f"ARGS_{template.func}"
                line = f"{args}{line[len('ARGS') :]}"
            emitter.constants.append(line)
    if spec.die_on and not _has(emitter.constants, init := init_lines()):
        emitter.constants += init
    return args


def _stop_on_sigterm(code: Code, emitter: Emitter) -> None:
    """A pool that may never finish: SIGTERM ends its whole process group."""
    emitter.needs.update({"signal", "os"})
    code()  # a nested def stands apart, as ruff format wants it
    with code.block("def stop_pool(signum, frame):"):
        code('"""SIGTERM from the parent: end this process and every pool worker at once.')
        code("Not pool.terminate(): once a worker has been killed mid-task it can wait for")
        code("ever, and the Pool keeps forking replacements while it does. One signal to")
        code('the process group (see setpgrp below) reaches them all, new ones too."""')
        code("os.killpg(os.getpgrp(), signal.SIGKILL)")
    code()
    code("os.setpgrp()  # this process and the workers it forks: one process group")
    code("signal.signal(signal.SIGTERM, stop_pool)")


def _callbacks(code: Code, spec: PoolSpec) -> None:
    """on_result and on_error, nested in the pool process's function."""
    if spec.callback:
        code()
        with code.block("def on_result(result):"):
            code('"""callback: runs in this process, in the pool\'s result thread."""')
            if spec.method.endswith("map_async"):
                code("results.extend(result)")
            else:
                code("results.append(result)")
    if spec.error_callback:
        code()
        with code.block("def on_error(exc):"):
            code('"""error_callback: the worker\'s exception, as soon as it is known."""')
            code('print(f"error_callback: {exc!r}")')
            code("errors.append(exc)")
    if spec.callback or spec.error_callback:
        code()


def _submit(code: Code, spec: PoolSpec, function: str, args: str) -> bool:
    """The tasks, by the pool's method; whether AsyncResults are left to get()."""
    callbacks = (", callback=on_result" if spec.callback else "") + (
        ", error_callback=on_error" if spec.error_callback else ""
    )
    chunk = f", chunksize={spec.chunksize}" if spec.chunksize else ""
    method = spec.method
    if method == "apply":
        for call in spec.calls:
            code(
                f"results.append(pool.apply({function}{_call_args(call)}))",
                "blocks until it is done",
            )
    elif method == "apply_async":
        code("pending = [")
        for call in spec.calls:
            code(f"    pool.apply_async({function}{_call_args(call)}{callbacks}),")
        code("]")
        if not spec.timeout:
            return True
        _timed(code, spec, function, args)
    elif method in ("map", "starmap"):
        code(
            f"results = pool.{method}({function}, {_items(spec)}{chunk})",
            "blocks until all are done",
        )
    elif method in ("map_async", "starmap_async"):
        code(f"pending = [pool.{method}({function}, {_items(spec)}{chunk}{callbacks})]")
        return True
    else:
        with code.block(f"for result in pool.{method}({function}, {_items(spec)}{chunk}):"):
            code("results.append(result)", "one at a time, as they come")
    return False


def _gets(code: Code, spec: PoolSpec) -> None:
    """get() each AsyncResult that no callback already collected."""
    many = spec.method.endswith("map_async")
    with code.block("for r in pending:"):
        if spec.callback:
            with code.block("if r.successful():"):
                code("continue", "on_result has it already")
        if spec.error_callback or spec.on_error == "report":
            with code.block("try:"):
                code("result = r.get()")
            with code.block(
                "except Exception:" if spec.error_callback else "except Exception as exc:"
            ):
                if spec.error_callback:
                    code("continue", "on_error has it already")
                else:
                    code('print(f"get() raised {exc!r}")')
                    code("errors.append(exc)")
                    code("continue")
        else:
            code("result = r.get()", "a worker's exception is raised here, and only here")
        code("results.extend(result)" if many else "results.append(result)")


def _timed(code: Code, spec: PoolSpec, function: str, args: str) -> None:
    timeout = number(spec.timeout)
    with code.block("for i, r in enumerate(pending):"), code.block("for _ in range(4):"):
        with code.block("try:"):
            code(f"results.append(r.get(timeout={timeout}))")
            code("break")
        with code.block("except multiprocessing.TimeoutError:"):
            if spec.resubmit:
                code(f'print(f"task {{i}}: no result after {timeout} s; submitting it again")')
                code(f"r = pool.apply_async({function}, {args}[i])")
            else:
                code("raise")


def constants(spec: PoolSpec) -> list[str]:
    """ARGS, for a task submitted again: each task's positional arguments."""
    if not spec.timeout:
        return []
    return [f"ARGS = {[tuple(call.args) for call in spec.calls]!r}  # each task's arguments"]


def _has(lines: list[str], block: list[str]) -> bool:
    """True if `block` (leading blank lines aside) already sits in `lines`."""
    start = next((offset for offset, line in enumerate(block) if line), len(block))
    body = block[start:]
    size = len(body)
    return size > 0 and any(
        lines[offset : offset + size] == body for offset in range(len(lines) - size + 1)
    )


def _module_def(emitter: Emitter, spec: PoolSpec, work: Work, owner: str) -> str:
    """Add a pool's task function to the module level, unless the very same is
    there already; return the name it has there (its own, or `name_owner` when
    another pool's differs)."""
    block = module_lines(spec, work, emitter)
    if _has(emitter.constants, block):
        return spec.function
    name = spec.function
    if any(line.startswith(f"def {name}(") for line in emitter.constants):
        name = f"{name}_{owner}"
        block = module_lines(spec, work, emitter, name)
    emitter.constants += block
    return name
