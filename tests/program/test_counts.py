"""A program's objects are counted exactly, under fork, spawn and forkserver.

One program uses every family program mode counts today: a bounded Queue
between a producer and a slower consumer, a JoinableQueue with task_done()
and join(), SimpleQueues, a duplex Pipe (send/recv both ways), a one-way Pipe
(send_bytes/recv_bytes), a Lock two workers contend for, and a Process
subclass with run(), reached as `multiprocessing.X` and as `from
multiprocessing import X`. Every figure below is read off the code: the run
under ipcplay must report it exactly, and print what a plain run prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from watched import (
    channel,
    line_of,
    names,
    pids,
    plain,
    process,
    shared,
    still_alive,
    watch,
    write,
)

METHODS = ["fork", "spawn", "forkserver"]

EVERY_KIND = """
import multiprocessing as mp
import sys
import time
from multiprocessing import Pipe, Queue

N = 30


def producer(work):
    for i in range(N):
        work.put(i)
    work.put(None)


def consumer(work, results):
    time.sleep(0.3)  # the producer fills the bounded queue meanwhile, and waits
    total = 0
    while (item := work.get(timeout=20)) is not None:
        total += item
    results.put(total)


def tasker(tasks):
    while True:
        item = tasks.get(timeout=20)
        tasks.task_done()
        if item is None:
            break


def echo(conn):
    while (message := conn.recv()) != "stop":
        conn.send(message * 2)
    conn.close()


def byter(tx):
    for size in (1, 10, 100):
        tx.send_bytes(b"x" * size)
    tx.close()


def counter(lock, ready, rounds):
    ready.put(mp.current_process().name)
    for _ in range(rounds):
        with lock:
            pass


class Doubler(mp.Process):
    def __init__(self, n):
        super().__init__()
        self.out = mp.SimpleQueue()
        self.n = n

    def run(self):
        self.out.put(self.n * 2)


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1])
    work = mp.Queue(maxsize=2)
    results = Queue()
    tasks = mp.JoinableQueue()
    near, far = mp.Pipe()
    rx, tx = Pipe(duplex=False)
    lock = mp.Lock()
    ready = mp.SimpleQueue()
    named = [
        mp.Process(target=producer, args=(work,), name="producer"),
        mp.Process(target=consumer, args=(work, results), name="consumer"),
        mp.Process(target=tasker, args=(tasks,), name="tasker"),
        mp.Process(target=echo, args=(far,), name="echo"),
        mp.Process(target=byter, args=(tx,), name="byter"),
    ]
    lock.acquire()
    counters = [mp.Process(target=counter, args=(lock, ready, 5)) for _ in range(2)]
    doubler = Doubler(21)
    everyone = [*named, *counters, doubler]
    for p in everyone:
        p.start()
    for i in range(5):
        tasks.put(i)
    tasks.put(None)
    tasks.join()
    print("tasks done")
    for word in ("a", "b"):
        near.send(word)
        print(near.recv())
    near.send("stop")
    print(sorted(ready.get() for _ in counters))
    time.sleep(0.3)  # both counters wait for the lock the main process holds
    lock.release()
    print("total", results.get(timeout=20))
    print("doubled", doubler.out.get())
    print("sizes", [len(rx.recv_bytes()) for _ in range(3)])
    for p in everyone:
        p.join(20)
    print("exit codes", [p.exitcode for p in everyone])
"""

PROCESSES = [
    "main",
    "producer",
    "consumer",
    "tasker",
    "echo",
    "byter",
    "Process-6",  # a name's number counts every Process made, named or not
    "Process-7",
    "Doubler-8",  # a subclass is named after its class
]


@pytest.fixture(scope="module", params=METHODS)
def every_kind(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The program run once plainly and once watched, by start method."""
    method = request.param
    folder = tmp_path_factory.mktemp(f"every-kind-{method}")
    path = write(folder, "every_kind.py", EVERY_KIND)
    watched = watch(path.name, args=(method,), cwd=folder)
    report = watched.report
    left = still_alive(pids(report))
    return method, plain(path.name, method, cwd=folder), watched, report, left


def test_runs_to_the_end_as_a_plain_run_does(every_kind: Any) -> None:
    method, plain_run, watched, report, left = every_kind
    assert plain_run.code == 0, plain_run.stderr
    assert watched.code == 0, watched.stderr
    assert report["verdict"] == "completed", report["stuck"]
    assert report["program"]["exit_status"] == 0
    assert report["program"]["args"] == [method]
    assert process(report, "main")["stdout"] == plain_run.stdout
    assert plain_run.stdout.endswith("exit codes [0, 0, 0, 0, 0, 0, 0, 0]\n")
    assert left == [], f"still running after the run: {left}"


