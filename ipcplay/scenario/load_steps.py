"""A steps process's `steps`: one action per table, on a shared object or a channel."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ipcplay.scenario import kinds, model
from ipcplay.scenario.checks import (
    as_bool,
    as_float,
    as_int,
    as_str,
    as_table,
    check_keys,
    described,
    fail,
    manager_item,
    show,
    subkey,
    suggest,
    typed_number,
)
from ipcplay.scenario.load_channels import missing_hint
from ipcplay.scenario.model import ChannelSpec, SharedSpec, Step

_STEP_ACTIONS = (
    "acquire",
    "release",
    "wait",
    "set",
    "clear",
    "sleep",
    "on",
    "notify",
    "notify_all",
    "wait_for",
    "write",
    "fill",
    "read",
    *model.CHANNEL_OPS,
)
STEP_UPDATES = ("add", "multiply", "value")
STEP_MANAGER = model.MANAGER_OPS


# Keys that go with one action only: notify's n, wait_for's predicate.
_STEP_EXTRAS = {
    "n": ("notify",),
    "until": ("wait_for",),
    "at_least": ("wait_for",),
    "offset": ("write",),
    "number": ("write",),
    "byte": ("fill",),
    "item": ("put",),
}
_STEP_KEYS = (
    *_STEP_ACTIONS,
    *STEP_UPDATES,
    *STEP_MANAGER,
    "key",
    "assign",
    "locked",
    *_STEP_EXTRAS,
)


# Steps that need the lock held when the kind is a lock too (a Condition), as in threading.
_HELD_OPS = ("wait", "notify", "notify_all", "wait_for")


def parse_steps(
    value: Any,
    key: str,
    shared: dict[str, SharedSpec],
    channels: Mapping[str, ChannelSpec] | None = None,
) -> tuple[Step, ...]:
    if not isinstance(value, list) or not value:
        fail(key, f"expected a non-empty array of step tables, got {described(value)}")
    if len(value) > model.MAX_STEPS:
        fail(key, f"{len(value)} steps, over the MAX_STEPS cap of {model.MAX_STEPS}")
    steps = tuple(
        _parse_step_one(f"{key}[{index}]", item, shared, channels or {})
        for index, item in enumerate(value)
    )
    _check_held(key, steps, {name: obj.kind for name, obj in shared.items()})
    return steps


def _parse_step_one(
    key: str, value: Any, shared: dict[str, SharedSpec], channels: Mapping[str, ChannelSpec]
) -> Step:
    table = as_table(value, key, 'a step table such as { acquire = "lock" }')
    check_keys(table, key, _STEP_KEYS)
    actions = [field for field in _STEP_ACTIONS if field in table]
    if len(actions) != 1:
        got = ", ".join(actions) if actions else "none"
        fail(key, f"expected exactly one of {', '.join(_STEP_ACTIONS)} in a step, got {got}")
    action = actions[0]
    updates = [field for field in STEP_UPDATES if field in table]
    if action != "on":
        extra = [field for field in (*STEP_MANAGER, "key", "assign") if field in table]
        for field in (*updates, *extra, *(["locked"] if "locked" in table else [])):
            fail(
                subkey(key, field), f"applies to an update step ({{ on = ... }}) only, not {action}"
            )
    for field, owners in _STEP_EXTRAS.items():
        if field in table and action not in owners:
            fail(subkey(key, field), f"applies to a {' or '.join(owners)} step only, not {action}")
    if action == "sleep":
        ms = as_float(table["sleep"], subkey(key, "sleep"), 0, model.MAX_WORK_MS, "MAX_WORK_MS")
        return Step(op="sleep", ms=ms)
    if action in model.CHANNEL_OPS:
        return _parse_channel_step(key, table, action, channels)
    target = _shared_ref(table[action], subkey(key, action), action, shared)
    if action == "notify":
        count = as_int(table["n"], subkey(key, "n"), 1, model.MAX_PROCESSES) if "n" in table else 1
        return Step(op=action, target=target, amount=count)
    if action == "wait_for":
        return _parse_wait_for(key, table, target, shared)
    if action in ("write", "fill"):
        return _parse_block_write(key, table, action, shared[target])
    if action != "on":
        return Step(op=action, target=target)
    if kinds.SHARED_BY_NAME[shared[target].kind].manager_steps:
        return _parse_manager_step(key, table, target, shared[target])
    for field in (*STEP_MANAGER, "key", "assign"):
        if field in table:
            fail(subkey(key, field), "applies to a Manager list, dict or Namespace only")
    if len(updates) != 1:
        got = ", ".join(updates) if updates else "none"
        fail(key, f"an update step needs exactly one of add, multiply, value; got {got}")
    op = updates[0]
    spec = shared[target]
    amount = typed_number(table[op], subkey(key, op), spec.typecode)
    locked = as_bool(table["locked"], subkey(key, "locked")) if "locked" in table else False
    return Step(op=op, target=target, amount=amount, locked=locked)


def _parse_channel_step(
    key: str, table: dict[str, Any], action: str, channels: Mapping[str, ChannelSpec]
) -> Step:
    """`{ put = "jobs", item = 42 }` puts 42 on channel jobs (send on a Pipe end);
    `{ get = "jobs" }` takes one item from it. The item is what a Manager step
    may hold: a number, a string, a boolean, or "{i}" for the process's index."""
    where = subkey(key, action)
    name = as_str(table[action], where, "the name of a channel (a string)")
    if name not in channels:
        fail(where, f"no channel named {show(name)}{missing_hint(name, channels)}")
    if action == "get":
        return Step(op="get", target=name)
    if "item" not in table:
        fail(subkey(key, "item"), 'missing; what to put, e.g. { put = "jobs", item = 42 }')
    return Step(op="put", target=name, item=manager_item(table["item"], subkey(key, "item")))


