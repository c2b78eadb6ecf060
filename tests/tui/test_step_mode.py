"""Step mode on the run screen, on real processes: the keys let exactly the
process they name do one operation, the footer names them only in step mode,
a lost update is made by hand, and the schedule saved is the one replayed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
import pytest
from conftest import PRESETS
from conftest import until_shown as _until
from frozen import lock_order_scenario, lock_order_snapshot
from textual.pilot import Pilot

from ipcplay import schedule as S
from ipcplay.cli import main
from ipcplay.engine.snapshot import NextOp, Snapshot
from ipcplay.engine.stepper import GO, Held
from ipcplay.scenario import load
from ipcplay.scenario.model import Scenario
from ipcplay.scenario.overrides import apply
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.screens.choice import ChoiceScreen
from ipcplay.tui.screens.run import RunScreen
from ipcplay.tui.screens.run_keys import STEP_KEYS
from ipcplay.tui.screens.save_as import SaveAsScreen
from ipcplay.tui.source import FrozenSource

SMALL = ("adder.replicas=2", "adder.count=2")


def _adders() -> Scenario:
    """value-lost-updates with 2 adders adding twice (fork): 8 operations in all."""
    return apply(load(PRESETS / "value-lost-updates.toml"), SMALL)


@pytest.fixture(autouse=True)
def _own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Schedules are saved in the current folder; the user's presets stay out."""
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "ipcplay-home"
    home.mkdir()
    monkeypatch.setenv("IPCPLAY_HOME", str(home))


def _screen(app: IpcplayApp) -> RunScreen:
    screen = app.screen
    assert isinstance(screen, RunScreen)
    return screen


def _proc(app: IpcplayApp, name: str) -> Any:
    snap = _screen(app).snap
    assert snap is not None
    return next(p for p in snap.processes if p.name == name)


async def _all_held(pilot: Pilot[Any], app: IpcplayApp) -> RunScreen:
    def held() -> bool:
        screen = app.screen
        return (
            isinstance(screen, RunScreen)
            and screen.snap is not None
            and bool(screen.snap.processes)
            and all(p.state == "held" for p in screen.snap.processes)
        )

    await _until(pilot, held)
    return _screen(app)


def _shown(screen: RunScreen) -> set[str]:
    """The actions the footer draws now."""
    return {a.binding.action for a in screen.active_bindings.values() if a.binding.show}


async def _counter(pilot: Pilot[Any], app: IpcplayApp) -> tuple[int, int, int]:
    await _until(pilot, lambda: _screen(app).snap.finished, 20)  # type: ignore[union-attr]
    snap = _screen(app).snap
    assert snap is not None
    counter = next(s for s in snap.shared if s.name == "counter")
    return counter.value, counter.expected, counter.lost  # type: ignore[return-value]