def test_every_process_by_the_name_multiprocessing_gives_it(every_kind: Any) -> None:
    _, _, _, report, _ = every_kind
    assert names(report["processes"]) == PROCESSES
    for entry in report["processes"]:
        assert entry["exitcode"] == 0, entry
        assert entry["pid"], entry
    assert len(set(pids(report))) == len(PROCESSES)


def test_bounded_queue_counts_and_full_hits(every_kind: Any) -> None:
    _, _, _, report, _ = every_kind
    work = channel(report, "work")
    assert work["kind"] == "Queue"
    assert work["maxsize"] == 2
    assert (work["puts"], work["gets"], work["depth"]) == (31, 31, 0)
    assert work["max_depth"] == 2
    assert work["full_hits"] > 0  # the producer waited while the consumer slept
    assert work["blocked_put_s"] > 0
    assert (work["writers"], work["readers"]) == (["producer"], ["consumer"])
    results = channel(report, "results")  # `from multiprocessing import Queue`
    assert (results["kind"], results["puts"], results["gets"]) == ("Queue", 1, 1)
    assert (results["writers"], results["readers"]) == (["consumer"], ["main"])


def test_joinable_queue_task_done_and_join(every_kind: Any) -> None:
    _, _, _, report, _ = every_kind
    tasks = channel(report, "tasks")
    assert tasks["kind"] == "JoinableQueue"
    assert (tasks["puts"], tasks["gets"], tasks["task_done"], tasks["unfinished"]) == (6, 6, 6, 0)
    assert (tasks["writers"], tasks["readers"]) == (["main"], ["tasker"])


def test_simple_queues_by_binding_and_attribute(every_kind: Any) -> None:
    _, _, _, report, _ = every_kind
    ready = channel(report, "ready")
    assert (ready["kind"], ready["puts"], ready["gets"]) == ("SimpleQueue", 2, 2)
    assert sorted(ready["writers"]) == ["Process-6", "Process-7"]
    assert ready["readers"] == ["main"]
    out = channel(report, "out")  # `self.out = mp.SimpleQueue()`
    assert (out["kind"], out["puts"], out["gets"]) == ("SimpleQueue", 1, 1)
    assert (out["writers"], out["readers"]) == (["Doubler-8"], ["main"])


def test_duplex_pipe_both_ways(every_kind: Any) -> None:
    _, _, _, report, _ = every_kind
    pipe = channel(report, "near/far")
    assert pipe["kind"] == "Pipe"
    assert (pipe["puts"], pipe["gets"], pipe["depth"]) == (5, 5, 0)  # a, b, stop; aa, bb
    assert sorted(pipe["writers"]) == ["echo", "main"]
    assert sorted(pipe["readers"]) == ["echo", "main"]
    ways = {(d["from"], d["to"]): (d["sent"], d["received"]) for d in pipe["directions"]}
    assert ways == {("main", "echo"): (3, 3), ("echo", "main"): (2, 2)}


def test_one_way_pipe_send_bytes(every_kind: Any) -> None:
    _, _, _, report, _ = every_kind
    pipe = channel(report, "rx/tx")
    assert (pipe["kind"], pipe["puts"], pipe["gets"]) == ("Pipe", 3, 3)
    assert pipe["bytes"] == 111  # send_bytes carries the bytes as given: 1 + 10 + 100
    assert (pipe["writers"], pipe["readers"]) == (["byter"], ["main"])


def test_lock_acquires_and_contention(every_kind: Any) -> None:
    _, _, _, report, _ = every_kind
    lock = shared(report, "lock")
    assert lock["kind"] == "Lock"
    assert (lock["acquires"], lock["releases"]) == (11, 11)  # main once, 5 by each counter
    assert lock["contended"] >= 2  # each counter's first acquire waited for main
    assert lock["holders"] == [] and lock["waiting"] == []
    assert sorted(lock["users"]) == ["Process-6", "Process-7", "main"]


def test_nothing_else_was_counted(every_kind: Any) -> None:
    _, _, _, report, _ = every_kind
    assert sorted(names(report["channels"])) == sorted(
        ["work", "results", "tasks", "near/far", "rx/tx", "ready", "out"]
    )
    assert names(report["shared"]) == ["lock"]
    assert report["program"]["uncounted_objects"] == 0
    assert report["program"]["observer_error"] is None  # every sample of ours worked


