"""Every kind in the kinds table has its instrumented wrapper, in one dict per side.

Why: a kind is meant to be one entry in scenario/kinds.py plus the code that is
truly new for it. On the children's side that code is one entry in
`channels.WRAPPERS` or `primitives.WRAPPERS` (and `primitives.CONSTRUCTORS`
unless the observer makes the object another way); a kind added to the table
without them would load, then fail in the child that first uses it.
"""

from __future__ import annotations

import multiprocessing as mp

import pytest

from ipcplay.engine import board as B
from ipcplay.engine import channels, primitives
from ipcplay.engine.endpoints import SharedEndpoint
from ipcplay.scenario import kinds


def test_every_channel_kind_has_a_wrapper():
    assert set(channels.WRAPPERS) == set(kinds.CHANNEL_NAMES)


def test_every_shared_kind_has_a_wrapper():
    assert set(primitives.WRAPPERS) == set(kinds.SHARED_NAMES)


def test_every_shared_kind_the_observer_makes_from_a_context_has_a_constructor():
    """A SharedMemory block and a Manager's objects are made elsewhere
    (create_block, the Manager's server); every other kind from `ctx`."""
    elsewhere = set(kinds.shared_names(block=True)) | set(kinds.shared_names(manager=True))
    assert set(primitives.CONSTRUCTORS) == set(kinds.SHARED_NAMES) - elsewhere


@pytest.mark.parametrize(
    ("kind", "made"),
    [
        ("Value", "Synchronized"),
        ("Array", "SynchronizedArray"),
        ("Lock", "Lock"),
        ("RLock", "RLock"),
        ("Semaphore", "Semaphore"),
        ("BoundedSemaphore", "BoundedSemaphore"),
        ("Event", "Event"),
        ("Barrier", "Barrier"),
        ("Condition", "Condition"),
    ],
)
def test_each_constructor_makes_the_real_object_and_its_wrapper_counts_on_it(kind, made):
    ctx = mp.get_context("fork")
    obj = primitives.make(ctx, kind, "i", 2, (1, 2, 3), 2)
    assert type(obj).__name__ == made
    layout = B.Layout(nproc=1, nchan=0, journal_cap=0, nshared=1)
    board = B.view(B.create(layout))
    endpoint = SharedEndpoint(index=0, code=0, name="x", kind=kind)
    wrapper = primitives.instrument_shared(obj, endpoint, board, layout, 0, None)
    if kind in ("Value", "Array"):
        wrapper.update("add", 1, locked=True)
        assert board[layout.shared(0, 0) + B.S_UPDATES] == 1
    elif kind in ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition"):
        wrapper.acquire()
        assert board[layout.shared(0, 0) + B.S_HELD] == 1
        wrapper.release()
        assert board[layout.shared(0, 0) + B.S_HELD] == 0
    elif kind == "Event":
        wrapper.set()
        assert board[layout.shared(0, 0) + B.S_SETS] == 1
