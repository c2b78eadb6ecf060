"""The app on real processes: real PIDs on screen, real effects of keys,
and nothing left behind by any way of quitting."""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from dataclasses import replace

import psutil
import pytest
from conftest import PRESETS, wait_for
from conftest import until_shown as _until

from ipcplay.scenario import load
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.screens.run import RunScreen
from ipcplay.tui.widgets.rows import RowView


def _steady():
    return replace(load(PRESETS / "steady-pipeline.toml"), start_method="fork")


async def _finished(pilot, app, timeout: float = 40.0):
    """Until the run screen shows a run whose processes have all ended."""
    await _until(
        pilot,
        lambda: (
            isinstance(app.screen, RunScreen)
            and app.screen.snap is not None
            and app.screen.snap.finished
        ),
        timeout,
    )


def _rows(app) -> dict[str, object]:
    view = app.screen.query_one("#proc-rows", RowView)
    return {k: view._data[k][0] for k in view._keys}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", ["fork", "spawn"])
async def test_processes_that_end_by_themselves_show_exit_0_and_completed(method):
    """The app starts engines from its own thread; a child forked from it must
    exit as cleanly as one started from the main thread (a thread-pool thread
    made every forked child's exit status 1, and the run 'crashed')."""
    scenario = replace(load(PRESETS / "joinable-queue-consumers.toml"), start_method=method)
    app = IpcplayApp(initial=scenario)
    async with app.run_test(size=(120, 40)) as pilot:
        await _finished(pilot, app)
        snap = app.screen.snap
        assert [(p.name, p.exitcode) for p in snap.processes] == [
            (p.name, 0) for p in snap.processes
        ]
        assert app.screen.verdict == "completed"
        await pilot.press("q")


def _cmdline(proc: psutil.Process) -> str:
    """A child's command line; "" for one that has just ended (a zombie until
    its parent reaps it, or gone): an earlier test's process may be reaped by
    its own cleanup at this very moment, and cannot be one of the rows."""
    try:
        return " ".join(proc.cmdline())
    except (psutil.ZombieProcess, psutil.NoSuchProcess):
        return ""


@pytest.mark.timeout(60)
async def test_screen_shows_the_real_pids_and_pause_and_kill_act_on_them():
    app = IpcplayApp(initial=_steady())
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(
            pilot,
            lambda: (
                isinstance(app.screen, RunScreen)
                and len(_rows(app)) == 5
                and all(p.pid and p.state != "starting" for p in _rows(app).values())
            ),
        )
        shown = {p.pid for p in _rows(app).values()}
        real = {c.pid for c in psutil.Process().children() if "resource_tracker" not in _cmdline(c)}
        assert shown <= real and len(shown) == 5

        # The cursor starts on the first row (the producer): pause it with p.
        producer = _rows(app)["producer"]
        await pilot.press("p")
        await _until(pilot, lambda: _rows(app)["producer"].state == "stopped")
        assert psutil.Process(producer.pid).status() == psutil.STATUS_STOPPED
        await pilot.press("p")
        await _until(pilot, lambda: _rows(app)["producer"].state != "stopped")

        # Move to the collector and kill it with k.
        await pilot.press("end")
        await pilot.press("k")
        await _until(pilot, lambda: _rows(app)["collector"].state == "killed by SIGKILL")

        # A process killed from outside shows up as killed too.
        worker = _rows(app)["worker-1"]
        os.kill(worker.pid, signal.SIGKILL)
        await _until(pilot, lambda: _rows(app)["worker-1"].state == "killed by SIGKILL")
        await pilot.press("q")
        await _until(pilot, lambda: not app.is_running, timeout=20)


@pytest.mark.timeout(60)
async def test_rate_keys_change_the_real_rate_and_restart_makes_new_pids():
    app = IpcplayApp(initial=_steady())
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(
            pilot,
            lambda: (
                isinstance(app.screen, RunScreen)
                and _rows(app)
                and all(p.pid for p in _rows(app).values())
            ),
        )
        source = app.sources[0]
        await pilot.press("minus")
        assert abs(source.rate_of("producer") - 200 / 1.5) < 0.5
        first = {p.pid for p in _rows(app).values()}
        await pilot.press("r")
        await _until(
            pilot,
            lambda: (
                (pids := {p.pid for p in _rows(app).values()}) and not (pids & first) and all(pids)
            ),
        )
        await pilot.press("q")
        await _until(pilot, lambda: not app.is_running, timeout=20)


# ------------------------------------------------------------------ quit paths
def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _start_in_pty(args: list[str]) -> tuple[subprocess.Popen, int, threading.Thread]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="100", LINES="30")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipcplay", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)

    def drain() -> None:  # a terminal that nobody reads would block the app
        while True:
            try:
                if not os.read(master, 65536):
                    return
            except OSError:
                return

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    return proc, master, t


