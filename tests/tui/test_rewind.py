"""Rewind on the run screen (issue 19): the keys show exactly the snapshot the
History holds, the status line says where the view is, `end` returns to live
while the run goes on underneath, shift+arrows jump between moments, keys on
processes act on the live run; a saved run opens in the TUI without starting
a process, and `W` saves one that replay reads back."""

from __future__ import annotations

import multiprocessing.process
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
import pytest
from frozen import T, lock_order_scenario, lock_order_snapshot
from textual.pilot import Pilot

from ipcplay.engine.snapshot import Snapshot
from ipcplay.engine.supervisor import Engine
from ipcplay.history import History
from ipcplay.savedrun import SavedRun, SaveTarget, load
from ipcplay.scenario import load as load_scenario
from ipcplay.scenario import resolve
from ipcplay.scenario.model import Scenario
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.saving import SavedRunSource, scenario_of
from ipcplay.tui.screens.run import RunScreen
from ipcplay.tui.source import Deliver, FrozenSource
from ipcplay.tui.widgets.events import EventLog
from ipcplay.tui.widgets.processes import ProcessPanel
from ipcplay.tui.widgets.status import Banner, StatusBar
from ipcplay.tui.widgets.timeline import Timeline

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def no_user_presets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "ipcplay-home"
    home.mkdir()
    monkeypatch.setenv("IPCPLAY_HOME", str(home))


@pytest.fixture(scope="module")
def real_run() -> tuple[Scenario, list[Snapshot]]:
    """A real run of lock-order-deadlock: every snapshot its sampler sent."""
    scenario = load_scenario(resolve("lock-order-deadlock"))
    seen: list[Snapshot] = []
    engine = Engine(scenario, on_snapshot=seen.append)
    try:
        engine.start()
        outcome = engine.run(15.0)
    finally:
        engine.shutdown()
    seen.append(outcome.snapshot)
    assert outcome.verdict == "deadlock"
    return scenario, seen


class FeedSource(FrozenSource):
    """A frozen source the test feeds snapshot by snapshot, as a sampler would."""

    def __init__(self, scenario: Scenario, snaps: list[Snapshot], first: int) -> None:
        super().__init__(scenario, snaps[first - 1])
        self.snaps = snaps
        self.first = first
        self.deliver: Deliver | None = None

    def start(self, deliver: Deliver) -> Future[None]:
        self.deliver = deliver
        for snap in self.snaps[: self.first]:
            deliver(snap, self.generation)
        return self._done()

    def feed(self, snaps: list[Snapshot]) -> None:
        assert self.deliver is not None
        for snap in snaps:
            self.snapshot = snap
            self.deliver(snap, self.generation)


def feed_app(scenario: Scenario, snaps: list[Snapshot], first: int) -> tuple[IpcplayApp, list]:
    sources: list[FeedSource] = []

    def factory(s: Scenario, hz: float) -> FeedSource:
        sources.append(FeedSource(s, snaps, first))
        return sources[-1]

    return IpcplayApp(initial=scenario, source_factory=factory), sources


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(3):
        await pilot.pause()


def status(app: IpcplayApp) -> str:
    return app.screen.query_one(StatusBar).plain


def footer_text(app: IpcplayApp) -> str:
    from textual.widgets import Footer

    footer = app.screen.query_one(Footer)
    return " ".join(str(w.render()) for w in footer.query("*") if w.region.width)


def shown(app: IpcplayApp) -> Snapshot | None:
    return app.screen.query_one(ProcessPanel).latest


