"""No key crashes the app, in any state.

A teacher pressed escape on a running bounded-queue and the app died in front
of the class (a redraw scheduled for after the screen had gone). These tests
drive every screen with every key it advertises, in every state a run can be
in, with real processes, and press escape and q at moments nobody chose. Any
exception inside the app fails the test: `run_test` re-raises it, and the app's
return code must be 0.

The keys are read from the screen in front (its active bindings) at the moment
of pressing, so a key added later is swept too without editing this file.
"""

from __future__ import annotations

import fcntl
import os
import random
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
from conftest import PRESETS, wait_for
from conftest import until_shown as _until
from test_live import _alive
from textual.screen import ModalScreen

import ipcplay.tui
from ipcplay.scenario import load
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.screens.home import HomeScreen
from ipcplay.tui.screens.run import RunScreen

# Keys that end the test's app: pressed on purpose at the end, not in a sweep.
ENDING = {"quit"}
# Keys that leave the screen under test: swept last, one per app.
LEAVING = {"back"}


def _scenario(name: str):
    return replace(load(PRESETS / f"{name}.toml"), start_method="fork")


def _keys(app: IpcplayApp) -> list[str]:
    """Every key the screen in front answers, with the app's, as Textual
    resolves them now (a binding's several keys are listed one by one)."""
    out = []
    for key, active in app.screen.active_bindings.items():
        if active.binding.action in ENDING:
            continue
        out.append(key)
    return sorted(out)


async def _close_modals(pilot, app: IpcplayApp) -> None:
    """Help and the palette are modal: escape closes them."""
    for _ in range(4):
        if (
            not isinstance(app.screen, ModalScreen)
            and type(app.screen).__name__ != "CommandPalette"
        ):
            return
        await pilot.press("escape")
        await pilot.pause(0.05)


async def _sweep(pilot, app: IpcplayApp, screen_type: type) -> list[str]:
    """Press every key of the screen in front once; return the keys pressed."""
    pressed = []
    keys = [k for k in _keys(app) if app.screen.active_bindings[k].binding.action not in LEAVING]
    for key in keys:
        if not isinstance(app.screen, screen_type):
            break  # a key (restart? a tour?) left the screen: that is fine, but stop here
        await pilot.press(key)
        pressed.append(key)
        await pilot.pause(0.05)
        await _close_modals(pilot, app)
    return pressed


def _run_snap(app: IpcplayApp):
    screen = app.screen
    return screen.snap if isinstance(screen, RunScreen) else None


STATES = {
    # state: (preset, tour, how to reach it)
    "starting": ("steady-pipeline", False, lambda app: True),
    "running": ("steady-pipeline", False, lambda app: _run_snap(app) is not None),
    "completed": ("simplequeue-hello", False, lambda app: (s := _run_snap(app)) and s.finished),
    "deadlocked": ("lock-order-deadlock", False, lambda app: (s := _run_snap(app)) and s.stuck),
    "hung": ("barrier-one-short", False, lambda app: (s := _run_snap(app)) and s.stuck),
    "touring": ("bounded-queue", True, lambda app: _run_snap(app) is not None),
    "pool": ("seed004-pool-map", False, lambda app: _run_snap(app) is not None),
    "manager": ("seed003-manager-list", False, lambda app: _run_snap(app) is not None),
    "shared": ("value-lost-updates", False, lambda app: _run_snap(app) is not None),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("state", [*STATES, "paused"])
async def test_every_run_screen_key_in_every_state(state, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # ctrl+s saves its screenshot here
    preset, tour, reached = STATES.get(state, STATES["running"])
    app = IpcplayApp(initial=_scenario(preset), tour=tour)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, RunScreen))
        await _until(pilot, lambda: reached(app))
        if state == "paused":
            await pilot.press("space")
            await pilot.pause(0.2)
        pressed = await _sweep(pilot, app, RunScreen)
        assert len(pressed) >= 10, pressed  # the sweep really pressed the screen's keys
        await _close_modals(pilot, app)
        for _ in range(3):  # escape restores zoomed panels first, then leaves
            if not isinstance(app.screen, RunScreen):
                break
            await pilot.press("escape")
            await pilot.pause(0.1)
        await _until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("q")
        await pilot.pause(0.2)
    assert app.return_code in (None, 0)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "preset",
    [
        "bounded-queue",  # the class's crash: twenty rows being fitted
        "value-lost-updates",
        "lock-order-deadlock",
        "seed004-pool-map",
        "seed003-manager-dict",
    ],
)
async def test_escape_at_any_moment_returns_to_the_list(preset):
    """The crash a class saw: escape while a run draws. Escape at moments from
    the first frame to well after the end, each time back on the list, and the
    app still answers."""
    delays = [0.0, 0.05, 0.3, 1.0, 3.0]
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        for delay in delays:
            app.open_scenario(_scenario(preset))
            await _until(pilot, lambda: isinstance(app.screen, RunScreen))
            screen = app.screen
            await pilot.pause(delay)
            await pilot.press("escape")
            await _until(pilot, lambda: isinstance(app.screen, HomeScreen))
            # the run's processes are stopped, not left behind
            await _until(pilot, lambda s=screen: not s.source.running, timeout=20)
        await pilot.press("down")
        await pilot.pause(0.1)
    assert app.return_code in (None, 0)


