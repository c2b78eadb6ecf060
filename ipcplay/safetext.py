"""Neutralise text that came from a file before it reaches a terminal.

A preset is data from anywhere; an ESC byte in its title could move the cursor,
retitle the window or worse. Control characters become visible escapes instead,
and so do the bidirectional overrides (U+202A-U+202E, U+2066-U+2069), which
reorder what the terminal shows without being seen ("Trojan Source").

Every path, name and text ipcplay prints goes through `neutralise`: the CLI's
lines and errors, the TUI, recordings. One function, so there is one place to
get it right.
"""

from __future__ import annotations

import re

_BIDI = "\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_CONTROL_NO_NL = re.compile(rf"[\x00-\x1f\x7f-\x9f{_BIDI}]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutralise(text: str, *, multiline: bool = True) -> str:
    """Replace C0/C1 control characters (except tab/newline when multiline) by
    `\\xNN`, and bidirectional overrides by `\\uNNNN`."""
    pattern = _CONTROL if multiline else _CONTROL_NO_NL
    return pattern.sub(_escape, text)
