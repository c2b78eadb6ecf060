"""`ipcplay record PROGRAM.py`: the TUI on a user's own program, recorded.

A program has no tour: the recording ends a few seconds after every one of
its processes has exited (a chapter mark says when), and what the viewer
sees at the end is the program's run screen with its verdict. Nothing of the
program is left running once the recorder is done.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil
import pyte
import pytest

from ipcplay.markers import FINISHED
from ipcplay.record import TAIL_S

PROGRAM = """\
import multiprocessing as mp


def work(tasks):
    tasks.put("done")


if __name__ == "__main__":
    tasks = mp.Queue()
    worker = mp.Process(target=work, args=(tasks,), name="worker")
    worker.start()
    print("main got", tasks.get(), flush=True)
    worker.join()
"""


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


def left_running(folder: Path) -> list[int]:
    """Processes whose command line names the folder: the program and its children."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if any(str(folder) in part for part in proc.info["cmdline"] or ()):
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


@pytest.mark.timeout(120)
def test_a_program_is_recorded_until_a_little_after_it_ends(tmp_path: Path) -> None:
    program = tmp_path / "short_queue.py"
    program.write_text(PROGRAM, encoding="utf-8")
    out = tmp_path / "short.cast"
    r = ipcplay("record", str(program), "-o", str(out), "--svg-at", "1.5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr

    lines = out.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["version"] == 2 and (header["width"], header["height"]) == (100, 30)
    assert header["title"] == "ipcplay: short_queue.py"
    events = [json.loads(line) for line in lines[1:]]
    assert sum(1 for event in events if event[1] == "o") >= 5
    ends = [at for at, code, label in events if code == "m" and label == FINISHED]
    assert len(ends) == 1
    # Not the 20 s of a recording without a tour: the tail after the end.
    assert TAIL_S - 0.1 <= header["duration"] - ends[0] <= TAIL_S + 1.0, (ends, header)
    assert header["duration"] < 15

    last = screen_at(events, header["duration"] - 0.5)
    assert "COMPLETED" in last and "short_queue.py" in last, last
    assert "worker" in last and "exited 0" in last, last
    still = tmp_path / "short-1.5s.svg"
    assert still.read_text(encoding="utf-8").lstrip().startswith("<svg")
    assert FINISHED in r.stderr, r.stderr
    assert left_running(tmp_path) == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("nothing_here.py",),
            "ipcplay: nothing_here.py: no such file (expected a Python program, a .py file, "
            "or a shipped example's file name: ipcplay list)",
        ),
        (
            ("seed001_hello_process.py", "--speed", "0.5"),
            "ipcplay: seed001_hello_process.py: --speed: a program runs at its own speed "
            "(expected 1)",
        ),
        (
            ("seed001_hello_process.py", "--svg-at", "30"),
            "ipcplay: --svg-at: 30 s is not before the end of the recording (20 s)",
        ),
    ],
    ids=["missing", "speed", "late-still"],
)
def test_a_program_that_cannot_be_recorded_so_is_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "never.cast"
    r = ipcplay("record", *args, "-o", str(out), cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.splitlines() == [message]
    assert not out.exists()
