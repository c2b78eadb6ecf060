"""A steps process's steps as lines of text ("add counter 1 locked"), to and from
the TOML step tables the loader reads.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ipcplay.scenario import model
from ipcplay.scenario.draft_text import field_text, inline, toml_value, typed_number

# One line per step: the verb, then what the TOML step table holds, in order.
_TARGET_STEPS = ("acquire", "release", "wait", "set", "clear", "notify_all", "read", "get")
_UPDATE_STEPS = ("add", "multiply", "value")
STEP_SYNTAX = {
    **{verb: f"{verb} NAME" for verb in _TARGET_STEPS},
    "sleep": "sleep MS",
    **{verb: f"{verb} NAME N, or {verb} NAME N locked" for verb in _UPDATE_STEPS},
    "notify": "notify NAME, or notify NAME N",
    "wait_for": "wait_for NAME VALUE N",
    "write": "write NAME OFFSET NUMBER",
    "fill": "fill NAME BYTE",
    "append": "append NAME ITEM, or append NAME ITEM at KEY (assign)",
    "setitem": "setitem NAME KEY ITEM",
    "setattr": "setattr NAME ATTR ITEM",
    "put": "put CHANNEL ITEM",
    "get": "get CHANNEL",
}
assert set(STEP_SYNTAX) == set(model.STEP_OPS)


@dataclass(frozen=True)
class StepError:
    """A line of the steps field that is not a step: which one (from 0 among the
    steps, and from 1 among the lines) and why."""

    index: int
    line: int
    message: str


# A steps line is split into words on spaces, except that a quoted TOML string
# is part of one word whatever it holds (spaces, `#`), and `#` outside quotes
# starts a comment. A quote with no end is an ordinary character.
_CODE = re.compile(r"""(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^#"']|["'])*""")
_WORD = re.compile(r"""(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"']|["'])+""")


def _split_step(line: str) -> tuple[str, list[re.Match[str]]]:
    """A steps line without its comment, and its words (with where they are,
    so that a value of several words is taken exactly as written)."""
    code = _CODE.match(line)
    text = code.group(0) if code else line
    return text, list(_WORD.finditer(text))


def _step_table(text: str, spans: list[re.Match[str]]) -> dict[str, Any] | str:
    """The TOML step table one line stands for, or what is wrong with the line."""
    words = [match.group(0) for match in spans]

    def joined(first: int, last: int) -> str:
        """Words first..last (of `words`) as the line has them, spaces and all."""
        return text[spans[first].start() : spans[last].end()]

    verb = words[0]
    if verb not in STEP_SYNTAX:
        close = difflib.get_close_matches(verb, STEP_SYNTAX, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"steps: {', '.join(STEP_SYNTAX)}"
        return f"unknown step {verb!r}; {hint}"
    args = words[1:]
    if verb in _TARGET_STEPS and len(args) == 1:
        return {verb: args[0]}
    if verb == "sleep" and len(args) == 1:
        return {"sleep": typed_number(args[0])}
    if verb == "notify" and len(args) in (1, 2):
        return (
            {"notify": args[0], "n": typed_number(args[1])}
            if len(args) == 2
            else {"notify": args[0]}
        )
    if verb == "wait_for" and len(args) == 3:
        return {"wait_for": args[0], "until": args[1], "at_least": typed_number(args[2])}
    if verb == "write" and len(args) == 3:
        return {"write": args[0], "offset": typed_number(args[1]), "number": typed_number(args[2])}
    if verb == "fill" and len(args) == 2:
        return {"fill": args[0], "byte": typed_number(args[1])}
    if verb == "append" and len(args) >= 2:
        table = {"on": args[0]}
        rest = args[1:]
        if rest[-1] == "assign" and len(rest) >= 4 and rest[-3] == "at":
            table["assign"] = True
            rest = rest[:-1]
        if len(rest) >= 3 and rest[-2] == "at":
            table["key"] = toml_value(rest[-1])
            rest = rest[:-2]
        return {**table, "append": toml_value(joined(2, 1 + len(rest)))}
    if verb == "put" and len(args) >= 2:
        return {"put": args[0], "item": toml_value(joined(2, len(words) - 1))}
    if verb in ("setitem", "setattr") and len(args) >= 3:
        key = args[1] if verb == "setattr" else toml_value(args[1])
        return {"on": args[0], verb: toml_value(joined(3, len(words) - 1)), "key": key}
    if verb in _UPDATE_STEPS and len(args) in (2, 3):
        if len(args) == 3 and args[2] != "locked":
            return f"expected 'locked' after the amount, got {args[2]!r}"
        table: dict[str, Any] = {"on": args[0], verb: typed_number(args[1])}
        if len(args) == 3:
            table["locked"] = True
        return table
    return f"expected '{STEP_SYNTAX[verb]}', got {' '.join(words)!r}"


def parse_steps(text: str) -> tuple[list[dict[str, Any]], StepError | None]:
    """The step tables of the lines that parse, and the first line that does not.

    Blank lines are skipped; `#` starts a comment (not kept in the file)."""
    tables: list[dict[str, Any]] = []
    error: StepError | None = None
    for line_no, line in enumerate(str(text).splitlines(), 1):
        code, words = _split_step(line)
        if not words:
            continue
        table = _step_table(code, words)
        if isinstance(table, str):
            error = error or StepError(len(tables), line_no, table)
            continue
        tables.append(table)
    return tables, error


def _step_line(table: Mapping[str, Any]) -> str:
    if "on" in table and any(name in table for name in model.MANAGER_OPS):
        verb = next(name for name in model.MANAGER_OPS if name in table)
        if verb == "append":
            line = f"append {table['on']} {inline(table['append'])}"
            if "key" in table:
                line += f" at {inline(table['key'])}"
            return line + (" assign" if table.get("assign") else "")
        key = "" if "key" not in table else " " + field_text(table["key"])
        if verb == "setitem" and "key" in table:
            key = " " + inline(table["key"])
        return f"{verb} {table['on']}{key} {inline(table[verb])}"
    if "on" in table:
        verb = next(name for name in _UPDATE_STEPS if name in table)
        line = f"{verb} {table['on']} {inline(table[verb])}"
        return f"{line} locked" if table.get("locked") else line
    if "put" in table:
        return f"put {table['put']} {inline(table.get('item', ''))}"
    if "wait_for" in table:
        return f"wait_for {table['wait_for']} {table['until']} {inline(table['at_least'])}"
    if "write" in table:
        offset, number = inline(table.get("offset", 0)), inline(table["number"])
        return f"write {table['write']} {offset} {number}"
    if "fill" in table:
        return f"fill {table['fill']} {inline(table['byte'])}"
    if "n" in table:
        return f"notify {table['notify']} {inline(table['n'])}"
    verb, arg = next(iter(table.items()))
    return f"{verb} {inline(arg) if verb == 'sleep' else arg}"


def step_lines(tables: list[Mapping[str, Any]]) -> str:
    """The steps field for TOML step tables: one line each."""
    return "\n".join(_step_line(table) for table in tables)


def step_row(text: str, index: int) -> int | None:
    """The line (from 1) of the `index`-th step in the steps field."""
    seen = 0
    for line_no, line in enumerate(str(text).splitlines(), 1):
        if _split_step(line)[1]:
            if seen == index:
                return line_no
            seen += 1
    return None
