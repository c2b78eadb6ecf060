"""`ipcplay record --from-run FILE`: the TUI playing a saved run, recorded,
with its stills: the exact run a teacher showed, no process started again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyte
import pytest


def ipcplay(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ipcplay", *args],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=cwd,
    )


def screen_at(events: list[list], t: float, width: int = 100, height: int = 30) -> str:
    screen = pyte.Screen(width, height)
    stream = pyte.Stream(screen)
    for when, code, data in events:
        if when > t:
            break
        if code == "o":
            stream.feed(data)
    return "\n".join(screen.display)


@pytest.mark.timeout(120)
def test_record_from_a_saved_run_plays_it_and_takes_stills(tmp_path: Path) -> None:
    saved = ipcplay("run", "lock-order-deadlock", "--save-run", "lod.run.gz", cwd=tmp_path)
    assert saved.returncode == 4, saved.stderr  # a deadlock, as documented
    done = ipcplay(
        "record", "--from-run", "lod.run.gz", "-o", "lod.cast", "--svg-at", "1", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "lod.cast").read_text(encoding="utf-8").splitlines()
    header, events = json.loads(lines[0]), [json.loads(line) for line in lines[1:]]
    assert (header["width"], header["height"]) == (100, 30)
    marks = [data for _, code, data in events if code == "m"]
    assert any(mark.startswith("deadlock: left") for mark in marks), marks
    end = screen_at(events, events[-1][0])
    assert "RUN t = " in end and "DEADLOCK" in end  # (pyte reads the goodbye into col 1)
    assert (tmp_path / "lod-1s.svg").stat().st_size > 10_000
    assert "lod-1s.svg" in done.stderr


def test_record_from_a_file_that_is_no_saved_run_says_so(tmp_path: Path) -> None:
    (tmp_path / "junk.run.gz").write_text("not gzip", encoding="utf-8")
    done = ipcplay("record", "--from-run", "junk.run.gz", "-o", "x.cast", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "junk.run.gz: not a saved run" in done.stderr
    assert not (tmp_path / "x.cast").exists()
    both = ipcplay(
        "record", "steady-pipeline", "--from-run", "junk.run.gz", "-o", "x.cast", cwd=tmp_path
    )
    assert both.returncode == 2 and "one of them" in both.stderr
