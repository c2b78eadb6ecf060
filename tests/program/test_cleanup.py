"""Nothing of a watched program outlives its run, on any exit path (issue 17, part 7).

The program below leaves as much behind as a program can: children that never
end, their own children, a child that leaves the program's process group
(setsid), a bare os.fork() child ipcplay cannot count, and, by start method,
multiprocessing's resource tracker and fork server. It writes every pid it
makes to a file, so the test knows them all, whatever the report says. Each
way a run can end is tried: its --duration, SIGTERM, SIGINT and Ctrl+C at
ipcplay, and SIGKILL of ipcplay itself, which only the guardian process
(engine/watch_guard.py) survives to clean up after.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from watched import (  # noqa: F401 - adopt_orphans is a fixture, used by name
    adopt_orphans,
    alive,
    kill_all,
    left_in_shm,
    pids,
    plain_env,
    process,
    remove_from_shm,
    shm,
    still_alive,
    watch,
    write,
)

EVERYTHING = """
import multiprocessing as mp
import os
import sys
import time

NOTES = sys.argv[2]


def note(*words):
    with open(NOTES, "a") as file:  # one small write: appends never interleave
        file.write(" ".join(map(str, words)) + "\\n")


def forever():
    while True:
        time.sleep(0.05)


def child():
    g = mp.Process(target=forever, name="grandchild")
    g.start()
    note("grandchild", g.pid)
    forever()


def leaver():
    os.setsid()  # out of the program's process group
    forever()


if __name__ == "__main__":
    method = sys.argv[1]
    mp.set_start_method(method)
    bare = os.fork()
    if bare == 0:
        forever()
    q = mp.Queue()
    lock = mp.Lock()
    kids = [mp.Process(target=child, name=f"child{n}") for n in range(2)]
    kids.append(mp.Process(target=leaver, name="leaver"))
    kids.append(mp.Process(target=forever, name="daemon", daemon=True))
    for p in kids:
        p.start()
    note("main", os.getpid())
    note("bare", bare)
    for p in kids:
        note(p.name, p.pid)
    if method == "forkserver":
        from multiprocessing import forkserver

        note("forkserver", forkserver._forkserver._forkserver_pid)
    from multiprocessing import resource_tracker

    if resource_tracker._resource_tracker._pid:
        note("resource_tracker", resource_tracker._resource_tracker._pid)
    note("ready")
    q.put("x")
    with lock:
        forever()
"""


def _notes(path: Path) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text(encoding="utf-8").splitlines():
            tag, *rest = line.split()
            found.setdefault(tag, []).extend(int(x) for x in rest)
    return found


def _all_noted(path: Path, timeout: float = 30.0) -> list[int]:
    """Every pid the program made, once it says it is ready and both grandchildren exist."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        notes = _notes(path)
        if "ready" in notes and len(notes.get("grandchild", [])) == 2:
            return [pid for tag, found in notes.items() if tag != "ready" for pid in found]
        time.sleep(0.02)
    raise AssertionError(f"the program did not start everything in time: {_notes(path)}")


def _start(folder: Path, method: str, *options: str) -> tuple[subprocess.Popen[bytes], Path]:
    path = write(folder, "everything.py", EVERYTHING)
    notes = folder / "pids.txt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipcplay", "run", path.name, *options, "--", method, str(notes)],
        cwd=folder,
        env=plain_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        process_group=0,  # its own group, as a shell job
    )
    return proc, notes


def _check_gone(every: list[int], within: float = 3.0) -> None:
    left = still_alive(every, within)
    kill_all(left)
    assert left == [], f"still running {within} s after the run: {left}"


def _killed(folder: Path, method: str) -> tuple[list[int], set[str]]:
    """Run EVERYTHING, SIGKILL ipcplay once all of it runs: the pids still
    running 3 s later, and what was left in /dev/shm (then removed)."""
    before = shm()
    proc, notes = _start(folder, method, "--json")
    left: list[int] = []
    try:
        every = _all_noted(notes)
        assert all(alive(pid) for pid in every), _notes(notes)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        left = still_alive(every, 3.0)
        kill_all(left)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
        leaked = left_in_shm(before)
        remove_from_shm(leaked)
    return left, leaked


@pytest.mark.usefixtures("adopt_orphans")
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_sigkill_of_ipcplay_leaves_nothing(tmp_path: Path, method: str) -> None:
    """No process, and no semaphore: under spawn and forkserver a Lock's or a
    Queue's is named in /dev/shm until multiprocessing's resource tracker
    unlinks it, so the guardian must let the tracker outlive the rest."""
    left, leaked = _killed(tmp_path, method)
    assert left == [], f"still running 3 s after ipcplay was killed: {left}"
    assert leaked == set(), f"left in /dev/shm: {sorted(leaked)}"


