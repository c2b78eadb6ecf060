"""The home screen finds a lesson: presets by topic, a filter, a tour key,
the palette, and names from files that cannot drive the terminal.

Opening a preset is recorded instead of run (no processes here): what the
run screen does with it is tested elsewhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import PRESETS
from textual import events
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from ipcplay.scenario import load
from ipcplay.scenario.model import TOPIC_LABELS, Scenario
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.screens.home import HomeScreen, PresetCommands
from ipcplay.tui.screens.run import RunScreen
from ipcplay.tui.widgets.preset_list import HEADING, PresetList

SnapCompare = Callable[..., bool]
ALL = {p.stem: load(p) for p in sorted(PRESETS.glob("*.toml"))}
HOSTILE = "\x1b]2;PWNED\x07evil\x1b[31m"
HOSTILE_TEXT = (
    '[scenario]\ntitle = "hostile"\n[[process]]\nname = "w"\nrole = "steps"\n'
    "steps = [{ sleep = 10 }]\n"
)


@pytest.fixture(autouse=True)
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user presets folder: a developer's own presets stay out."""
    home = tmp_path / "ipcplay-home"
    (home / "presets").mkdir(parents=True)
    monkeypatch.setenv("IPCPLAY_HOME", str(home))
    return home / "presets"


class Recorder:
    """Stands in for IpcplayApp.open_scenario: what would have run, and how."""

    def __init__(self) -> None:
        self.opened: list[tuple[str, bool | None]] = []

    def __call__(self, scenario: Scenario, tour: bool | None = None) -> None:
        self.opened.append((scenario.name, tour))


def recording_app(**kwargs: Any) -> tuple[IpcplayApp, Recorder]:
    app = IpcplayApp(**kwargs)
    recorder = Recorder()
    app.open_scenario = recorder  # type: ignore[method-assign]
    return app, recorder


def rows(app: IpcplayApp) -> PresetList:
    return app.screen.query_one(PresetList)


def listed(app: IpcplayApp) -> list[str]:
    """The rows as they read: a heading's label or a preset's name."""
    view = rows(app)
    out = []
    for key in view._keys:
        if key.startswith(HEADING):
            out.append("# " + key[len(HEADING) :])
        else:
            out.append(app.screen.lessons[key].name)  # type: ignore[attr-defined]
    return out


def preset_lines(app: IpcplayApp) -> list[str]:
    """The rows before the Programs section: the presets and their headings."""
    lines = listed(app)
    return lines[: lines.index("# Programs")] if "# Programs" in lines else lines


def selected(app: IpcplayApp) -> str | None:
    key = rows(app).selected_key
    return None if key is None else app.screen.lessons[key].name  # type: ignore[attr-defined]


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.pause()


def burst(app: IpcplayApp, keys: list[str]) -> None:
    """Hand every key to the app at once, as the terminal does with a fast
    typist's or a paste's bytes read in one go. (`pilot.press` waits for the
    app to be idle after each key, so it never shows what a burst does.)"""
    assert app._driver is not None
    for key in keys:
        event = events.Key(key, "/" if key == "slash" else key)
        event.set_sender(app)
        app._driver.send_message(event)


def filter_text(app: IpcplayApp) -> str:
    return app.screen.query_one("#lesson-filter", Input).value


async def until(pilot: Pilot[Any], ready: Callable[[], bool], seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.05)):
        if ready():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


# ---------------------------------------------------------------- the list


@pytest.mark.timeout(60)
async def test_presets_are_listed_once_each_under_their_first_topic() -> None:
    app, _ = recording_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        lines = preset_lines(app)
        assert listed(app)[len(lines)] == "# Programs"  # the programs come after every preset
        headings = [line[2:] for line in lines if line.startswith("# ")]
        assert headings[0] == "Queues"
        assert headings == sorted(headings, key=list(TOPIC_LABELS.values()).index)
        names = [line for line in lines if not line.startswith("# ")]
        assert sorted(names) == sorted(ALL)
        group = ""
        for line in lines:
            if line.startswith("# "):
                group = line[2:]
            else:
                assert group == TOPIC_LABELS[ALL[line].topics[0]], line
        # a pitfall's fix follows its broken half when they share a heading
        assert names.index("lock-order-fixed") == names.index("lock-order-deadlock") + 1
        assert names.index("barrier-fixed") == names.index("barrier-one-short") + 1
        assert selected(app) == names[0]


