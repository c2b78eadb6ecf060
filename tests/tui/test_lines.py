"""Lines longer than their widget are cut with a "…" where the reader can see it."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.widgets.rows import RowView
from ipcplay.tui.widgets.style import fit

PLAIN = Style()


@pytest.fixture(autouse=True)
def no_user_presets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "ipcplay-home"
    home.mkdir()
    monkeypatch.setenv("IPCPLAY_HOME", str(home))


def _strip(text: str) -> Strip:
    return Strip([Segment(text[:3], Style(bold=True)), Segment(text[3:])], len(text))


def test_fit_pads_short_lines_and_cuts_long_ones_with_an_ellipsis():
    assert fit(_strip("abc"), 6, PLAIN).text == "abc   "
    assert fit(_strip("abcdef"), 6, PLAIN).text == "abcdef"
    cut = fit(_strip("abcdefgh"), 6, PLAIN)
    assert cut.text == "abcde…" and cut.cell_length == 6
    assert fit(_strip("abcdefgh"), 1, PLAIN).text == "a"
    assert list(fit(_strip("abcdefgh"), 3, PLAIN))[-1].style == Style(bold=True)  # the cut piece's


@pytest.mark.timeout(60)
async def test_a_long_row_ends_in_an_ellipsis_left_of_the_scrollbar() -> None:
    """The preset list at 100x30 scrolls: the scrollbar is drawn over the rows'
    last cells, so a title cut at the widget's edge would lose its ending
    unseen. It is cut before the scrollbar, with a "…"."""
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        rows = app.screen.query_one("#preset-rows", RowView)
        gutter = rows.scrollbar_size_vertical
        assert gutter > 0  # more presets than rows: the list scrolls
        width = rows.size.width
        texts = [rows.render_line(y).text for y in range(rows.size.height)]
        assert all(len(t) == width for t in texts)
        cut = [t for t in texts if "…" in t]
        assert cut, texts
        assert all(t.index("…") == width - gutter - 1 for t in cut)
