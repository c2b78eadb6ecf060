"""The [channels] section: each channel's kind and the keys its kind takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ipcplay.scenario import kinds, model
from ipcplay.scenario.checks import (
    as_choice,
    as_identifier,
    as_key,
    as_table,
    check_keys,
    fail,
    one_of,
    subkey,
    suggest,
)
from ipcplay.scenario.model import ChannelSpec

# Every key some channel kind takes, in the table's order (the order they are checked in).
_CHANNEL_KEYS = ("kind", *(name for name in kinds.KEYS if kinds.taking(name, "channel")))

# A key only a one-way channel takes: it says what a one-way Pipe's reader does.
_ONE_WAY_ONLY = "reader_keeps_write_end"


def parse_channels(value: Any) -> dict[str, ChannelSpec]:
    table = as_table(value, "channels", "a table of channels ([channels.NAME])")
    if len(table) > model.MAX_CHANNELS:
        fail(
            "channels",
            f"{len(table)} channels, over the MAX_CHANNELS cap of {model.MAX_CHANNELS}",
        )
    return {name: _parse_channel(name, spec) for name, spec in table.items()}


def _parse_channel(name: str, value: Any) -> ChannelSpec:
    key = subkey("channels", name)
    as_identifier(name, key, "channel")
    table = as_table(value, key, f"a table ([channels.{name}]) with a kind")
    check_keys(table, key, _CHANNEL_KEYS)
    if "kind" not in table:
        fail(subkey(key, "kind"), f"missing; expected one of {', '.join(model.CHANNEL_KINDS)}")
    kind = as_choice(table["kind"], subkey(key, "kind"), model.CHANNEL_KINDS)
    entry = kinds.CHANNEL_BY_NAME[kind]
    fields: dict[str, Any] = {}
    for field in _CHANNEL_KEYS[1:]:
        if field not in table:
            continue
        where = subkey(key, field)
        takers = kinds.taking(field, "channel")
        if field == _ONE_WAY_ONLY and (field not in entry.keys or fields.get("duplex", True)):
            one = one_of(takers)
            fail(where, f'applies to a one-way {one} only (kind = "{one}", duplex = false)')
        if field not in entry.keys:
            fail(where, f"applies to {one_of(takers)} only, not {kind}")
        fields[field] = as_key(kinds.KEYS[field], table[field], where)
    return ChannelSpec(name=name, kind=kind, **fields)


def missing_hint(name: str, channels: Mapping[str, ChannelSpec]) -> str:
    hint = suggest(name, channels)
    if hint:
        return hint
    if channels:
        return f"; declared channels: {', '.join(channels)}"
    return f"; declare it as a [channels.{name}] table"