@pytest.mark.timeout(60)
async def test_the_cursor_steps_over_headings() -> None:
    app, _ = recording_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        first = selected(app)
        await pilot.press("up")
        assert selected(app) == first  # the heading above is not selectable
        lines = listed(app)
        last_of_queues = lines[lines.index("# Pipes") - 1]
        while selected(app) != last_of_queues:
            await pilot.press("down")
        await pilot.press("down")
        assert selected(app) == lines[lines.index("# Pipes") + 1]
        await pilot.press("up")
        assert selected(app) == last_of_queues
        await pilot.press("end")
        assert selected(app) == lines[-1]
        await pilot.press("home")
        assert selected(app) == first


@pytest.mark.timeout(60)
async def test_typing_filters_names_titles_and_topics_and_enter_runs() -> None:
    app, recorder = recording_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"deadlock")  # d and e start and continue the filter
        await settle(pilot)
        assert app.screen.query_one("#lesson-filter", Input).value == "deadlock"
        lines = listed(app)
        assert lines[0] == "# Pitfalls: deadlocks"  # the group named by the filter first
        shown = {line for line in lines if not line.startswith("# ")}
        deadlocks = {n for n, s in ALL.items() if s.expect == "deadlock"}
        assert deadlocks <= shown
        for name in shown:
            s = ALL[name]
            assert "deadlock" in f"{name} {s.title} {' '.join(s.topics)}".lower(), name
        assert "bounded-queue" not in shown
        await pilot.press("down", "enter")
        await pilot.pause()
        assert recorder.opened == [(lines[2], False)]


@pytest.mark.timeout(60)
async def test_slash_starts_the_filter_even_for_bound_letters_and_escape_clears_it() -> None:
    app, recorder = recording_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # t, e and n are keys on the list; after / they are letters of the filter
        await pilot.press("slash", *"tour")
        await settle(pilot)
        assert app.screen.query_one("#lesson-filter", Input).value == "tour"
        shown = {line for line in listed(app) if not line.startswith("# ")}
        assert shown == {n for n, s in ALL.items() if s.tour or "tour" in s.title.lower()}
        assert recorder.opened == []
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.query_one("#lesson-filter", Input).value == ""
        assert len([line for line in preset_lines(app) if not line.startswith("# ")]) == len(ALL)
        assert rows(app).has_focus


@pytest.mark.timeout(60)
@pytest.mark.parametrize("word", ["queues", "event", "tour"])
async def test_a_filter_typed_in_one_burst_is_all_the_filters(word: str) -> None:
    """`/queue` pasted or typed fast: the `q` is the filter's, not the app's
    quit; `/event` does not open the composer with `e`."""
    app, recorder = recording_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        burst(app, ["slash", *word])
        await settle(pilot)
        assert app.is_running
        assert isinstance(app.screen, HomeScreen)
        assert filter_text(app) == word
        assert recorder.opened == []


@pytest.mark.timeout(60)
async def test_a_burst_started_by_a_letter_keeps_the_bound_letters() -> None:
    app, recorder = recording_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        burst(app, list("pqueue"))
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, HomeScreen)
        assert filter_text(app) == "pqueue"
        assert recorder.opened == []


@pytest.mark.timeout(60)
async def test_nothing_matching_says_so_and_enter_does_nothing() -> None:
    app, recorder = recording_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"zzqx")
        await settle(pilot)
        assert rows(app).selected_key is None
        assert "Nothing matches" in rows(app).render_line(0).text
        await pilot.press("enter")
        await pilot.pause()
        assert recorder.opened == []


@pytest.mark.timeout(60)
async def test_t_runs_the_selected_preset_with_its_tour() -> None:
    app, recorder = recording_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"bounded-queue")
        await pilot.press("tab")  # back to the list, where t is the tour key
        await settle(pilot)
        assert selected(app) == "bounded-queue" and rows(app).has_focus
        await pilot.press("t")
        await pilot.pause()
        assert recorder.opened == [("bounded-queue", True)]


@pytest.mark.timeout(60)
async def test_t_on_a_preset_without_a_tour_runs_nothing() -> None:
    untoured = sorted(n for n, s in ALL.items() if not s.tour)
    if not untoured:
        pytest.skip("every preset has a tour")
    app, recorder = recording_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        key = next(k for k, v in app.screen.lessons.items() if v.name == untoured[0])  # type: ignore[attr-defined]
        rows(app).select_key(key)
        await pilot.press("t")
        await pilot.pause()
        assert recorder.opened == []
        said = [n.message for n in app._notifications]
        assert said == [f"{untoured[0]} has no guided tour"]
        assert filter_text(app) == ""  # t is not the start of a filter either


