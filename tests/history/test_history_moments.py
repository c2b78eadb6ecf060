"""The moments of a real run of lock-order-deadlock: both processes start,
both block on the other's lock, the detector's deadlock; in order, each at
the snapshot that first showed it."""

from __future__ import annotations

import pytest

from ipcplay.engine.supervisor import Engine
from ipcplay.history import History
from ipcplay.scenario import load, resolve


@pytest.mark.timeout(60)
def test_the_deadlock_and_the_blocks_that_made_it_are_moments():
    history = History()
    engine = Engine(load(resolve("lock-order-deadlock")), on_snapshot=history.append)
    try:
        engine.start()
        outcome = engine.run(15.0)
    finally:
        engine.shutdown()
    history.append(outcome.snapshot)
    assert outcome.verdict == "deadlock"
    moments = history.moments()
    kinds = [(m.kind, m.words.split()[0]) for m in moments]
    assert ("started", "left") in kinds and ("started", "right") in kinds
    blocked = [m for m in moments if m.kind == "blocked" and "acquire 'lock_" in m.words]
    assert {m.words.split()[0] for m in blocked} == {"left", "right"}
    deadlock = [m for m in moments if m.kind == "deadlock"]
    assert len(deadlock) == 1 and "left" in deadlock[0].words and "right" in deadlock[0].words
    # the deadlock comes after both blocks, and its snapshot is the first that says so
    assert deadlock[0].index > max(m.index for m in blocked)
    at = history.at(deadlock[0].index)
    assert at.stuck is not None and at.stuck.kind == "deadlock"
    assert history.at(deadlock[0].index - 1).stuck is None
    for m in blocked:  # the first snapshot that showed the process in that wait
        proc = next(p for p in history.at(m.index).processes if p.name == m.words.split()[0])
        assert proc.blocked is not None and proc.blocked.op == "acquire"
    assert [m.index for m in moments] == sorted(m.index for m in moments)
    assert moments[-1].kind == "finished"
