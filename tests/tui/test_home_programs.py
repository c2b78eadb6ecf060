"""The home screen's Programs: each seed article's example, listed after the
presets, found by the same filter, and run by Enter as `ipcplay PROGRAM.py`
runs it (a run screen on the real program, nothing left once it is closed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psutil
import pytest
from conftest import until_shown
from textual.pilot import Pilot
from textual.widgets import Input, Static

from ipcplay.engine.program import Program
from ipcplay.example_programs import list_examples
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.program_source import ProgramSource
from ipcplay.tui.screens.home import HomeScreen, PresetCommands
from ipcplay.tui.screens.run import RunScreen
from ipcplay.tui.widgets.preset_list import HEADING, PresetList

EXAMPLES = {info.name: info for info in list_examples()}
BOUNDED = "seed001_bounded_queue"


@pytest.fixture(autouse=True)
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty user presets folder: a developer's own presets stay out."""
    (tmp_path / "ipcplay-home" / "presets").mkdir(parents=True)
    monkeypatch.setenv("IPCPLAY_HOME", str(tmp_path / "ipcplay-home"))


def listed(app: IpcplayApp) -> list[str]:
    """The rows as they read: `# heading` or a lesson's name."""
    view = app.screen.query_one(PresetList)
    lessons = app.screen.lessons  # type: ignore[attr-defined]
    return [
        "# " + key[len(HEADING) :] if key.startswith(HEADING) else lessons[key].name
        for key in view._keys
    ]


def programs_section(lines: list[str]) -> list[str]:
    start = lines.index("# Programs") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("# ")), len(lines))
    return lines[start:end]


def selected(app: IpcplayApp) -> str | None:
    key = app.screen.query_one(PresetList).selected_key
    return None if key is None else app.screen.lessons[key].name  # type: ignore[attr-defined]


def detail_text(app: IpcplayApp) -> str:
    """What the panel beside the list shows, as plain text."""
    static = app.screen.query_one("#preset-detail", Static)
    console = app.console
    lines = console.render_lines(static.content, console.options.update_width(80))  # type: ignore[arg-type]
    return "\n".join("".join(segment.text for segment in line) for line in lines)


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.pause()


def test_every_example_says_its_seed_and_what_it_shows() -> None:
    assert BOUNDED in EXAMPLES and len(EXAMPLES) >= 20
    for info in EXAMPLES.values():
        assert info.seed.isdigit() and len(info.seed) == 3, info
        assert info.seed_title and info.description[:1].isupper(), info


@pytest.mark.timeout(60)
async def test_the_programs_come_after_the_presets_with_what_each_shows() -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        lines = listed(app)
        assert lines[-1 - len(EXAMPLES)] == "# Programs"  # the last section
        assert programs_section(lines) == sorted(EXAMPLES)
        box = app.screen.query_one("#home-list")
        assert str(box.border_subtitle).endswith(f"· {len(EXAMPLES)} programs")

        view = app.screen.query_one(PresetList)
        key = f"program:{EXAMPLES[BOUNDED].path}"
        assert view.select_key(key)
        await settle(pilot)
        row = view.render_line(view.cursor - int(view.scroll_offset.y)).text
        assert BOUNDED in row and "Ten processes put into" in row
        shown = detail_text(app)
        assert "seed001_bounded_queue.py · seed 001" in shown
        assert "Multiprocessing process-based 'line program' interface python" in shown
        assert "def outputq(queue, lock):" in shown  # its source, below
        # t and e are for presets: greyed out on a program
        assert app.screen.check_action("tour", ()) is None
        assert app.screen.check_action("edit", ()) is None


@pytest.mark.timeout(60)
async def test_the_filter_finds_programs_as_it_finds_presets() -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"seed001")
        await settle(pilot)
        lines = listed(app)
        assert lines[0] == "# Programs"
        assert programs_section(lines) == sorted(n for n in EXAMPLES if n.startswith("seed001"))
        assert selected(app) == programs_section(lines)[0]

        field = app.screen.query_one("#lesson-filter", Input)
        field.value = "bounded queue"  # a preset and a program both
        await settle(pilot)
        lines = listed(app)
        assert BOUNDED in programs_section(lines) and "bounded-queue" in lines
        assert lines.index("bounded-queue") < lines.index("# Programs")

        field.value = "program pipe"  # the group's name first, then its programs
        await settle(pilot)
        lines = listed(app)
        assert lines[0] == "# Programs" and lines.count("# Programs") == 1
        assert set(programs_section(lines)) == {
            name
            for name, info in EXAMPLES.items()
            if "pipe" in f"{name} {info.description}".lower()
        }


@pytest.mark.timeout(60)
async def test_enter_on_a_program_runs_it_and_escape_leaves_nothing_running() -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"bounded_queue")
        await settle(pilot)
        assert selected(app) == BOUNDED
        await pilot.press("enter")
        await until_shown(pilot, lambda: isinstance(app.screen, RunScreen), 10)
        screen = app.screen
        assert isinstance(screen, RunScreen) and isinstance(screen.source, ProgramSource)
        assert screen.source.program == Program(str(EXAMPLES[BOUNDED].path))
        # Its twenty processes on screen, under the names the program gave them.
        snap = await until_shown(
            pilot,
            lambda: screen.snap if screen.snap and len(screen.snap.processes) >= 21 else None,
            30,
        )
        pids = [proc.pid for proc in snap.processes if proc.pid]
        assert {proc.name for proc in snap.processes} >= {"main", "Process-1", "Process-20"}
        await pilot.press("escape")
        await until_shown(pilot, lambda: isinstance(app.screen, HomeScreen), 10)
        await until_shown(pilot, lambda: not _alive(pids), 15)
        await pilot.press("q")


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            continue
    return alive


@pytest.mark.timeout(60)
async def test_the_palette_runs_a_program_and_t_runs_none() -> None:
    """The palette's hit for a program opens it as Enter does; `t` on a
    program (which has no tour) opens nothing."""
    app = IpcplayApp()
    opened: list[Program] = []
    app.open_program = opened.append  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        provider = PresetCommands(app.screen)
        found = [hit async for hit in provider.search("seed001_bounded")]
        assert [str(hit.text) for hit in found] == [f"Run {BOUNDED}"]
        found[0].command()
        assert opened == [Program(str(EXAMPLES[BOUNDED].path))]

        await pilot.press(*"seed002_lock", "tab")  # back to the list, where t is a key
        await settle(pilot)
        assert selected(app) == "seed002_lock"
        await pilot.press("t", "e")
        await settle(pilot)
        assert len(opened) == 1 and isinstance(app.screen, HomeScreen)