ANOTHER_CONTEXT = """
import multiprocessing as mp


def put_one(q):
    q.put("from a spawned child")


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    inbox = ctx.Queue()
    child = ctx.Process(target=put_one, args=(inbox,))
    child.start()
    print(inbox.get(timeout=20))
    child.join(20)
    print(mp.Queue().qsize())
"""


def test_get_context_queue_and_an_unbound_queue(tmp_path: Path) -> None:
    path = write(tmp_path, "other.py", ANOTHER_CONTEXT)
    run = watch(path.name, cwd=tmp_path)
    report = run.report
    assert run.code == 0, run.stderr
    assert names(report["processes"]) == ["main", "SpawnProcess-1"]
    inbox = channel(report, "inbox")
    assert (inbox["puts"], inbox["gets"]) == (1, 1)
    assert (inbox["writers"], inbox["readers"]) == (["SpawnProcess-1"], ["main"])
    # Made and used where no name binds it: named by its line.
    line = line_of(ANOTHER_CONTEXT, "mp.Queue().qsize()")
    assert names(report["channels"]) == ["inbox", f"Queue@other.py:{line}"]
    assert process(report, "main")["stdout"] == "from a spawned child\n0\n"
    assert still_alive(pids(report)) == []


QUEUES_CLASS = """
import multiprocessing as mp
import multiprocessing.queues


class Counting(multiprocessing.queues.Queue):
    def __init__(self):
        super().__init__(ctx=mp.get_context())


def put_two(q):
    q.put(1)
    q.put(2)


if __name__ == "__main__":
    box = Counting()
    child = mp.Process(target=put_two, args=(box,))
    child.start()
    print(box.get(timeout=20) + box.get(timeout=20))
    child.join(20)
"""


@pytest.mark.xfail(
    strict=True,
    reason=(
        "A Queue made from the class multiprocessing.queues.Queue (a subclass, the idiom "
        "for a queue with a method of its own) is not counted: only BaseContext's factories "
        "are patched (watch_hooks._patch_context), so the program's queue is missing from "
        "the report. Suggested fix: also wrap multiprocessing.queues.Queue/JoinableQueue/"
        "SimpleQueue.__init__ to register the instance (skipping those the factories made)."
    ),
)
def test_a_queue_made_from_the_queues_class_is_counted(tmp_path: Path) -> None:
    path = write(tmp_path, "subclass.py", QUEUES_CLASS)
    run = watch(path.name, cwd=tmp_path)
    report = run.report
    assert run.code == 0, run.stderr
    assert process(report, "main")["stdout"] == "3\n"
    box = channel(report, "box")
    assert (box["puts"], box["gets"]) == (2, 2)


BINDINGS = """
import multiprocessing as mp
from multiprocessing import Pipe, Queue


class Box:
    def __init__(self):
        self.inbox = Queue()
        self.left, self.right = Pipe()


if __name__ == "__main__":
    spread = mp.Queue(
        maxsize=3,
    )
    typed: mp.Queue = mp.Queue()
    (first, second) = mp.Pipe()
    lanes = [mp.Queue() for _ in range(2)]
    box = Box()
    print(mp.Queue().empty())
    counter = mp.Value("i", 0)
    gate = mp.Lock()
"""


def test_objects_are_named_by_what_the_program_binds_them_to(tmp_path: Path) -> None:
    """A name, an attribute, a pair, an annotated name, a call over several
    lines; a list's are numbered; one bound to nothing is named by its line."""
    path = write(tmp_path, "bindings.py", BINDINGS)
    report = watch(path.name, cwd=tmp_path).report
    unbound = line_of(BINDINGS, "print(mp.Queue().empty())")
    assert names(report["channels"]) == [
        "spread",
        "typed",
        "first/second",
        "lanes",
        "lanes#2",
        "inbox",
        "left/right",
        f"Queue@bindings.py:{unbound}",
    ]
    assert channel(report, "spread")["maxsize"] == 3
    assert names(report["shared"]) == ["counter", "gate"]


SHORT_LIVED = """
import multiprocessing as mp


def one(q, n):
    q.put(n)


if __name__ == "__main__":
    q = mp.Queue()
    total = 0
    for batch in range(20):
        ps = [mp.Process(target=one, args=(q, batch * 30 + k)) for k in range(30)]
        for p in ps:
            p.start()
        for _ in ps:
            total += q.get(timeout=20)
        for p in ps:
            p.join(20)
    print(total)
"""


