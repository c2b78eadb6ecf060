"""The [shared] section: each shared object's kind and its initial state."""

from __future__ import annotations

from typing import Any

from ipcplay.scenario import kinds, model
from ipcplay.scenario.checks import (
    as_choice,
    as_identifier,
    as_int,
    as_key,
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

# Every key some shared kind takes, in the table's order (the order they are checked in).
_SHARED_KEYS = ("kind", *(name for name in kinds.KEYS if kinds.taking(name, "shared")))


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
    entry = kinds.SHARED_BY_NAME[kind]
    for field in _SHARED_KEYS[1:]:
        if field in table and field not in entry.keys:
            takers = kinds.taking(field, "shared")
            fail(subkey(key, field), f"applies to {' and '.join(takers)} only, not {kind}")
    return SharedSpec(name=name, kind=kind, **_shared_fields(table, key, entry))


def _shared_fields(table: dict[str, Any], key: str, kind: kinds.SharedKind) -> dict[str, Any]:
    """The keys the kind takes, checked in the table's order; a missing one is
    its kind's default, or, if the kind requires it, a message saying what it is for."""
    fields: dict[str, Any] = {}
    for field in kind.keys:
        where = subkey(key, field)
        if field not in table:
            if field in kind.required:
                article = "an" if kind.name[:1] in "AEIOU" else "a"
                missing = kinds.KEYS[field].missing
                fail(
                    where,
                    "missing; " + missing.format(kind=kind.name, a_kind=f"{article} {kind.name}"),
                )
            default = kinds.default_of(kind, field)
            if default != kinds.KEYS[field].default:
                fields[field] = default
            continue
        fields[field] = _key_value(kind, field, table[field], where, fields.get("typecode", "i"))
    return fields


def _key_value(kind: kinds.SharedKind, field: str, value: Any, where: str, typecode: str) -> Any:
    """One key's value: its type in the table says how to read it, and for a
    number or a list, so does the kind (permits are whole, data has a typecode)."""
    key = kinds.KEYS[field]
    if key.type == "number":
        if kind.permits:
            return as_int(value, where, 0, model.MAX_MAXSIZE)
        return typed_number(value, where, typecode)
    if key.type == "list":
        if kind.data:
            return _array_values(value, where, typecode)
        return _manager_values(value, where, lists=kind.manager)
    if key.type == "table":
        return _manager_items(value, where)
    return as_key(key, value, where)


def _array_values(items: Any, key: str, typecode: str) -> tuple[int | float, ...]:
    """An Array's initial numbers: at least one, each one its typecode holds."""
    if not isinstance(items, list) or not items:
        fail(key, f"expected a non-empty array of numbers, got {described(items)}")
    if len(items) > model.MAX_ARRAY:
        fail(key, f"{len(items)} values, over the MAX_ARRAY cap of {model.MAX_ARRAY}")
    return tuple(
        typed_number(item, f"{key}[{index}]", typecode) for index, item in enumerate(items)
    )


def _manager_values(items: Any, key: str, lists: bool = True) -> tuple[Any, ...]:
    """A list's initial items: numbers, strings, booleans, and where `lists`
    (a Manager's list: its server pickles them) lists of those too."""
    if not isinstance(items, list):
        fail(key, f"expected an array of items, got {described(items)}")
    if len(items) > model.MAX_ARRAY:
        fail(key, f"{len(items)} values, over the MAX_ARRAY cap of {model.MAX_ARRAY}")
    return tuple(
        manager_item(item, f"{key}[{index}]", index_forms=False, nested=not lists)
        for index, item in enumerate(items)
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
