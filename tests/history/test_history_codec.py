"""The codec reads what an older or newer ipcplay wrote: a field the file
lacks takes its default, a field this ipcplay no longer has is skipped, a
field without a default that is missing is an error, and a change that is a
wait ending (a field becoming None) is a change."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ipcplay import history_codec as codec
from ipcplay.engine.snapshot import BlockedOn, NextOp, ProcessSample

ROW = ProcessSample(
    index=0, name="left", template="left", role="steps", pid=4242, ppid=1, alive=True,
    exitcode=None, state="held", status="sleeping", activity="", blocked=None,
    cpu_percent=0.0, cpu_s=0.1, rss=1 << 20, threads=1, ctx_switches=3, sent=0,
    received=0, items=0, pills_sent=0, pills_received=0, blocked_s=0.0, error="",
    stopped_by_engine=False, next=NextOp("acquire", "lock_a", why="free"), gates=2,
)  # fmt: skip


def _without(field: str) -> tuple[dict, dict]:
    """ROW encoded as an ipcplay before `field` existed would have written it."""
    schema = codec.schema()
    names = list(schema["P"])
    data = codec.encode(ROW)
    values = list(data["P"])
    del values[names.index(field)]
    names.remove(field)
    schema["P"] = names
    return schema, {"P": values}


def test_a_field_the_file_lacks_takes_its_default():
    schema, data = _without("gates")
    row = codec.Decoder(schema).decode(data)
    assert row == replace(ROW, gates=0)


def test_a_field_this_ipcplay_does_not_know_is_skipped():
    schema = codec.schema()
    schema["P"] = [*schema["P"], "from_the_future"]
    data = codec.encode(ROW)
    data["P"].append(123)
    assert codec.Decoder(schema).decode(data) == ROW


def test_a_missing_field_without_default_is_an_error():
    schema, _ = _without("name")
    with pytest.raises(codec.CodecError, match="name"):
        codec.Decoder(schema)


def test_a_wait_that_ended_is_a_change():
    waiting = replace(ROW, blocked=BlockedOn("get", "q", "queue empty", 1.5, True))
    decoder = codec.Decoder()
    assert decoder.apply(waiting, codec.diff(waiting, ROW)) == ROW
    assert decoder.apply(ROW, codec.diff(ROW, waiting)) == waiting
    assert decoder.apply(ROW, codec.diff(ROW, ROW)) == ROW
    # a tuple that grows and shrinks
    rows = (ROW, replace(ROW, index=1, name="right"))
    assert decoder.apply(rows[:1], codec.diff(rows[:1], rows)) == rows
    assert decoder.apply(rows, codec.diff(rows, rows[:1])) == rows[:1]
