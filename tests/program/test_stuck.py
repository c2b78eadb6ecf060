"""A stuck program is named, with the line of the user's code each process waits on.

The verdict and exit status are a scenario's (deadlock 4, hang 5), and the
banner names every process in it and where in the program's own file it is
blocked: the line a student has to read (issue 17, part 3).
"""

from __future__ import annotations

import re
from pathlib import Path

from watched import line_of, pids, still_alive, watch, write

DEADLOCK = """
import multiprocessing as mp
import time


def one(first, second):
    with first:
        time.sleep(0.3)
        with second:
            pass


def two(first, second):
    with second:
        time.sleep(0.3)
        with first:
            pass


if __name__ == "__main__":
    first = mp.Lock()
    second = mp.Lock()
    a = mp.Process(target=one, args=(first, second), name="alice")
    b = mp.Process(target=two, args=(first, second), name="bob")
    a.start()
    b.start()
    a.join()
    b.join()
"""


def test_two_locks_in_opposite_order_is_a_deadlock_with_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "deadlock.py", DEADLOCK)
    run = watch(path.name, cwd=tmp_path)
    report = run.report
    assert run.code == 4, run.stderr
    assert report["verdict"] == "deadlock"
    stuck = report["stuck"]
    assert stuck["kind"] == "deadlock"
    assert {"alice", "bob"} <= set(stuck["processes"])
    where = line_of(DEADLOCK, "        with second:"), line_of(DEADLOCK, "        with first:")
    text = stuck["description"]
    assert (
        f"alice holds 'first' and is blocked in acquire on 'second' at deadlock.py:{where[0]}"
        in text
    ), text
    assert (
        f"bob holds 'second' and is blocked in acquire on 'first' at deadlock.py:{where[1]}" in text
    ), text
    cycle = {w["waiter"]: w for w in stuck["waits"] if w["in_cycle"]}
    assert cycle["alice"]["waits_for"] == ["bob"] and cycle["alice"]["object"] == "second"
    assert cycle["bob"]["waits_for"] == ["alice"] and cycle["bob"]["object"] == "first"
    join = line_of(DEADLOCK, "    a.join()")
    assert f"main is blocked in join on 'alice' at deadlock.py:{join}" in text
    assert still_alive(pids(report)) == []


def test_the_deadlock_banner_follows_the_report_on_stderr(tmp_path: Path) -> None:
    path = write(tmp_path, "deadlock.py", DEADLOCK)
    run = watch(path.name, cwd=tmp_path, json_report=False)
    assert run.code == 4
    assert run.out == b""  # the program printed nothing: stdout is the program's alone
    assert re.search(r"^verdict: deadlock after [\d.]+ s", run.stderr, re.M), run.stderr
    assert "alice → bob → alice" in run.stderr or "bob → alice → bob" in run.stderr


HANG = """
import multiprocessing as mp


def waiter(inbox):
    print("waiting", flush=True)
    inbox.get()


if __name__ == "__main__":
    inbox = mp.Queue()
    p = mp.Process(target=waiter, args=(inbox,), name="waiter")
    p.start()
    p.join()
"""


def test_a_get_nobody_will_answer_is_a_hang_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "hang.py", HANG)
    run = watch(path.name, cwd=tmp_path)
    report = run.report
    assert run.code == 5, run.stderr
    assert report["verdict"] == "hang"
    stuck = report["stuck"]
    get = line_of(HANG, "inbox.get()")
    assert (
        f"waiter is blocked in get on 'inbox' at hang.py:{get} (queue empty)"
        in (stuck["description"])
    ), stuck["description"]
    join = line_of(HANG, "p.join()")
    assert f"main is blocked in join on 'waiter' at hang.py:{join}" in stuck["description"]
    assert {"main", "waiter"} == set(stuck["processes"])
    assert report["program"]["exit_status"] is not None  # stopped, and reaped
    assert still_alive(pids(report)) == []


PIPE_HANG = """
import multiprocessing as mp


def listen(end):
    end.recv()


if __name__ == "__main__":
    mine, theirs = mp.Pipe()
    p = mp.Process(target=listen, args=(theirs,), name="listener")
    p.start()
    p.join()
"""


