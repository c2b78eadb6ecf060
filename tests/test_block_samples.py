"""A shared object in a named shared-memory block, as the report and the
panels describe it: from what its sample holds, not from its kind's name.

A block's sample carries per-process reads and writes; what it holds is raw
bytes (a number, their sum, and the first bytes) or items (a tuple, read from
the block by the observer). The `--json` shape of a SharedMemory block is a
format others read: pinned here field by field.
"""

from __future__ import annotations

from ipcplay.engine.snapshot import SharedSample
from ipcplay.report import shared_dict
from ipcplay.words import shared_kind, shared_state

PER_PROCESS = (("writer", 0, 2, 0), ("reader-1", 1, 0, 63))


def _block() -> SharedSample:
    return SharedSample(
        index=0,
        name="block",
        kind="SharedMemory",
        value=63,
        block="psm_1234",
        size=64,
        head="07 00 00 00 00 00 00 00",
        per_process=PER_PROCESS,
        updates=2,
        acquires=1,
        users=("writer", "reader-1"),
    )


def _items(*items: object) -> SharedSample:
    """A block that holds items, under a kind name no branch knows."""
    return SharedSample(
        index=1,
        name="board",
        kind="ItemsInABlock",
        value=items,
        block="psm_5678",
        size=116,
        per_process=(("fast", 0, 8, 0), ("boss", 1, 2, 0)),
        users=("fast", "boss"),
    )


def test_a_shared_memory_block_reports_its_bytes() -> None:
    assert shared_dict(_block()) == {
        "name": "block",
        "kind": "SharedMemory",
        "users": ["writer", "reader-1"],
        "block": "psm_1234",
        "size": 64,
        "byte_sum": 63,
        "head": "07 00 00 00 00 00 00 00",
        "per_process": [
            {"name": "writer", "reads": 0, "writes": 2, "last_sum_read": 0},
            {"name": "reader-1", "reads": 1, "writes": 0, "last_sum_read": 63},
        ],
        "waiting": [],
        "wait_s": 0.0,
    }
    assert list(shared_dict(_block())) == [
        "name",
        "kind",
        "users",
        "block",
        "size",
        "byte_sum",
        "head",
        "per_process",
        "waiting",
        "wait_s",
    ]


def test_a_shared_memory_block_in_words() -> None:
    assert shared_kind(_block()) == "SharedMemory(64)"
    assert shared_state(_block(), now=0.0) == [
        ("sum 63", "bold cyan"),
        ("  1 reads 2 writes  ", ""),
        ("psm_1234 [07 00 00 00 00 00 00 00]", "cyan"),
    ]


def test_a_block_that_holds_items_reports_them_and_no_lock() -> None:
    out = shared_dict(_items("done", 2.5, True, 2))
    assert out == {
        "name": "board",
        "kind": "ItemsInABlock",
        "users": ["fast", "boss"],
        "block": "psm_5678",
        "size": 116,
        "value": ["done", 2.5, True, 2],
        "per_process": [
            {"name": "fast", "reads": 0, "writes": 8},
            {"name": "boss", "reads": 1, "writes": 2},
        ],
        "waiting": [],
        "wait_s": 0.0,
    }


def test_a_block_that_holds_items_shows_them_first() -> None:
    assert shared_state(_items("done", 2), now=0.0, width=60) == [
        ("['done', 2]", "bold cyan"),
        ("  1 reads 10 writes  ", ""),
        ("psm_5678", "cyan"),
    ]


def test_text_read_from_a_block_cannot_reach_the_terminal_raw() -> None:
    text = shared_state(_items("\x1b[2J", "\u202e"), now=0.0, width=60)[0][0]
    assert "\x1b" not in text and "\u202e" not in text
