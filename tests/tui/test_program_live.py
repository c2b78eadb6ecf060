"""The app on a watched program (`ipcplay PROGRAM.py`): a real program in a
temporary folder, its real processes on screen under their names, what a
child printed in the Output tab, and nothing left once escape or q stops it."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
from conftest import until_shown

from ipcplay.engine.program import Program
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.program_source import ProgramSource
from ipcplay.tui.screens.home import HomeScreen
from ipcplay.tui.screens.run import RunScreen
from ipcplay.tui.widgets.output import OutputView

PROGRAM = """\
import multiprocessing as mp
import time


def work(tasks):
    print("hello from the worker", flush=True)
    tasks.put(1)
    time.sleep(60)  # still running when the test quits


if __name__ == "__main__":
    tasks = mp.Queue()
    worker = mp.Process(target=work, args=(tasks,), name="worker")
    worker.start()
    print("main got", tasks.get(), flush=True)
    worker.join()
"""


@pytest.fixture
def program(tmp_path: Path) -> Program:
    path = tmp_path / "chatty.py"
    path.write_text(PROGRAM)
    return Program(str(path))


def _rows(app: IpcplayApp) -> dict[str, int | None]:
    snap = app.screen.snap if isinstance(app.screen, RunScreen) else None
    return {p.name: p.pid for p in snap.processes} if snap is not None else {}


async def _running(pilot, app: IpcplayApp) -> list[int]:
    """Until main and the worker are on screen with their pids; those pids."""
    rows = await until_shown(
        pilot, lambda: (r := _rows(app)).get("main") and r.get("worker") and r, 20.0
    )
    return [pid for pid in rows.values() if pid]


def _watchers() -> list[int]:
    """Our children that belong to a watched run (its guardian, its main)."""
    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            watched = any("ipcplay.engine.watch_" in word for word in child.cmdline())
            if watched and child.status() != psutil.STATUS_ZOMBIE:
                out.append(child.pid)
        except psutil.Error:  # ended meanwhile
            continue
    return out


def _gone(pids: list[int]) -> bool:
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


@pytest.mark.timeout(60)
async def test_a_program_opens_on_the_run_screen_and_escape_stops_it(program: Program) -> None:
    app = IpcplayApp(program=program, hz=10)
    async with app.run_test(size=(120, 40)) as pilot:
        pids = await _running(pilot, app)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert isinstance(screen.source, ProgramSource)
        assert "chatty.py" in screen.source.scenario.title
        await pilot.press("o")
        view = screen.query_one(OutputView)
        line = await until_shown(
            pilot,
            lambda: next((x for x in view.lines if "hello from the worker" in x), None),
            10.0,
        )
        assert line.split()[0] == "worker"  # each line under its process's name
        await pilot.press("escape")
        await until_shown(pilot, lambda: isinstance(app.screen, HomeScreen), 10.0)
        # The source says it stopped before its guardian has finished; wait for that too.
        await until_shown(
            pilot, lambda: not screen.source.running and _gone(pids) and not _watchers(), 15.0
        )
    assert _gone(pids) and _watchers() == []


@pytest.mark.timeout(60)
async def test_q_stops_the_program_and_every_process_it_started(program: Program) -> None:
    app = IpcplayApp(program=program, hz=10)
    async with app.run_test(size=(100, 30)) as pilot:
        pids = await _running(pilot, app)
        source = app.screen.source
        await pilot.press("q")
        await pilot.pause(0.2)
    assert not source.running
    assert _gone(pids) and _watchers() == []


@pytest.mark.timeout(60)
async def test_preset_only_keys_say_why_and_do_nothing(program: Program) -> None:
    app = IpcplayApp(program=program, hz=10)
    async with app.run_test(size=(100, 30)) as pilot:
        await _running(pilot, app)
        screen = app.screen
        shown = {b.binding.action for b in screen.active_bindings.values() if b.binding.show}
        assert "rate(1.5)" not in shown and "pill" not in shown
        assert "tab('tab-output')" in shown
        for key in ("plus", "x", "greater_than_sign", "n"):
            await pilot.press(key)
        await pilot.pause(0.1)
        said = [n.message for n in app._notifications]
        assert any("rate keys are for presets" in m for m in said)
        assert any("poison pills are for presets" in m for m in said)
        assert any("slow motion is for presets" in m for m in said)
        assert any("tours are for presets" in m for m in said)
        await pilot.press("q")


BURST = """\
import multiprocessing as mp


def work(q, n):
    q.put(n)


if __name__ == "__main__":
    q = mp.Queue()
    for batch in range(2):
        ps = [mp.Process(target=work, args=(q, n)) for n in range(40)]
        for p in ps:
            p.start()
        total = sum(q.get() for _ in ps)
        for p in ps:
            p.join()
    print("total", total, flush=True)
"""


@pytest.mark.timeout(90)
async def test_processes_started_in_bursts_are_followed_to_the_end(tmp_path: Path) -> None:
    """Eighty processes, forty at a time: the screen keeps getting snapshots
    (the sampler once died on a process registered after it read the
    topology) until the program has ended, and counts every one."""
    path = tmp_path / "burst.py"
    path.write_text(BURST)
    app = IpcplayApp(program=Program(str(path)), hz=10)
    async with app.run_test(size=(100, 30)) as pilot:
        await until_shown(
            pilot,
            lambda: (
                isinstance(app.screen, RunScreen)
                and app.screen.snap is not None
                and app.screen.snap.finished
            ),
            60.0,
        )
        snap = app.screen.snap
        assert len(snap.processes) == 81
        assert [c.puts for c in snap.channels] == [80]
        await pilot.press("q")
