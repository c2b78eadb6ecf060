"""Threads of one process putting and getting on the same object are all counted.

In a scenario each process makes its calls from one thread; a program's
process may have several (a Pool's task handler and its main thread both put
a sentinel on the result queue as it ends). Every call must still count once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from watched import channel, process, watch, write

THREADED = """
import multiprocessing as mp
import sys
import threading

N, T = 2000, 4


def drain(q, n):
    for _ in range(n):
        q.get(timeout=20)


def drain_pipe(conn, n):
    for _ in range(n):
        conn.recv()


def feed(q):
    for i in range(N):
        q.put(i)


def send(conn, lock):
    for i in range(N):
        with lock:
            conn.send(i)


def take(q, n, out):
    for _ in range(n):
        out.append(q.get())


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "Queue":
        box = mp.Queue()
        reader = mp.Process(target=drain, args=(box, N * T))
        writers = [threading.Thread(target=feed, args=(box,)) for _ in range(T)]
    elif kind == "SimpleQueue":
        box = mp.SimpleQueue()
        reader = mp.Process(target=drain, args=(box, N * T))
        writers = [threading.Thread(target=feed, args=(box,)) for _ in range(T)]
    elif kind == "Pipe":
        box, far = mp.Pipe()
        reader = mp.Process(target=drain_pipe, args=(far, N * T))
        lock = threading.Lock()
        writers = [threading.Thread(target=send, args=(box, lock)) for _ in range(T)]
    else:  # SimpleQueue read by threads
        box = mp.SimpleQueue()
        reader = None
        writers = [mp.Process(target=feed, args=(box,)) for _ in range(T)]
    for w in writers:
        w.start()
    got = []
    if reader is None:
        takers = [threading.Thread(target=take, args=(box, N, got)) for _ in range(T)]
        for t in takers:
            t.start()
        for t in takers:
            t.join()
    else:
        reader.start()
        reader.join(60)
    for w in writers:
        w.join(60)
    print("done", len(got))
"""


def _counts(tmp_path: Path, kind: str) -> tuple[int, int]:
    path = write(tmp_path, "threaded.py", THREADED)
    run = watch(path.name, args=(kind,), cwd=tmp_path, timeout=90)
    report = run.report
    assert run.code == 0, run.stderr
    assert process(report, "main")["stdout"].startswith("done")
    box = report["channels"][0]["name"]
    got = channel(report, box)
    return got["puts"], got["gets"]


@pytest.mark.parametrize("kind", ["Queue", "Pipe"])
def test_threads_putting_on_one_queue_or_pipe_are_all_counted(tmp_path: Path, kind: str) -> None:
    assert _counts(tmp_path, kind) == (8000, 8000)


THREADS_REASON = (
    "Threads of one process putting on (or getting from) one SimpleQueue lose counts "
    "(2000 to 3500 of 8000 puts counted; a Pool's result queue is 7 puts instead of 8 "
    "now and then, its task handler and main thread each putting a sentinel at "
    "terminate()). channels_pipe.InstrumentedSimpleQueue.put reads `n = self._nout + 1` "
    "before the send, which releases the GIL and waits for the queue's _wlock, and writes "
    "`self._nout = n` after: two threads both write the same n. get does the same with "
    "_nin around _rlock. Suggested fix: update _nout/_bout (and the journal) inside the "
    "`with wlock:` block that already serialises writers (and _nin/_bin inside `with "
    "self._rlock:`), or re-read the counters after the call; the same in the Pipe and "
    "Queue ends wherever the count is read before a call that can release the GIL."
)


@pytest.mark.xfail(strict=True, reason=THREADS_REASON)
def test_threads_putting_on_one_simple_queue_are_all_counted(tmp_path: Path) -> None:
    assert _counts(tmp_path, "SimpleQueue") == (8000, 8000)


@pytest.mark.xfail(strict=True, reason=THREADS_REASON)
def test_threads_getting_from_one_simple_queue_are_all_counted(tmp_path: Path) -> None:
    assert _counts(tmp_path, "SimpleQueue read by threads") == (8000, 8000)