def _parse_wait_for(
    key: str, table: dict[str, Any], target: str, shared: dict[str, SharedSpec]
) -> Step:
    """`cond.wait_for(lambda: until.value >= at_least)`: the predicate reads a Value."""
    for field in ("until", "at_least"):
        if field not in table:
            fail(
                subkey(key, field),
                "missing; wait_for waits until a Value is at least a number, "
                'e.g. { wait_for = "cond", until = "ready", at_least = 1 }',
            )
    until = _shared_ref(table["until"], subkey(key, "until"), "on", shared)
    if shared[until].kind != "Value":
        fail(subkey(key, "until"), f"{show(until)} is an Array; 'until' needs a Value")
    at_least = typed_number(table["at_least"], subkey(key, "at_least"), shared[until].typecode)
    return Step(op="wait_for", target=target, amount=at_least, other=until)


def _parse_block_write(key: str, table: dict[str, Any], action: str, block: SharedSpec) -> Step:
    """write: an 8-byte little-endian integer at a byte offset; fill: every byte."""
    if action == "fill":
        if "byte" not in table:
            fail(
                subkey(key, "byte"), 'missing; the byte to fill with, e.g. { fill = "b", byte = 1 }'
            )
        return Step(
            op="fill", target=block.name, amount=as_int(table["byte"], subkey(key, "byte"), 0, 255)
        )
    if "number" not in table:
        fail(subkey(key, "number"), 'missing; e.g. { write = "b", offset = 0, number = 42 }')
    offset = 0
    if "offset" in table:
        last = block.size - 8
        if last < 0:
            fail(
                subkey(key, "offset"), f"{show(block.name)} holds {block.size} bytes, fewer than 8"
            )
        offset = as_int(table["offset"], subkey(key, "offset"), 0, last)
    elif block.size < 8:
        fail(key, f"{show(block.name)} holds {block.size} bytes; an 8-byte number needs 8")
    number = as_int(table["number"], subkey(key, "number"), -(1 << 63), (1 << 63) - 1)
    return Step(op="write", target=block.name, amount=number, offset=offset)


