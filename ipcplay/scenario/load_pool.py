"""A pool process's [process.pool] table: the Pool, its method and its tasks."""

from __future__ import annotations

from typing import Any

from ipcplay.safetext import neutralise
from ipcplay.scenario import model
from ipcplay.scenario.checks import (
    as_bool,
    as_choice,
    as_float,
    as_int,
    as_table,
    check_keys,
    described,
    fail,
    show,
    subkey,
)

_POOL_KEYS = (
    "processes",
    "maxtasksperchild",
    "method",
    "function",
    "args",
    "chunksize",
    "callback",
    "error_callback",
    "fail_on",
    "die_on",
    "timeout",
    "resubmit",
    "on_error",
    "finally",
)
DEFAULT_POOL = model.PoolSpec()
STAR_METHODS = ("starmap", "starmap_async")
_ASYNC_METHODS = ("apply_async", "map_async", "starmap_async")


def parse_pool(value: Any, key: str) -> model.PoolSpec:
    table = as_table(value, key)
    check_keys(table, key, _POOL_KEYS)
    fields: dict[str, Any] = {}
    cap = model.MAX_POOL_WORKERS
    if "processes" in table:
        where = subkey(key, "processes")
        fields["processes"] = as_int(table["processes"], where, 1, cap, "MAX_POOL_WORKERS")
    if "maxtasksperchild" in table:
        fields["maxtasksperchild"] = as_int(
            table["maxtasksperchild"], subkey(key, "maxtasksperchild"), 0, model.MAX_POOL_TASKS
        )
    if "method" in table:
        fields["method"] = as_choice(table["method"], subkey(key, "method"), model.POOL_METHODS)
    if "function" in table:
        fields["function"] = as_choice(
            table["function"], subkey(key, "function"), model.POOL_FUNCTIONS
        )
    method = fields.get("method", DEFAULT_POOL.method)
    if "args" not in table:
        fail(subkey(key, "args"), "missing; expected the tasks' arguments, e.g. [50, 100, 150]")
    fields["calls"] = _parse_pool_calls(table["args"], subkey(key, "args"), method)
    if "chunksize" in table:
        where = subkey(key, "chunksize")
        fields["chunksize"] = as_int(table["chunksize"], where, 0, model.MAX_POOL_TASKS)
        if fields["chunksize"] and method.startswith("apply"):
            fail(where, f"applies to the map methods only, not {method}")
    for flag in ("callback", "error_callback"):
        if flag in table:
            fields[flag] = as_bool(table[flag], subkey(key, flag))
            if fields[flag] and method not in _ASYNC_METHODS:
                fail(subkey(key, flag), f"needs an *_async method ({', '.join(_ASYNC_METHODS)})")
    for field in ("fail_on", "die_on"):
        if field in table:
            fields[field] = _pool_values(table[field], subkey(key, field))
    if "timeout" in table:
        where = subkey(key, "timeout")
        fields["timeout"] = as_float(table["timeout"], where, 0, model.MAX_SECONDS, "MAX_SECONDS")
        if fields["timeout"] and method != "apply_async":
            fail(where, "applies to method apply_async only (each result's get(timeout))")
    if "resubmit" in table:
        fields["resubmit"] = as_bool(table["resubmit"], subkey(key, "resubmit"))
        if fields["resubmit"] and not fields.get("timeout"):
            fail(
                subkey(key, "resubmit"), "needs a timeout: a task is resubmitted once it times out"
            )
    if "on_error" in table:
        fields["on_error"] = as_choice(
            table["on_error"], subkey(key, "on_error"), ("raise", "report")
        )
    if "finally" in table:
        fields["ending"] = _parse_pool_ending(table["finally"], subkey(key, "finally"))
    return model.PoolSpec(**fields)


def _parse_pool_calls(value: Any, key: str, method: str) -> tuple[model.PoolCall, ...]:
    """Each element is one task: a number or string (one argument), a list
    (positional arguments) or an inline table (keyword arguments)."""
    if not isinstance(value, list):
        fail(key, f"expected a list of task arguments, got {described(value)}")
    if not value:
        fail(key, "expected at least one task")
    if len(value) > model.MAX_POOL_TASKS:
        fail(key, f"{len(value)} tasks, over the MAX_POOL_TASKS cap of {model.MAX_POOL_TASKS}")
    calls = []
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        if isinstance(item, dict):
            if method != "apply_async" and method != "apply":
                fail(where, f"keyword arguments need method apply or apply_async, not {method}")
            kwds = tuple(
                (name, _pool_value(argument, subkey(where, name)))
                for name, argument in item.items()
            )
            calls.append(model.PoolCall(kwds=kwds))
        elif isinstance(item, list):
            if method in ("map", "map_async", "imap", "imap_unordered"):
                fail(where, f"{method} passes one argument per task; use starmap for lists")
            args = tuple(
                _pool_value(argument, f"{where}[{position}]")
                for position, argument in enumerate(item)
            )
            calls.append(model.PoolCall(args=args))
        else:
            if method in STAR_METHODS:
                fail(where, f"{method} unpacks each task; expected a list like [1, 2]")
            calls.append(model.PoolCall(args=(_pool_value(item, where),)))
    return tuple(calls)


def _pool_value(value: Any, key: str) -> int | str:
    if isinstance(value, str):
        return neutralise(value, multiline=False)
    return as_int(value, key, -(10**9), 10**9)


def _pool_values(value: Any, key: str) -> tuple[int | str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(_pool_value(item, f"{key}[{index}]") for index, item in enumerate(items))


def _parse_pool_ending(value: Any, key: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        fail(key, f"expected a list of {', '.join(model.POOL_ENDINGS)}, got {described(value)}")
    out: list[str] = []
    for index, item in enumerate(items):
        where = key if isinstance(value, str) else f"{key}[{index}]"
        step = as_choice(item, where, model.POOL_ENDINGS)
        if step in out:
            fail(key, f"{show(step)} is listed twice")
        out.append(step)
    if "close" in out and "terminate" in out:
        fail(key, "close and terminate both end the pool; choose one")
    if "join" in out and out.index("join") == 0:
        fail(key, "join comes after close or terminate (Pool.join() raises before them)")
    return tuple(out)