@pytest.mark.timeout(60)
async def test_enter_and_row_keys_step_exactly_the_process_they_name() -> None:
    app = IpcplayApp(initial=_adders(), step=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _all_held(pilot, app)
        stepper = screen.stepper()
        assert stepper is not None
        assert _proc(app, "adder-1").next.words == "read 'counter' — it is 0"
        await pilot.press("enter")  # the selected row: the first, adder-1
        assert stepper.schedule == ["adder-1"]
        await _until(pilot, lambda: _proc(app, "adder-1").gates == 2)
        assert _proc(app, "adder-1").next.op == "write"
        assert _proc(app, "adder-2").gates == 1  # not let go
        await pilot.press("2")
        assert stepper.schedule == ["adder-1", "adder-2"]
        await _until(pilot, lambda: _proc(app, "adder-2").gates == 2)
        assert _proc(app, "adder-1").gates == 2
        assert "STEP MODE  2 steps" in screen.query_one("#status").plain  # type: ignore[attr-defined]
        await pilot.press("a")  # both held ones, one operation each
        assert sorted(stepper.schedule[2:]) == ["adder-1", "adder-2"]
        await _until(pilot, lambda: _proc(app, "adder-2").gates == 3)
        assert _proc(app, "adder-1").gates == 3
        await pilot.press("q")


@pytest.mark.timeout(60)
async def test_the_footer_names_the_step_keys_only_in_step_mode_and_g_lets_it_finish() -> None:
    app = IpcplayApp(initial=_adders(), step=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _all_held(pilot, app)
        assert _shown(screen) >= STEP_KEYS
        footer = " ".join(a.binding.description for a in screen.active_bindings.values())
        assert "Step row" in footer and "Go" in footer
        await pilot.press("g")  # everything runs freely: the run completes
        await _until(pilot, lambda: screen.snap.finished, 20)  # type: ignore[union-attr]
        assert screen.verdict == "completed"
        assert not STEP_KEYS & _shown(screen)
        assert screen.stepper().schedule == []  # type: ignore[union-attr]  # go before any step
        assert not screen.check_action("step_one", ())
        await pilot.press("q")


@pytest.mark.timeout(60)
async def test_s_holds_a_free_run_at_its_next_gates_and_g_lets_it_go_again() -> None:
    busy = ("adder.replicas=2", "adder.count=1000000")  # seconds of adding, free
    app = IpcplayApp(initial=apply(load(PRESETS / "value-lost-updates.toml"), busy))
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.snap)
        screen = _screen(app)
        assert not screen.stepping()
        assert not STEP_KEYS & _shown(screen)
        await pilot.press("s")
        assert screen.stepping()
        await _all_held(pilot, app)  # each stops before its next read or write
        assert _shown(screen) >= STEP_KEYS
        counter = next(o for o in screen.snap.shared if o.name == "counter")  # type: ignore[union-attr]
        assert counter.expected < 2000000  # held mid-run, not at the end
        await pilot.press("k")  # the selected adder-1: the rest of the run is adder-2's
        await pilot.press("g")
        assert not screen.stepping()
        await _until(pilot, lambda: screen.snap.finished, 40)  # type: ignore[union-attr]
        assert screen.verdict == "completed"
        assert screen.stepper().schedule == []  # type: ignore[union-attr]  # held, none stepped
        await pilot.press("q")


@pytest.mark.timeout(60)
async def test_a_lost_update_made_with_the_keys() -> None:
    """Both adders read 0, then both write 1: one update is lost, by hand."""
    app = IpcplayApp(initial=_adders(), step=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _all_held(pilot, app)
        for key in "12121122":
            gates = {p.name: p.gates for p in screen.snap.processes}  # type: ignore[union-attr]
            await pilot.press(key)
            name = f"adder-{key}"
            # the next step starts from the state this one made, as a replay's does
            await _until(
                pilot,
                lambda name=name, gates=gates: (
                    _proc(app, name).gates > gates[name] or _proc(app, name).exitcode is not None
                ),
            )
        assert screen.stepper().schedule == [f"adder-{k}" for k in "12121122"]  # type: ignore[union-attr]
        assert await _counter(pilot, app) == (3, 4, 1)
        await pilot.press("q")


@pytest.mark.timeout(60)
async def test_v_saves_the_schedule_that_load_reads_back_and_never_over_a_file() -> None:
    app = IpcplayApp(initial=_adders(), step=True, replay=None)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _all_held(pilot, app)
        await pilot.press("1")
        await _until(pilot, lambda: _proc(app, "adder-1").gates == 2)
        await pilot.press("2")
        await pilot.press("v")
        await _until(pilot, lambda: isinstance(app.screen, SaveAsScreen))
        await pilot.press("enter")  # the name it suggests
        path = Path("value-lost-updates.schedule.toml")
        await _until(pilot, path.exists)
        saved = S.load(path)
        assert saved == S.Schedule("value-lost-updates", ("adder-1", "adder-2"))
        assert "saved value-lost-updates.schedule.toml" in screen.query_one("#status").plain  # type: ignore[attr-defined]
        text = path.read_text()
        await pilot.press("1")
        await pilot.press("v")
        await _until(pilot, lambda: isinstance(app.screen, SaveAsScreen))
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, ChoiceScreen))  # it exists: asked
        await pilot.press("3")  # cancel
        assert path.read_text() == text
        await pilot.press("v")
        await _until(pilot, lambda: isinstance(app.screen, SaveAsScreen))
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("1")  # another name: it suggests one that is free
        await _until(pilot, lambda: isinstance(app.screen, SaveAsScreen))
        await pilot.press("enter")
        other = Path("value-lost-updates-2.schedule.toml")
        await _until(pilot, other.exists)
        assert S.load(other).steps == ("adder-1", "adder-2", "adder-1")
        assert path.read_text() == text
        await pilot.press("q")


@pytest.mark.timeout(60)
async def test_a_schedule_replays_off_the_ui_thread_and_stays_in_step_mode() -> None:
    steps = ("adder-1", "adder-2", "adder-1", "adder-2")
    app = IpcplayApp(initial=_adders(), step=True, replay=steps, overrides=SMALL)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.snap)
        screen = _screen(app)
        await _until(pilot, lambda: screen._replay is None and screen.steps_taken() == 4)
        assert screen.stepping()
        await _until(pilot, lambda: _proc(app, "adder-2").gates == 3)
        # both read 0 and wrote 1: the counter says 1 of 2, and both wait to read again
        counter = next(s for s in screen.snap.shared if s.name == "counter")  # type: ignore[union-attr]
        assert (counter.value, counter.expected) == (1, 2)
        await pilot.press("v")
        await _until(pilot, lambda: isinstance(app.screen, SaveAsScreen))
        await pilot.press("enter")
        path = Path("value-lost-updates.schedule.toml")
        await _until(pilot, path.exists)
        assert S.load(path).overrides == SMALL  # saved with the run's `set`
        await pilot.press("g")
        assert await _counter(pilot, app) == (3, 4, 1)
        assert screen.stepper().schedule[-1] == GO  # type: ignore[union-attr]
        await pilot.press("q")


