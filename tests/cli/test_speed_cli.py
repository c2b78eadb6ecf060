"""`--speed` on the command line: a bad value is one line and exit status 2,
before anything starts; a good one slows the run and keeps its report."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.timeout(60)


def ipcplay(*args: str, timeout: float = 50) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ipcplay", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    "args",
    [
        ("run", "bounded-queue", "--speed", "2"),
        ("run", "bounded-queue", "--speed", "0"),
        ("run", "bounded-queue", "--speed", "fast"),
        ("record", "bounded-queue", "-o", "x.cast", "--speed", "0.01"),
        ("bounded-queue", "--speed", "1.5"),
    ],
)
def test_a_bad_speed_is_one_line_and_status_2(args: tuple[str, ...], tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = subprocess.run(
        [sys.executable, "-m", "ipcplay", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "--speed" in lines[0] and "expected a speed" in lines[0]
    assert "Traceback" not in r.stderr and not list(tmp_path.iterdir())


def test_run_at_a_quarter_speed_reports_the_same_counts() -> None:
    with ThreadPoolExecutor(2) as pool:  # side by side: the slow run is the longer one
        runs = pool.map(
            lambda extra: ipcplay("run", "pipe-ping-pong", "--json", *extra),
            [(), ("--speed", "0.25")],
        )
        full, slow = (json.loads(r.stdout) for r in runs)
    assert slow["verdict"] == full["verdict"] == "completed"
    for key in ("puts", "gets", "depth"):
        assert slow["channels"][0][key] == full["channels"][0][key]
    # 20 round trips at 10/s: about 2 s of the pinger's own time, 8 s at 0.25x.
    assert slow["duration_s"] > full["duration_s"] + 4
