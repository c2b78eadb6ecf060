"""Neutralise text that came from a file before it reaches a terminal.

A preset is data from anywhere; an ESC byte in its title could move the cursor,
retitle the window or worse. Control characters become visible escapes instead.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_NO_NL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def neutralise(text: str, *, multiline: bool = True) -> str:
    """Replace C0/C1 control characters (except tab/newline when multiline) by `\\xNN`."""
    pattern = _CONTROL if multiline else _CONTROL_NO_NL
    return pattern.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
