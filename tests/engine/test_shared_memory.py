"""shared_memory.SharedMemory, with real processes: exact reads, writes and
contents, and the block gone from /dev/shm on every exit path (the run ends,
the observer gets SIGTERM, the observer is SIGKILLed), with no resource
tracker warning where ipcplay itself cleans up.

Spawn throughout: that is where each child attaches by name (and, in CPython
3.11, registers the block with the resource tracker).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from ipcplay.engine import Engine
from ipcplay.scenario import load, resolve

SHM = Path("/dev/shm")
pytestmark = pytest.mark.skipif(not SHM.is_dir(), reason="needs /dev/shm (Linux)")

LONG = """
[scenario]
title = "a block held for a while"
start_method = "spawn"
duration = 30
[shared.block]
kind = "SharedMemory"
size = 16
[[process]]
name = "holder"
role = "steps"
steps = [{ fill = "block", byte = 3 }, { sleep = 20000 }, { read = "block" }]
"""


def _block(snap):
    return next(o for o in snap.shared if o.kind == "SharedMemory")


@pytest.mark.timeout(30)
def test_a_writer_fills_the_block_and_each_reader_sums_it(waiter):
    with Engine(load(resolve("shared-memory-block"))) as engine:
        snap = waiter(lambda: engine.latest if _block(engine.latest).block else None)
        name = _block(snap).block
        assert name.startswith("psm_") and (SHM / name).exists()  # real, named, ours
        outcome = engine.run(duration=20)
    assert outcome.verdict == "completed"
    b = _block(outcome.snapshot)
    assert b.size == 64
    assert b.value == 56 * 1 + 7  # filled with 1s, then 7 as 8 little-endian bytes
    assert b.head == "07 00 00 00 00 00 00 00"
    assert b.per_process == (
        ("writer", 0, 2, 0),  # a fill and a write, no read
        ("reader-1", 1, 0, 63),
        ("reader-2", 1, 0, 63),
        ("reader-3", 1, 0, 63),
    )
    assert not (SHM / name).exists()  # unlinked by the engine at shutdown


def _attached_block(pid: int, timeout: float = 10.0) -> str:
    """The /dev/shm name a process has mapped: read from the kernel, not from ipcplay."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in psutil.Process(pid).children(recursive=True):
            try:
                maps = Path(f"/proc/{child.pid}/maps").read_text()
            except OSError:
                continue
            for line in maps.splitlines():
                if "/dev/shm/psm_" in line:
                    return line.rsplit("/", 1)[1]
        time.sleep(0.05)
    raise AssertionError("no child attached a block")


@pytest.mark.timeout(40)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_the_block_is_unlinked_when_the_observer_is_stopped(sig, tmp_path):
    preset = tmp_path / "long.toml"
    preset.write_text(LONG, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipcplay", "run", str(preset), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        name = _attached_block(proc.pid)
        assert (SHM / name).exists()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    deadline = time.monotonic() + 10
    while (SHM / name).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (SHM / name).exists()
    if sig == signal.SIGTERM:  # ipcplay stops the run and unlinks the block itself
        assert proc.returncode == 130
        assert "resource_tracker" not in err and "leaked" not in err, err
    else:  # nothing of ipcplay runs any more: the resource tracker unlinks it
        assert proc.returncode == -signal.SIGKILL


@pytest.mark.timeout(30)
def test_a_completed_run_leaves_no_warning_from_the_resource_tracker():
    r = subprocess.run(
        [sys.executable, "-m", "ipcplay", "run", "shared-memory-block", "--json"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONWARNINGS": "always"},
    )
    assert r.returncode == 0, r.stderr
    assert "resource_tracker" not in r.stderr and "leaked" not in r.stderr, r.stderr
