"""The other families counted exactly, under fork, spawn and forkserver.

Value and Array (with their lock, and a Value updated with no lock: the lost
updates are what is missing from its value), RLock, Semaphore,
BoundedSemaphore, Event, Barrier and Condition; then a Pool, a
ProcessPoolExecutor and a Manager's list, dict, Namespace and Queue. Each
figure is read off the code below, and the run prints what a plain run prints.
"""

from __future__ import annotations

from typing import Any

import pytest
from watched import channel, names, pids, plain, process, shared, still_alive, watch, write

METHODS = ["fork", "spawn", "forkserver"]

SHARED = """
import multiprocessing as mp
import sys


def bump(total, hits, arr, rlock, sem, bsem, n):
    for _ in range(n):
        with total.get_lock():
            total.value += 1
        hits.value += 1  # no lock: updates can be lost
        with rlock:
            with rlock:
                arr[0] += 1
        with sem:
            pass
    bsem.acquire()
    bsem.release()


def wait_go(go, barrier, cond, ready):
    go.wait(20)
    barrier.wait(20)
    with cond:
        ready.value += 1
        cond.notify_all()


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1])
    total = mp.Value("i", 0)
    hits = mp.Value("i", 0)
    arr = mp.Array("d", 3)
    rlock = mp.RLock()
    sem = mp.Semaphore(2)
    bsem = mp.BoundedSemaphore(1)
    go = mp.Event()
    barrier = mp.Barrier(2)
    cond = mp.Condition()
    ready = mp.Value("i", 0, lock=False)
    work = (total, hits, arr, rlock, sem, bsem, 200)
    bumpers = [mp.Process(target=bump, args=work) for _ in "ab"]
    waiters = [mp.Process(target=wait_go, args=(go, barrier, cond, ready)) for _ in "ab"]
    for p in bumpers + waiters:
        p.start()
    with cond:  # held until wait_for lets go of it: the waiters cannot be done before
        go.set()
        cond.wait_for(lambda: ready.value == 2, 20)
    for p in bumpers + waiters:
        p.join(20)
    print(total.value, arr[:], ready.value, hits.value <= 400)
"""


@pytest.fixture(scope="module", params=METHODS)
def shared_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp(f"shared-{request.param}")
    path = write(folder, "shared_kinds.py", SHARED)
    run = watch(path.name, args=(request.param,), cwd=folder)
    report = run.report
    return plain(path.name, request.param, cwd=folder), run, report, still_alive(pids(report))


def test_shared_program_runs_as_plainly(shared_run: Any) -> None:
    expected, run, report, left = shared_run
    assert run.code == 0, run.stderr
    assert report["verdict"] == "completed"
    assert process(report, "main")["stdout"] == expected.stdout == "400 [400.0, 0.0, 0.0] 2 True\n"
    assert names(report["processes"]) == ["main", *(f"Process-{n}" for n in range(1, 5))]
    assert left == []


def test_value_and_array_updates(shared_run: Any) -> None:
    report = shared_run[2]
    total = shared(report, "total")
    assert (total["kind"], total["value"], total["updates"]) == ("Value", 400, 400)
    assert (total["acquires"], total["releases"], total["lost_updates"]) == (400, 400, 0)
    hits = shared(report, "hits")
    assert hits["updates"] == 400
    assert hits["value"] + hits["lost_updates"] == 400  # what is missing was lost
    arr = shared(report, "arr")
    assert (arr["kind"], arr["value"], arr["updates"]) == ("Array", [400.0, 0.0, 0.0], 400)
    ready = shared(report, "ready")  # lock=False: a bare ctypes value, shown, not counted
    assert (ready["kind"], ready["value"]) == ("Value", 2)


def test_locks_and_semaphores(shared_run: Any) -> None:
    report = shared_run[2]
    rlock = shared(report, "rlock")
    assert (rlock["kind"], rlock["acquires"], rlock["releases"]) == ("RLock", 800, 800)
    sem = shared(report, "sem")
    assert (sem["kind"], sem["acquires"], sem["releases"], sem["permits"]) == (
        "Semaphore",
        400,
        400,
        2,
    )
    bsem = shared(report, "bsem")
    assert (bsem["kind"], bsem["acquires"], bsem["releases"], bsem["permits"]) == (
        "BoundedSemaphore",
        2,
        2,
        1,
    )
    for name in ("rlock", "sem", "bsem"):
        assert sorted(shared(report, name)["users"]) == ["Process-1", "Process-2"]
        assert shared(report, name)["holders"] == []


