"""A pause at any moment of start-up, then SIGKILL of the observer: nothing left.

A child stopped (SIGSTOP) before it has armed its death signal can never act
on it; the red team found 3-5 children and the resource tracker in state T
after every early pause. The engine now stops a child only once the child has
said it is armed, so a SIGKILLed observer takes every process with it whatever
the moment of the pause.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from dataclasses import replace

import psutil
import pytest
from conftest import PRESETS, wait_for
from test_lifecycle import _orphan_check, _subreaper

from ipcplay.engine import Engine
from ipcplay.scenario import load

OBSERVER = """
import sys, time
from ipcplay.engine import Engine
from ipcplay.engine.tracker import start_tracker
from ipcplay.scenario import load
from dataclasses import replace
start_tracker()
s = replace(load(sys.argv[1]), start_method=sys.argv[2])
e = Engine(s)
e.start()
time.sleep(float(sys.argv[3]))
e.pause_all()
print("paused", flush=True)
time.sleep(60)
"""


def _run_and_kill(method: str, delay: float) -> None:
    observer = subprocess.Popen(
        [sys.executable, "-c", OBSERVER, str(PRESETS / "steady-pipeline.toml"), method, str(delay)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert observer.stdout is not None
        assert observer.stdout.readline() == b"paused\n"
        obs = psutil.Process(observer.pid)
        pids = [c.pid for c in obs.children(recursive=True)]
        assert len(pids) >= 5  # five role processes and the resource tracker
        time.sleep(0.3)  # the children that were not armed at the pause are by now
        observer.send_signal(signal.SIGKILL)
        observer.wait(10)
        _orphan_check(pids)
    finally:
        if observer.poll() is None:
            observer.kill()
            observer.wait(10)
        with contextlib.suppress(Exception):
            observer.stdout.close()  # type: ignore[union-attr]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("method", ["spawn", "fork", "forkserver"])
def test_a_pause_at_any_moment_of_start_up_then_sigkill_leaves_nothing(method):
    _subreaper(True)
    try:
        for delay in (0.0, 0.001, 0.005, 0.02, 0.05, 0.1, 0.2):
            _run_and_kill(method, delay)
    finally:
        _subreaper(False)


@pytest.mark.timeout(60)
def test_an_early_pause_still_stops_every_process():
    """Deferring the stop must not lose it: every process ends up stopped."""
    engine = Engine(replace(load(PRESETS / "steady-pipeline.toml"), start_method="spawn"))
    engine.start()
    try:
        engine.pause_all()
        for pid in engine.pids:
            wait_for(
                lambda pid=pid: psutil.Process(pid).status() == psutil.STATUS_STOPPED, timeout=20
            )
        engine.resume_all()
        for pid in engine.pids:
            wait_for(
                lambda pid=pid: psutil.Process(pid).status() != psutil.STATUS_STOPPED, timeout=5
            )
    finally:
        engine.shutdown()
