"""`ipcplay record`: a real TUI session in a pty, written as asciicast v2.

Checked the way its users will use it: the asciinema package reads the file,
and replaying it through a terminal emulator (pyte) shows the screens a
viewer would see, with the tour's captions at the marked times.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyte
import pytest
from asciinema import asciicast

pytestmark = pytest.mark.timeout(120)


def ipcplay(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ipcplay", *args],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=cwd,
    )


def screen_at(events: list[list], t: float, width: int, height: int) -> str:
    screen = pyte.Screen(width, height)
    stream = pyte.Stream(screen)
    for when, code, data in events:
        if when > t:
            break
        if code == "o":
            stream.feed(data)
    return "\n".join(screen.display)


def test_a_toured_recording_plays_like_a_lesson(tmp_path: Path) -> None:
    out = tmp_path / "lesson.cast"
    r = ipcplay(
        "record", "bounded-queue", "-o", str(out), "--duration", "9", "--svg-at", "4", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr

    lines = out.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["version"] == 2 and (header["width"], header["height"]) == (100, 30)
    assert isinstance(header["timestamp"], int) and "bounded Queue(3)" in header["title"]
    events = [json.loads(line) for line in lines[1:]]
    times = [e[0] for e in events]
    assert all(isinstance(e, list) and len(e) == 3 for e in events)
    assert all(isinstance(t, float | int) and t >= 0 for t in times) and times == sorted(times)
    assert {e[1] for e in events} == {"o", "m"} and all(isinstance(e[2], str) for e in events)
    assert 8.5 <= header["duration"] <= 25

    # The asciinema package reads it as we wrote it.
    with asciicast.open_from_url(str(out)) as cast:
        assert cast.v2_header["width"] == 100
        assert [list(e) for e in cast.events()] == events

    # Markers: every tour step, in order, and the queue filling up by itself.
    marks = [(t, label) for t, code, label in events if code == "m"]
    tour = [label for _, label in marks if label.startswith("tour ")]
    assert [label.split(":")[0] for label in tour] == [f"tour {i}/4" for i in range(1, 5)]
    assert any(label == "queue 'queue' full (3/3)" for _, label in marks)

    # What a viewer sees once step 2 is drawn (on a loaded machine the frame
    # can come a while after the mark): its caption, and the queue's high-water
    # mark at its maxsize. (Which readers the pause caught before they took an
    # item depends on how fast they started, so the rows are not checked.)
    t2 = next(t for t, label in marks if label.startswith("tour 2/4"))
    screens = [screen_at(events, t2 + dt / 10, 100, 30) for dt in range(2, 19, 2)]
    drawn = [sc for sc in screens if "Tour 2/4" in sc]
    assert drawn, screens[-1]
    assert "max 3" in drawn[0], drawn[0]
    # And after the last step (every reader has exited), the verdict.
    t4 = next(t for t, label in marks if label.startswith("tour 4/4"))
    end = [screen_at(events, t4 + dt / 10, 100, 30) for dt in range(2, 21, 2)]
    assert any("COMPLETED" in sc and "Tour 4/4" in sc for sc in end), end[-1]

    still = tmp_path / "lesson-4s.svg"
    assert still.read_text(encoding="utf-8").lstrip().startswith("<svg")
    assert "still:" in r.stderr and "4 markers" not in r.stderr  # tour + queue-full marks


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "10x5"], "expected 40 to 500 columns and 10 to 200 rows, got 10x5"),
        (["--size", "wide"], "expected COLUMNSxROWS such as 100x30, got 'wide'"),
        (["--duration", "5", "--svg-at", "7"], "--svg-at: 7 s is not before the end"),
    ],
)
def test_bad_options_are_one_line_and_nothing_is_written(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "x.cast"
    r = ipcplay("record", "simplequeue-hello", "-o", str(out), *args, cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_an_output_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    r = ipcplay("record", "simplequeue-hello", "-o", str(tmp_path / "no" / "x.cast"), cwd=tmp_path)
    assert r.returncode == 2 and "does not exist" in r.stderr and r.stderr.count("\n") == 1