@pytest.mark.timeout(150)
@pytest.mark.parametrize("seed", range(2))
async def test_random_keys_on_every_screen(seed, tmp_path, monkeypatch):
    """From the list, random keys of whatever screen is in front — runs,
    the composer and its dialogs, help, the palette — with random pauses,
    escape among them; then q. Failing seeds replay exactly (`seed` is the
    parameter)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IPCPLAY_HOME", str(tmp_path / "home"))  # saves go here
    rng = random.Random(seed)
    app = IpcplayApp()
    async with app.run_test(size=rng.choice([(100, 30), (80, 24), (200, 60)])) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, HomeScreen))
        for _ in range(rng.randint(3, 12)):  # somewhere down the list
            await pilot.press("down")
        for _ in range(45):
            keys = [*_keys(app), "escape", "down", "up", "enter", "tab", "1", "2", "a"]
            key = rng.choice(keys)
            await pilot.press(key)
            await pilot.pause(rng.choice([0.0, 0.02, 0.1, 0.3, 0.8]))
            if len(app.sources) > 4:  # enough runs for one test: leave them
                for _ in range(3):
                    await pilot.press("escape")
        await pilot.press("q")
        await pilot.pause(0.2)
    assert app.return_code in (None, 0)


def test_no_module_schedules_a_callback_that_can_outlive_its_screen():
    """Deferred calls go through ipcplay.tui.deferred, which checks that the
    widget is still on a screen of the stack when the call comes. The app's
    own `call_later`/`set_timer` are safe (the app outlives every screen)."""
    raw = re.compile(r"(?<!app)\.(call_after_refresh|call_later|set_timer|set_interval)\(")
    root = Path(ipcplay.tui.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        if path.name in ("deferred.py", "app.py"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if raw.search(line):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert not found, "use ipcplay.tui.deferred instead:\n" + "\n".join(found)


@pytest.mark.timeout(60)
async def test_a_crash_leaves_one_line_a_saved_traceback_and_a_failing_status(
    tmp_path, monkeypatch, capsys
):
    """A bug in a key's action: the app stops with status 1 (not 0), the full
    traceback is in a file under the crash folder, and what the terminal is
    left with is one line naming that file."""
    monkeypatch.setenv("IPCPLAY_HOME", str(tmp_path))

    def broken(self) -> None:
        raise ZeroDivisionError("a bug planted by the test")

    monkeypatch.setattr(RunScreen, "action_pause_all", broken)
    app = IpcplayApp(initial=_scenario("steady-pipeline"))
    with pytest.raises(ZeroDivisionError):
        async with app.run_test(size=(100, 30)) as pilot:
            await _until(pilot, lambda: _run_snap(app) is not None)
            await pilot.press("space")
            await pilot.pause(0.5)
    app.stop_all_now()
    assert app.return_code == 1
    files = sorted((tmp_path / "crashes").glob("crash-*.txt"))
    assert len(files) == 1
    text = files[0].read_text()
    assert "Traceback" in text and "a bug planted by the test" in text and "broken" in text
    assert not capsys.readouterr().err  # no traceback over the screen
    line = app.crash_message
    assert line is not None and "\n" not in line
    assert str(files[0]) in line and "ZeroDivisionError: a bug planted by the test" in line


@pytest.mark.timeout(60)
async def test_a_crash_in_the_composer_keeps_the_unsaved_scenario(tmp_path, monkeypatch):
    monkeypatch.setenv("IPCPLAY_HOME", str(tmp_path))
    from ipcplay.tui.screens.composer import ComposerScreen

    def broken(self) -> None:
        raise RuntimeError("a bug planted by the test")

    monkeypatch.setattr(ComposerScreen, "action_view", broken)
    app = IpcplayApp()
    with pytest.raises(RuntimeError):
        async with app.run_test(size=(100, 30)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, HomeScreen))
            await pilot.press("n")
            await _until(pilot, lambda: isinstance(app.screen, ComposerScreen))
            await pilot.press("c")  # a channel: the draft now differs from what was saved
            await pilot.pause(0.2)
            await pilot.press("1")
            await pilot.pause(0.2)
            await _close_modals(pilot, app)
            screen = app.screen
            assert isinstance(screen, ComposerScreen) and screen.dirty
            screen.call_later(screen.action_view)  # the planted bug, run by the app
            await pilot.pause(0.5)
    kept = sorted((tmp_path / "crashes").glob("crash-*.toml"))
    assert len(kept) == 1 and "[channels." in kept[0].read_text()


@pytest.mark.timeout(90)
def test_a_crash_on_a_real_terminal_shows_one_line_and_stops_every_process(tmp_path):
    """The same crash as a teacher would meet it: `ipcplay steady-pipeline` in
    a terminal, a key whose action has a bug. Exit status 1; the terminal shows
    one line about it and no traceback; no process of the run is left."""

    code = (
        "import sys\n"
        "from ipcplay.tui.screens.run import RunScreen\n"
        "def broken(self):\n"
        "    raise ZeroDivisionError('a bug planted by the test')\n"
        "RunScreen.action_pause_all = broken\n"
        "from ipcplay.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", IPCPLAY_HOME=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(PRESETS / "steady-pipeline.toml")],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    out = bytearray()
    try:
        obs = psutil.Process(proc.pid)
        kids = wait_for(lambda: len(obs.children()) >= 6 and obs.children(recursive=True), 30)
        pids = [k.pid for k in kids]
        time.sleep(1.0)
        os.write(master, b" ")

        # Read what the terminal shows until the app has gone and nothing is
        # left to read; never block: the resource tracker may hold it open.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                out.extend(os.read(master, 65536))
            except OSError:
                break
        assert proc.wait(10) == 1
        wait_for(lambda: not any(_alive(p) for p in pids), timeout=10)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        os.close(master)
    text = out.decode("utf-8", "replace")
    tail = text[text.rfind("\x1b[?1049l") :]  # what is left once the app's screen is gone
    assert "ipcplay crashed (ZeroDivisionError: a bug planted by the test)" in tail
    assert "Traceback" not in tail and "❱" not in tail, tail
    assert len(list((tmp_path / "crashes").glob("crash-*.txt"))) == 1
