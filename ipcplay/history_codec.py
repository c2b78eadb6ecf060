"""Snapshots as plain JSON data, and the change from one snapshot to the next.

Why a codec of our own: the history of a run and a saved run store most
snapshots as the few fields that changed since the one before (a process's
counters, a channel's depth), not as whole trees; and a saved run is read
back from a file someone may have sent, so it is JSON, never pickle (loading
a pickle runs code).

Values: None, bool, int, float and str are themselves; a tuple is a list; a
dataclass of snapshot.py (or a journal Event) is a one-key object
`{"P": [field, field, ...]}`, its type's code and its fields in order.
A change (`diff`) is `{"~": []}` when nothing changed, `{"~": [i, change, j, change,
...]}` to change fields i, j of a dataclass or items i, j of a tuple, with
`"n": [item, ...]` the items a longer tuple gets at its end, or `"n": k` a
shorter tuple's new length; or else the new value in full.

The field names of every type are in the `schema`, written at the head of a
saved run: a file written before a field was added to the snapshot (step
mode added `ProcessSample.next`) is read with that field at its default; a
field the file has that this ipcplay no longer knows is skipped.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Any

from ipcplay.engine import snapshot as S
from ipcplay.engine.journal import Event
from ipcplay.safetext import neutralise

TYPES: dict[str, type] = {
    "B": S.BlockedOn,
    "N": S.NextOp,
    "P": S.ProcessSample,
    "D": S.Direction,
    "C": S.ChannelSample,
    "H": S.SharedSample,
    "M": S.ManagerSample,
    "K": S.Stuck,
    "W": S.WaitEdge,
    "L": S.PoolSample,
    "S": S.Snapshot,
}
CODES: dict[type, str] = {cls: code for code, cls in TYPES.items()}
_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in TYPES.values()
}
# A dataclass's fields as one tuple, read in C: the sampler thread diffs 128
# processes ten times a second, and most of their fields do not change.
_GET = {cls: operator.attrgetter(*names) for cls, names in _FIELDS.items()}
EVENT_FIELDS = tuple(f.name for f in dataclasses.fields(Event))
PATCH = "~"
_SCALARS = (str, int, float, bool, type(None))


class CodecError(ValueError):
    """The data is not what a snapshot's encoding can be; the message says what."""


def schema() -> dict[str, list[str]]:
    """Every type's code and field names, as written at the head of a saved run."""
    out = {code: list(_FIELDS[cls]) for code, cls in TYPES.items()}
    out["event"] = list(EVENT_FIELDS)
    return out


