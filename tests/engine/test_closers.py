"""What the observer undoes at the end for an object it made is its kind's
entry in primitives.CLOSERS: a block is closed and unlinked from /dev/shm,
and a kind without one is left as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipcplay.engine import primitives
from ipcplay.scenario import kinds

SHM = Path("/dev/shm")


def test_every_block_kind_has_a_closer() -> None:
    assert set(kinds.shared_names(block=True)) <= set(primitives.CLOSERS)


@pytest.mark.skipif(not SHM.is_dir(), reason="needs /dev/shm (Linux)")
def test_a_block_is_unlinked_once_and_closing_it_again_is_harmless() -> None:
    block = primitives.create_block(16)
    assert (SHM / block.name).exists()
    primitives.close_shared("SharedMemory", block)
    assert not (SHM / block.name).exists()
    primitives.close_shared("SharedMemory", block)


def test_a_kind_without_a_closer_is_left_alone() -> None:
    class Untouchable:
        def close(self) -> None:
            raise AssertionError("closed")

    primitives.close_shared("Lock", Untouchable())
