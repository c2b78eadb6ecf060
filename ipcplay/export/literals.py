"""Text from a preset, turned into Python source that can only ever be data.

A preset comes from anywhere, and its title, explanation and payloads end up
inside the exported script. Nothing here trusts them: every string becomes a
literal whose value is checked by parsing it back (`ast.literal_eval`), so a
quote, a backslash, a stray `\"\"\"` or a control character can never end a
string early, start a comment or run code. Preset text never goes into a
comment.
"""

from __future__ import annotations

import ast
import datetime
import json
import math
import textwrap
from typing import Any

WIDTH = 96  # lines of generated prose; the code stays under ruff's 100


def docstring(text: str) -> str:
    """A triple-quoted literal for `text` that reads like an ordinary docstring.

    Backslashes and non-printable characters are escaped, and so is every `"`
    that is followed by another `"` or ends the text, so no run of quotes can
    close the literal. The result is parsed back and compared; plain `repr()`
    is the fallback should the readable form ever differ.
    """
    out = []
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            closing = index + 1 == len(text) or text[index + 1] == '"'
            out.append('\\"' if closing else '"')
        elif char == "\n" or char.isprintable():
            out.append(char)
        else:
            out.append(repr(char)[1:-1])  # \x1b, \r, \u2028 ... as escapes
    literal = '"""' + "".join(out) + '"""'
    if _parses_to(literal, text):
        return literal
    return repr(text)  # pragma: no cover - a safety net, not a path


def prose(text: str, width: int = WIDTH) -> str:
    """Tidy teaching text for a docstring: tabs expanded, trailing spaces gone,
    long lines wrapped (indentation kept), blank lines at both ends dropped."""
    lines = []
    for line in text.expandtabs(4).splitlines():
        line = line.rstrip()
        if len(line) <= width:
            lines.append(line)
            continue
        lead = line[: len(line) - len(line.lstrip())]
        lines.extend(
            textwrap.wrap(
                line.strip(),
                width=width,
                initial_indent=lead,
                subsequent_indent=lead,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines).strip("\n")


def value(obj: Any) -> str:
    """Python source for a TOML value, on one line.

    TOML gives strings, numbers, booleans, lists, tables and dates/times;
    `repr()` is exact for all of them except the non-finite floats, which are
    spelt `float("inf")`. Dates and times need `import datetime` (see
    `needs_datetime`).
    """
    if isinstance(obj, bool):
        return "True" if obj else "False"
    if isinstance(obj, float):
        if math.isnan(obj):
            return 'float("nan")'
        if math.isinf(obj):
            return 'float("inf")' if obj > 0 else '-float("inf")'
        return repr(obj).replace("e+", "e")  # 1e16, as ruff format writes it
    if isinstance(obj, str):
        return string(obj)
    if isinstance(obj, int):
        return repr(obj)
    if isinstance(obj, list):
        return "[" + ", ".join(value(item) for item in obj) + "]"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{value(key)}: {value(item)}" for key, item in obj.items()) + "}"
    if isinstance(obj, datetime.date | datetime.time):
        return repr(obj)  # datetime.datetime(...), datetime.date(...), datetime.time(...)
    raise TypeError(f"not a TOML value: {type(obj).__name__}")


def value_block(obj: Any, width: int, level: int = 0, used: int = 0) -> str:
    """Like `value`, but laid out over several lines, as ruff format would,
    when it does not fit in `width` columns at indentation `level` after
    `used` columns of other text: one item of a list or table per line, a
    long string cut at spaces into adjacent literals. Every piece is still
    made by `value` or `string`."""
    one = value(obj)
    pad = "    " * (level + 1)
    if len(one) + 4 * level + used <= width:
        return one
    if isinstance(obj, str):
        chunks = _chunks(obj, max(20, width - len(pad) - 2))
        if len(chunks) > 1:
            return (
                "(\n"
                + "".join(f"{pad}{string(chunk)}\n" for chunk in chunks)
                + "    " * level
                + ")"
            )
        return one
    if isinstance(obj, list) and obj:
        items = [value_block(element, width, level + 1, 1) for element in obj]
        return "[\n" + "".join(f"{pad}{item},\n" for item in items) + "    " * level + "]"
    if isinstance(obj, dict) and obj:
        items = [
            f"{value(key)}: {value_block(element, width, level + 1, len(value(key)) + 3)}"
            for key, element in obj.items()
        ]
        return "{\n" + "".join(f"{pad}{item},\n" for item in items) + "    " * level + "}"
    return one


def _chunks(text: str, width: int) -> list[str]:
    """Cut `text` into pieces whose literals are about `width` characters
    wide (escapes counted), after a space where there is one; joined back
    together they are exactly `text`."""
    out: list[str] = []
    start = size = 0
    space = -1  # index just after the last space in the current piece
    for index, char in enumerate(text):
        char_width = len(repr(char)) - 2
        if size + char_width > width and index > start:
            cut = space if space > start else index
            out.append(text[start:cut])
            start = cut
            size = sum(len(repr(other)) - 2 for other in text[start:index])
            space = -1
        size += char_width
        if char == " ":
            space = index + 1
    out.append(text[start:])
    return [piece for piece in out if piece]


def string(text: str) -> str:
    """`repr(text)`, but in double quotes unless that needs more escapes (the
    choice ruff format makes); checked by parsing it back."""
    plain = repr(text)
    if plain[0] == '"' or text.count('"') > text.count("'"):
        return plain
    out, inner, index = [], plain[1:-1], 0
    while index < len(inner):
        char = inner[index]
        if char == "\\":
            pair = inner[index : index + 2]
            out.append("'" if pair == "\\'" else pair)
            index += 2
            continue
        out.append('\\"' if char == '"' else char)
        index += 1
    candidate = '"' + "".join(out) + '"'
    return candidate if _parses_to(candidate, text) else plain


def needs_datetime(obj: Any) -> bool:
    if isinstance(obj, datetime.date | datetime.time):
        return True
    if isinstance(obj, list):
        return any(needs_datetime(item) for item in obj)
    if isinstance(obj, dict):
        return any(needs_datetime(item) for item in obj.values())
    return False


def py_literal(value: Any) -> str:
    """A number, boolean or string as ruff format writes it (double quotes);
    an inner list (kept as a tuple by the scenario) as a list."""
    if isinstance(value, tuple):
        return "[" + ", ".join(py_literal(item) for item in value) + "]"
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _all_finite(obj: Any) -> bool:
    if isinstance(obj, float):
        return math.isfinite(obj)
    if isinstance(obj, list):
        return all(_all_finite(item) for item in obj)
    if isinstance(obj, dict):
        return all(_all_finite(item) for item in obj.values())
    return True


def _parses_to(literal: str, text: str) -> bool:
    try:
        return ast.literal_eval(literal) == text
    except (SyntaxError, ValueError):
        return False