def _parse_manager_step(key: str, table: dict[str, Any], target: str, spec: SharedSpec) -> Step:
    """`{ on = "ml", append = X }`, `{ on = "md", setitem = X, key = K }`,
    `{ on = "ns", setattr = X, key = "name" }`: one call of the object's own
    (through a proxy, for a Manager's)."""
    kind = spec.kind
    entry = kinds.SHARED_BY_NAME[kind]
    allowed = entry.manager_steps
    for field in (*STEP_UPDATES, "locked"):
        if field in table:
            fail(subkey(key, field), f"applies to a Value or an Array, not a {kind}")
    ops = [name for name in STEP_MANAGER if name in table]
    if len(ops) != 1 or ops[0] not in allowed:
        got = ", ".join(ops) if ops else "none"
        fail(key, f"a step on a {kind} needs exactly one of {', '.join(allowed)}; got {got}")
    op = ops[0]
    item = manager_item(table[op], subkey(key, op))
    item_key: Any = None
    assign = False
    if "assign" in table:
        if op != "append" or "key" not in table:
            fail(subkey(key, "assign"), "applies to an append with a key (to a list inside)")
        assign = as_bool(table["assign"], subkey(key, "assign"))
    if op == "append" and "key" not in table:
        if kind == "ManagerDict":
            fail(subkey(key, "key"), "missing; append on a dict needs the key of a list in it")
    elif "key" not in table:
        what = "the attribute name" if op == "setattr" else "the index or key"
        fail(subkey(key, "key"), f"missing; {op} needs {what}")
    elif op == "setattr":
        item_key = as_str(table["key"], subkey(key, "key"), "an attribute name (a string)")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,31}", item_key):
            fail(subkey(key, "key"), f"{show(item_key)} is not a Python attribute name")
        if item_key.startswith(
            "_"
        ):  # _token, __class__...: the proxy's own, not the shared object's
            fail(
                subkey(key, "key"),
                f"{show(item_key)} starts with '_': a Namespace proxy sets such an attribute on "
                "itself, not on the shared Namespace (and _token or __class__ breaks it)",
            )
    elif "values" in entry.keys:  # a list: the key is an index
        item_key = table["key"]
        if item_key not in model.INDEX_FORMS:
            low, high = _index_range(entry, spec)
            item_key = as_int(item_key, subkey(key, "key"), low, high)
    else:
        item_key = manager_item(table["key"], subkey(key, "key"))
    return Step(op=op, target=target, key=item_key, item=item, assign=assign)


def _index_range(entry: kinds.SharedKind, spec: SharedSpec) -> tuple[int, int]:
    """The indices a step may name in a list: any up to the cap in one that
    grows (append), only its items' in one that cannot (IndexError otherwise)."""
    if "append" in entry.manager_steps:
        return -model.MAX_ARRAY, model.MAX_ARRAY - 1
    return -len(spec.values), len(spec.values) - 1


def _shared_ref(value: Any, key: str, action: str, shared: dict[str, SharedSpec]) -> str:
    name = as_str(value, key, "the name of a shared object (a string)")
    if name not in shared:
        hint = suggest(name, shared) or (
            f"; declared: {', '.join(shared)}" if shared else f"; declare it as [shared.{name}]"
        )
        fail(key, f"no shared object named {show(name)}{hint}")
    kind = shared[name].kind
    if action not in kinds.SHARED_BY_NAME[kind].steps:
        fail(key, f"{show(name)} is a {kind}; '{action}' needs {kinds.STEP_WORDS[action]}")
    return name


def _check_held(key: str, steps: tuple[Step, ...], kind_of: dict[str, str]) -> None:
    """Every acquire is released by the end of the steps, and only what is held is
    released: the steps run `count` times, and a lock still held at the end would
    be taken again at the next round (a Lock is not re-entrant)."""
    held: list[str] = []
    for index, step in enumerate(steps):
        where = f"{key}[{index}].{step.op}"
        if step.op in _HELD_OPS and step.target not in held and _is_lock(kind_of[step.target]):
            fail(
                where,
                f"{step.op} on {show(step.target)} needs the {kind_of[step.target]} held; "
                f'add {{ acquire = "{step.target}" }} before it',
            )
        if step.op == "acquire":
            held.append(step.target)
        elif step.op == "release":
            if step.target not in held:
                fail(where, f"releases {show(step.target)}, which this process does not hold here")
            del held[len(held) - 1 - held[::-1].index(step.target)]
    if held:
        name = held[-1]
        fail(key, f'ends holding {show(name)}; add {{ release = "{name}" }} after its use')


def _is_lock(kind: str) -> bool:
    return kinds.SHARED_BY_NAME[kind].lock
