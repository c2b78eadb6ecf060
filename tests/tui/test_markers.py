"""Recording marks for a queue filling up: seen at maxsize, or known from the
exact count of puts that found it full, once per filling."""

from __future__ import annotations

from dataclasses import replace

from frozen import steady_scenario, steady_snapshot

from ipcplay.markers import FINISHED, StateMarks


def _with_tasks(snap, **fields):
    chans = tuple(replace(c, **fields) if c.name == "tasks" else c for c in snap.channels)
    return replace(snap, channels=chans)


def test_a_queue_that_filled_between_two_samples_is_marked_once_per_filling() -> None:
    snap = steady_snapshot(steady_scenario())
    marks = StateMarks()
    assert marks.feed(_with_tasks(snap, depth=10, full_hits=0)) == []
    # Full and drained again between two samples: only the counter saw it.
    assert marks.feed(_with_tasks(snap, depth=12, full_hits=3)) == ["queue 'tasks' full (50/50)"]
    assert marks.feed(_with_tasks(snap, depth=50, full_hits=3)) == []  # the same filling
    assert marks.feed(_with_tasks(snap, depth=20, full_hits=3)) == []  # drained to half: re-armed
    assert marks.feed(_with_tasks(snap, depth=50, full_hits=3)) == ["queue 'tasks' full (50/50)"]


def test_the_end_of_the_run_is_marked_once() -> None:
    """A recording of a program ends a little after this mark."""
    snap = steady_snapshot(steady_scenario())
    marks = StateMarks()
    assert FINISHED not in marks.feed(replace(snap, finished=False))
    assert marks.feed(replace(snap, finished=True)) == [FINISHED]
    assert marks.feed(replace(snap, finished=True)) == []
    assert StateMarks().feed(replace(snap, finished=True, processes=())) == []  # not started
