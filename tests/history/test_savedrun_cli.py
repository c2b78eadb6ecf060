"""`ipcplay run PRESET --save-run FILE` and `ipcplay replay FILE`: the replay
prints the very report the run printed, starts no process, and a file that
is not a whole saved run of this version is one line naming it, exit 2."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ipcplay.report import EXIT_CODES


def _ipcplay(*args: str, cwd: Path, prefix: str = "") -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ipcplay", *args]
    if prefix:
        command = [sys.executable, "-c", prefix, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, cwd=cwd)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A real run of lock-order-deadlock: its --json report and its saved run."""
    where = tmp_path_factory.mktemp("saved")
    r = _ipcplay("run", "lock-order-deadlock", "--json", "--save-run", "run.ipcrun", cwd=where)
    assert r.returncode == EXIT_CODES["deadlock"], r.stderr
    assert (where / "run.ipcrun").is_file()
    return where, r.stdout


@pytest.mark.timeout(120)
def test_replay_json_is_the_report_the_run_printed(saved):
    where, report = saved
    r = _ipcplay("replay", "run.ipcrun", "--json", cwd=where)
    assert r.returncode == 0, r.stderr
    assert r.stdout == report  # byte for byte: every key, every number
    assert json.loads(r.stdout)["verdict"] == "deadlock"


# Run ipcplay with every way to start a process made to fail: a replay must
# not need one (multiprocessing, subprocess and os.fork all end in these).
NO_PROCESS = """
import os, subprocess, sys, multiprocessing.process as mp
def refuse(*a, **k):
    raise SystemExit("replay tried to start a process")
os.fork = os.posix_spawn = os.posix_spawnp = os.execv = os.execve = refuse
subprocess.Popen.__init__ = refuse
mp.BaseProcess.start = refuse
from ipcplay.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.timeout(120)
def test_replay_starts_no_process(saved):
    where, report = saved
    for args in (("replay", "run.ipcrun"), ("replay", "run.ipcrun", "--json")):
        r = _ipcplay(*args, cwd=where, prefix=NO_PROCESS)
        assert r.returncode == 0, r.stderr
        assert "tried to start" not in r.stderr
    assert r.stdout == report
    # and the same in this process: not one child more
    import psutil

    from ipcplay.cli import main

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    assert main(["replay", str(where / "run.ipcrun"), "--json"]) == 0
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before


@pytest.mark.timeout(120)
def test_replay_prints_the_final_tables_and_verdict(saved):
    where, _ = saved
    r = _ipcplay("replay", "run.ipcrun", cwd=where)
    assert r.returncode == 0, r.stderr
    assert "two locks taken in opposite order" in r.stdout
    assert "verdict: deadlock after" in r.stdout
    assert "lock_a" in r.stdout and "left" in r.stdout


def _refused(where: Path, name: str, *words: str) -> str:
    r = _ipcplay("replay", name, cwd=where)
    assert r.returncode == 2, (name, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ipcplay: {name}: "), r.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.timeout(120)
def test_a_truncated_file_is_refused_at_any_point(saved):
    where, _ = saved
    data = (where / "run.ipcrun").read_bytes()
    for cut in (3, 10, 100, len(data) // 3, len(data) // 2, len(data) - 9, len(data) - 1):
        (where / "cut.ipcrun").write_bytes(data[:cut])
        line = _refused(where, "cut.ipcrun")
        assert "truncated" in line or "damaged" in line, line


@pytest.mark.timeout(120)
def test_a_flipped_byte_is_refused(saved):
    where, _ = saved
    data = (where / "run.ipcrun").read_bytes()
    for at in (len(data) // 4, len(data) // 2, len(data) - 6):
        flipped = bytearray(data)
        flipped[at] ^= 0x20
        (where / "flip.ipcrun").write_bytes(bytes(flipped))
        _refused(where, "flip.ipcrun", "damaged")


@pytest.mark.timeout(120)
def test_a_file_from_a_newer_ipcplay_is_refused(saved):
    where, _ = saved
    lines = gzip.decompress((where / "run.ipcrun").read_bytes()).split(b"\n")
    header = json.loads(lines[0])
    header["version"] = 2
    lines[0] = json.dumps(header).encode()
    (where / "future.ipcrun").write_bytes(gzip.compress(b"\n".join(lines)))
    _refused(where, "future.ipcrun", "newer ipcplay", "version 2", "upgrade")


@pytest.mark.timeout(120)
def test_what_is_not_a_saved_run_is_refused(saved):
    where, _ = saved
    (where / "empty.ipcrun").write_bytes(b"")
    _refused(where, "empty.ipcrun", "empty")
    (where / "text.ipcrun").write_text("[scenario]\ntitle = 'x'\n")
    _refused(where, "text.ipcrun", "not a saved run")
    (where / "other.gz").write_bytes(gzip.compress(b'{"format": "something-else"}\n'))
    _refused(where, "other.gz", "not a saved run")
    _refused(where, "missing.ipcrun", "cannot read")


@pytest.mark.timeout(120)
def test_save_run_never_leaves_a_half_file(tmp_path):
    (tmp_path / "dir.ipcrun").mkdir()
    r = _ipcplay("run", "lock-order-deadlock", "--save-run", "dir.ipcrun", cwd=tmp_path)
    assert r.returncode == 2 and "dir.ipcrun: --save-run: is a directory" in r.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "dir.ipcrun"]  # nothing else made


@pytest.mark.timeout(120)
def test_a_killed_run_leaves_no_file_under_the_name(tmp_path):
    import os
    import signal
    import time

    command = ["run", "steady-pipeline", "--duration", "30", "--save-run", "killed.ipcrun"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipcplay", *command],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob(".killed.ipcrun.*.part")) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # running, with its history filling
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    time.sleep(1.0)  # its processes follow it (their lifeline)
    assert not (tmp_path / "killed.ipcrun").exists()
    r = _ipcplay("replay", "killed.ipcrun", cwd=tmp_path)
    assert r.returncode == 2 and "killed.ipcrun: cannot read" in r.stderr
