"""Bad input and faulty programs: a clear verdict, the program's own status (issue 17, part 7).

A program that cannot run is bad input: one line naming it, exit 2, no
traceback, nothing started. A program that runs and fails is the program's
business: its status and traceback are reported as its own.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from watched import ipcplay, names, pids, plain, process, still_alive, watch, write


def _one_line_exit_2(run_words: list[str], named: str, cwd: Path) -> None:
    run = ipcplay(*run_words, cwd=cwd, timeout=30)
    assert run.code == 2, (run.code, run.stderr)
    assert run.out == b""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert named in lines[0], lines[0]
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("mode", ["run", "tui"])
@pytest.mark.parametrize(
    ("words", "named"),
    [
        (["nosuch.py"], "nosuch.py: no such file"),
        (["folder.py"], "folder.py: is a folder"),
        (["broken.py"], "broken.py:2: SyntaxError"),
        (["-m", "nosuch_module_here"], "no module named 'nosuch_module_here'"),
    ],
    ids=["missing", "folder", "syntax", "no-module"],
)
def test_a_program_that_cannot_run_is_one_line_and_exit_2(
    tmp_path: Path, mode: str, words: list[str], named: str
) -> None:
    (tmp_path / "folder.py").mkdir()
    marker = tmp_path / "ran"
    write(tmp_path, "broken.py", f"open({str(marker)!r}, 'w').close()\nx = (\n")
    _one_line_exit_2(["run", *words] if mode == "run" else words, named, tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--bogus"], "--bogus"),
        (["--duration", "abc"], "--duration"),
        (["--journal", "no/such/folder/run.jsonl"], "--journal"),
    ],
    ids=["unknown", "duration", "journal"],
)
def test_a_bad_option_is_one_line_and_exit_2_with_nothing_run(
    tmp_path: Path, options: list[str], named: str
) -> None:
    marker = tmp_path / "ran"
    write(tmp_path, "fine.py", f"open({str(marker)!r}, 'w').close()\n")
    _one_line_exit_2(["run", "fine.py", *options], named, tmp_path)
    assert not marker.exists()


def test_a_folder_without_py_is_named_too(tmp_path: Path) -> None:
    (tmp_path / "somewhere").mkdir()
    _one_line_exit_2(["run", "somewhere"], "somewhere", tmp_path)


RAISES_FIRST = """
import multiprocessing as mp

print("about to fail", flush=True)
raise RuntimeError("before any process")
"""


def test_raises_before_starting_any_process(tmp_path: Path) -> None:
    path = write(tmp_path, "early.py", RAISES_FIRST)
    run = watch(path.name, cwd=tmp_path)
    report = run.report
    assert run.code == 6
    assert report["verdict"] == "crashed"
    assert report["program"]["exit_status"] == 1
    main = process(report, "main")
    assert names(report["processes"]) == ["main"]
    assert main["exitcode"] == 1
    assert main["stdout"] == "about to fail\n"
    assert main["stderr"].endswith("RuntimeError: before any process\n")
    assert main["error"] == "RuntimeError: before any process"


RAISES_AFTER = """
import multiprocessing as mp
import time


def work(q):
    time.sleep(0.3)
    for n in range(3):
        q.put(n)


if __name__ == "__main__":
    q = mp.Queue()
    p = mp.Process(target=work, args=(q,), name="worker")
    p.start()
    raise RuntimeError("after starting a process")
"""


def test_raises_after_starting_a_process_that_still_runs_to_its_end(tmp_path: Path) -> None:
    """As in a plain run, the traceback comes first, then multiprocessing's exit
    handler waits for the non-daemonic child, which finishes its puts."""
    path = write(tmp_path, "late.py", RAISES_AFTER)
    assert plain(path.name, cwd=tmp_path).code == 1
    report = watch(path.name, cwd=tmp_path).report
    assert report["program"]["exit_status"] == 1
    assert process(report, "main")["stderr"].endswith("RuntimeError: after starting a process\n")
    assert process(report, "worker")["exitcode"] == 0
    q = report["channels"][0]
    assert (q["name"], q["puts"], q["gets"], q["writers"]) == ("q", 3, 0, ["worker"])
    assert still_alive(pids(report)) == []


OS_EXIT_MAIN = """
import multiprocessing as mp
import os
import sys


def work(q):
    q.put("hi")


