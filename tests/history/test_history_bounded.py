"""A history left open does not grow without bound: past `full_rate_s` it
keeps one snapshot a second (and every moment's), past `max_bytes` the
oldest blocks go. Fed 20 minutes of real-shaped snapshots (a real run's,
replayed with their clocks and counters moved on), faster than real time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ipcplay.engine.supervisor import Engine
from ipcplay.history import BLOCK, History
from ipcplay.scenario import load, resolve

HZ = 10


@pytest.fixture(scope="module")
def shapes():
    """A real second of steady-pipeline: the shapes the long feed is made of."""
    seen = []
    engine = Engine(load(resolve("steady-pipeline")), on_snapshot=seen.append)
    try:
        engine.start()
        engine.run(1.5)
    finally:
        engine.shutdown()
    assert len(seen) >= 8
    return seen


def _feed(shapes, n):
    """`n` snapshots at HZ: the real ones in turn, their time and counters
    moving on as a long run's would."""
    base = shapes[0]
    for k in range(n):
        shape = shapes[k % len(shapes)]
        yield replace(
            shape,
            seq=k,
            t=base.t + k / HZ,
            elapsed_s=k / HZ,
            scenario_s=None,
            recent_events=(),
            events_released=0,
            processes=tuple(
                replace(p, sent=p.sent + k, received=p.received + k, cpu_s=p.cpu_s + k / 1000)
                for p in shape.processes
            ),
        )


@pytest.mark.timeout(120)
def test_old_history_is_thinned_to_one_a_second(shapes):
    history = History(full_rate_s=60.0)
    snaps = list(_feed(shapes, 20 * 60 * HZ))  # 20 minutes
    for snap in snaps:
        history.append(snap)
    kept = list(history.kept())
    last_t = snaps[-1].elapsed_s
    recent = [i for i in kept if snaps[i].elapsed_s >= last_t - 60.0]
    # blocks are thinned as they close: up to two blocks past the minute are not yet
    old = [i for i in kept if snaps[i].elapsed_s < last_t - 60.0 - 2 * BLOCK / HZ]
    assert len(recent) >= 60 * HZ  # the last minute at the full rate
    moments = {m.index for m in history.moments()}
    per_second = [i for i in old if i not in moments]
    assert len(per_second) <= (last_t - 60.0 - 2 * BLOCK / HZ) + 1  # one a second before it
    assert moments & set(old) == moments & set(range(old[0], old[-1] + 1))  # moments kept
    # a thinned index gives the last snapshot kept before it, within a second
    for i in (105, 4321, 9999):
        got = history.at(i)
        assert snaps[i].elapsed_s - 1.0 <= got.elapsed_s <= snaps[i].elapsed_s
        assert got == snaps[max(k for k in kept if k <= i)], i
    assert history.at(len(snaps) - 1) == snaps[-1]


@pytest.mark.timeout(120)
def test_past_its_byte_cap_the_oldest_blocks_go(shapes):
    cap = 100_000
    history = History(full_rate_s=30.0, max_bytes=cap)
    largest = 0
    for snap in _feed(shapes, 20 * 60 * HZ):
        history.append(snap)
        largest = max(largest, history.nbytes())
    assert history.first > 0, "the cap should have been reached"
    assert history.bytes_dropped > 0
    block = max(len(b.packed) for b in history._blocks) + 64 * BLOCK * 40
    assert largest <= cap + block  # at most one block over before the oldest goes
    assert history.at(history.first).elapsed_s > 0
    with pytest.raises(IndexError):
        history.at(len(history))