def test_six_hundred_short_lived_processes_each_put_once(tmp_path: Path) -> None:
    path = write(tmp_path, "short_lived.py", SHORT_LIVED)
    for _ in range(2):
        run = watch(path.name, "--hz", "60", cwd=tmp_path, timeout=90)
        report = run.report
        assert run.code == 0, run.stderr  # none of the 600 taken for killed (-9)
        assert report["program"]["exit_status"] == 0
        assert {p["exitcode"] for p in report["processes"]} == {0}
        assert process(report, "main")["stdout"] == f"{sum(range(600))}\n"
        assert len(report["processes"]) == 601
        q = channel(report, "q")
        assert (q["puts"], q["gets"], len(q["writers"])) == (600, 600, 600)
        assert all(p["sent"] == 1 for p in report["processes"][1:])


CONNECTIONS = """
import multiprocessing as mp
import queue
import sys
from multiprocessing.connection import wait


def child(box):
    end = box.get(timeout=20)
    end.send("via a passed end")
    end.send_bytes(b"12345")


def sender(conn):
    for n in range(3):
        conn.send_bytes(bytes([n]) * 4)
    conn.close()


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1])
    box = mp.Queue()
    mine, theirs = mp.Pipe()
    p = mp.Process(target=child, args=(box,))
    p.start()
    box.put(theirs)  # a Pipe end sent through a Queue
    print(mine.recv())
    buf = bytearray(10)
    n = mine.recv_bytes_into(buf)
    print(n, bytes(buf[:n]))
    rx, tx = mp.Pipe(duplex=False)
    c = mp.Process(target=sender, args=(tx,))
    c.start()
    got = 0
    while got < 3:
        for ready in wait([rx], timeout=20):
            ready.recv_bytes()
            got += 1
    p.join(20)
    c.join(20)
    full = mp.Queue(maxsize=1)
    full.put(1)
    try:
        full.put(2, timeout=0.1)
    except queue.Full:
        print("full")
    try:
        full.get_nowait()
        full.get_nowait()
    except queue.Empty:
        print("empty")
"""


@pytest.fixture(scope="module")
def connections(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("connections")
    path = write(folder, "connections.py", CONNECTIONS)
    run = watch(path.name, args=("spawn",), cwd=folder)
    assert run.code == 0, run.stderr
    return run.report


def test_a_passed_end_wait_and_calls_that_raise(connections: dict[str, Any]) -> None:
    report = connections
    assert process(report, "main")["stdout"] == "via a passed end\n5 b'12345'\nfull\nempty\n"
    box = channel(report, "box")
    assert (box["puts"], box["gets"], box["readers"]) == (1, 1, ["Process-1"])
    passed = channel(report, "mine/theirs")
    assert (passed["puts"], passed["writers"]) == (2, ["Process-1"])
    waited = channel(report, "rx/tx")  # read after multiprocessing.connection.wait()
    assert (waited["puts"], waited["gets"], waited["bytes"]) == (3, 3, 12)
    full = channel(report, "full")  # a put that raised Full, a get that raised Empty
    assert (full["puts"], full["gets"], full["full_hits"]) == (1, 1, 1)


@pytest.mark.xfail(
    strict=True,
    reason=(
        "Connection.recv_bytes_into() is not counted: WatchedConnection.recv_bytes_into "
        "calls the raw connection, so a program reading into a buffer (the usual way with "
        "bytes or numpy) shows its messages sent and never received (puts 2, gets 1 here). "
        "Suggested fix: count it as recv_bytes is counted (the end's timed path included), "
        "the bytes being its return value."
    ),
)
def test_recv_bytes_into_is_counted(connections: dict[str, Any]) -> None:
    passed = channel(connections, "mine/theirs")
    assert (passed["puts"], passed["gets"], passed["readers"]) == (2, 2, ["main"])


ONE_LINE = """
import multiprocessing as mp

if __name__ == "__main__":
    first = mp.Lock(); second = mp.RLock()
    total = mp.Value("i"); cells = mp.Array("i", 2)
"""


def test_two_statements_on_a_line_name_each_object(tmp_path: Path) -> None:
    path = write(tmp_path, "one_line.py", ONE_LINE)
    report = watch(path.name, cwd=tmp_path).report
    assert names(report["shared"]) == ["first", "second", "total", "cells"]
