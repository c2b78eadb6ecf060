"""Checks for one value of a scenario file, and the one-line error they raise.

Every section parser says what it expected through these, so a message reads
the same wherever the key is: `expected X, got Y` with the key path first.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import math
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn

from ipcplay.safetext import neutralise
from ipcplay.scenario import kinds, model

_FLT_MAX = 3.4028234663852886e38  # the largest finite C float (typecode 'f')
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_LINE_BREAK = re.compile(r"\s*(?:\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029])\s*")
INT64 = (-(1 << 63), (1 << 63) - 1)
MAX_ITEM_CHARS = 256


# Keys people reach for when they want a preset to run something. They get a
# clear refusal rather than a "did you mean" that suggests a near-miss key.
_CODE_KEYS = frozenset(
    {"code", "script", "python", "exec", "eval", "command", "cmd", "shell", "import", "module"}
)


class ScenarioError(Exception):
    """A scenario file is unusable; `str()` is one printable line.

    The parts stay available so callers can point at the key (a UI may
    highlight it); all three are flattened to one line and neutralised because
    they can quote text from the file.
    """

    def __init__(self, file: str, key: str, message: str) -> None:
        self.file = one_line(str(file))
        self.key = one_line(key)
        self.message = one_line(message)
        super().__init__(file, key, message)  # keeps the error picklable

    def __str__(self) -> str:
        if self.key:
            return f"{self.file}: {self.key}: {self.message}"
        return f"{self.file}: {self.message}"


class Invalid(Exception):
    """Raised deep in validation, where the file name is not known yet."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(key, message)
        self.key = key
        self.message = message


def one_line(text: str) -> str:
    return neutralise(_LINE_BREAK.sub(" ", text), multiline=False)


def fail(key: str, message: str) -> NoReturn:
    raise Invalid(key, message)


def subkey(path: str, part: str) -> str:
    """Quote odd key parts so the path stays unambiguous when printed."""
    if not _BARE_KEY.fullmatch(part):
        part = '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{path}.{part}" if path else part


def show(value: Any) -> str:
    """A short, safe rendering of a found value for a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 128 else "a number with too many digits"
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat()
    return ""


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return "a date/time"


def described(value: Any) -> str:
    """Type plus value: used when the type itself is what is wrong."""
    shown = show(value)
    return f"{_type_name(value)} ({shown})" if shown else _type_name(value)


def number_text(number: float) -> str:
    if number != number or number in (float("inf"), float("-inf")):
        return str(number)
    if float(number).is_integer() and abs(number) < 1e16:
        return str(int(number))
    return repr(float(number))


def suggest(word: str, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def check_keys(table: Mapping[str, Any], path: str, allowed: Sequence[str]) -> None:
    for name in table:
        if name in allowed:
            continue
        where = subkey(path, name)
        if name.lower() in _CODE_KEYS:
            fail(where, "presets cannot run code of their own")
        hint = suggest(name, allowed) or f"; expected one of {', '.join(allowed)}"
        fail(where, f"unknown key{hint}")


def as_table(value: Any, key: str, what: str = "a table") -> dict[str, Any]:
    if not isinstance(value, dict):
        fail(key, f"expected {what}, got {described(value)}")
    return value


def as_str(value: Any, key: str, what: str = "a string") -> str:
    if not isinstance(value, str):
        fail(key, f"expected {what}, got {described(value)}")
    return value


def as_bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        fail(key, f"expected true or false, got {described(value)}")
    return value


def _over(value: float, high: float, cap: str | None) -> str:
    return f" (over the {cap} cap)" if cap and value > high else ""


def as_int(value: Any, key: str, low: int, high: int, cap: str | None = None) -> int:
    """Whole numbers only: TOML true is a bool, which Python would take as 1."""
    expected = f"expected a whole number from {low} to {high}"
    if isinstance(value, bool) or not isinstance(value, int):
        fail(key, f"{expected}, got {described(value)}")
    if not low <= value <= high:
        fail(key, f"{expected}, got {show(value)}{_over(value, high, cap)}")
    return value


def as_float(
    value: Any, key: str, low: float, high: float, cap: str | None = None, *, above: bool = False
) -> float:
    """Ints are fine where a float is wanted; bools and NaN are not."""
    starts = (
        f"greater than {number_text(low)} and at most" if above else f"from {number_text(low)} to"
    )
    expected = f"expected a number {starts} {number_text(high)}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(key, f"{expected}, got {described(value)}")
    in_range = (low < value if above else low <= value) and value <= high
    if not in_range:  # also catches NaN, which compares false
        fail(key, f"{expected}, got {show(value)}{_over(value, high, cap)}")
    return float(value) + 0.0  # normalises -0.0


def as_choice(value: Any, key: str, choices: Sequence[str]) -> str:
    expected = f"expected one of {', '.join(choices)}"
    if not isinstance(value, str):
        fail(key, f"{expected}, got {described(value)}")
    if value not in choices:
        fail(key, f"{expected}, got {show(value)}{suggest(value, choices)}")
    return value


def as_identifier(value: Any, key: str, what: str) -> str:
    name = as_str(value, key, f"a {what} name (a string)")
    if not NAME_PATTERN.fullmatch(name):
        fail(
            key,
            f"invalid {what} name {show(name)}; expected a letter followed by up to 31 "
            "letters, digits, '_' or '-'",
        )
    return name


def as_names(value: Any, key: str) -> tuple[str, ...]:
    """`in`/`out` take one name or a list; a repeated name is surely a mistake."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        fail(key, f"expected a channel name or a list of names, got {described(value)}")
    names: list[str] = []
    for index, item in enumerate(items):
        where = key if isinstance(value, str) else f"{key}[{index}]"
        name = as_str(item, where, "a channel name (a string)")
        if name in names:
            fail(key, f"{show(name)} is listed twice")
        names.append(name)
    return tuple(names)


