"""The [shared] section: each shared object's kind and its initial state."""

from __future__ import annotations

from typing import Any

from ipcplay.scenario import model
from ipcplay.scenario.checks import (
    as_choice,
    as_identifier,
    as_int,
    as_table,
    check_keys,
    described,
    fail,
    manager_item,
    show,
    subkey,
    typed_number,
)
from ipcplay.scenario.model import ChannelSpec, ProcessSpec, SharedSpec

_SHARED_KEYS = ("kind", "typecode", "value", "values", "parties", "size", "items")


def parse_shared(value: Any, channels: dict[str, ChannelSpec]) -> dict[str, SharedSpec]:
    table = as_table(value, "shared", "a table of shared objects ([shared.NAME])")
    if len(table) > model.MAX_SHARED:
        fail(
            "shared",
            f"{len(table)} shared objects, over the MAX_SHARED cap of {model.MAX_SHARED}",
        )
    out = {}
    for name, spec in table.items():
        if name in channels:
            fail(subkey("shared", name), f"{show(name)} is already the name of a channel")
        out[name] = _parse_shared_one(name, spec)
    return out


def _parse_shared_one(name: str, value: Any) -> SharedSpec:
    key = subkey("shared", name)
    as_identifier(name, key, "shared object")
    table = as_table(value, key, f"a table ([shared.{name}]) with a kind")
    check_keys(table, key, _SHARED_KEYS)
    if "kind" not in table:
        fail(subkey(key, "kind"), f"missing; expected one of {', '.join(model.SHARED_KINDS)}")
    kind = as_choice(table["kind"], subkey(key, "kind"), model.SHARED_KINDS)
    applies = {
        "typecode": model.DATA_KINDS,
        "value": ("Value", "Semaphore", "BoundedSemaphore"),
        "values": ("Array", "ManagerList"),
        "parties": ("Barrier",),
        "size": ("SharedMemory",),
        "items": ("ManagerDict",),
    }
    for k, kinds in applies.items():
        if k in table and kind not in kinds:
            fail(subkey(key, k), f"applies to {' and '.join(kinds)} only, not {kind}")
    f: dict[str, Any] = {}
    if "typecode" in table:
        f["typecode"] = as_choice(table["typecode"], subkey(key, "typecode"), model.TYPECODES)
    typecode = f.get("typecode", "i")
    if kind == "Value" and "value" in table:
        f["value"] = typed_number(table["value"], subkey(key, "value"), typecode)
    elif kind in ("Semaphore", "BoundedSemaphore"):
        f["value"] = 1
        if "value" in table:
            f["value"] = as_int(table["value"], subkey(key, "value"), 0, model.MAX_MAXSIZE)
    if kind == "Array":
        if "values" not in table:
            fail(
                subkey(key, "values"), "missing; an Array needs its initial values, e.g. [0, 0, 0]"
            )
        items = table["values"]
        if not isinstance(items, list) or not items:
            fail(
                subkey(key, "values"),
                f"expected a non-empty array of numbers, got {described(items)}",
            )
        if len(items) > model.MAX_ARRAY:
            fail(
                subkey(key, "values"),
                f"{len(items)} values, over the MAX_ARRAY cap of {model.MAX_ARRAY}",
            )
        f["values"] = tuple(
            typed_number(v, f"{subkey(key, 'values')}[{i}]", typecode) for i, v in enumerate(items)
        )
    if kind == "ManagerList" and "values" in table:
        items = table["values"]
        if not isinstance(items, list):
            fail(subkey(key, "values"), f"expected an array of items, got {described(items)}")
        if len(items) > model.MAX_ARRAY:
            fail(
                subkey(key, "values"),
                f"{len(items)} values, over the MAX_ARRAY cap of {model.MAX_ARRAY}",
            )
        f["values"] = tuple(
            manager_item(v, f"{subkey(key, 'values')}[{i}]", index_forms=False)
            for i, v in enumerate(items)
        )
    if kind == "ManagerDict" and "items" in table:
        pairs = as_table(table["items"], subkey(key, "items"), "a table of initial keys and values")
        if len(pairs) > model.MAX_ARRAY:
            fail(
                subkey(key, "items"),
                f"{len(pairs)} items, over the MAX_ARRAY cap of {model.MAX_ARRAY}",
            )
        f["items"] = tuple(
            (k, manager_item(v, subkey(subkey(key, "items"), k), index_forms=False))
            for k, v in pairs.items()
        )
    if kind == "Barrier":
        if "parties" not in table:
            fail(subkey(key, "parties"), "missing; how many processes the Barrier waits for")
        f["parties"] = as_int(
            table["parties"], subkey(key, "parties"), 1, model.MAX_PARTIES, "MAX_PARTIES"
        )
    if kind == "SharedMemory":
        if "size" not in table:
            fail(subkey(key, "size"), "missing; how many bytes the block holds, e.g. 64")
        f["size"] = as_int(table["size"], subkey(key, "size"), 1, model.MAX_BLOCK, "MAX_BLOCK")
    return SharedSpec(name=name, kind=kind, **f)


def check_shared_used(shared: dict[str, SharedSpec], processes: list[ProcessSpec]) -> None:
    used = {n for p in processes for n in p.shared_used}
    for name in shared:
        if name not in used:
            fail(subkey("shared", name), "declared but no process's steps use it")
