"""The TUI as pictures (SVG baselines) and as behaviour (Pilot), on frozen data.

Every picture is fed one hand-built snapshot through `FrozenSource`, with a
fixed clock and no processes, so it is identical on every run. Regenerate the
baselines after an intended change with `pytest tests/tui --snapshot-update`
and look at the new SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from frozen import (
    bounded_scenario,
    bounded_snapshot,
    deadlock_scenario,
    deadlock_snapshot,
    finished,
    lock_order_scenario,
    lock_order_snapshot,
    long_hang_scenario,
    long_hang_snapshot,
    ping_pong_scenario,
    ping_pong_snapshot,
    shared_scenario,
    shared_snapshot,
    steady_scenario,
    steady_snapshot,
)
from textual.pilot import Pilot
from textual.widgets import Footer

from ipcplay.engine.snapshot import Snapshot
from ipcplay.scenario.model import Scenario
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.screens.help import HelpScreen
from ipcplay.tui.screens.home import HomeScreen
from ipcplay.tui.screens.run import RunScreen
from ipcplay.tui.source import FrozenSource
from ipcplay.tui.widgets.events import EventLog
from ipcplay.tui.widgets.rows import RowView
from ipcplay.tui.widgets.status import Banner, StatusBar
from ipcplay.tui.widgets.text import TextView

SnapCompare = Callable[..., bool]

SIZES = [pytest.param((100, 30), id="100x30"), pytest.param((160, 50), id="160x50")]

CASES: dict[str, tuple[Callable[[], Scenario], Callable[[Scenario], Snapshot]]] = {
    "steady": (steady_scenario, steady_snapshot),
    "ping_pong": (ping_pong_scenario, ping_pong_snapshot),
    "deadlock": (deadlock_scenario, deadlock_snapshot),
    "shared": (shared_scenario, shared_snapshot),
}

# A projector (100×30) and the smallest terminal (80×24): what a class reads.
PROJECTOR = [pytest.param((100, 30), id="100x30"), pytest.param((80, 24), id="80x24")]
PROJECTOR_CASES: dict[str, tuple[Callable[[], Scenario], Callable[[Scenario], Snapshot]]] = {
    "lock_order": (lock_order_scenario, lock_order_snapshot),
    "long_hang": (long_hang_scenario, long_hang_snapshot),
    "bounded_20": (bounded_scenario, bounded_snapshot),
}


@pytest.fixture(autouse=True)
def no_user_presets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The home screen lists the user's presets too: keep a developer's own out."""
    home = tmp_path / "ipcplay-home"
    home.mkdir()
    monkeypatch.setenv("IPCPLAY_HOME", str(home))


def frozen_app(
    case: str, snap: Callable[[Snapshot], Snapshot] | None = None
) -> tuple[IpcplayApp, list[FrozenSource]]:
    """An app that opens `case` on a frozen source; the sources it made, to inspect."""
    make_scenario, make_snapshot = {**CASES, **PROJECTOR_CASES}[case]
    scenario = make_scenario()
    snapshot = make_snapshot(scenario)
    if snap is not None:
        snapshot = snap(snapshot)
    sources: list[FrozenSource] = []

    def factory(s: Scenario, hz: float) -> FrozenSource:
        source = FrozenSource(s, snapshot, hz)
        sources.append(source)
        return source

    return IpcplayApp(initial=scenario, source_factory=factory), sources


async def settle(pilot: Pilot[Any]) -> None:
    """Let the snapshot message be handled and the screen laid out."""
    await pilot.pause()
    await pilot.pause()


# ---------------------------------------------------------------- pictures