def _settled(notes: Path) -> list[int]:
    """Every pid noted, and long enough after (two samples at 10 Hz) that
    ipcplay has seen them all: see test_a_process_started_just_before_ipcplay_stops."""
    every = _all_noted(notes)
    time.sleep(0.3)
    return every


@pytest.mark.parametrize(
    ("how", "sig"),
    [("pid", signal.SIGTERM), ("pid", signal.SIGINT), ("group", signal.SIGINT)],
    ids=["sigterm", "sigint", "ctrl-c"],
)
def test_sigterm_and_sigint_stop_the_run_with_130(tmp_path: Path, how: str, sig: int) -> None:
    before = shm()
    proc, notes = _start(tmp_path, "spawn", "--json")
    try:
        every = _settled(notes)
        if how == "pid":
            os.kill(proc.pid, sig)
        else:  # a terminal's Ctrl+C: the whole foreground group
            os.killpg(proc.pid, sig)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err.decode()
        report = json.loads(out)
        assert report["verdict"] == "interrupted"
        assert set(pids(report)) <= set(every)
        assert all(p["stopped_by_ipcplay"] for p in report["processes"]), report["processes"]
        _check_gone(every, within=3.0)
        assert left_in_shm(before) == set()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


LATE_START = """
import multiprocessing as mp
import sys
import time


def forever():
    while True:
        time.sleep(0.05)


if __name__ == "__main__":
    time.sleep(0.5)
    p = mp.Process(target=forever, name="late")
    p.start()
    with open(sys.argv[1], "w") as file:
        file.write(f"{p.pid}\\n")
    forever()
"""


def test_a_process_started_just_before_ipcplay_stops_is_stopped_by_ipcplay(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "late.py", LATE_START)
    notes = tmp_path / "late.txt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipcplay", "run", path.name, "--json", "--hz", "0.5", "--", notes],
        cwd=tmp_path,
        env=plain_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not (notes.exists() and notes.read_text().endswith("\n")):
            assert time.monotonic() < deadline, "the program did not start its child"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        report = json.loads(out)
        _check_gone(pids(report), within=3.0)
        assert process(report, "late")["stopped_by_ipcplay"], report["processes"]
        assert (proc.returncode, report["verdict"]) == (130, "interrupted")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


def test_duration_leaves_nothing_running(tmp_path: Path) -> None:
    """The orderly end: SIGINT, SIGTERM, SIGKILL to the group and to every
    registered process, the one that left the group included."""
    before = shm()
    proc, notes = _start(tmp_path, "fork", "--json", "--duration", "2.5")
    try:
        every = _all_noted(notes)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 3, err.decode()
        report = json.loads(out)
        assert report["verdict"] == "timeout"
        assert sorted(p["name"] for p in report["processes"]) == sorted(
            ["main", "child0", "child1", "leaver", "daemon", "grandchild", "grandchild"]
        )
        assert all(p["stopped_by_ipcplay"] for p in report["processes"]), report["processes"]
        _check_gone(every, within=3.0)
        assert left_in_shm(before) == set()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


GRANDCHILDREN = """
import multiprocessing as mp


def leaf(q, n):
    q.put(n)


def branch(q, n):
    kids = [mp.Process(target=leaf, args=(q, n * 10 + k)) for k in range(2)]
    for p in kids:
        p.start()
    for p in kids:
        p.join(20)


if __name__ == "__main__":
    mp.set_start_method("spawn")  # named semaphores, unlinked only at the end
    q = mp.Queue()
    branches = [mp.Process(target=branch, args=(q, n), name=f"branch{n}") for n in range(3)]
    for p in branches:
        p.start()
    print(sorted(q.get(timeout=20) for _ in range(6)))
    for p in branches:
        p.join(20)
"""


def test_a_finished_run_leaves_no_process_and_no_segment(tmp_path: Path) -> None:
    before = shm()
    path = write(tmp_path, "tree.py", GRANDCHILDREN)
    run = watch(path.name, cwd=tmp_path)
    report = run.report
    assert run.code == 0, run.stderr
    assert report["processes"][0]["stdout"] == "[0, 1, 10, 11, 20, 21]\n"
    assert len(report["processes"]) == 1 + 3 + 6
    q = report["channels"][0]
    assert (q["puts"], q["gets"], len(q["writers"])) == (6, 6, 6)
    _check_gone(pids(report), within=1.0)
    # The board is a memfd and the output socket abstract: ipcplay names
    # nothing in /dev/shm, and the program's semaphores are gone with it.
    assert left_in_shm(before) == set()
