"""A tour that drives steps, in the app, on real processes: challenge-lock-order's
tour starts the run in step mode, lets left and right each do one operation
at a time with a caption for each, and ends on the deadlock it made."""

from __future__ import annotations

import pytest
from conftest import until_shown as _until

from ipcplay.scenario import load, resolve
from ipcplay.tour import starts_stepping
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.screens.run import RunScreen
from ipcplay.tui.widgets.caption import TourCaption
from ipcplay.tui.widgets.status import StatusBar

pytestmark = pytest.mark.timeout(90)


async def test_the_tour_steps_lock_order_to_its_deadlock() -> None:
    scenario = load(resolve("challenge-lock-order"))
    assert starts_stepping(scenario)
    app = IpcplayApp()
    async with app.run_test(size=(120, 40)) as pilot:
        app.call_later(app.open_scenario, scenario, tour=True)
        await _until(pilot, lambda: isinstance(app.screen, RunScreen))
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.tour is not None
        # Held at their first gates: nothing happens until the tour steps.
        await _until(
            pilot,
            lambda: (
                screen.snap is not None
                and [p.state for p in screen.snap.processes] == ["held", "held"]
            ),
            timeout=20,
        )
        caption = screen.query_one(TourCaption)
        await _until(pilot, lambda: "DEADLOCK" in str(caption.content), timeout=40)
        snap = screen.snap
        assert snap is not None and snap.stuck is not None and snap.stuck.kind == "deadlock"
        stepper = screen.source.stepper
        assert stepper is not None and stepper.schedule == ["left", "right", "left", "right"]
        assert [step.split(":")[0] for step in screen.tour.stepped] == [
            "left",
            "right",
            "left",
            "right",
        ]
        assert "DEADLOCK" in screen.query_one(StatusBar).plain.upper()
        await pilot.press("q")