@pytest.mark.timeout(60)
async def test_a_challenge_shows_its_goal_then_its_verdict_with_the_steps_taken() -> None:
    scenario = load(PRESETS / "challenge-lock-order.toml")
    app = IpcplayApp(initial=scenario)  # no --step: a challenge opens held
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _all_held(pilot, app)
        status = screen.query_one("#status")
        assert "goal: reach a deadlock" in status.plain  # type: ignore[attr-defined]
        assert "CHALLENGE MET" not in status.plain  # type: ignore[attr-defined]
        await pilot.press("a")  # each takes its first lock
        await _until(pilot, lambda: all(p.gates == 2 for p in screen.snap.processes))  # type: ignore[union-attr]
        await pilot.press("a")  # each asks for the other's: a deadlock
        await _until(pilot, lambda: "CHALLENGE MET in 4 steps" in status.plain, 20)  # type: ignore[attr-defined]
        assert screen.verdict == "deadlock"
        await pilot.press("q")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("key", ["escape", "q"])
async def test_leaving_with_processes_held_ends_them(key: str) -> None:
    """A held process is a real one sleeping at its gate: escape and q end it."""
    app = IpcplayApp(initial=_adders(), step=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _all_held(pilot, app)
        pids = [p.pid for p in screen.snap.processes]  # type: ignore[union-attr]
        assert all(psutil.pid_exists(pid) for pid in pids)
        await pilot.press(key)
        if key == "escape":
            await _until(pilot, lambda: not isinstance(app.screen, RunScreen))
            await _until(pilot, lambda: not any(_alive(pid) for pid in pids))
    assert not any(_alive(pid) for pid in pids)


def _alive(pid: int | None) -> bool:
    try:
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_bad_schedule_is_one_line_and_status_2_before_the_tui(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.schedule.toml"
    bad.write_text('version = 1\nscenario = "value-lost-updates"\nsteps = ["adder-9"]\n')
    assert main(["value-lost-updates", "--step", "--schedule", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and "steps[1]" in err
    other = tmp_path / "other.schedule.toml"
    other.write_text('scenario = "lock-order-deadlock"\nsteps = ["left"]\n')
    assert main(["value-lost-updates", "--schedule", str(other)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "scenario" in err


# ---------------------------------------------------------------- picture


class _HeldStepper:
    """A stand-in for the engine's Stepper behind a frozen picture: step mode
    on, four steps taken, nothing to let go."""

    on = True
    schedule = ["left", "right", "left", "right"]

    def held(self) -> list[Held]:
        return []

    def step(self, name: str) -> int:
        return 0


def _held_picture() -> tuple[Scenario, Snapshot]:
    """lock-order-deadlock after left,right,left,right: each holds its first
    lock and is held before the other's, which will block."""
    scenario = lock_order_scenario()
    snap = lock_order_snapshot(scenario)
    other = {"left": ("lock_b", "right"), "right": ("lock_a", "left")}
    procs = tuple(
        replace(
            p,
            state="held",
            blocked=None,
            gates=5,
            blocked_s=0.0,
            next=NextOp("acquire", other[p.name][0], None, f"held by {other[p.name][1]}", True),
        )
        if p.name in other
        else p
        for p in snap.processes
    )
    locks = tuple(
        replace(o, waiting=(), contended=0, wait_s=0.0) if o.kind == "Lock" else o
        for o in snap.shared
    )
    return scenario, replace(snap, processes=procs, shared=locks, stuck=None, waits=())


@pytest.mark.parametrize("size", [(100, 30), (80, 24)], ids=["100x30", "80x24"])
def test_picture_of_held_processes_in_step_mode(snap_compare: Any, size: tuple[int, int]) -> None:
    scenario, snap = _held_picture()

    def factory(s: Scenario, hz: float) -> FrozenSource:
        source = FrozenSource(s, snap, hz)
        source.stepper = _HeldStepper()  # type: ignore[attr-defined]
        return source

    app = IpcplayApp(initial=scenario, source_factory=factory)

    async def settle(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=settle)
