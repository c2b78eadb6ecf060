"""ctrl+s: the screenshot a teacher puts on a slide draws with the font
ipcplay ships, embedded, not one fetched from the web by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipcplay.tui.app import IpcplayApp


@pytest.mark.timeout(60)
async def test_ctrl_s_saves_an_svg_with_its_font_inside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IPCPLAY_HOME", str(tmp_path / "home"))
    shots = tmp_path / "shots"
    shots.mkdir()
    monkeypatch.chdir(shots)
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
    [svg] = list(shots.glob("*.svg"))
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<svg")
    assert 'src: url("data:font/ttf;base64,' in text and "Fira Code" not in text