def test_a_recv_nobody_sends_to_is_a_hang_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "pipe_hang.py", PIPE_HANG)
    report = watch(path.name, cwd=tmp_path).report
    assert report["verdict"] == "hang"
    recv = line_of(PIPE_HANG, "end.recv()")
    text = report["stuck"]["description"]
    assert f"listener is blocked in recv on 'mine/theirs' at pipe_hang.py:{recv}" in text, text
    assert still_alive(pids(report)) == []


LOCK_HANG = """
import multiprocessing as mp


def take(lock):
    lock.acquire()  # the child waits here


if __name__ == "__main__":
    lock = mp.Lock()
    lock.acquire()
    print("main holds the lock and waits for its child", flush=True)
    p = mp.Process(target=take, args=(lock,), name="taker")
    p.start()
    p.join()
"""


def test_a_parent_joining_a_child_that_waits_for_its_lock_is_stuck(tmp_path: Path) -> None:
    """main holds the lock and joins; taker waits for the lock: a cycle through join."""
    path = write(tmp_path, "lock_hang.py", LOCK_HANG)
    report = watch(path.name, cwd=tmp_path).report
    assert report["verdict"] == "deadlock", report["stuck"]
    text = report["stuck"]["description"]
    acquire = line_of(LOCK_HANG, "# the child waits here")
    join = line_of(LOCK_HANG, "p.join()")
    assert f"taker is blocked in acquire on 'lock' at lock_hang.py:{acquire}" in text, text
    assert f"main is blocked in join on 'taker' at lock_hang.py:{join}" in text, text
    assert still_alive(pids(report)) == []


POOL_LOSES_A_TASK = """
import multiprocessing as mp
import os


def work(x):
    if x == 3:
        os._exit(1)  # the worker dies with its task: the Pool starts another, the task is lost
    return x


if __name__ == "__main__":
    with mp.Pool(2) as pool:
        print(pool.map(work, range(6)))
"""


def test_a_pool_that_lost_a_task_is_a_hang_at_the_map_line(tmp_path: Path) -> None:
    path = write(tmp_path, "pool_lost.py", POOL_LOSES_A_TASK)
    run = watch(path.name, "--duration", "6", cwd=tmp_path)
    report = run.report
    assert still_alive(pids(report)) == []
    assert report["verdict"] == "hang", report["stuck"]
    line = line_of(POOL_LOSES_A_TASK, "pool.map(")
    assert f"pool_lost.py:{line}" in report["stuck"]["description"]


MISSING_TASK_DONE = """
import multiprocessing as mp


def worker(tasks):
    for n in range(3):
        tasks.get()
        if n < 2:
            tasks.task_done()  # the third task is never marked done


if __name__ == "__main__":
    tasks = mp.JoinableQueue()
    w = mp.Process(target=worker, args=(tasks,), name="worker")
    w.start()
    for n in range(3):
        tasks.put(n)
    tasks.join()
"""


def test_a_join_waiting_for_a_task_done_nobody_will_call_is_a_hang(tmp_path: Path) -> None:
    path = write(tmp_path, "no_task_done.py", MISSING_TASK_DONE)
    report = watch(path.name, "--duration", "5", cwd=tmp_path).report
    assert still_alive(pids(report)) == []
    assert report["verdict"] == "hang", report["stuck"]
    line = line_of(MISSING_TASK_DONE, "tasks.join()")
    assert (
        f"main is blocked in join on 'tasks' at no_task_done.py:{line}"
        in (report["stuck"]["description"])
    )


EVENT_NOBODY_SETS = """
import multiprocessing as mp


def waiter(ev):
    ev.wait()


if __name__ == "__main__":
    ev = mp.Event()
    ps = [mp.Process(target=waiter, args=(ev,), name=f"w{n}") for n in range(2)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
"""


def test_an_event_nobody_sets_is_a_hang_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "event_hang.py", EVENT_NOBODY_SETS)
    report = watch(path.name, cwd=tmp_path).report
    assert report["verdict"] == "hang", report["stuck"]
    line = line_of(EVENT_NOBODY_SETS, "ev.wait()")
    for name in ("w0", "w1"):
        assert (
            f"{name} is blocked in wait on 'ev' at event_hang.py:{line} (Event not set)"
            in (report["stuck"]["description"])
        )
    assert still_alive(pids(report)) == []
