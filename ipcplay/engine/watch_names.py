"""The names a watched program gives its objects, read from its own line.

`tasks = mp.JoinableQueue()` makes a queue the program calls `tasks`: the
line that made it says so (linecache), read once per object made, never on
a put or a get. What no assignment names is `Queue@file.py:27`; a second
object bound to one name in one process is `tasks#2`.
"""

from __future__ import annotations

import linecache
import os
import re
import sys
from typing import Any

from ipcplay.engine.watch_runtime import _NOT_THE_PROGRAM, Runtime

# `name = ...`, `self.name = ...`, `name: T = ...`
_ONE = re.compile(r"^\s*(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)")
# `with X(...) as name:`
_WITH = re.compile(r"^\s*(?:async\s+)?with\s.*\bas\s+([A-Za-z_]\w*)\s*[:,)]")
# `a, b = ...`, `(a, b) = ...`
_TWO = re.compile(
    r"^\s*\(?\s*(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)\s*,\s*(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)\s*\)?\s*=(?!=)"
)


def program_frame() -> Any:
    """The innermost frame of the program's own code (None if none)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_NOT_THE_PROGRAM):
        frame = frame.f_back
    return frame


def binding_name(kind: str, pair: bool = False) -> str:
    """The name the program's line binds the new object to, else
    `Queue@file.py:27`. Read from the source line (linecache), once per
    object made: never on a put or a get. Where the call's column is known
    (Python 3.11's positions), the statement it is in is read, not the
    line's first: `a = Lock(); b = Lock()` names both, and `q, r = Queue(),
    Queue()` each by its place."""
    frame = program_frame()
    if frame is None:
        return kind
    file, line = frame.f_code.co_filename, frame.f_lineno
    text = linecache.getline(file, line)
    at = _call_column(frame, line)
    if at is not None:
        found = _statement_target(text, at, pair)
        if found:
            return found
    two = _TWO.match(text) if pair else None
    if two:
        return f"{two.group(1)}/{two.group(2)}"
    one = _ONE.match(text) or _WITH.match(text)
    if one:
        return one.group(1)
    return f"{kind}@{os.path.basename(file)}:{line}"


def _call_column(frame: Any, line: int) -> int | None:
    """The column (in characters) where the running call starts on `line`."""
    try:
        positions = frame.f_code.co_positions()
        for index, position in enumerate(positions):
            if index == frame.f_lasti // 2:
                start_line, _, column, _ = position
                break
        else:
            return None
    except (AttributeError, ValueError):
        return None
    if start_line != line or column is None:
        return None
    return column


def _statement_target(text: str, column: int, pair: bool) -> str:
    """The target the call at `column` is assigned to, within its own
    statement; "" if it is not a plain assignment."""
    head = text.encode()[:column].decode("utf-8", "ignore")
    head = head[head.rfind(";") + 1 :]
    if "=" not in head:
        return ""
    left, _, right = head.partition("=")
    if right.startswith("=") or left.rstrip().endswith(("!", "<", ">", "=")):
        return ""
    left = left.split(":")[0]  # `tasks: mp.JoinableQueue = ...`: the target, not its annotation
    targets = [t.strip().split(".")[-1] for t in left.strip().strip("()").split(",")]
    if not all(t.isidentifier() for t in targets):
        return ""
    if pair and len(targets) == 2 and not right.strip():
        return f"{targets[0]}/{targets[1]}"
    place = _depth_commas(right)
    if len(targets) == 1:
        return targets[0] if place == 0 else f"{targets[0]}[{place}]"
    return targets[place] if place < len(targets) else ""


def _depth_commas(text: str) -> int:
    """Commas at bracket depth 0 in `text` (the items before the call)."""
    depth = count = 0
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            count += 1
    return count


def unique(rt: Runtime, name: str) -> str:
    seen = rt.names.get(name, 0) + 1
    rt.names[name] = seen
    return name if seen == 1 else f"{name}#{seen}"