@pytest.mark.timeout(90)
@pytest.mark.parametrize("how", ["q", "ctrl+c", "SIGTERM"])
def test_every_quit_path_leaves_no_child_zombie_or_segment(how):
    proc, master, _ = _start_in_pty([str(PRESETS / "steady-pipeline.toml")])
    try:
        obs = psutil.Process(proc.pid)
        kids = wait_for(
            lambda: len(obs.children()) >= 6 and obs.children(recursive=True), timeout=30
        )
        pids = [k.pid for k in kids]
        time.sleep(1.0)
        if how == "q":
            os.write(master, b"q")
        elif how == "ctrl+c":
            os.write(master, b"\x03")
        else:
            proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        wait_for(lambda: not any(_alive(p) for p in pids), timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        os.close(master)


@pytest.mark.timeout(90)
def test_a_terminal_that_goes_away_takes_the_app_and_every_process_with_it():
    """Closing the window or killing the tmux pane: the terminal is gone (writes
    fail) and the app gets SIGHUP. It must not wait for ever to draw its last
    frame: every scenario process, the app and its resource tracker end."""
    proc, master, drain = _start_in_pty([str(PRESETS / "steady-pipeline.toml")])
    try:
        obs = psutil.Process(proc.pid)
        kids = wait_for(
            lambda: len(obs.children()) >= 6 and obs.children(recursive=True), timeout=30
        )
        pids = [k.pid for k in kids]  # the scenario and the resource tracker
        time.sleep(1.0)
        os.close(master)  # the terminal is gone: every write to it now fails
        master = -1
        drain.join(5)
        proc.send_signal(signal.SIGHUP)
        assert proc.wait(20) == 128 + signal.SIGHUP
        wait_for(lambda: not any(_alive(p) for p in pids), timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if master >= 0:
            os.close(master)


def test_the_app_module_is_the_only_one_that_imports_textual():
    code = (
        "import sys, ipcplay.cli; ipcplay.cli._parser(); "
        "sys.exit(1 if 'textual' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


@pytest.mark.timeout(60)
async def test_waits_tab_shows_both_edges_of_a_real_lock_order_deadlock():
    from ipcplay.tui.widgets.waits import WaitGraph

    scenario = replace(load(PRESETS / "lock-order-deadlock.toml"), start_method="fork")
    app = IpcplayApp(initial=scenario)
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, RunScreen))
        await pilot.press("w")
        graph = app.screen.query_one(WaitGraph)
        await _until(pilot, lambda: graph.plain.startswith("deadlock cycle:"))
        lines = graph.plain.splitlines()
        pids = {p.name: p.pid for p in app.screen.snap.processes}
        assert lines[0] == "deadlock cycle: left → right → left"
        assert lines[1].startswith(f"left  ──acquire lock_b · held by right (pid {pids['right']})")
        assert lines[1].endswith("──▶ right")
        assert lines[2].startswith(f"right ──acquire lock_a · held by left (pid {pids['left']})")
        assert lines[2].endswith("──▶ left")
        assert len(lines) == 3


@pytest.mark.timeout(60)
async def test_a_crashed_pool_shows_its_error_and_failure_in_a_narrow_panel():
    """At 100 columns the detail panel cuts its lines: why the pool process
    died and how many tasks failed must be in what is left, not past the cut."""
    from ipcplay.tui.widgets.text import TextView

    scenario = replace(load(PRESETS / "pool-error-at-get.toml"), start_method="fork")
    app = IpcplayApp(initial=scenario)
    async with app.run_test(size=(100, 30)) as pilot:
        await _finished(pilot, app)
        await pilot.pause(0.3)
        detail = app.screen.query_one("#proc-detail", TextView)
        shown = [detail.render_line(y).text for y in range(detail.size.height)]
        assert shown[0].startswith(" pool  pool  pid "), shown
        assert "exited 1  error: ValueError: square(3): bad input 3" in shown[1], shown
        assert "joined: failed 1, 1 reached the owner · submitted 4" in shown[2], shown
        assert app.screen.verdict == "crashed"
        await pilot.press("q")


@pytest.mark.timeout(60)
async def test_a_pools_results_are_read_on_a_projector():
    """seed004-pool-map at 100×30: the detail kept three lines, so the results
    as they arrived (the preset's lesson) sat below them while the log was
    nearly empty. With rows to spare the detail takes the lines it needs."""
    scenario = replace(load(PRESETS / "seed004-pool-map.toml"), start_method="fork")
    app = IpcplayApp(initial=scenario)
    async with app.run_test(size=(100, 30)) as pilot:
        await _finished(pilot, app)
        await pilot.pause()
        await pilot.pause()
        detail = app.screen.query_one("#proc-detail")
        shown = "\n".join(detail.render_line(y).text for y in range(detail.size.height))
        assert "results as they arrived: sum_range(50)=1225" in shown
        await pilot.press("q")