@pytest.mark.parametrize("size", SIZES)
def test_home(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    assert snap_compare(IpcplayApp(), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", list(CASES))
def test_run(snap_compare: SnapCompare, case: str, size: tuple[int, int]) -> None:
    app, _ = frozen_app(case)
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_help_over_run(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app, _ = frozen_app("steady")
    assert snap_compare(app, press=["question_mark"], terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", ["deadlock", "shared"])
def test_waits_tab(snap_compare: SnapCompare, case: str, size: tuple[int, int]) -> None:
    app, _ = frozen_app(case)
    assert snap_compare(app, press=["w"], terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", PROJECTOR)
@pytest.mark.parametrize("case", list(PROJECTOR_CASES))
def test_projector(snap_compare: SnapCompare, case: str, size: tuple[int, int]) -> None:
    app, _ = frozen_app(case)
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", PROJECTOR)
@pytest.mark.parametrize("case", ["lock_order", "long_hang"])
def test_projector_waits(snap_compare: SnapCompare, case: str, size: tuple[int, int]) -> None:
    app, _ = frozen_app(case)
    assert snap_compare(app, press=["w"], terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", PROJECTOR)
def test_projector_code_zoomed(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app, _ = frozen_app("lock_order")
    assert snap_compare(app, press=["c", "m"], terminal_size=size, run_before=settle)


# ---------------------------------------------------------------- behaviour


async def test_pause_kill_and_pill_act_on_the_selected_process() -> None:
    app, sources = frozen_app("steady")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        source = sources[0]
        await pilot.press("p")
        await pilot.press("k")
        await pilot.press("x")
        await pilot.press("t")
        await pilot.pause()
        assert source.calls == [
            ("pause", "producer"),
            ("kill", "producer"),
            ("poison_pill", "producer"),
            ("terminate", "producer"),
        ]


async def test_keys_follow_the_cursor() -> None:
    app, sources = frozen_app("steady")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "p")
        await pilot.pause()
        assert sources[0].calls == [("pause", "worker-2")]


async def test_pause_on_a_stopped_process_resumes_it() -> None:
    def stopped(snap: Snapshot) -> Snapshot:
        first = replace(snap.processes[0], state="stopped", status="stopped")
        return replace(snap, processes=(first, *snap.processes[1:]))

    app, sources = frozen_app("steady", stopped)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await pilot.pause()
        assert sources[0].calls == [("resume", "producer")]


async def test_rate_keys_pace_the_producer() -> None:
    app, sources = frozen_app("steady")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("plus")
        await pilot.press("down", "minus")  # a worker is selected: the producer is paced
        await pilot.pause()
        assert sources[0].calls == [
            ("set_rate", "producer", "300"),
            ("set_rate", "producer", "133.34"),
        ]


async def test_space_pauses_and_resumes_everything() -> None:
    app, sources = frozen_app("steady")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("space")
        await pilot.pause()
        assert "PAUSED" in app.screen.query_one(StatusBar).plain
        await pilot.press("space")
        await pilot.pause()
        assert "PAUSED" not in app.screen.query_one(StatusBar).plain
        assert sources[0].calls == [("pause_all",), ("resume_all",)]


async def test_restart_is_recorded() -> None:
    app, sources = frozen_app("ping_pong")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause()
        assert sources[0].calls == [("restart",)]


async def test_escape_returns_to_the_home_screen() -> None:
    app, _ = frozen_app("steady")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_help_opens_and_closes() -> None:
    app, _ = frozen_app("steady")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)


async def test_footer_names_the_controls() -> None:
    app, _ = frozen_app("steady")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(Footer)
        text = " ".join(str(w.render()) for w in footer.query("*"))
        for words in ("Pause all", "Kill", "Pill", "Quit"):
            assert words in text


async def test_deadlock_shows_the_banner_and_the_verdict() -> None:
    app, _ = frozen_app("deadlock")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        banner = app.screen.query_one(Banner)
        assert banner.display
        assert banner.plain.startswith("DEADLOCK: left → right → left wait for each other")
        assert "deadlock" in app.screen.query_one(StatusBar).plain.lower()


async def test_no_banner_and_a_live_status_without_a_deadlock() -> None:
    app, _ = frozen_app("steady")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one(Banner).display
        status = app.screen.query_one(StatusBar).plain
        assert "live" in status
        assert "12 s" in status
        assert "PAUSED" not in status


async def test_finished_run_says_completed() -> None:
    app, _ = frozen_app("ping_pong", finished)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "completed" in app.screen.query_one(StatusBar).plain.lower()


async def test_home_enter_opens_the_selected_preset() -> None:
    opened: list[str] = []

    def factory(s: Scenario, hz: float) -> FrozenSource:
        opened.append(s.name)
        return FrozenSource(s, steady_snapshot(steady_scenario()), hz)

    app = IpcplayApp(source_factory=factory)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        rows = app.screen.query_one("#preset-rows")
        first = rows.selected_key  # type: ignore[attr-defined]
        assert first is not None and first.startswith("built-in:")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        assert opened == [Path(first.split(":", 1)[1]).stem]


async def test_event_log_shows_the_journal_and_filters_by_process() -> None:
    app, _ = frozen_app("steady")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        log = app.screen.query_one(EventLog)
        assert len(log.lines) == 20
        first = log.lines[0].split()
        assert first == ["12.040", "producer", "put", "tasks", "#0:2440", "14", "B"]
        await pilot.press("f")  # the selected process only
        await pilot.pause()
        assert log.filter == "producer"
        assert len(log.lines) == 5
        assert all(" producer " in line for line in log.lines)


async def test_waits_are_timed_from_the_source_clock() -> None:
    app, _ = frozen_app("deadlock")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        detail = app.screen.query_one("#proc-detail", TextView).plain
        assert "blocked on get 'a'" in detail
        assert "for 6.3 s" in detail  # now = t + 0.05, blocked since t - 6.25


async def test_c_shows_the_scenario_as_plain_python_and_back() -> None:
    from textual.widgets import Static, TabbedContent

    from ipcplay.export import to_python

    app, sources = frozen_app("ping_pong")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        tabs = app.screen.query_one("#bottom", TabbedContent)
        assert tabs.active == "tab-events"
        await pilot.press("c")
        await pilot.pause()
        assert tabs.active == "tab-code"
        code = app.screen.query_one("#code", Static)
        assert code.content.code == to_python(sources[0].scenario)  # the exported script
        assert "import multiprocessing" in code.content.code
        await pilot.press("c")
        await pilot.pause()
        assert tabs.active == "tab-events"
        await pilot.press("e")
        await pilot.pause()
        assert tabs.active == "tab-explain"


async def test_shared_objects_show_holders_waiters_and_lost_updates() -> None:
    app, _ = frozen_app("shared")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        rows = app.screen.query_one("#shared-rows")
        lines = [
            "".join(t for t, _ in rows._render_row(rows._data[k]))  # type: ignore[attr-defined]
            for k in rows._keys  # type: ignore[attr-defined]
        ]
        text = "\n".join(lines)
        assert "61234  expected 80000  lost 18766" in text
        assert "held by left (pid 4242) for 6.2 s" in text
        assert "0 of 2 free; held by worker-1 (pid 4246), worker-2 (pid 4247)" in text
        assert "1 of 3 waiting" in text
        detail = app.screen.query_one("#proc-detail", TextView).plain
        assert "blocked on acquire 'lock_b' held by right (pid 4243) for 6.1 s" in detail
        assert app.screen.query_one(Banner).plain.startswith("DEADLOCK: left → right → left")


async def test_w_draws_the_wait_for_graph_with_the_cycle_first_in_red() -> None:
    from textual.widgets import TabbedContent

    from ipcplay.tui.widgets.waits import WaitGraph

    app, _ = frozen_app("shared")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        tabs = app.screen.query_one("#bottom", TabbedContent)
        await pilot.press("w")
        await pilot.pause()
        assert tabs.active == "tab-waits"
        graph = app.screen.query_one(WaitGraph)
        lines = graph.plain.splitlines()
        assert lines[0] == "deadlock cycle: left → right → left"
        assert lines[1].startswith(
            "left     ──acquire lock_b · held by right (pid 4243) · 6.1 s──▶ right"
        )
        assert lines[2].startswith("right    ──acquire lock_a · held by left (pid 4242) · 6.0 s")
        assert lines[2].endswith("──▶ left")
        assert lines[3] == "also waiting:"
        assert "worker-3 ──acquire pool · held by worker-1 (pid 4246)" in lines[4]
        assert lines[5].startswith("main     ──wait gate (1 of 3 parties there) · 2.3 s──▶ ")
        assert lines[5].endswith("worker-1, worker-2, worker-3")
        red = [any(str(sp.style) == "red" for sp in line.spans) for line in graph._lines]
        assert red == [False, True, True, False, False, False]
        await pilot.press("w")
        await pilot.pause()
        assert tabs.active == "tab-events"


async def test_waits_tab_says_when_nobody_waits_and_redraws_only_on_change() -> None:
    from ipcplay.tui.widgets.waits import NOBODY, WaitGraph

    app, _ = frozen_app("steady")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await pilot.pause()
        graph = app.screen.query_one(WaitGraph)
        assert graph.plain == NOBODY
        snap = app.screen.snap  # type: ignore[attr-defined]
        calls: list[object] = []
        graph.set = calls.append  # type: ignore[method-assign]
        graph.update_snapshot(replace(snap, seq=snap.seq + 1), 2000.0)
        assert calls == []  # same (no) edges: nothing rebuilt


def test_help_names_the_waits_key() -> None:
    from ipcplay.tui.screens.help import KEYS

    assert any(key == "w" and "Waits" in words for key, words in KEYS)


# ---------------------------------------------------------------- a projector


def _footer(app: IpcplayApp) -> str:
    footer = app.screen.query_one(Footer)
    return " ".join(str(w.render()) for w in footer.query("*"))


def _rows_text(app: IpcplayApp) -> str:
    rows = app.screen.query_one("#proc-rows")
    return "\n".join(rows.render_line(y).text for y in range(rows.size.height))


@pytest.mark.parametrize("case", ["lock_order", "long_hang"])
async def test_at_100x30_no_word_of_a_banner_a_state_or_a_wait_is_cut(case: str) -> None:
    from textual.widgets import TabbedContent

    from ipcplay.tui.widgets.waits import WaitGraph

    app, sources = frozen_app(case)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        snap = sources[0].snapshot
        banner = app.screen.query_one(Banner)
        assert "…" not in banner.plain
        said = " ".join(banner.plain.split())
        for fact in snap.stuck.description.split(": ", 1)[1].split("; "):
            assert fact in said, (fact, banner.plain)
        assert all(len(line) <= banner.size.width for line in banner.plain.splitlines())
        rows = _rows_text(app)
        assert "…" not in rows
        for p in snap.processes:
            assert p.name in rows
        if case == "long_hang":
            flat = " ".join(rows.split())
            assert flat.count("held by checkpoint-writer, which was killed by SIGTERM") == 2
        await pilot.press("w")
        await pilot.pause()
        assert app.screen.query_one("#bottom", TabbedContent).active == "tab-waits"
        graph = app.screen.query_one(WaitGraph)
        assert "…" not in graph.plain
        flat = " ".join(graph.plain.split())
        for edge in snap.waits:
            assert f"held by {edge.holder}" in flat
        assert max(len(line) for line in graph.plain.splitlines()) <= graph.size.width


async def test_bounded_queue_shows_14_of_its_20_rows_and_says_which() -> None:
    app, _ = frozen_app("bounded_20")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.pause()
        panel = app.screen.query_one("#processes")
        rows = app.screen.query_one("#proc-rows")
        assert rows.size.height == 14  # 11 before the projector layout
        assert panel.border_subtitle == "1–14 of 20 · ↑↓"
        await pilot.press("end")
        await pilot.pause()
        assert panel.border_subtitle == "7–20 of 20 · ↑↓"
        assert "reader-10" in _rows_text(app)


async def test_m_zooms_the_tabs_and_m_or_escape_brings_the_panels_back() -> None:
    from ipcplay.tui.widgets.waits import WaitGraph

    app, _ = frozen_app("lock_order")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("c", "m")
        await pilot.pause()
        screen = app.screen
        assert screen.maximized is screen.query_one("#bottom")
        assert screen.query_one("#code-scroll").size.height >= 25  # 7 lines unzoomed
        assert not screen.query_one("#processes").region  # the panels are out of the way
        assert screen.query_one(StatusBar).region.height == 1  # the verdict stays
        footer = _footer(app)
        assert "Unzoom" in footer and "Back" not in footer
        await pilot.press("escape")  # restores the panels; a second one goes back
        await pilot.pause()
        assert isinstance(app.screen, RunScreen) and app.screen.maximized is None
        await pilot.press("w", "m")
        await pilot.pause()
        assert app.screen.maximized is not None and app.screen.query_one(WaitGraph).region
        await pilot.press("m")
        await pilot.pause()
        assert app.screen.maximized is None
        assert "Zoom" in _footer(app) and "Back" in _footer(app)


@pytest.mark.parametrize("unzoom", ["m", "escape"])
async def test_after_a_zoom_the_arrows_move_the_selection_and_k_kills_the_one_shown(
    unzoom: str,
) -> None:
    """A class zooms the tabs, comes back, moves down and kills: the process
    killed must be the one the cursor moved to, not the one selected before."""
    app, sources = frozen_app("steady")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        rows = screen.query_one("#proc-rows", RowView)
        await pilot.press("down")
        await pilot.pause()
        before = rows.selected_key
        await pilot.press("m")
        await pilot.pause()
        assert screen.maximized is not None
        await pilot.press(unzoom)
        await pilot.pause()
        assert screen.maximized is None and isinstance(app.screen, RunScreen)
        assert screen.focused is rows
        await pilot.press("down", "down")
        await pilot.pause()
        after = rows.selected_key
        assert after is not None and after != before
        await pilot.press("k")
        await pilot.pause()
        assert sources[0].calls == [("kill", after)]


async def test_zoomed_the_arrows_scroll_the_zoomed_tab_not_the_hidden_rows() -> None:
    app, _ = frozen_app("lock_order")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        rows = screen.query_one("#proc-rows", RowView)
        selected = rows.selected_key
        await pilot.press("c", "m")
        await pilot.pause()
        code = screen.query_one("#code-scroll")
        assert screen.focused is not rows
        await pilot.press("down", "down")
        await pilot.pause()
        assert rows.selected_key == selected
        assert code.scroll_y > 0


async def test_the_footer_shows_the_keys_of_the_runs_state() -> None:
    app, sources = frozen_app("steady")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        running = _footer(app)
        for words in ("Pause all", "Kill", "Rate", "Waits", "Code", "Zoom", "Back", "Quit"):
            assert words in running
        assert "Resume all" not in running
        await pilot.press("space")
        await pilot.pause()
        await pilot.pause()
        assert "Resume all" in _footer(app) and "Pause all" not in _footer(app)
        await pilot.press("t")  # not in the footer while running, and still works
        await pilot.pause()
        assert ("terminate", "producer") in sources[0].calls

    app, sources = frozen_app("deadlock")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        stuck = _footer(app)
        for words in ("Waits", "Explain", "Kill", "Restart"):
            assert words in stuck
        assert "Rate" not in stuck and "Pause all" not in stuck
        await pilot.press("f")  # left out of the footer, not off
        await pilot.pause()
        assert app.screen.query_one(EventLog).filter == "left"

    app, sources = frozen_app("ping_pong", finished)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        done = _footer(app)
        assert "Restart" in done and "Explain" in done
        for words in ("Pause", "Kill", "Pill", "Rate"):
            assert words not in done
        await pilot.press("k", "space", "x")  # nobody is alive to act on
        await pilot.pause()
        assert sources[0].calls == []


@pytest.mark.parametrize("case", ["steady", "lock_order"])
async def test_at_80_columns_the_footer_keeps_quit_and_help(case: str) -> None:
    app, _ = frozen_app(case)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(Footer)
        keys = [w for w in footer.query("*") if w.region.width]
        assert keys and max(w.region.right for w in keys) <= 80
        text = _footer(app)
        assert "Quit" in text and "Help" in text and "Waits" in text


async def test_wrapped_rows_move_and_click_as_one_row_each() -> None:
    from ipcplay.tui.widgets.rows import RowView

    app, _ = frozen_app("long_hang")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        rows = app.screen.query_one("#proc-rows", RowView)
        assert rows.row_count == 3 and rows.line_count == 7  # two waits of three lines
        await pilot.press("down", "down")
        await pilot.pause()
        assert rows.selected_key == "index-rebuilder-2"
        detail = app.screen.query_one("#proc-detail", TextView).plain
        assert detail.startswith(" index-rebuilder-2")
        # the last line of the second row's wrap belongs to that row
        await pilot.click(rows, offset=(60, 3))
        await pilot.pause()
        assert rows.selected_key == "index-rebuilder-1"
        await pilot.click(rows, offset=(10, 0))
        await pilot.pause()
        assert rows.selected_key == "checkpoint-writer"


async def test_beside_the_channel_table_the_pipe_diagram_never_shows_frozen_zeros() -> None:
    """At 120+ columns the diagram is drawn once per topology (the table beside
    it has the live figures): a pipe's first, idle sample must not leave
    '0/s · 0 got' there for the whole run while the table counts the traffic."""
    from ipcplay.tui.messages import SnapshotReady
    from ipcplay.tui.widgets.channels import ChannelPanel
    from ipcplay.tui.widgets.flow import FlowView

    def idle(snap: Snapshot) -> Snapshot:
        (link,) = snap.channels
        quiet = tuple(
            replace(d, sent=0, received=0, in_flight=0, bytes=0, rate=0.0, bytes_rate=0.0)
            for d in link.directions
        )
        return replace(snap, channels=(replace(link, directions=quiet),))

    traffic = ping_pong_snapshot(ping_pong_scenario())
    app, sources = frozen_app("ping_pong", idle)
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert screen.query_one(ChannelPanel).display
        screen.post_message(SnapshotReady(traffic, sources[0].generation))
        await settle(pilot)
        flow = screen.query_one(FlowView).plain
        assert "pinger→ponger" in flow and "ponger→pinger" in flow
        assert "0/s" not in flow and " 0 got" not in flow
