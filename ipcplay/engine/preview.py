"""A message's content as a short line of text, from the first bytes of its pickle.

Why from the pickle: the writer of a pipe or a SimpleQueue (and the reader of
a Queue) already holds the pickled bytes, so copying their first
`board.PREVIEW_BYTES` into shared memory is the whole cost on the hot path;
the observer does the rest, and only for the lines it shows.

Why not `pickle.loads`: the bytes come from another process, and loading a
pickle can run code. This reads the opcodes (`pickletools.genops` only
parses) and renders the plain values it finds — strings, bytes, numbers,
None, booleans, tuples, lists, dicts — much as `repr` would; anything else
(a class instance, a function) is shown as its name in angle brackets, never
built. A pickle cut off by the preview's size ends in "…".

The text is neutralised (ipcplay/safetext.py) and at most `MAX_CHARS` long.
"""

from __future__ import annotations

import io
import pickletools
from typing import Any

from ipcplay.safetext import neutralise

MAX_CHARS = 32


class _Opaque:
    """A value the preview does not build (an object, a reference it lost)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class _Mark:
    pass


_MARK = _Mark()
_CUT = _Opaque("…")
_SIMPLE = (str, bytes, int, float, bool, type(None))


def _values(data: bytes) -> tuple[list[Any], bool]:
    """The stack of values the pickle builds, and whether it was complete."""
    stack: list[Any] = []
    memo: dict[int, Any] = {}
    reader = io.BytesIO(data)
    end = 0  # where the op being read starts
    try:
        for op, arg, _ in pickletools.genops(reader):
            end = reader.tell()
            name = op.name
            if name in ("PROTO", "FRAME"):
                continue
            if name == "STOP":
                return stack, True
            if not _plain(stack, memo, name, arg, op.arg is not None):
                _structure(stack, name, arg)
    except (ValueError, IndexError, KeyError, TypeError, AttributeError):
        # Cut off (or not a pickle): what was read so far, and the start of a
        # string or bytes the cut went through.
        cut = _cut_text(data, end)
        if cut is not None:
            stack.append(cut)
    return stack, False


def _plain(stack: list[Any], memo: dict[int, Any], name: str, arg: Any, has_arg: bool) -> bool:
    """Marks, the memo and plain values (None, booleans, numbers, strings,
    bytes): True if `name` was one of those and is done."""
    if name == "MARK":
        stack.append(_MARK)
    elif name in ("MEMOIZE",):
        memo[len(memo)] = stack[-1] if stack else None
    elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
        memo[arg] = stack[-1] if stack else None
    elif name in ("BINGET", "LONG_BINGET", "GET"):
        stack.append(memo.get(arg, _Opaque("…")))
    elif name == "NONE":
        stack.append(None)
    elif name in ("NEWTRUE", "NEWFALSE"):
        stack.append(name == "NEWTRUE")
    elif has_arg and isinstance(arg, _SIMPLE) and name not in _NAMES:
        # ints, floats, strings and bytes of every width
        stack.append(arg)
    else:
        return False
    return True


def _structure(stack: list[Any], name: str, arg: Any) -> None:
    """Tuples, lists, dicts and sets, what is added to them, and objects
    (shown by name, never built)."""
    if name == "EMPTY_TUPLE":
        stack.append(())
    elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
        count = int(name[-1])
        items = tuple(stack[-count:])
        del stack[-count:]
        stack.append(items)
    elif name in ("TUPLE", "LIST", "DICT", "FROZENSET"):
        items = _pop_mark(stack)
        if name == "TUPLE":
            stack.append(tuple(items))
        elif name == "LIST":
            stack.append(list(items))
        elif name == "DICT":
            stack.append(dict(_pairs(items)))
        else:
            stack.append(_Opaque(f"frozenset({list(items)!r})"))
    elif name == "EMPTY_LIST":
        stack.append([])
    elif name == "EMPTY_DICT":
        stack.append({})
    elif name == "EMPTY_SET":
        stack.append(_Opaque("set()"))
    elif name == "APPEND":
        value = stack.pop()
        _add(stack[-1], [value])
    elif name in ("APPENDS", "SETITEMS"):
        items = _pop_mark(stack)
        _add(stack[-1], items)
    elif name == "SETITEM":
        value, key = stack.pop(), stack.pop()
        _add(stack[-1], [key, value])
    elif name in ("GLOBAL", "STACK_GLOBAL"):
        if name == "STACK_GLOBAL" and len(stack) >= 2:
            qual = stack.pop()  # the name; the module under it
            stack.pop()
        else:
            qual = str(arg).rpartition(" ")[2]
        stack.append(_Opaque(f"<{qual}>"))
    elif name in ("REDUCE", "NEWOBJ", "NEWOBJ_EX", "BUILD", "OBJ", "INST", "ADDITEMS"):
        _collapse(stack, name)
    else:
        stack.append(_Opaque("<?>"))


# opcode -> (bytes of its length field, is text)
_SIZED = {0x8C: (1, True), 0x58: (4, True), 0x8D: (8, True), 0x43: (1, False), 0x42: (4, False)}


def _cut_text(data: bytes, at: int) -> str | bytes | None:
    """The readable start of a string or bytes op that runs past the end."""
    if at >= len(data) or data[at] not in _SIZED:
        return None
    width, text = _SIZED[data[at]]
    body = data[at + 1 + width :]
    if len(data) < at + 1 + width:
        return None
    if not text:
        return body
    return body.decode("utf-8", "ignore")


_NAMES = {"GLOBAL", "INST", "PERSID"}


def _pop_mark(stack: list[Any]) -> list[Any]:
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is _MARK:
            items = stack[i + 1 :]
            del stack[i:]
            return items
    items = stack[:]
    stack.clear()
    return items


def _pairs(items: list[Any]) -> list[tuple[Any, Any]]:
    return [(_key(items[i]), items[i + 1]) for i in range(0, len(items) - 1, 2)]


def _key(k: Any) -> Any:
    try:
        hash(k)
    except TypeError:
        return _Opaque(repr(k))
    return k


def _add(target: Any, items: list[Any]) -> None:
    if isinstance(target, list):
        target.extend(items)
    elif isinstance(target, dict):
        target.update(_pairs(items))


def _collapse(stack: list[Any], name: str) -> None:
    """An object being built: keep the class's name, drop its arguments."""
    if name == "BUILD" and len(stack) >= 2:
        stack.pop()  # the state
        return
    if name in ("REDUCE", "NEWOBJ") and len(stack) >= 2:
        stack.pop()
    elif name == "NEWOBJ_EX" and len(stack) >= 3:
        del stack[-2:]


def preview(data: bytes) -> str:
    """The message in `data` (the start of a pickle) as at most MAX_CHARS of
    neutralised text; "" if nothing could be read.

    ipcplay's own items are (message id, body, time sent): only the body is
    shown, since the id is on the log line already and the time is not content.
    """
    stack, complete = _values(data)
    values = [v for v in stack if v is not _MARK]
    if not values:
        return ""
    value = values[0] if complete or len(values) == 1 else _partial(values)
    if isinstance(value, tuple) and len(value) == 3 and type(value[0]) is int:
        value = value[1]
    elif not complete and len(values) >= 2 and type(values[0]) is int:
        value = values[1]  # an item cut off after its body (or inside it)
    text = repr(value)
    if not complete:
        text = text.rstrip("'\"") + "…" if isinstance(value, str | bytes) else text
        if not text.endswith("…"):
            text += "…"
    text = neutralise(text, multiline=False)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def _partial(values: list[Any]) -> Any:
    """A container cut off before it closed: its items so far."""
    return _Opaque(", ".join(repr(v) for v in values) + ", …")
