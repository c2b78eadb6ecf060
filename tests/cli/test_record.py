"""`ipcplay record`: a real TUI session in a pty, written as asciicast v2.

Checked the way its users will use it: the asciinema package reads the file,
and replaying it through a terminal emulator (pyte) shows the screens a
viewer would see, with the tour's captions at the marked times.
"""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import imageio_ffmpeg
import pyte
import pytest
from asciinema import asciicast
from PIL import Image

from ipcplay.record import TAIL_S

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
        "record", "bounded-queue", "-o", str(out), "--svg-at", "4", "--gif", "--mp4", cwd=tmp_path
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
    assert header["duration"] == times[-1]

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
    # The recording ends TAIL_S after the last step, not at a fixed length;
    # what the app draws after `q` is kept, at that moment.
    assert TAIL_S - 0.1 <= header["duration"] - t4 <= TAIL_S + 1.0, (t4, header["duration"])
    assert not [e for e in events if e[0] > header["duration"]]

    still = tmp_path / "lesson-4s.svg"
    svg = still.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<svg") and "data:font/ttf;base64," in svg
    assert "still:" in r.stderr and "4 markers" not in r.stderr  # tour + queue-full marks

    # The video: the terminal's size in cells of 10 px, several pictures,
    # as long as the recording.
    gif = Image.open(tmp_path / "lesson.gif")
    assert gif.size[0] == 100 * 10 and gif.size[1] % 30 == 0
    assert gif.n_frames >= 5 and gif.info.get("loop") == 0
    total, pictures = 0, set()
    for i in range(gif.n_frames):
        gif.seek(i)
        total += gif.info["duration"]
        pictures.add(gif.convert("RGB").tobytes())
    assert len(pictures) >= 5
    assert abs(total / 1000 - header["duration"]) < 0.2
    reader = imageio_ffmpeg.read_frames(str(tmp_path / "lesson.mp4"))
    meta = next(reader)
    assert meta["size"] == gif.size and meta["fps"] == 10
    assert abs(sum(1 for _ in reader) - header["duration"] * 10) <= 1
    assert "lesson.gif: 1000x" in r.stderr and "lesson.mp4: 1000x" in r.stderr


def test_idle_limit_bounds_every_still_stretch(tmp_path: Path) -> None:
    """Without a tour, a fixed length; the screen of a finished run changes
    about once a second (its clock), and nothing else: cut to 0.3 s."""
    out = tmp_path / "idle.cast"
    r = ipcplay(
        "record", "simplequeue-hello", "-o", str(out), "--no-tour", "--duration", "6",
        "--idle-limit", "0.3", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    header, *events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    outputs = [0.0] + [t for t, code, _ in events if code == "o"]
    assert max(b - a for a, b in pairwise(outputs)) <= 0.3 + 1e-5
    assert header["duration"] == events[-1][0] < 5.5
    assert "s of idle screen cut" in r.stderr
    marks = [t for t, code, _ in events if code == "m"]
    assert all(0 <= t <= header["duration"] for t in marks)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "10x5"], "expected 40 to 500 columns and 10 to 200 rows, got 10x5"),
        (["--size", "wide"], "expected COLUMNSxROWS such as 100x30, got 'wide'"),
        (["--duration", "5", "--svg-at", "7"], "--svg-at: 7 s is not before the end"),
        (["--svg-at", "21", "--no-tour"], "--svg-at: 21 s is not before the end"),
        (["--idle-limit", "0"], "--idle-limit: expected seconds from 0 to 86400, got 0"),
        (["--gif", "no/x.gif"], "no/x.gif: --gif: expected a file to write in an existing folder"),
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


def test_an_app_that_ends_by_itself_is_said_and_not_made_a_video(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A crash before the end is no lesson: the recorder says so, exits 1 and
    draws no GIF of a traceback; the .cast keeps what the app printed."""
    from ipcplay import record
    from ipcplay.cli import main

    crash = "import sys; print('Traceback: boom'); sys.exit(3)"
    monkeypatch.setattr(record, "APP", (sys.executable, "-c", crash))
    monkeypatch.chdir(tmp_path)
    status = main(["record", "bounded-queue", "-o", "x.cast", "--gif"])
    err = capsys.readouterr().err
    assert status == 1 and "the app ended by itself" in err and "exit status 3" in err
    assert "boom" in (tmp_path / "x.cast").read_text(encoding="utf-8")
    assert not (tmp_path / "x.gif").exists()