async def test_arrows_show_exactly_the_snapshot_the_history_holds(real_run) -> None:
    scenario, seen = real_run
    app, _ = feed_app(scenario, seen, len(seen))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert screen.history is not None and len(screen.history) == len(seen)
        assert screen.rewound is None and "REWOUND" not in status(app)
        last = seen[-1].elapsed_s
        await pilot.press("left")
        await pilot.pause()
        assert screen.rewound == len(seen) - 2
        assert shown(app) == seen[-2] == screen.history.at(len(seen) - 2)
        assert f"REWOUND t = {seen[-2].elapsed_s:.2f} s of {last:.2f} s" in status(app)
        assert screen.query_one(Timeline).display
        await pilot.press("home")
        await pilot.pause()
        assert screen.rewound == 0 and shown(app) == seen[0]
        for i in (1, 2, 3):
            await pilot.press("right")
            await pilot.pause()
            assert screen.rewound == i and shown(app) == seen[i]
            assert f"REWOUND t = {seen[i].elapsed_s:.2f} s of {last:.2f} s" in status(app)
            log = screen.query_one(EventLog)
            # the log ends where that snapshot's events end, not later
            if seen[i].recent_events:
                assert log._events[-1] in seen[i].recent_events
                assert max(e.t_ns for e in log._events) <= max(
                    e.t_ns for e in seen[i].recent_events
                )


async def test_end_returns_to_live_and_the_run_goes_on_underneath(real_run) -> None:
    scenario, seen = real_run
    half = len(seen) // 2
    app, sources = feed_app(scenario, seen, half)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        for _ in range(3):
            await pilot.press("left")
        await pilot.pause()
        assert screen.rewound == half - 4
        sources[0].feed(seen[half:])  # the run goes on
        await settle(pilot)
        assert screen.history is not None and len(screen.history) == len(seen)
        assert screen.rewound == half - 4 and shown(app) == seen[half - 4]
        assert f"of {seen[-1].elapsed_s:.2f} s" in status(app)
        assert screen.snap == seen[-1]  # the live one, kept for when the view comes back
        await pilot.press("end")
        await pilot.pause()
        assert screen.rewound is None and shown(app) == seen[-1]
        assert "REWOUND" not in status(app) and "DEADLOCK" in status(app)
        assert not screen.query_one(Timeline).display
        await pilot.press("left", "escape")  # as zoomed, escape leaves the rewound view first
        await pilot.pause()
        assert app.screen is screen and screen.rewound is None


async def test_moments_jump_to_the_blocks_and_the_deadlock(real_run) -> None:
    scenario, seen = real_run
    app, _ = feed_app(scenario, seen, len(seen))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.history is not None
        moments = screen.history.moments()
        deadlock = next(m for m in moments if m.kind == "deadlock")
        blocked = [m for m in moments if m.kind == "blocked"]
        assert blocked
        at = set()
        for _ in range(6):
            await pilot.press("shift+left")
            await pilot.pause()
            at.add(screen.rewound)
            if screen.rewound == deadlock.index:
                assert screen.query_one(Banner).display
                assert shown(app) == seen[deadlock.index]
        assert deadlock.index in at and {m.index for m in blocked} <= at
        await pilot.press("home")
        await pilot.press("shift+right")
        await pilot.pause()
        first_after = min(m.index for m in moments if m.index > 0)
        assert screen.rewound == first_after
        assert not screen.query_one(Banner).display  # no deadlock yet then
        assert "moment" in screen.query_one(Timeline).plain


async def test_keys_on_processes_act_on_the_live_run(real_run) -> None:
    scenario, seen = real_run
    app, sources = feed_app(scenario, seen[:-1], len(seen) - 1)  # still stuck, not finished
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await pilot.press("left", "left")
        await pilot.pause()
        rewound = screen.rewound
        assert rewound is not None
        await pilot.press("space")  # pause all: the live run, the view stays
        await pilot.pause()
        assert ("pause_all",) in sources[0].calls and screen.rewound == rewound
        await pilot.press("k")  # kill: back to live first, then the live process
        await pilot.pause()
        assert screen.rewound is None
        assert any(call[0] == "kill" for call in sources[0].calls)


def _saved(tmp_path: Path, scenario: Scenario, snaps: list[Snapshot]) -> Path:
    history = History()
    for snap in snaps:
        history.append(snap)
    path = tmp_path / "lock.run.gz"
    text = Path(scenario.source).read_text(encoding="utf-8")
    run = SavedRun(
        scenario={
            "name": scenario.name,
            "title": scenario.title,
            "start_method": scenario.start_method,
            "expect": scenario.expect,
            "toml": text,
            "set": [],
        },
        history=history,
        verdict="deadlock",
        duration_s=snaps[-1].elapsed_s,
    )
    SaveTarget(str(path)).write(run)
    return path