def encode(value: Any) -> Any:
    """A snapshot (or any part of one) as plain JSON data."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, tuple):
        return [encode(item) for item in value]
    code = CODES.get(type(value))
    if code is None:
        # Pool results are ints, floats, strings; anything else is shown as its repr.
        return repr(value)
    return {code: [encode(getattr(value, name)) for name in _FIELDS[type(value)]]}


_SAME = object()  # no change; never None, which is a value (a wait that ended)


def diff(prev: Any, cur: Any) -> Any:
    """The change from `prev` to `cur` (`{"~": []}` when none). Only changed
    fields of dataclasses of the same type, and changed items of tuples,
    are written: a 128-process snapshot changes by a few counters."""
    change = _diff(prev, cur)
    return {PATCH: []} if change is _SAME else change


def _diff(prev: Any, cur: Any) -> Any:
    if prev is cur:
        return _SAME
    ptype = type(prev)
    if ptype is type(cur):
        if ptype is tuple:
            if len(prev) == len(cur):
                return _patch(prev, cur, range(len(cur)), None)
            if prev and cur:  # a wait added or gone: the common part changed, the rest new
                common = min(len(prev), len(cur))
                change = _patch(prev, cur, range(common), None)
                change = {PATCH: []} if change is _SAME else change
                change["n"] = (
                    [encode(item) for item in cur[common:]] if len(cur) > common else common
                )
                return change
        elif ptype in CODES:
            get = _GET[ptype]
            olds, vals = get(prev), get(cur)
            return _patch(olds, vals, range(len(olds)), cur)
        elif prev == cur:  # of one type: 1 == 1.0 == True, but they differ here
            return _SAME
    return encode(cur)


def _patch(olds: Any, vals: Any, indices: range, cur: Any) -> Any:
    """The changed items; `cur` (a dataclass; None for a tuple, always
    patched) is written in full instead when most of its fields changed.
    The hot loop of a history: equal values (an unchanged BlockedOn, a
    float that did not move) are skipped by one compare, done in C."""
    if olds == vals and list(map(type, olds)) == list(map(type, vals)):
        return _SAME
    changes: list[Any] = []
    nested = False  # a change inside a field: the whole would repeat all that did not change
    for i, old, new in zip(indices, olds, vals, strict=False):
        if old is new or (old == new and type(old) is type(new)):
            continue
        if type(old) is type(new) and (type(new) is tuple or type(new) in CODES):
            change = _diff(old, new)
            if change is _SAME:
                continue
            nested = True
            changes += (i, change)
        else:
            changes += (i, encode(new))
    if not changes:
        return _SAME
    if cur is not None and not nested and len(changes) > len(indices):
        return encode(cur)  # most of its plain fields changed: in full is smaller
    return {PATCH: changes}


class Decoder:
    """Plain data back into snapshots, for the schema the data was written
    with (this ipcplay's own when None)."""

    def __init__(self, written: dict[str, list[str]] | None = None, *, clean: bool = False) -> None:
        # A file someone sent may hold an ESC in a process's name: with `clean`
        # every string goes through the one neutraliser as it is read.
        self._clean = clean
        self._types: dict[str, tuple[type, list[int | None], list[Any]]] = {}
        written = written or schema()
        for code, cls in TYPES.items():
            names = written.get(code)
            if names is None:
                raise CodecError(f"the schema has no type {code!r} ({cls.__name__})")
            self._types[code] = (cls, *_mapping(cls, names))
        self._event = _mapping(Event, written.get("event", list(EVENT_FIELDS)))

    def decode(self, data: Any) -> Any:
        if isinstance(data, list):
            return tuple(self.decode(item) for item in data)
        if isinstance(data, dict):
            if len(data) != 1:
                raise CodecError("an encoded object has more than one key")
            ((code, fields),) = data.items()
            kind = self._types.get(code)
            if kind is None or not isinstance(fields, list):
                raise CodecError(f"unknown type code {code!r}")
            cls, where, defaults = kind
            return _build(cls, where, defaults, [self.decode(field) for field in fields])
        if isinstance(data, str):
            return neutralise(data) if self._clean else data
        if isinstance(data, _SCALARS):
            return data
        raise CodecError(f"unexpected value {data!r}")

    def apply(self, prev: Any, change: Any) -> Any:
        """`prev` changed by `change` (a `diff`)."""
        if not (isinstance(change, dict) and PATCH in change):
            return self.decode(change)
        pairs = change[PATCH]
        if not isinstance(pairs, list) or len(pairs) % 2:
            raise CodecError("a change is not a list of (index, change) pairs")
        if not pairs and "n" not in change:
            return prev
        if isinstance(prev, tuple):
            items = list(prev)
            for i, sub in zip(pairs[::2], pairs[1::2], strict=True):
                if not isinstance(i, int) or not 0 <= i < len(items):
                    raise CodecError(f"a change names item {i!r} of {len(items)}")
                items[i] = self.apply(items[i], sub)
            tail = change.get("n")
            if isinstance(tail, int) and 0 <= tail <= len(items):
                del items[tail:]  # the tuple got shorter: it keeps its first `tail`
            elif isinstance(tail, list):
                items += [self.decode(item) for item in tail]  # longer: these follow
            elif tail is not None:
                raise CodecError(f"a change gives a tuple's new end as {tail!r}")
            return tuple(items)
        code = CODES.get(type(prev))
        if code is None:
            raise CodecError("a change to a value that has no fields")
        cls, where, _defaults = self._types[code]
        current = dict(vars(prev))
        names = _FIELDS[cls]
        for i, sub in zip(pairs[::2], pairs[1::2], strict=True):
            if not isinstance(i, int) or not 0 <= i < len(where):
                raise CodecError(f"a change names field {i!r} of {cls.__name__}")
            slot = where[i]
            if slot is not None:
                name = names[slot]
                current[name] = self.apply(current[name], sub)
        return cls(**current)

    def event(self, data: Any) -> Event:
        if not isinstance(data, list):
            raise CodecError("an event is not a list")
        where, defaults = self._event
        if self._clean:
            data = [neutralise(item) if isinstance(item, str) else item for item in data]
        return _build(Event, where, defaults, data)


def _mapping(cls: type, names: list[str]) -> tuple[list[int | None], list[Any]]:
    """Where each written field goes in `cls` (None: no longer a field), and
    the defaults of `cls`'s fields (MISSING when it has none)."""
    mine = _FIELDS.get(cls) or EVENT_FIELDS
    where = [mine.index(name) if name in mine else None for name in names]
    defaults = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            defaults.append(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            defaults.append(f.default_factory())
        else:
            defaults.append(dataclasses.MISSING)
    for i, default in enumerate(defaults):
        if default is dataclasses.MISSING and i not in where:
            raise CodecError(f"{cls.__name__}: field {mine[i]!r} is missing from the schema")
    return where, defaults


def _build(cls: type, where: list[int | None], defaults: list[Any], fields: list[Any]) -> Any:
    if len(fields) != len(where):
        raise CodecError(f"{cls.__name__}: {len(fields)} fields, expected {len(where)}")
    if all(slot == i for i, slot in enumerate(where)) and len(where) == len(defaults):
        return cls(*fields)
    values = list(defaults)
    for value, slot in zip(fields, where, strict=True):
        if slot is not None:
            values[slot] = value
    return cls(*values)


def encode_event(event: Event) -> list[Any]:
    """An event as a list of its fields: events are many, and all of one type."""
    return [getattr(event, name) for name in EVENT_FIELDS]
