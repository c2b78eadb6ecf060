"""shared_memory.ShareableList, with real processes: every write and read
counted per process, the items as the observer reads them from the block,
the fixed room of a str item (ValueError in the process that overflows it),
and the block gone from /dev/shm on every exit path.

Spawn throughout, as test_shared_memory.py: each child attaches by name.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from ipcplay.engine import Engine
from ipcplay.scenario import load, loads, resolve

SHM = Path("/dev/shm")
pytestmark = pytest.mark.skipif(not SHM.is_dir(), reason="needs /dev/shm (Linux)")

LONG = """
[scenario]
title = "a list held for a while"
start_method = "spawn"
duration = 30
[shared.items]
kind = "ShareableList"
values = [1, 2.5, true, "abc"]
[[process]]
name = "holder"
role = "steps"
steps = [{ on = "items", setitem = "xyz", key = 3 }, { sleep = 20000 }, { read = "items" }]
"""


def _board(snap):
    return next(o for o in snap.shared if o.kind == "ShareableList")


@pytest.mark.timeout(40)
def test_each_write_and_read_is_counted_and_the_longer_str_kills_boss(waiter):
    with Engine(load(resolve("shareable-list"))) as engine:
        snap = waiter(lambda: engine.latest if _board(engine.latest).block else None)
        name = _board(snap).block
        assert name.startswith("psm_") and (SHM / name).exists()  # real, named, ours
        outcome = engine.run(duration=20)
    assert outcome.verdict == "crashed"
    board = _board(outcome.snapshot)
    # "all workers finished" did not fit: the item still holds what fit before.
    assert board.value == ("done", "done", "all done", 2)
    assert board.per_process == (
        ("fast", 0, 8, 0),  # four rounds of busy, done
        ("slow", 0, 4, 0),
        ("boss", 1, 2, 0),  # the write that raised stored nothing: not counted
    )
    boss = next(p for p in outcome.snapshot.processes if p.name == "boss")
    assert boss.exitcode == 1
    assert "exceeds available storage" in boss.error
    assert not (SHM / name).exists()  # unlinked by the engine at shutdown


def test_the_items_are_their_own_types_and_the_room_of_a_str_is_fixed():
    text = LONG.replace("20000", "1").replace('"xyz"', '"abcdefgh"')
    with Engine(loads(text)) as engine:
        outcome = engine.run(duration=10)
    assert outcome.verdict == "completed"
    assert _board(outcome.snapshot).value == (
        1,
        2.5,
        True,
        "abcdefgh",
    )  # 8 bytes: room for 8


@pytest.mark.timeout(40)
def test_the_json_report_holds_the_items_and_the_counts():
    r = subprocess.run(
        [sys.executable, "-m", "ipcplay", "run", "shareable-list", "--json"],
        capture_output=True,
        text=True,
        timeout=35,
        env={**os.environ, "PYTHONWARNINGS": "always"},
    )
    assert r.returncode == 6, r.stderr  # the exit status of a crashed run
    report = json.loads(r.stdout)
    assert report["verdict"] == "crashed"
    board = next(o for o in report["shared"] if o["name"] == "board")
    assert board["kind"] == "ShareableList"
    assert board["value"] == ["done", "done", "all done", 2]
    assert board["per_process"] == [
        {"name": "fast", "reads": 0, "writes": 8},
        {"name": "slow", "reads": 0, "writes": 4},
        {"name": "boss", "reads": 1, "writes": 2},
    ]
    assert "resource_tracker" not in r.stderr and "leaked" not in r.stderr, r.stderr


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
