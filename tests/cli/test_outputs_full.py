"""An output that cannot be written: one line naming it and why, status 1,
and the rest of the run's output still delivered (issue 15, item 5).

/dev/full accepts the open and fails every write with ENOSPC, as a full disk
does; it used to give "journal: 10 events in /dev/full" and then a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")

FULL = "No space left on device"


def _ipcplay(*args: str, stdout: object = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ipcplay", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )


def _one_line(err: str, *words: str) -> None:
    assert "Traceback" not in err and "Exception ignored" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert all(w in lines[0] for w in words), err


@pytest.mark.timeout(120)
@pytest.mark.parametrize("option", ["--journal", "--trace"])
def test_a_full_journal_or_trace_file_is_one_line_and_the_report_still_comes(option):
    r = _ipcplay("run", "simplequeue-hello", option, "/dev/full")
    _one_line(r.stderr, "/dev/full", option, FULL)
    assert r.returncode == 1
    assert "verdict: completed" in r.stdout
    assert "events in /dev/full" not in r.stdout and "in /dev/full (open it" not in r.stdout


@pytest.mark.timeout(120)
def test_a_full_journal_with_json_still_prints_the_report_and_builds_no_trace(tmp_path):
    trace = tmp_path / "t.json"
    r = _ipcplay(
        "run", "simplequeue-hello", "--json", "--journal", "/dev/full", "--trace", str(trace)
    )
    assert r.returncode == 1
    assert json.loads(r.stdout)["verdict"] == "completed"
    assert "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 2 and "/dev/full: --journal" in lines[0] and FULL in lines[0], r.stderr
    assert f"{trace}: --trace" in lines[1], r.stderr


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "args",
    [
        ("run", "simplequeue-hello", "--json"),
        ("run", "simplequeue-hello"),
        ("export", "simplequeue-hello"),
        ("check", "simplequeue-hello"),
        ("list",),
    ],
    ids=["run-json", "run", "export", "check", "list"],
)
def test_a_full_standard_output_is_one_line_and_status_1(args):
    if args[0] == "check":
        from conftest import PRESETS

        args = ("check", *sorted(str(p) for p in PRESETS.glob("*.toml")))
    with open("/dev/full", "w") as full:
        r = _ipcplay(*args, stdout=full)
    _one_line(r.stderr, "standard output", FULL)
    assert r.returncode == 1


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "args",
    [("run", "simplequeue-hello", "--json"), ("export", "simplequeue-hello"), ("list",)],
    ids=["run-json", "export", "list"],
)
def test_a_closed_standard_output_is_one_line_and_status_1(args):
    """Started with `>&-`, Python's sys.stdout is None: that was a traceback."""
    r = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "ipcplay", *args],
        capture_output=False,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    _one_line(r.stderr, "standard output", "closed")
    assert r.returncode == 1


@pytest.mark.timeout(60)
def test_a_closed_standard_error_still_gives_status_2():
    r = subprocess.run(
        ["sh", "-c", 'exec "$@" 2>&-', "sh", sys.executable, "-m", "ipcplay", "run", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
