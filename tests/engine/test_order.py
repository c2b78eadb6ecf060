"""The journal in true order, with each message's content: real processes.

A reply must never be listed above the send that caused it, neither in the
log the TUI shows (the snapshots' events, in the order they are released)
nor in the `--journal` file, whose times never go back.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from ipcplay.engine import Engine
from ipcplay.engine.journal import Event
from ipcplay.engine.order import EventOrder
from ipcplay.engine.preview import preview
from ipcplay.scenario import load
from ipcplay.scenario.model import Scenario

PRESETS = Path(__file__).resolve().parents[2] / "presets"


def _preset(name: str) -> Scenario:
    return load(PRESETS / f"{name}.toml")


def _causes_first(seq: list[tuple[str, int, str, int]]) -> list[str]:
    """(op, process, channel, message id) in order: every get/recv must come
    after a put/send of its message by another process. Returns the faults."""
    puts: dict[tuple[str, int], list[int]] = {}
    faults = []
    for op, proc, chan, mid in seq:
        if op == "put":
            puts.setdefault((chan, mid), []).append(proc)
        elif op == "get":
            writers = puts.get((chan, mid), [])
            other = next((w for w in writers if w != proc), None)
            if other is None:
                faults.append(f"get of #{mid >> 32}:{mid & 0xFFFFFFFF} by {proc} before its put")
            else:
                writers.remove(other)
    return faults


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["pipe-ping-pong", "bounded-queue"])
def test_every_get_follows_its_put_in_the_log_and_the_file(name: str) -> None:
    scenario = _preset(name)
    shown: list[Event] = []
    seen = [0]

    def on_snapshot(snap) -> None:  # as the TUI's log takes them
        new = snap.events_released - seen[0]
        if new > 0:
            recent = snap.recent_events
            shown.extend(recent[-new:] if new < len(recent) else recent)
            seen[0] = snap.events_released

    out = io.StringIO()
    engine = Engine(
        scenario,
        journal_events=16384,
        journal_out=out,
        on_snapshot=on_snapshot,
        sample_hz=20,
    )
    outcome = engine.run(duration=30)
    assert outcome.verdict == "completed"

    assert outcome.snapshot.events_late == 0
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    times = [r["t"] for r in records]
    assert times == sorted(times), "the journal file's t goes back"
    messages = [r for r in records if r["op"] in ("put", "get") and r["msg"] is not None]
    assert len(messages) >= 20
    file_seq = [(r["op"], r["pid"], r["channel"], r["msg"]) for r in messages]
    assert _causes_first(file_seq) == []

    log_seq = [
        (e.op, e.proc, e.chan, e.mid) for e in shown if e.op in ("put", "get") and e.mid >= 0
    ]
    assert len(log_seq) >= 20
    assert _causes_first(log_seq) == []
    log_times = [e.t_ns for e in shown]
    assert log_times == sorted(log_times)

    # Each message's content, neutralised and short, on its lines.
    body = "'hello'" if name == "pipe-ping-pong" else "'(put)'"
    previews = [r.get("preview") for r in messages]
    assert previews.count(body) >= len(messages) // 4
    assert any(e.preview == body for e in shown)


def test_a_reply_stamped_before_its_send_is_released_after_it() -> None:
    """Two rings drained in turn: the reply's ring first, and its get stamped a
    microsecond before the put (a writer that waited re-reads the clock after
    handing the message over). The get comes out right after its put, at the
    put's time."""
    from ipcplay.engine import board as B

    put = B.mark(0, 0, B.OP_PUT)
    get = B.mark(0, 0, B.OP_GET)
    order = EventOrder(hold_ns=1000)
    order.add(1, [2_000_000 - 1, 13, get])  # ponger's recv of #0:13
    order.add(0, [1_000_000, 12, put, 2_000_000, 13, put])  # pinger's sends
    out = order.release(10_000_000)
    assert [(e[1], e[2]) for e in out] == [(0, 12), (0, 13), (1, 13)]
    assert [e[0] for e in out] == [1_000_000, 2_000_000, 2_000_000]
    assert order.raised == 1


def test_a_get_waits_while_its_put_is_held_back() -> None:
    from ipcplay.engine import board as B

    put = B.mark(0, 0, B.OP_PUT)
    get = B.mark(0, 0, B.OP_GET)
    order = EventOrder(hold_ns=1000)
    order.add(1, [5_000, 7, get])
    order.add(0, [5_500, 7, put])
    # Only the get is past the hold-back: it must wait for its put.
    assert order.release(6_000) == []
    out = order.release(7_000)
    assert [e[1] for e in out] == [0, 1]


def test_preview_shows_the_body_and_neutralises_it() -> None:
    import time
    from multiprocessing.reduction import ForkingPickler

    from ipcplay.engine.board import PREVIEW_BYTES

    def cut(obj: object) -> bytes:
        return bytes(ForkingPickler.dumps(obj))[:PREVIEW_BYTES]

    assert preview(cut((3 << 32, "hello world", time.monotonic_ns()))) == "'hello world'"
    assert preview(cut((1, 49, 5))) == "49"
    long = preview(cut((1, "x" * 200, 5)))
    assert long.startswith("'xxx") and long.endswith("…") and len(long) <= 32
    evil = preview(cut((1, "\x1b]0;pwned\x07", 5)))
    assert "\x1b" not in evil and "\x07" not in evil
    # A class instance is named, never built.
    assert preview(cut((1, replace, 5))) == "<replace>"
    assert preview(b"not a pickle") == ""


def test_a_get_whose_put_went_to_another_get_is_not_held_for_ever() -> None:
    from ipcplay.engine import board as B

    put = B.mark(0, 0, B.OP_PUT)
    get = B.mark(0, 0, B.OP_GET)
    order = EventOrder(hold_ns=1000)
    order.add(0, [5_000, 7, put])
    order.add(1, [4_000, 7, get])
    order.add(2, [4_500, 7, get])  # the same id taken twice: only one put for both
    out = order.release(100_000)
    assert sorted(e[1] for e in out) == [0, 1, 2]
    assert order.release(200_000) == []