if __name__ == "__main__":
    q = mp.Queue()
    p = mp.Process(target=work, args=(q,))
    p.start()
    print(q.get(timeout=20))
    p.join(20)
    sys.stdout.flush()
    os._exit(5)
"""


def test_os_exit_in_main(tmp_path: Path) -> None:
    path = write(tmp_path, "exit_main.py", OS_EXIT_MAIN)
    assert plain(path.name, cwd=tmp_path).code == 5
    report = watch(path.name, cwd=tmp_path).report
    assert report["program"]["exit_status"] == 5
    assert process(report, "main")["exitcode"] == 5
    assert process(report, "main")["stdout"] == "hi\n"
    assert process(report, "Process-1")["exitcode"] == 0


OS_EXIT_CHILD = """
import multiprocessing as mp
import os


def die():
    print("leaving", flush=True)
    os._exit(5)


if __name__ == "__main__":
    kids = [mp.Process(target=die, name=f"dier{n}") for n in range(3)]
    for p in kids:
        p.start()
    for p in kids:
        p.join(20)
    print("the program saw", [p.exitcode for p in kids])
"""


def test_os_exit_in_a_child_runs_and_is_seen_by_the_program(tmp_path: Path) -> None:
    path = write(tmp_path, "exit_child.py", OS_EXIT_CHILD)
    report = watch(path.name, cwd=tmp_path).report
    assert process(report, "main")["stdout"] == "the program saw [5, 5, 5]\n"
    assert report["program"]["exit_status"] == 0
    for n in range(3):
        assert process(report, f"dier{n}")["stdout"] == "leaving\n"
    assert still_alive(pids(report)) == []


def test_os_exit_in_a_child_is_its_exit_code(tmp_path: Path) -> None:
    """The child says nothing as it ends; its parent reaps it at once, and says its code."""
    path = write(tmp_path, "exit_child.py", OS_EXIT_CHILD)
    report = watch(path.name, cwd=tmp_path).report
    assert [process(report, f"dier{n}")["exitcode"] for n in range(3)] == [5, 5, 5]


def test_no_multiprocessing_at_all(tmp_path: Path) -> None:
    path = write(tmp_path, "plain.py", "import sys\nprint('just a print', sys.argv[1:])\n")
    run = watch(path.name, args=("a",), cwd=tmp_path)
    report = run.report
    assert run.code == 0, run.stderr
    assert report["verdict"] == "completed"
    assert names(report["processes"]) == ["main"]
    assert report["channels"] == [] and report["shared"] == []
    assert process(report, "main")["stdout"] == "just a print ['a']\n"


THREADS = """
import queue
import threading

q = queue.Queue()


def work(n):
    q.put(n * n)


threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(q.get() for _ in threads))
"""


def test_threads_only(tmp_path: Path) -> None:
    path = write(tmp_path, "threads.py", THREADS)
    expected = plain(path.name, cwd=tmp_path)
    run = watch(path.name, cwd=tmp_path)
    report = run.report
    assert run.code == 0, run.stderr
    assert report["verdict"] == "completed"
    assert names(report["processes"]) == ["main"]
    assert process(report, "main")["stdout"] == expected.stdout == "[0, 1, 4, 9]\n"


FOREVER = """
import multiprocessing as mp
import signal
import time


def spin():
    while True:
        time.sleep(0.05)


def stubborn():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(0.05)


if __name__ == "__main__":
    mp.Process(target=spin, name="spinner").start()
    mp.Process(target=stubborn, name="stubborn").start()
    while True:
        time.sleep(0.05)
"""


def test_a_program_that_never_ends_is_stopped_by_duration(tmp_path: Path) -> None:
    """Even a child that ignores SIGINT and SIGTERM: it is killed, and reaped."""
    path = write(tmp_path, "forever.py", FOREVER)
    t0 = time.monotonic()
    run = watch(path.name, "--duration", "1", cwd=tmp_path, timeout=30)
    took = time.monotonic() - t0
    report = run.report
    assert run.code == 3, run.stderr
    assert report["verdict"] == "timeout"
    assert names(report["processes"]) == ["main", "spinner", "stubborn"]
    assert report["program"]["exit_status"] is not None
    assert still_alive(pids(report)) == []
    assert took < 10, f"--duration 1 took {took:.1f} s"
