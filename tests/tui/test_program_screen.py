"""The run screen on a watched program, on frozen data: a picture of a
program's deadlock with what it printed, and the program's own lines in
every wait (process rows, the Waits tab, the banner)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from frozen import MIB, T, _proc, _queue
from textual.pilot import Pilot

from ipcplay.engine.journal import Event
from ipcplay.engine.program import Program
from ipcplay.engine.program_output import OutputLine
from ipcplay.engine.snapshot import BlockedOn, Snapshot, Stuck, WaitEdge
from ipcplay.engine.watch_board import CHAN_CAP
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.messages import SnapshotReady
from ipcplay.tui.program_source import FrozenProgramSource, module_file, safe_snapshot
from ipcplay.tui.screens.run import RunScreen
from ipcplay.tui.widgets.channels import cut
from ipcplay.tui.widgets.events import EventLog
from ipcplay.tui.widgets.flow import FlowView, channel_lines, grouped
from ipcplay.tui.widgets.output import OutputView
from ipcplay.tui.widgets.rows import RowView
from ipcplay.tui.widgets.status import Banner, StatusBar
from ipcplay.tui.widgets.waits import WaitGraph

SnapCompare = Callable[..., bool]

SOURCE = """\
import multiprocessing as mp


def left(a, b):
    print("left: waiting for a")
    b.put(a.get())


def right(a, b):
    a.put(b.get())


if __name__ == "__main__":
    a, b = mp.Queue(), mp.Queue()
    mp.Process(target=left, args=(a, b), name="left").start()
    mp.Process(target=right, args=(a, b), name="right").start()
"""

DESCRIPTION = (
    "deadlock: left → right → left wait for each other; "
    "left is blocked in get on 'a' at dead.py:6 (queue empty), waiting for right; "
    "right is blocked in get on 'b' at dead.py:10 (queue empty), waiting for left"
)


def _ns(before: float) -> int:
    return int((T - before) * 1e9)


def program_snapshot() -> Snapshot:
    """A program's two processes waiting for each other, each at its own line."""
    processes = (
        _proc(0, "main", "main", "main", state="running", cpu_s=0.05, rss=16 * MIB),
        _proc(
            1,
            "left",
            "left",
            "process",
            state="blocked",
            blocked=BlockedOn("get", "a", "queue empty", T - 3.2, True, where="dead.py:6"),
            blocked_s=3.2,
        ),
        _proc(
            2,
            "right",
            "right",
            "process",
            state="blocked",
            blocked=BlockedOn("get", "b", "queue empty", T - 3.1, True, where="dead.py:10"),
            blocked_s=3.1,
        ),
    )
    common: dict[str, Any] = dict(
        maxsize=0, puts=0, gets=0, max_depth=0, nbytes=0, put_rate=0.0, get_rate=0.0
    )
    channels = (
        _queue(0, "a", writers=("right",), readers=("left",), **common),
        _queue(1, "b", writers=("left",), readers=("right",), **common),
    )
    events = (
        Event(_ns(3.4), 1, "start", -1, -1, 0),
        Event(_ns(3.35), 2, "start", -1, -1, 0),
        Event(_ns(3.2), 1, "get", 0, -1, 0),
    )
    return Snapshot(
        seq=40,
        t=T,
        elapsed_s=3.5,
        processes=processes,
        channels=channels,
        recent_events=events,
        events_total=3,
        events_released=3,
        events_dropped=0,
        observer_cpu_percent=1.0,
        finished=False,
        stuck=Stuck("deadlock", ("left", "right"), DESCRIPTION, T - 2.0),
        waits=(
            WaitEdge(
                "left", "get", "a", "queue empty", ("right",), T - 3.2, True, where="dead.py:6"
            ),
            WaitEdge(
                "right", "get", "b", "queue empty", ("left",), T - 3.1, True, where="dead.py:10"
            ),
        ),
    )


PRINTED = (
    OutputLine(0, 1, "stdout", "left: waiting for a", T - 3.3),
    OutputLine(1, 0, "stderr", "main: a warning \x1b[2J with an escape", T - 3.0),
    OutputLine(2, 2, "stdout", "right:\tready", T - 2.9),
)


def frozen_source() -> FrozenProgramSource:
    return FrozenProgramSource(Program("dead.py"), program_snapshot(), PRINTED, SOURCE)


async def _open(pilot: Pilot[Any]) -> RunScreen:
    screen = RunScreen(frozen_source())
    await pilot.app.push_screen(screen)
    await pilot.pause()
    await pilot.pause()
    return screen


@pytest.fixture(autouse=True)
def no_user_presets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "ipcplay-home"
    home.mkdir()
    monkeypatch.setenv("IPCPLAY_HOME", str(home))


