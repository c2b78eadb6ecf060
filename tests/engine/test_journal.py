"""The journal ring between a child that writes and an observer that drains.

Events are committed by their time slot, written last, and the observer
zeroes what it takes: these check that protocol across two real processes,
where a torn or lost event would show.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import time

import pytest

from ipcplay.engine import board as B
from ipcplay.engine.journal import JournalWriter, drain

N = 200_000


def _write(raw, layout: B.Layout, n: int) -> None:
    j = JournalWriter(B.view(raw), layout, 0)
    for k in range(n):
        j.log(B.mark(0, 0, B.OP_PUT), k, k & 0xFFFF)


@pytest.mark.timeout(60)
def test_every_event_is_drained_whole_in_order_or_counted_as_dropped():
    """A child logs 200,000 events into a ring of 256 while the observer
    drains at random moments: every event arrives once, whole (its id matches
    its size field), in order, timed within the child's life; the rest are
    counted as dropped, none lost silently."""
    layout = B.Layout(nproc=1, nchan=1, journal_cap=256)
    raw = B.create(layout)
    mv = B.view(raw)
    rng = random.Random(3)
    child = mp.get_context("fork").Process(target=_write, args=(raw, layout, N))
    t0 = time.monotonic_ns()
    child.start()
    got = []
    try:
        while child.is_alive():
            got += drain(mv, layout, 0)
            time.sleep(rng.choice((0, 0, 0.0001, 0.001)))
        child.join(30)
        t1 = time.monotonic_ns()
        got += drain(mv, layout, 0)
    finally:
        if child.is_alive():
            child.kill()
            child.join(5)
    assert child.exitcode == 0
    dropped = mv[layout.proc(0) + B.J_DROPPED]
    assert len(got) + dropped == N
    assert len(got) > 256  # the observer did take room back while the child wrote
    mids = [e.mid for e in got]
    assert mids == sorted(set(mids))
    assert all(e.op == "put" and e.nbytes == e.mid & 0xFFFF for e in got)
    times = [e.t_ns for e in got]
    assert times == sorted(times) and t0 <= times[0] and times[-1] <= t1


def test_a_new_writer_continues_after_events_not_yet_drained():
    layout = B.Layout(nproc=1, nchan=1, journal_cap=8)
    mv = B.view(B.create(layout))
    first = JournalWriter(mv, layout, 0)
    for k in range(3):
        first.log(B.mark(0, 0, B.OP_GET), k, 1)
    second = JournalWriter(mv, layout, 0)
    for k in range(3, 9):  # 6 more into a ring of 8 holding 3: the last one dropped
        second.log(B.mark(0, 0, B.OP_GET), k, 1)
    assert [e.mid for e in drain(mv, layout, 0)] == list(range(8))
    assert mv[layout.proc(0) + B.J_DROPPED] == 1


def test_event_times_are_the_monotonic_clock_in_nanoseconds():
    layout = B.Layout(nproc=1, nchan=1, journal_cap=8)
    mv = B.view(B.create(layout))
    j = JournalWriter(mv, layout, 0)
    spans = []
    for k in range(8):
        a = time.monotonic_ns()
        j.log(B.mark(0, 0, B.OP_PUT), k, 0)
        spans.append((a, time.monotonic_ns()))
    for (a, b), e in zip(spans, drain(mv, layout, 0), strict=True):
        assert a - 2 <= e.t_ns <= b + 2  # stored as seconds in a double: exact to ~1 ns
