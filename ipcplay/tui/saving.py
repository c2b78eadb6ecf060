"""The TUI's saved runs: the run screen's history written with `W`, and a
saved run opened again (`ipcplay replay FILE`) as a source that starts nothing.

Why here and not in savedrun.py: what a run screen knows (its source's
scenario, the verdict it shows) is the TUI's; the file format is not.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

from ipcplay.engine.snapshot import Snapshot
from ipcplay.history import History
from ipcplay.safetext import neutralise
from ipcplay.savedrun import SavedRun, SavedRunError, SaveTarget
from ipcplay.scenario.model import Scenario
from ipcplay.tui.source import Deliver


def saved_run_of(source: Any, history: History, verdict: str) -> SavedRun:
    """What the run screen shows, as a saved run: its scenario (its own
    text, so a replay shows the same panels and explanation) and its history."""
    saved = getattr(source, "saved", None)
    if isinstance(saved, SavedRun):  # a replay saved again: the run's own header and ending
        return replace(saved, history=history)
    scenario: Scenario = source.scenario
    try:
        toml = Path(scenario.source).read_text(encoding="utf-8") if scenario.source else ""
    except (OSError, UnicodeDecodeError):
        toml = ""
    last = history.at(len(history) - 1)
    return SavedRun(
        scenario={
            "name": scenario.name,
            "title": scenario.title,
            "start_method": scenario.start_method,
            "expect": scenario.expect,
            "toml": toml,
            "set": list(getattr(source, "overrides", ()) or ()),
        },
        history=history,
        verdict=verdict,
        duration_s=last.elapsed_s,
        hz=float(source.hz),
    )


def write_run(path: Path, run: SavedRun) -> int:
    """Write `run` to `path` whole (a temporary file renamed over it); its size."""
    target = SaveTarget(str(path))
    return target.write(run)


def scenario_of(run: SavedRun, name: str) -> Scenario:
    """The scenario a saved run was made from, from the text it kept (with
    the `--set` it ran with); SavedRunError (one line) if it cannot be read."""
    from ipcplay.scenario import ScenarioError, loads
    from ipcplay.scenario.overrides import apply

    info = run.scenario
    title = str(info.get("title", "") or info.get("name", "") or "saved run")
    toml = str(info.get("toml", "") or "")
    if not toml.strip():  # a program's run, or a preset whose file was gone
        name_ = neutralise(str(info.get("name", "run")), multiline=False)
        return Scenario(name=name_, title=neutralise(title, multiline=False))
    try:
        scenario = loads(toml, source=f"{name} (its scenario)", name=str(info.get("name", "")))
        scenario = apply(scenario, [str(s) for s in info.get("set", ()) or ()])
    except ScenarioError as exc:
        raise SavedRunError(neutralise(f"{name}: its scenario cannot be read: {exc}")) from None
    method = str(info.get("start_method", "") or scenario.start_method)
    return replace(scenario, start_method=method, source="")


def _done() -> Future[None]:
    future: Future[None] = Future()
    future.set_result(None)
    return future


class SavedRunSource:
    """A saved run as the run screen's source: nothing is ever started, and
    every control refuses (the screen says so before calling one).

    Opened (`ipcplay replay FILE`), its History is the screen's and its last
    snapshot is "live": the teacher rewinds from the end. Played (`play`,
    what `ipcplay record --from-run` records), its snapshots are sent again
    at the pace they came, from a thread as a sampler would, and the screen
    keeps its own History of them, as of a live run."""

    def __init__(self, run: SavedRun, scenario: Scenario, name: str, play: bool = False) -> None:
        assert run.history is not None, "load(FILE) with its whole history"
        self.saved = run
        self.history: History | None = None if play else run.history
        self.scenario = scenario
        self.hz = run.hz
        self.file = name
        self.generation = 1
        self.calls: list[str] = []  # what the screen asked of it (none should start anything)
        self._kept = run.history
        self._last: Snapshot = run.history.at(len(run.history) - 1)
        self._play = play
        self._stop = threading.Event()

    @property
    def end_s(self) -> float:
        """How long the saved run lasted (its last snapshot's elapsed seconds)."""
        return self._kept.at(len(self._kept) - 1).elapsed_s

    def start(self, deliver: Deliver) -> Future[None]:
        if not self._play:
            deliver(self._last, self.generation)
            return _done()
        kept = self._kept
        indices = list(kept.kept())
        self._last = kept.at(indices[0])

        def play() -> None:
            begun = time.monotonic()
            first = kept.at(indices[0]).elapsed_s
            for index in indices:
                snap = kept.at(index)
                wait = begun + (snap.elapsed_s - first) - time.monotonic()
                if self._stop.wait(max(0.0, wait)):
                    return
                self._last = snap
                deliver(snap, self.generation)

        threading.Thread(target=play, name="ipcplay-saved-run", daemon=True).start()
        return _done()

    def restart(self) -> Future[None]:
        self.calls.append("restart")
        return _done()

    def stop(self) -> Future[None]:
        self._stop.set()
        return _done()

    def stop_now(self) -> None:
        self._stop.set()

    def now(self) -> float:
        return self._last.t + 0.05

    def _refuse(self, what: str, *args: object) -> Any:
        self.calls.append(what)
        raise RuntimeError("this is a saved run: no process runs")

    def pause(self, name: str) -> None:
        self._refuse("pause")

    def resume(self, name: str) -> None:
        self._refuse("resume")

    def terminate(self, name: str) -> None:
        self._refuse("terminate")

    def kill(self, name: str) -> None:
        self._refuse("kill")

    def pause_all(self) -> None:
        self._refuse("pause_all")

    def resume_all(self) -> None:
        self._refuse("resume_all")

    def set_rate(self, name: str, rate: float) -> None:
        self._refuse("set_rate")

    def rate_of(self, name: str) -> float:
        return 0.0

    def poison_pill(self, name: str) -> str:
        return str(self._refuse("poison_pill"))

    def set_hz(self, hz: float) -> None:
        self.hz = hz

    @property
    def speed(self) -> float:
        return self._last.speed

    def set_speed(self, speed: float) -> None:
        self._refuse("set_speed")


def run_replay_app(
    name: str, *, play: bool = False, svg_at: list[float] | None = None, svg_stem: str | None = None
) -> int:
    """`ipcplay replay FILE` on a terminal: the saved run in the TUI, with
    rewind, no process started. SavedRunError (one line) for a bad file,
    before the TUI starts."""
    import sys

    from ipcplay.savedrun import load
    from ipcplay.tui.app import IpcplayApp

    with contextlib.suppress(OSError):
        size = os.path.getsize(name)
        if size > 1 << 20:  # ten minutes of 128 processes take tens of seconds to read
            line = f"ipcplay: reading {name} ({size / (1 << 20):.0f} MiB)…"
            sys.stderr.write(neutralise(line, multiline=False) + "\n")
    run = load(name)
    source = SavedRunSource(run, scenario_of(run, name), name, play=play)
    app = IpcplayApp(saved=source, hz=run.hz, svg_at=svg_at, svg_stem=svg_stem)  # type: ignore[arg-type]
    return app.run_for_status()
