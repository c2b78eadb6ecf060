"""The teacher's tour and slow motion in the app, on real processes: the
palette finds the tours, `n`/`b` move through captions, a pause made by hand
holds the tour and no step resumes what it paused, `<`/`>` reach the children."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import psutil
import pytest
from conftest import until_shown as _until

from ipcplay.scenario import load, resolve
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.screens.run import RunScreen
from ipcplay.tui.widgets.caption import TourCaption
from ipcplay.tui.widgets.status import StatusBar

pytestmark = pytest.mark.timeout(90)


def _caption(app: IpcplayApp) -> str:
    return str(app.screen.query_one(TourCaption).content)


def _status(app: IpcplayApp) -> str:
    return app.screen.query_one(StatusBar).plain


def _states(screen: RunScreen, template: str) -> list[str]:
    assert screen.snap is not None
    out = []
    for p in screen.snap.processes:
        if p.template == template and p.alive and p.pid:
            with contextlib.suppress(psutil.NoSuchProcess):
                out.append(psutil.Process(p.pid).status())
    return out


async def test_the_palette_finds_every_tour_and_starts_one() -> None:
    app = IpcplayApp()
    async with app.run_test(size=(120, 40)) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        tours = [t for t in titles if t.startswith("Tour: ")]
        assert "Tour: bounded-queue" in tours and "Tour: lock-order-deadlock" in tours
        assert "Tour: steady-pipeline" in tours and len(tours) >= 30
        assert "Start the tour" not in titles  # only on a run screen
        bounded = next(
            c for c in app.get_system_commands(app.screen) if c.title == "Tour: bounded-queue"
        )
        app.call_later(bounded.callback)  # as the palette does, on the app's own loop
        await _until(pilot, lambda: isinstance(app.screen, RunScreen))
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.tour is not None
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "Start the tour" in titles
        await pilot.press("q")


async def test_open_scenario_takes_the_tour_flag_per_call() -> None:
    scenario = replace(load(resolve("pipe-ping-pong")), start_method="fork")
    app = IpcplayApp()
    async with app.run_test(size=(120, 40)) as pilot:
        app.call_later(app.open_scenario, scenario, tour=False)
        await _until(pilot, lambda: isinstance(app.screen, RunScreen))
        assert app.screen.tour is None
        await pilot.press("escape")
        app.call_later(app.open_scenario, scenario, tour=True)
        await _until(pilot, lambda: isinstance(app.screen, RunScreen))
        assert app.screen.tour is not None
        await pilot.press("q")


async def test_a_pause_by_hand_holds_the_tour_and_keeps_the_readers_paused() -> None:
    """The issue's bug: the tour resumed readers the teacher had just paused,
    leaving PAUSED on the status line while they drained the queue."""
    scenario = load(resolve("bounded-queue"))  # spawn, as shipped: readers start late
    app = IpcplayApp()
    async with app.run_test(size=(120, 40)) as pilot:
        app.call_later(app.open_scenario, scenario, tour=True)
        screen = await _until(
            pilot, lambda: app.screen if isinstance(app.screen, RunScreen) else None
        )
        # Step 2: the writers blocked on the full queue, the readers paused by the tour.
        await _until(pilot, lambda: screen.tour is not None and len(screen.tour.fired) == 2)
        await pilot.press("space")  # the teacher pauses everything
        assert "PAUSED" in _status(app)
        await pilot.pause(5.0)  # step 3 (resume the readers) was due 2 s after step 2
        assert len(screen.tour.fired) == 2, [f.step.say for f in screen.tour.fired]
        assert "waits while you have processes paused" in _caption(app)
        assert _states(screen, "reader") and all(
            s == psutil.STATUS_STOPPED for s in _states(screen, "reader")
        )
        queue = next(c for c in screen.snap.channels if c.name == "queue")
        gets_while_paused = queue.gets
        # `n` shows the next step now; it resumes no process the teacher paused.
        await pilot.press("n")
        await _until(pilot, lambda: len(screen.tour.fired) == 3)
        assert "which you paused" in _caption(app) or "you paused it" in _caption(app)
        await pilot.pause(1.0)
        assert "PAUSED" in _status(app)
        assert all(s == psutil.STATUS_STOPPED for s in _states(screen, "reader"))
        queue = next(c for c in screen.snap.channels if c.name == "queue")
        assert queue.gets == gets_while_paused
        # The teacher resumes: the tour goes on by itself to its last step.
        await pilot.press("space")
        await _until(pilot, lambda: screen.tour.done, timeout=30)
        await _until(pilot, lambda: screen.snap is not None and screen.snap.finished)
        assert next(c for c in screen.snap.channels if c.name == "queue").gets == 10
        await pilot.press("q")


async def test_n_and_b_move_through_the_captions() -> None:
    scenario = replace(load(resolve("pipe-ping-pong")), start_method="fork")
    app = IpcplayApp()
    async with app.run_test(size=(120, 40)) as pilot:
        app.call_later(app.open_scenario, scenario, tour=True)
        screen = await _until(
            pilot, lambda: app.screen if isinstance(app.screen, RunScreen) else None
        )
        await _until(pilot, lambda: screen.tour is not None and len(screen.tour.fired) == 2)
        assert "Tour 2/4" in _caption(app)
        await pilot.press("b")
        assert "Tour 1/4" in _caption(app) and "earlier caption" in _caption(app)
        assert screen.tour.held
        await pilot.pause(3.0)
        assert len(screen.tour.fired) == 2  # browsing back holds the tour
        await pilot.press("b")  # already the first
        assert "Tour 1/4" in _caption(app)
        await pilot.press("n")
        assert "Tour 2/4" in _caption(app) and not screen.tour.held
        await _until(pilot, lambda: len(screen.tour.fired) == 3)
        assert "Tour 3/4" in _caption(app)
        await pilot.press("q")


async def test_slower_and_faster_reach_the_running_children() -> None:
    """At 0.25x the producer's 20 items/s become 5: counted by the children."""
    scenario = replace(load(resolve("steady-pipeline")), start_method="fork")
    app = IpcplayApp()
    async with app.run_test(size=(120, 40)) as pilot:
        app.call_later(app.open_scenario, scenario)
        screen = await _until(
            pilot, lambda: app.screen if isinstance(app.screen, RunScreen) else None
        )
        await _until(pilot, lambda: screen.snap is not None and screen.snap.elapsed_s > 1.0)
        assert "×" not in _status(app)
        await pilot.press("less_than_sign")
        await pilot.press("less_than_sign")
        assert screen.source.speed == 0.25
        await _until(pilot, lambda: "0.25×" in _status(app))

        def puts() -> tuple[float, int]:
            snap = screen.snap
            return snap.elapsed_s, next(c for c in snap.channels if c.name == "tasks").puts

        await pilot.pause(1.0)
        t0, n0 = puts()
        await pilot.pause(3.0)
        t1, n1 = puts()
        rate = (n1 - n0) / (t1 - t0)
        spec_rate = next(p.rate for p in scenario.processes if p.name == "producer")
        assert spec_rate * 0.25 * 0.6 <= rate <= spec_rate * 0.25 * 1.4, rate
        for _ in range(5):
            await pilot.press("greater_than_sign")
        assert screen.source.speed == 1.0
        await _until(pilot, lambda: screen.snap.speed == 1.0 and "×" not in _status(app))
        await pilot.press("q")
