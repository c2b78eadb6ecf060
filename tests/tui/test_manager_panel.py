"""The Manager panel and the shared rows, fed the snapshot of a real run of
seed 003's list: what the engine counted is what the screen says."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PRESETS, wait_for

from ipcplay.engine import Engine
from ipcplay.engine.snapshot import Snapshot
from ipcplay.scenario import load
from ipcplay.scenario.model import Scenario
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.source import FrozenSource
from ipcplay.tui.widgets.text import TextView


@pytest.fixture(autouse=True)
def no_user_presets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "ipcplay-home"
    home.mkdir()
    monkeypatch.setenv("IPCPLAY_HOME", str(home))


@pytest.mark.timeout(60)
async def test_the_server_panel_and_the_list_show_the_counted_calls() -> None:
    scenario = load(PRESETS / "seed003-manager-list.toml")
    engine = Engine(scenario)
    engine.start()
    try:  # a live snapshot with every append done and the list read back

        def done() -> Snapshot | None:
            s = engine.latest
            value = s.shared[0].value
            return s if value is not None and len(value) == 8 and s.managers[0].calls else None

        snap = wait_for(done)
    finally:
        engine.shutdown()
    (server,) = snap.managers

    def factory(s: Scenario, hz: float) -> FrozenSource:
        return FrozenSource(s, snap, hz)

    app = IpcplayApp(initial=scenario, source_factory=factory)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await pilot.pause()
        panel = app.screen.query_one("#manager-text", TextView).plain
        assert f"manager (SyncManager) pid {server.pid}" in panel
        assert f"threads {server.threads}" in panel
        assert "calls: append 5" in panel
        rows = app.screen.query_one("#shared-rows")
        row = "".join(t for t, _ in rows._render_row(rows._data["ml"]))  # type: ignore[attr-defined]
        assert "man.list()" in row and "[11, 22, 33, " in row
