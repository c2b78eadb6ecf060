"""`x` on real processes: the selected process is the one that stops."""

from __future__ import annotations

import pytest
from conftest import until_shown as _until

from ipcplay.scenario import loads
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.screens.run import RunScreen
from ipcplay.tui.widgets.rows import RowView

PIPELINE = """
[scenario]
title = "producer -> worker -> collector, until stopped"
start_method = "fork"
duration = 60
[channels.tasks]
kind = "Queue"
[channels.results]
kind = "Queue"
[[process]]
name = "producer"
role = "producer"
out = "tasks"
rate = 50
[[process]]
name = "worker"
role = "worker"
in = "tasks"
out = "results"
[[process]]
name = "collector"
role = "consumer"
in = "results"
"""


def _rows(app) -> dict[str, object]:
    view = app.screen.query_one("#proc-rows", RowView)
    return {k: view._data[k][0] for k in view._keys}


@pytest.mark.timeout(60)
async def test_x_on_the_worker_stops_the_worker_and_the_collector_runs_on() -> None:
    app = IpcplayApp(initial=loads(PIPELINE))
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(
            pilot,
            lambda: (
                isinstance(app.screen, RunScreen)
                and app.screen.snap is not None
                and app.screen.snap.channels[1].gets > 3
            ),
        )
        said: list[str] = []
        screen = app.screen
        screen.notify = lambda message, **kw: said.append(str(message))  # type: ignore[method-assign]
        await pilot.press("down")  # the cursor starts on the producer
        assert screen.query_one("#proc-rows", RowView).selected_key == "worker"
        await pilot.press("x")
        await _until(pilot, lambda: _rows(app)["worker"].state == "exited 0")
        assert said == ["poison pill to stop worker (sent by producer into 'tasks')"]
        got = screen.snap.channels[1].gets
        await pilot.pause(0.6)
        collector = _rows(app)["collector"]
        assert collector.alive and collector.pills_received == 0
        assert screen.snap.channels[1].gets >= got  # it took what the worker had left
        await pilot.press("q")
        await _until(pilot, lambda: not app.is_running, timeout=20)
