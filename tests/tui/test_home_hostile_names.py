"""A preset file's name cannot drive the terminal from the home screen.

File names are the one text of a preset the loader cannot clean: an ESC in
one (OSC 2 sets the window title, SGR colours everything after it) would
reach the terminal raw. The file is found in the user's presets folder and
passed as an argument; each is selected, so its name shows in the list and
in the detail beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from ipcplay.tui.app import IpcplayApp

HOSTILE = "\x1b]2;PWNED\x07evil\x1b[31m"
SHOWN = "\\x1b]2;PWNED\\x07evil\\x1b[31m"
VALID = '[scenario]\ntitle = "hostile"\n[[process]]\nname = "w"\nrole = "steps"\n'
VALID += "steps = [{ sleep = 10 }]\n"


def screen_text(app: IpcplayApp) -> str:
    """Every line of every widget on the screen, as it would reach the terminal."""
    out = []
    for widget in app.screen.walk_children():
        region = widget.region
        if region.width and region.height:
            strips = widget.render_lines(region.reset_offset)
            out += [segment.text for strip in strips for segment in strip]
    return "".join(out)


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.pause()


@pytest.mark.timeout(60)
async def test_names_with_escape_sequences_are_shown_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "ipcplay-home"
    folder = home / "presets"
    folder.mkdir(parents=True)
    monkeypatch.setenv("IPCPLAY_HOME", str(home))
    (folder / f"{HOSTILE}.toml").write_text(VALID)
    (folder / f"{HOSTILE}-broken.toml").write_text("[scenario]\n")
    argument = tmp_path / f"arg{HOSTILE}.toml"
    argument.write_text(VALID)
    app = IpcplayApp(extra=[argument])
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        view: Any = app.screen.query_one("#preset-rows")
        hostile = [i for i, key in enumerate(view._keys) if HOSTILE in key]
        assert len(hostile) == 3
        for row in hostile:
            view.cursor = row
            await settle(pilot)
            text = screen_text(app)
            assert "\x1b" not in text and "\x07" not in text, view._keys[row]
            assert SHOWN in text
