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
    for field, kinds in applies.items():
        if field in table and kind not in kinds:
            fail(subkey(key, field), f"applies to {' and '.join(kinds)} only, not {kind}")
    return SharedSpec(name=name, kind=kind, **_shared_fields(table, key, kind))


def _shared_fields(table: dict[str, Any], key: str, kind: str) -> dict[str, Any]:
    """The keys the kind takes, checked; a missing required one says what it is for."""
    fields: dict[str, Any] = {}
    if "typecode" in table:
        fields["typecode"] = as_choice(table["typecode"], subkey(key, "typecode"), model.TYPECODES)
    typecode = fields.get("typecode", "i")
    if kind == "Value" and "value" in table:
        fields["value"] = typed_number(table["value"], subkey(key, "value"), typecode)
    elif kind in ("Semaphore", "BoundedSemaphore"):
        fields["value"] = 1
        if "value" in table:
            fields["value"] = as_int(table["value"], subkey(key, "value"), 0, model.MAX_MAXSIZE)
    if kind == "Array":
        if "values" not in table:
            fail(
                subkey(key, "values"), "missing; an Array needs its initial values, e.g. [0, 0, 0]"
            )
        fields["values"] = _array_values(table["values"], subkey(key, "values"), typecode)
    if kind == "ManagerList" and "values" in table:
        fields["values"] = _manager_values(table["values"], subkey(key, "values"))
    if kind == "ManagerDict" and "items" in table:
        fields["items"] = _manager_items(table["items"], subkey(key, "items"))
    if kind == "Barrier":
        if "parties" not in table:
            fail(subkey(key, "parties"), "missing; how many processes the Barrier waits for")
        fields["parties"] = as_int(
            table["parties"], subkey(key, "parties"), 1, model.MAX_PARTIES, "MAX_PARTIES"
        )
    if kind == "SharedMemory":
        if "size" not in table:
            fail(subkey(key, "size"), "missing; how many bytes the block holds, e.g. 64")
        fields["size"] = as_int(table["size"], subkey(key, "size"), 1, model.MAX_BLOCK, "MAX_BLOCK")
    return fields


def _array_values(items: Any, key: str, typecode: str) -> tuple[int | float, ...]:
    """An Array's initial numbers: at least one, each one its typecode holds."""
    if not isinstance(items, list) or not items:
        fail(key, f"expected a non-empty array of numbers, got {described(items)}")
    if len(items) > model.MAX_ARRAY:
        fail(key, f"{len(items)} values, over the MAX_ARRAY cap of {model.MAX_ARRAY}")
    return tuple(
        typed_number(item, f"{key}[{index}]", typecode) for index, item in enumerate(items)
    )


def _manager_values(items: Any, key: str) -> tuple[Any, ...]:
    """A Manager list's initial items (numbers, strings, booleans, lists of those)."""
    if not isinstance(items, list):
        fail(key, f"expected an array of items, got {described(items)}")
    if len(items) > model.MAX_ARRAY:
        fail(key, f"{len(items)} values, over the MAX_ARRAY cap of {model.MAX_ARRAY}")
    return tuple(
        manager_item(item, f"{key}[{index}]", index_forms=False) for index, item in enumerate(items)
    )


def _manager_items(value: Any, key: str) -> tuple[tuple[str, Any], ...]:
    """A Manager dict's initial keys and values, in the order the file has them."""
    pairs = as_table(value, key, "a table of initial keys and values")
    if len(pairs) > model.MAX_ARRAY:
        fail(key, f"{len(pairs)} items, over the MAX_ARRAY cap of {model.MAX_ARRAY}")
    return tuple(
        (name, manager_item(item, subkey(key, name), index_forms=False))
        for name, item in pairs.items()
    )


def check_shared_used(shared: dict[str, SharedSpec], processes: list[ProcessSpec]) -> None:
    used = {used_name for process in processes for used_name in process.shared_used}
    for name in shared:
        if name not in used:
            fail(subkey("shared", name), "declared but no process's steps use it")
