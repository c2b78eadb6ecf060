"""The [channels] section: each channel's kind and the keys its kind takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ipcplay.scenario import model
from ipcplay.scenario.checks import (
    as_bool,
    as_choice,
    as_identifier,
    as_int,
    as_table,
    check_keys,
    fail,
    subkey,
    suggest,
)
from ipcplay.scenario.model import ChannelSpec

_CHANNEL_KEYS = ("kind", "maxsize", "duplex", "reader_keeps_write_end", "remote")
_QUEUES = ("Queue", "JoinableQueue", "ManagerQueue")


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
    extra: dict[str, Any] = {}
    if "maxsize" in table:
        if kind not in _QUEUES:
            fail(
                subkey(key, "maxsize"),
                f"applies to Queue, JoinableQueue and ManagerQueue only, not {kind}",
            )
        extra["maxsize"] = as_int(
            table["maxsize"], subkey(key, "maxsize"), 0, model.MAX_MAXSIZE, "MAX_MAXSIZE"
        )
    if "duplex" in table:
        if kind != "Pipe":
            fail(subkey(key, "duplex"), f"applies to Pipe only, not {kind}")
        extra["duplex"] = as_bool(table["duplex"], subkey(key, "duplex"))
    if "reader_keeps_write_end" in table:
        where = subkey(key, "reader_keeps_write_end")
        if kind != "Pipe" or extra.get("duplex", True):
            fail(where, 'applies to a one-way Pipe only (kind = "Pipe", duplex = false)')
        extra["reader_keeps_write_end"] = as_bool(table["reader_keeps_write_end"], where)
    if "remote" in table:
        if kind != "ManagerQueue":
            fail(subkey(key, "remote"), f"applies to ManagerQueue only, not {kind}")
        extra["remote"] = as_bool(table["remote"], subkey(key, "remote"))
    return ChannelSpec(name=name, kind=kind, **extra)


def missing_hint(name: str, channels: Mapping[str, ChannelSpec]) -> str:
    hint = suggest(name, channels)
    if hint:
        return hint
    if channels:
        return f"; declared channels: {', '.join(channels)}"
    return f"; declare it as a [channels.{name}] table"
