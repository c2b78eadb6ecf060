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
    object made: never on a put or a get."""
    frame = program_frame()
    if frame is None:
        return kind
    file, line = frame.f_code.co_filename, frame.f_lineno
    text = linecache.getline(file, line)
    two = _TWO.match(text) if pair else None
    if two:
        return f"{two.group(1)}/{two.group(2)}"
    one = _ONE.match(text) or _WITH.match(text)
    if one:
        return one.group(1)
    return f"{kind}@{os.path.basename(file)}:{line}"


def unique(rt: Runtime, name: str) -> str:
    seen = rt.names.get(name, 0) + 1
    rt.names[name] = seen
    return name if seen == 1 else f"{name}#{seen}"