def manager_item(value: Any, key: str, index_forms: bool = True, nested: bool = False) -> Any:
    """A value a Manager object may hold: a number, a string or a boolean, and
    in an initial value also a list of those (a list inside the list or dict).

    In a step (`index_forms`), the strings "{i}", "{i*i}" and "{i**i}" stand
    for the process's index i and are computed in the process; the loader
    keeps them as written so the file reads back the same.
    """
    if isinstance(value, bool | str):
        if isinstance(value, str) and len(value) > MAX_ITEM_CHARS:
            fail(key, f"a string of {len(value)} characters, over {MAX_ITEM_CHARS}")
        if isinstance(value, str) and not index_forms and value in model.INDEX_FORMS:
            fail(key, f"{show(value)} means the process's index, which only a step has")
        return value
    if isinstance(value, int):
        return as_int(value, key, *INT64)
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return value
    if isinstance(value, list) and not index_forms and not nested:  # a list in a list or dict
        if len(value) > model.MAX_ARRAY:
            fail(key, f"{len(value)} items, over the MAX_ARRAY cap of {model.MAX_ARRAY}")
        return tuple(
            manager_item(item, f"{key}[{index}]", index_forms=False, nested=True)
            for index, item in enumerate(value)
        )
    fail(key, f"expected a number, a string or a boolean, got {described(value)}")


def typed_number(value: Any, key: str, typecode: str) -> int | float:
    """A number a ctypes `typecode` can hold: whole and in range for integer codes."""
    if typecode in model.INT_TYPECODES:
        low, high = model.INT_TYPECODES[typecode]
        if isinstance(value, float) and not isinstance(value, bool):
            fail(key, f"expected a whole number for typecode '{typecode}', got {show(value)}")
        return as_int(value, key, low, high)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        fail(key, f"expected a number for typecode '{typecode}', got {described(value)}")
    number = float(value) + 0.0
    # A C float holds up to 3.4e38: more became inf in the Value, silently.
    # (What rounds to the largest float is fine: struct rounds as C does.)
    if typecode == "f" and math.isfinite(number):
        try:
            overflows = math.isinf(struct.unpack("f", struct.pack("f", number))[0])
        except OverflowError:  # some Pythons refuse to pack it at all
            overflows = True
        if overflows:
            fail(
                key, f"{show(value)} is out of range for typecode 'f' (a C float: ±{_FLT_MAX:.7g})"
            )
    return number


def as_key(key: kinds.Key, value: Any, where: str) -> Any:
    """A value of a kind's key whose type says all: a whole number within the
    key's limits, a boolean or a typecode. Other types need the kind to read."""
    if key.type == "int":
        return as_int(value, where, key.low, getattr(model, key.cap), key.cap)
    if key.type == "bool":
        return as_bool(value, where)
    if key.type == "typecode":
        return as_choice(value, where, model.TYPECODES)
    raise ValueError(f"a {key.type} key needs its kind to be read")  # a caller's mistake


def one_of(names: Sequence[str]) -> str:
    """'Queue, JoinableQueue and ManagerQueue': names as a sentence lists them."""
    return f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else "".join(names)
