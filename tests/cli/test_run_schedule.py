"""`ipcplay run PRESET --schedule FILE --json`: a schedule as a reproducible
test — the same operations in the same order give the same lost update and
the same deadlock every time; a bad file is one line and exit 2, with
nothing started."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ipcplay.report import EXIT_CODES

LOSE_ONE = """version = 1
scenario = "value-lost-updates"
set = ["adder.replicas=2", "adder.count=2"]
steps = ["adder-1", "adder-2", "adder-1", "adder-2", "go"]
"""

DEADLOCK = """version = 1
scenario = "lock-order-deadlock"
steps = ["left", "right", "left", "right", "left", "right", "right", "left"]
"""


def _ipcplay(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ipcplay", *args],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=cwd,
    )


@pytest.mark.timeout(120)
def test_a_schedule_loses_exactly_one_update_every_time(tmp_path):
    (tmp_path / "lose.toml").write_text(LOSE_ONE)
    for _ in range(2):
        r = _ipcplay("run", "value-lost-updates", "--schedule", "lose.toml", "--json", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        counter = report["shared"][0]
        assert (counter["value"], counter["expected"], counter["lost_updates"]) == (3, 4, 1)
        assert [p["name"] for p in report["processes"]] == ["adder-1", "adder-2"]
        assert report["schedule"] == {
            "file": "lose.toml",
            "steps": 4,
            "played": 4,
            "stopped_at": None,
            "why": None,
        }


@pytest.mark.timeout(120)
def test_a_schedule_reaches_the_deadlock_and_the_report_says_so(tmp_path):
    (tmp_path / "dead.toml").write_text(DEADLOCK)
    r = _ipcplay("run", "lock-order-deadlock", "--schedule", "dead.toml", cwd=tmp_path)
    assert r.returncode == EXIT_CODES["deadlock"], r.stderr
    assert "verdict: deadlock" in r.stdout
    assert "schedule: 8 of 8 steps played from dead.toml" in r.stdout


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('steps = ["nobody"]', "bad.toml: steps[1]: expected one of left, right, got 'nobody'"),
        ("version = 9\nsteps = []", "bad.toml: version: 9 is newer than this ipcplay reads (1)"),
        ('steps = ["go", "left"]', 'bad.toml: steps: "go" may only be the last step'),
        ("steps = [", "bad.toml: not valid TOML"),
        ('scenario = "bounded-queue"\nsteps = []', "this schedule is for 'bounded-queue', not"),
        ('set = ["left.nope=1"]\nsteps = []', "bad.toml: set: left.nope=1: cannot set 'nope'"),
    ],
)
def test_a_bad_schedule_is_one_line_and_exit_2_with_nothing_started(tmp_path, text, says):
    (tmp_path / "bad.toml").write_text(text)
    r = _ipcplay("run", "lock-order-deadlock", "--schedule", "bad.toml", "--json", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stdout == ""
    assert says in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr


def test_a_missing_schedule_file_is_one_line(tmp_path):
    r = _ipcplay("run", "lock-order-deadlock", "--schedule", "none.toml", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("ipcplay: none.toml: cannot read it")