def test_program_run_screen(snap_compare: SnapCompare) -> None:
    """A program's deadlock: the diagram and panels from what it made, the
    lines of its code in the banner and the rows, and its Output tab."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _open(pilot)
        await pilot.press("o")
        await pilot.pause()

    assert snap_compare(IpcplayApp(), terminal_size=(100, 30), run_before=run_before)


async def test_waits_name_the_programs_own_lines() -> None:
    app = IpcplayApp()
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _open(pilot)
        rows = screen.query_one("#proc-rows", RowView)
        row = "".join(text for text, _ in rows._render_row(rows._data["left"]))
        assert "blocked on get 'a' at dead.py:6 — queue empty" in row
        await pilot.press("w")
        await pilot.pause()
        waits = screen.query_one(WaitGraph)
        graph = " ".join(str(line[0]) for line in waits._logical)
        assert "get a at dead.py:6" in graph and "get b at dead.py:10" in graph
        banner = screen.query_one(Banner)
        assert banner.display and "at dead.py:6" in (banner._shown or "")


async def test_output_lines_are_named_neutralised_and_filtered() -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        view = screen.query_one(OutputView)
        assert [line.split()[0] for line in view.lines] == ["left", "main", "right"]
        warned = view.lines[1]
        assert "stderr" in warned and "\x1b" not in warned and "\\x1b[2J" in warned
        assert "right:  ready" in view.lines[2] and "\t" not in view.lines[2]  # tab expanded
        await pilot.press("o")
        rows = screen.query_one("#proc-rows", RowView)
        rows.cursor = 1  # left
        await pilot.press("f")
        assert [line.split()[0] for line in view.lines] == ["left"]
        await pilot.press("f")
        assert len(view.lines) == 3


async def test_event_log_names_objects_by_their_journal_code() -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        log = screen.query_one(EventLog)
        assert any(" get " in line and " a " in line for line in log.lines)
        assert len(screen.program.chans(program_snapshot())) == CHAN_CAP  # type: ignore[union-attr]


async def test_panels_appear_as_the_program_makes_its_first_objects() -> None:
    """A program starts with no channel and no shared object: no diagram and
    no shared panel until it makes one, then they show."""
    snap = program_snapshot()
    empty = replace(snap, channels=(), shared=(), waits=(), stuck=None, recent_events=())
    source = FrozenProgramSource(Program("dead.py"), empty, (), SOURCE)
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = RunScreen(source)
        await pilot.app.push_screen(screen)
        await pilot.pause()
        assert not screen.query_one("#top").display
        screen.post_message(SnapshotReady(replace(snap, stuck=None), 1))
        await pilot.pause()
        await pilot.pause()
        assert screen.query_one("#top").display
        flow = screen.query_one(FlowView)
        assert "[a · Queue]" in flow.plain and "[b · Queue]" in flow.plain


def test_a_queue_made_in_a_loop_is_one_line_that_says_how_many() -> None:
    common: dict[str, Any] = dict(maxsize=0, max_depth=1, nbytes=5, get_rate=0.0)
    loop = [
        _queue(
            n,
            "q" if n == 0 else f"q#{n + 1}",
            puts=1,
            gets=1 - (n == 2),
            put_rate=1.0,
            writers=("main",),
            readers=(f"Process-{n + 1}",),
            **common,
        )
        for n in range(3)
    ]
    other = _queue(3, "results", puts=0, gets=0, put_rate=0.0, writers=(), readers=(), **common)
    lines = grouped((*loop, other))
    assert [c.name for c in lines] == ["q ×3", "results"]
    made = lines[0]
    assert made.depth == 1 and made.put_rate == 3.0
    assert made.readers == ("Process-1", "Process-2", "Process-3")
    assert "Process ×3" in channel_lines(made, {}).plain


def test_a_long_name_made_by_ipcplay_keeps_its_end() -> None:
    assert cut("Queue@loopq.py:11#7", 12) == "…opq.py:11#7"
    assert cut("a_long_variable_name", 12) == "a_long_varia"
    assert cut("tasks", 12) == "tasks"


def test_a_module_programs_source_is_found_without_importing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ipcplay -m pkg`: the Code tab shows pkg/__main__.py; the package's
    __init__ (which raises here) is never run in the TUI's process."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("raise SystemExit('imported')\n")
    (package / "__main__.py").write_text("print('main')\n")
    monkeypatch.chdir(tmp_path)
    assert module_file(Program("pkg", module=True)) == str(package / "__main__.py")
    assert module_file(Program("nothing_here", module=True)) == ""


def test_a_programs_own_texts_are_neutralised_before_they_are_drawn() -> None:
    """Names, errors and lines come from the program: escapes in them are
    shown as text; a snapshot with none is passed on as it is (no copy)."""
    snap = program_snapshot()
    assert safe_snapshot(snap) is snap
    left, right = snap.processes[1], snap.processes[2]
    hostile = replace(
        snap,
        processes=(
            snap.processes[0],
            replace(left, error="ValueError: boom \x1b[31m"),
            replace(right, name="right\x1b]0;title\x07"),
        ),
        channels=(replace(snap.channels[0], name="a\x1b[2J"), snap.channels[1]),
    )
    safe = safe_snapshot(hostile)
    assert safe.processes[1].error == "ValueError: boom \\x1b[31m"
    assert safe.processes[2].name == "right\\x1b]0;title\\x07"
    assert safe.channels[0].name == "a\\x1b[2J"
    assert safe.processes[0] is snap.processes[0] and safe.channels[1] is snap.channels[1]


async def test_the_status_line_says_how_the_programs_main_ended() -> None:
    snap = program_snapshot()
    main = replace(snap.processes[0], alive=False, exitcode=3, state="exited 3")
    ended = replace(snap, processes=(main, *snap.processes[1:]), stuck=None)
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = RunScreen(FrozenProgramSource(Program("dead.py"), ended, (), SOURCE))
        await pilot.app.push_screen(screen)
        await pilot.pause()
        await pilot.pause()
        assert "dead.py · exited 3" in screen.query_one(StatusBar).plain


async def test_zoomed_output_takes_the_arrows_and_unzoomed_the_rows_get_them_back() -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        await pilot.press("o", "m")
        await pilot.pause()
        assert app.focused is screen.query_one(OutputView)
        await pilot.press("m")
        await pilot.pause()
        assert app.focused is screen.query_one("#proc-rows")
