"""Typed text to TOML values and back, as the composer's fields hold them."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import tomli_w


def typed_number(text: str) -> Any:
    """What TOML would make of the typed text; anything else stays a string so
    the loader can say what it expected and what it got."""
    stripped = str(text).strip()
    for conv in (int, float):
        try:
            return conv(stripped)
        except ValueError:
            continue
    return text


def toml_value(text: str) -> Any:
    """A `value` payload is typed as TOML (`[1, 2]`, `"hi"`); bare words are strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        return text


def put_number(table: dict[str, Any], key: str, text: Any) -> None:
    """An empty field means "the default": the key is left out, as in a file."""
    if str(text).strip():
        table[key] = typed_number(text)


def field_text(value: Any) -> str:
    return str(value) if not isinstance(value, bool) else ("true" if value else "false")


def inline_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else inline(key)


def inline(value: Any) -> str:
    """A TOML value on one line, for the `value` field (tomli_w would write a
    nested table as its own section)."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        return (
            "{ "
            + ", ".join(f"{inline_key(field)} = {inline(item)}" for field, item in value.items())
            + " }"
        )
    if isinstance(value, list):
        return "[" + ", ".join(inline(item) for item in value) + "]"
    return tomli_w.dumps({"v": value})[len("v = ") :].rstrip("\n")
