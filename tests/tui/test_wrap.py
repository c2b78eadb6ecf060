"""Lines that carry the lesson wrap where a reader would, and lose no word."""

from __future__ import annotations

import pytest
from rich.text import Text

from ipcplay.tui.widgets.wrap import wrap

HANG = (
    "HANG: waiter is blocked in acquire on 'lock', held by holder (pid 11891), "
    "which was killed by SIGTERM while holding it, so no live process can ever release it"
)


@pytest.mark.parametrize("width", [100, 80, 60, 40, 30])
def test_every_word_survives_and_no_line_is_too_long(width: int) -> None:
    lines = wrap(Text(HANG), width, indent=6)
    assert all(line.cell_len <= width for line in lines)
    words = " ".join(line.plain.strip() for line in lines)
    if width >= 40:
        assert words == HANG
    else:  # a glued "name (pid N)," longer than a line is cut, not dropped
        assert words.replace(" ", "") == HANG.replace(" ", "")
    assert all(line.plain.startswith("      ") for line in lines[1:])


@pytest.mark.parametrize("width", [100, 80, 60, 40, 30])
def test_a_name_keeps_its_pid_a_quote_its_object_and_a_time_its_unit(width: int) -> None:
    text = "left ──acquire 'lock_b' · held by right (pid 4243) · 6.1 s──▶ right"
    lines = [line.plain for line in wrap(Text(text), width, indent=9)]
    for unit in ("right (pid 4243)", "'lock_b'", "· 6.1 s──▶ right"):
        assert any(unit in line for line in lines), (unit, lines)


def test_a_line_that_fits_is_the_same_text() -> None:
    text = Text("DEADLOCK: left → right → left wait for each other", style="bold")
    assert wrap(text, 100, 10) == [text]


def test_styles_follow_the_words() -> None:
    text = Text("waiter ", style="bold") + Text("is blocked on a very long object name", "red")
    lines = wrap(text, 20, indent=2)
    assert len(lines) > 1
    assert all(any("red" in str(span.style) for span in line.spans) for line in lines[1:])


def test_fields_apart_by_two_spaces_stay_whole() -> None:
    text = " right  steps  pid 4243  ppid 4200  threads 1  rss 20.5M  ctx switches 36"
    lines = [line.plain for line in wrap(Text(text), 60, indent=1, fields=True)]
    assert lines[1].strip() == "ctx switches 36", lines


def test_a_banner_splits_facts_but_not_a_reason_in_parentheses() -> None:
    from ipcplay.tui.widgets.status import facts

    body = (
        "pool is blocked in map on 'pool' (waiting for 4 results; task 1 was lost), and no "
        "live process can ever unblock it; main is blocked in join on 'pool'"
    )
    assert facts(body) == [
        "pool is blocked in map on 'pool' (waiting for 4 results; task 1 was lost), and no "
        "live process can ever unblock it",
        "main is blocked in join on 'pool'",
    ]
