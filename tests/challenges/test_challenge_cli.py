"""`ipcplay run CHALLENGE --schedule FILE --json`: the schedule beside the
preset makes the goal a reproducible test, and the report says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ipcplay.report import EXIT_CODES

SCHEDULES = Path(__file__).resolve().parents[2] / "presets" / "schedules"


def _run(*args: str) -> tuple[int, dict]:
    r = subprocess.run(
        [sys.executable, "-m", "ipcplay", "run", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=80,
    )
    return r.returncode, json.loads(r.stdout)


@pytest.mark.timeout(90)
def test_the_lock_order_schedule_reaches_its_deadlock_in_four_steps():
    status, report = _run(
        "challenge-lock-order", "--schedule", str(SCHEDULES / "challenge-lock-order.toml")
    )
    assert report["verdict"] == "deadlock" and status == EXIT_CODES["deadlock"]
    section = report["challenge"]
    assert (section["goal"], section["reached"], section["steps"]) == ("deadlock", True, 4)
    assert section["verdict"].startswith("deadlock: left → right → left")
    assert report["schedule"]["played"] == 4


@pytest.mark.timeout(90)
def test_the_lost_update_schedule_completes_with_one_add_lost():
    status, report = _run(
        "challenge-lose-an-update", "--schedule", str(SCHEDULES / "challenge-lose-an-update.toml")
    )
    assert status == 0 and report["verdict"] == "completed"
    assert report["challenge"] == {
        "goal": "lost-update",
        "on": "counter",
        "task": "lose an update on 'counter'",
        "reached": True,
        "steps": 8,
        "verdict": "lost an update on 'counter': 3, expected 4 (1 lost)",
    }


@pytest.mark.timeout(90)
def test_without_a_schedule_the_report_says_it_was_not_met():
    status, report = _run("challenge-lock-order")
    assert status == 0 and report["verdict"] == "completed"
    assert (report["challenge"]["reached"], report["challenge"]["steps"]) == (False, 0)