def test_event_barrier_condition(shared_run: Any) -> None:
    report = shared_run[2]
    go = shared(report, "go")
    assert (go["kind"], go["sets"], go["waits"], go["is_set"]) == ("Event", 1, 2, True)
    barrier = shared(report, "barrier")
    assert (barrier["kind"], barrier["parties"], barrier["waits"], barrier["broken"]) == (
        "Barrier",
        2,
        2,
        False,
    )
    cond = shared(report, "cond")
    # As in a scenario, a wait that returns counts as an acquire (it takes the
    # lock back): three `with cond` and main's one wait_for.
    assert (cond["kind"], cond["acquires"], cond["releases"], cond["notifies"]) == (
        "Condition",
        4,
        3,
        2,
    )
    assert sorted(cond["users"]) == ["Process-3", "Process-4", "main"]
    assert report["channels"] == []


POOLS = """
import multiprocessing as mp
import sys
from concurrent.futures import ProcessPoolExecutor


def square(x):
    return x * x


def fill(items, table, n):
    items.append(n)
    table[n] = n * 10
    table["seen"] = table.get("seen", 0)


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1])
    with mp.Pool(2) as pool:
        print(pool.map(square, range(6), chunksize=2))
        print(pool.apply(square, (7,)))
        print(sorted(pool.imap_unordered(square, [1, 2])))
    with ProcessPoolExecutor(max_workers=2) as executor:
        print(list(executor.map(square, [3, 4])))
        print(executor.submit(square, 5).result())
    with mp.Manager() as manager:
        items = manager.list()
        table = manager.dict()
        ns = manager.Namespace()
        ns.x = 1
        mq = manager.Queue()
        kids = [mp.Process(target=fill, args=(items, table, n)) for n in range(3)]
        for p in kids:
            p.start()
        for p in kids:
            p.join(20)
        mq.put("m")
        print(len(table), ns.x, mq.get(timeout=20))
"""


@pytest.fixture(scope="module", params=METHODS)
def pools_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp(f"pools-{request.param}")
    path = write(folder, "pools.py", POOLS)
    run = watch(path.name, args=(request.param,), cwd=folder)
    report = run.report
    return request.param, plain(path.name, request.param, cwd=folder), run, report


def test_pools_program_runs_as_plainly(pools_run: Any) -> None:
    method, expected, run, report = pools_run
    assert run.code == 0, run.stderr
    assert report["verdict"] == "completed"  # a Pool's terminate() at its with's end is no crash
    assert process(report, "main")["stdout"] == expected.stdout
    assert expected.stdout == "[0, 1, 4, 9, 16, 25]\n49\n[1, 4]\n[9, 16]\n25\n4 1 m\n"
    prefix = {"fork": "Fork", "spawn": "Spawn", "forkserver": "ForkServer"}[method]
    assert names(report["processes"]) == [
        "main",
        f"{prefix}PoolWorker-1",
        f"{prefix}PoolWorker-2",
        f"{prefix}Process-3",  # the executor's, from its own context
        f"{prefix}Process-4",
        "SyncManager-5",
        "Process-6",
        "Process-7",
        "Process-8",
    ]
    assert still_alive(pids(report)) == []


def test_pool_messages(pools_run: Any) -> None:
    report = pools_run[3]
    tasks, results = channel(report, "pool tasks"), channel(report, "pool results")
    # map in 3 chunks of 2, one apply, imap_unordered's 2; then a sentinel per worker
    assert tasks["puts"] == 3 + 1 + 2 + 2
    assert tasks["writers"] == ["main"]
    # 6 results; a sentinel from the task handler and one at terminate(). The two
    # sentinels are put by two threads at once: one can go uncounted until
    # test_threads.py's SimpleQueue tests pass; then this is exactly 6 + 2.
    assert 6 + 1 <= results["puts"] <= 6 + 2
    assert results["readers"] == ["main"]


def test_executor_messages(pools_run: Any) -> None:
    report = pools_run[3]
    calls, results = channel(report, "executor calls"), channel(report, "executor results")
    assert (calls["puts"], calls["gets"]) == (3 + 2, 3 + 2)  # 3 calls, a None per worker
    assert results["puts"] == 3 + 2  # 3 results, and each worker's pid as it leaves
    assert calls["writers"] == ["main"] and results["readers"] == ["main"]


def test_manager_proxies(pools_run: Any) -> None:
    report = pools_run[3]
    kids = ["Process-6", "Process-7", "Process-8"]
    items = shared(report, "items")
    assert items["kind"] == "ManagerList"
    assert items["calls"]["changes"] == 3  # the three appends
    table = shared(report, "table")
    assert table["kind"] == "ManagerDict"
    # each child: two setitems and a get; main: len()
    assert (table["calls"]["calls"], table["calls"]["changes"]) == (3 * 3 + 1, 3 * 2)
    assert sorted(table["users"]) == sorted(["main", *kids])
    ns = shared(report, "ns")
    assert (ns["kind"], ns["calls"]["calls"], ns["calls"]["changes"]) == ("ManagerNamespace", 2, 1)
    mq = channel(report, "mq")
    assert (mq["kind"], mq["puts"], mq["gets"]) == ("ManagerQueue", 1, 1)