# ---------------------------------------------------------------- back from a run


@pytest.mark.timeout(90)
async def test_back_from_a_run_the_filter_is_cleared_and_the_list_has_the_focus() -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"bounded-queue")
        await settle(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await settle(pilot)
        assert filter_text(app) == ""
        assert rows(app).has_focus
        await pilot.press(*"pipe")  # a new filter, not "bounded-queuepipe"
        await settle(pilot)
        assert filter_text(app) == "pipe"


@pytest.mark.timeout(60)
async def test_back_from_the_composer_the_filter_is_cleared() -> None:
    app, _ = recording_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"bounded-queue", "tab")
        await settle(pilot)
        await pilot.press("e")
        await until(pilot, lambda: not isinstance(app.screen, HomeScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await settle(pilot)
        assert filter_text(app) == ""
        assert rows(app).has_focus


@pytest.mark.timeout(90)
async def test_the_command_lines_tour_is_for_its_preset_only() -> None:
    """`ipcplay bounded-queue --tour`, escape, Enter on another preset: that
    one runs without its tour; `t` still gives it."""
    toured = sorted(n for n, s in ALL.items() if s.tour and n != "bounded-queue")
    assert toured, "another preset with a tour is needed"
    app = IpcplayApp(initial=ALL["bounded-queue"], tour=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, RunScreen))
        assert app.screen.tour_on
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        key = next(k for k, v in app.screen.lessons.items() if v.name == toured[0])  # type: ignore[attr-defined]
        rows(app).select_key(key)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen))
        assert app.screen.source.scenario.name == toured[0]
        assert not app.screen.tour_on
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        rows(app).select_key(key)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, RunScreen))
        assert app.screen.tour_on
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))


# ---------------------------------------------------------------- the palette


async def hits(app: IpcplayApp, query: str) -> list[str]:
    provider = PresetCommands(app.screen)
    return [str(hit.text) async for hit in provider.search(query)]


@pytest.mark.timeout(60)
async def test_the_palette_finds_presets_by_name_title_and_topic() -> None:
    app, _ = recording_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        found = await hits(app, "deadlock")
        for name, s in ALL.items():
            if s.expect == "deadlock":
                assert f"Run {name}" in found, name
        assert "Run bounded-queue" not in found
        assert "Run seed004-pool-map" in await hits(app, "pools")  # by topic
        assert "Run pipe-ping-pong" in await hits(app, "duplex")  # by title
        assert await hits(app, "tour bounded") == ["Run bounded-queue"]  # has a tour


async def choose(pilot: Pilot[Any], query: str, wanted: str) -> None:
    """Type `query` in the palette, wait for the command `wanted`, pick it."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await settle(pilot)
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*query)
    prompts: list[str] = []
    for _ in range(200):  # the palette searches in a worker: wait for a still list
        await asyncio.sleep(0.05)
        options = app.screen.query("CommandList").first()
        now = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        if now == prompts and any(p.startswith(wanted) for p in now):
            break
        prompts = now
    index = next(i for i, p in enumerate(prompts) if p.startswith(wanted))
    for _ in range(index):  # the first command is highlighted already
        await pilot.press("down")
    await pilot.press("enter")
    await settle(pilot)


@pytest.mark.timeout(60)
async def test_the_palette_runs_a_preset_and_tours_one() -> None:
    app, recorder = recording_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await choose(pilot, "lock-order-deadlock", "Run lock-order-deadlock")
        assert recorder.opened == [("lock-order-deadlock", False)]
        await choose(pilot, "tour lock-order-deadlock", "Tour: lock-order-deadlock")
        assert recorder.opened[1:] == [("lock-order-deadlock", True)]


# ---------------------------------------------------------------- hostile names


@pytest.mark.timeout(60)
async def test_the_palette_neutralises_names_from_files(user_home: Path) -> None:
    (user_home / f"{HOSTILE}.toml").write_text(HOSTILE_TEXT)
    app, _ = recording_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        found = await hits(app, "evil")
        assert found == ["Run \\x1b]2;PWNED\\x07evil\\x1b[31m"]


# ---------------------------------------------------------------- pictures

SIZES = [pytest.param((100, 30), id="100x30"), pytest.param((80, 24), id="80x24")]


@pytest.mark.parametrize("size", SIZES)
def test_home_picture(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    assert snap_compare(IpcplayApp(), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_home_filtered_picture(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    assert snap_compare(IpcplayApp(), press=list("deadlock"), terminal_size=size, run_before=settle)
