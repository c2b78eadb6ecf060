"""`ipcplay --step PROGRAM.py`: the program's run screen in step mode, driven
by the keys a person presses (issue 18 on a user's own program)."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
from conftest import until_shown

from ipcplay.cli_program import tui_program
from ipcplay.engine.program import Program
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.screens.run import RunScreen

LOST = """\
import multiprocessing as mp


def add(counter):
    for _ in range(2):
        counter.value += 1


if __name__ == "__main__":
    counter = mp.Value("i", 0)
    adders = [mp.Process(target=add, args=(counter,), name=f"adder-{i}") for i in (1, 2)]
    for p in adders:
        p.start()
    for p in adders:
        p.join()
    print(counter.value)
"""


def test_step_comes_before_the_program_as_hz_does(tmp_path: Path) -> None:
    path = tmp_path / "lost.py"
    path.write_text(LOST)
    program, hz = tui_program(["--step", "--hz", "20", str(path), "--step"])
    assert program.step and hz == 20
    assert program.args == ("--step",)  # after the program: the program's own
    plain, _ = tui_program([str(path)])
    assert not plain.step


def _row(app: IpcplayApp, name: str):
    snap = app.screen.snap if isinstance(app.screen, RunScreen) else None
    return next((p for p in snap.processes if p.name == name), None) if snap else None


@pytest.mark.timeout(90)
async def test_the_row_keys_step_a_program_into_a_lost_update(tmp_path: Path) -> None:
    path = tmp_path / "lost.py"
    path.write_text(LOST)
    app = IpcplayApp(program=Program(str(path), step=True), hz=20)
    async with app.run_test(size=(100, 30)) as pilot:
        await until_shown(
            pilot,
            lambda: all(
                (row := _row(app, name)) is not None and row.state == "held"
                for name in ("main", "adder-1", "adder-2")
            ),
            30.0,
        )
        screen = app.screen
        stepper = screen.source.stepper
        pids = [p.pid for p in screen.snap.processes if p.pid]
        rows = {p.name: p.index + 1 for p in screen.snap.processes}
        order = ["adder-1", "adder-2", "adder-1", "adder-2", "adder-1", "adder-1", "adder-2"]
        for step, name in enumerate(order, 1):
            await until_shown(pilot, lambda name=name: stepper.is_held(name), 10.0)
            await pilot.press(str(rows[name]))
            await until_shown(pilot, lambda step=step: len(stepper.schedule) == step, 10.0)
        await until_shown(pilot, lambda: stepper.is_held("adder-2"), 10.0)
        assert screen.stepping()
        shown = {b.binding.action for b in screen.active_bindings.values() if b.binding.show}
        assert {"step_one", "go"} <= shown  # the footer shows the step keys
        await pilot.press("g")  # adder-2's last write, and main's joins, run freely
        await until_shown(pilot, lambda: screen.snap is not None and screen.snap.finished, 30.0)
        counter = next(s for s in screen.snap.shared if s.name == "counter")
        assert (counter.value, counter.lost) == (3, 1)
        assert stepper.schedule == [*order, "go"]
        await pilot.press("q")
        await pilot.pause(0.2)
    left = [pid for pid in pids if psutil.pid_exists(pid)]
    assert left == []