async def test_a_saved_run_opens_with_rewind_and_starts_no_process(
    real_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario, seen = real_run
    path = _saved(tmp_path, scenario, seen)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a replay started something")

    monkeypatch.setattr(Engine, "start", never)
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", never)
    run = load(str(path))
    source = SavedRunSource(run, scenario_of(run, str(path)), str(path))
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    app = IpcplayApp(saved=source)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert screen.history is run.history
        assert f"SAVED RUN t = {seen[-1].elapsed_s:.2f} s" in status(app)
        assert shown(app) == seen[-1]
        await pilot.press("left")
        await pilot.pause()
        assert screen.rewound == len(seen) - 2 and shown(app) == seen[-2]
        assert "end" in screen.active_bindings and "Live" not in str(footer_text(app))
        assert "End" in footer_text(app)  # a replay's end, not a live run
        for key in ("space", "k", "t", "r", "x", "s", "enter", "a", "g", "greater_than_sign"):
            await pilot.press(key)
            await pilot.pause()
        await pilot.press("home", "end")
        await pilot.pause()
        assert screen.rewound is None
    assert source.calls == []  # every key refused before it reached the source
    assert {p.pid for p in psutil.Process().children(recursive=True)} == before


async def test_w_saves_the_whole_run_and_replay_reads_it(real_run, tmp_path, monkeypatch) -> None:
    import asyncio

    scenario, seen = real_run
    monkeypatch.chdir(tmp_path)
    app, _ = feed_app(scenario, seen, len(seen))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("left")  # saving works while rewound too
        await pilot.press("W")
        await pilot.pause()
        await pilot.press("ctrl+u", *"class", "enter")
        for _ in range(100):
            await asyncio.sleep(0.05)
            if getattr(app.screen, "saved_run", None):
                break
        assert "run saved: class" in (app.screen.saved_run or "")  # type: ignore[attr-defined]
    back = load(str(tmp_path / "class"))
    assert back.history is not None and len(back.history) == len(seen)
    assert back.history.at(len(seen) - 1) == seen[-1]
    assert back.verdict == "deadlock"


# ---------------------------------------------------------------- picture


def frozen_history() -> list[Snapshot]:
    """Ten hand-built snapshots of lock-order-deadlock (5.5 s to 6.4 s): the
    deadlock found at the sixth; deterministic, every pid and time fixed."""
    final = lock_order_snapshot(lock_order_scenario())
    snaps = []
    for k in range(10):
        back = (9 - k) * 0.1
        snaps.append(
            replace(
                final,
                seq=final.seq - 9 + k,
                t=T - back,
                elapsed_s=round(final.elapsed_s - back, 3),
                stuck=final.stuck if k >= 5 else None,
            )
        )
    return snaps


def test_rewound_screen_with_its_timeline(snap_compare: SnapCompare) -> None:
    snaps = frozen_history()
    app, _ = feed_app(lock_order_scenario(), snaps, len(snaps))

    async def rewind(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("left", "left", "left", "left", "left")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(100, 30), run_before=rewind)


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_rewound_footer_fits_with_quit_and_help(size: tuple[int, int]) -> None:
    from textual.widgets import Footer

    snaps = frozen_history()
    app, _ = feed_app(lock_order_scenario(), snaps, len(snaps))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("left")
        await settle(pilot)
        footer = app.screen.query_one(Footer)
        keys = [w for w in footer.query("*") if w.region.width]
        assert keys and max(w.region.right for w in keys) <= size[0]
        text = " ".join(str(w.render()) for w in keys)
        for words in ("Earlier", "Later", "Live", "Moment", "Quit", "Help"):
            assert words in text, (words, text)


def test_a_saved_run_without_its_scenario_text_shows_its_names_neutralised() -> None:
    run = SavedRun(
        scenario={"name": "x\x1b[2Jy", "title": "t\x1b]0;evil\x07", "toml": ""},
        history=None,
        verdict="completed",
        duration_s=1.0,
    )
    scenario = scenario_of(run, "f.run.gz")
    assert "\x1b" not in scenario.name + scenario.title
    assert scenario.title.startswith("t") and "evil" in scenario.title
