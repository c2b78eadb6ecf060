"""multiprocessing.Pool under ipcplay: exact counts against real processes.

Each test runs one short pool preset once (fork: the pool's own behaviour is
what is tested; spawn adds nothing but start-up time here, and test_truth
runs every preset under both).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import psutil
import pytest
from conftest import PRESETS, wait_for

from ipcplay.engine import Engine
from ipcplay.report import pool_dict
from ipcplay.scenario import ScenarioError, load, loads


def _run(name: str, **changes: object):
    scenario = replace(load(PRESETS / f"{name}.toml"), start_method="fork", **changes)
    outcome = Engine(scenario).run()
    snap = outcome.snapshot
    owners = {p.name: p for p in snap.processes if p.role == "pool"}
    workers = [p for p in snap.processes if p.role == "pool-worker"]
    return outcome, snap, owners, workers


@pytest.mark.timeout(30)
def test_seed004_map_gives_the_seeds_sums_and_every_task_is_counted_once():
    outcome, snap, owners, workers = _run("seed004-pool-map")
    assert outcome.verdict == "completed"
    (pool,) = snap.pools
    assert pool_dict(pool)["results_in_task_order"] == [1225, 4950, 11175]
    assert pool.arrived == (0, 1, 2)  # map hands results back in submission order
    assert (pool.submitted, pool.taken, pool.returned, pool.collected) == (3, 3, 3, 3)
    assert pool.failed == pool.errors == pool.queued == pool.running == 0
    assert len(workers) == pool.workers_started == 4  # Pool(processes=4), no replacement
    assert sum(w.items for w in workers) == 3
    owner = owners["pool"]
    # Real grandchildren: distinct PIDs, each a child of the pool process.
    assert len({w.pid for w in workers} | {owner.pid}) == 5
    assert all(w.ppid == owner.pid for w in workers)
    assert all(w.exitcode == 0 and w.state == "exited 0" for w in workers)


@pytest.mark.timeout(30)
def test_imap_unordered_shows_results_in_the_order_they_finished():
    outcome, snap, _, workers = _run("pool-imap-unordered")
    assert outcome.verdict == "completed"
    (pool,) = snap.pools
    assert pool.tasks == ("sleep_ms(300)", "sleep_ms(50)", "sleep_ms(200)", "sleep_ms(100)")
    assert sorted(pool.arrived) == [0, 1, 2, 3]
    assert pool.arrived[0] == 1 and pool.arrived[-1] == 0  # 50 ms first, 300 ms last
    assert list(pool.results) == [[300, 50, 200, 100][i] for i in pool.arrived]
    assert sum(w.items for w in workers) == 4


@pytest.mark.timeout(30)
def test_maxtasksperchild_replaces_workers_with_new_pids():
    outcome, snap, _, workers = _run("pool-maxtasksperchild")
    assert outcome.verdict == "completed"
    (pool,) = snap.pools
    assert pool_dict(pool)["results_in_task_order"] == [x * x for x in range(6)]
    assert sum(w.items for w in workers) == 6
    assert all(w.items <= 2 for w in workers)
    assert pool.workers_started == len(workers) >= 3  # six tasks, two per worker life
    assert len({w.pid for w in workers}) == len(workers)
    retired = [w for w in workers if w.items == 2]
    assert retired and all(w.state == "exited 0" for w in retired)


@pytest.mark.timeout(30)
def test_a_killed_worker_hangs_map_and_the_hang_names_the_lost_task():
    outcome, snap, _, workers = _run("pool-killed-worker-hang")
    assert outcome.verdict == "hang"
    assert snap.stuck is not None and snap.stuck.processes == ("pool",)
    assert "task 1 sum_range(100) was lost" in snap.stuck.description
    killed = [w for w in workers if w.state == "killed by SIGKILL"]
    assert len(killed) == 1 and killed[0].exitcode == -signal.SIGKILL
    (pool,) = snap.pools
    assert pool.lost == (1,) and pool.taken == 4 and pool.returned == 3
    assert pool.workers_started >= 3  # the Pool replaced the dead worker
    # Detected within 2 s of the wait becoming hopeless (the run starts a
    # fork pool in well under a second here).
    assert outcome.duration_s < 3.0


@pytest.mark.timeout(30)
def test_the_fixed_pool_times_out_resubmits_and_completes():
    outcome, snap, _, _ = _run("pool-killed-worker-fixed")
    assert outcome.verdict == "completed", snap.stuck
    (pool,) = snap.pools
    assert pool_dict(pool)["results_in_task_order"] == [1225, 4950, 11175, 19900]
    assert (pool.timeouts, pool.resubmitted, pool.submitted) == (1, 1, 5)


@pytest.mark.timeout(30)
def test_a_workers_exception_crashes_the_owner_only_at_get():
    outcome, snap, owners, _ = _run("pool-error-at-get")
    assert outcome.verdict == "crashed"
    assert owners["pool"].error == "ValueError: square(3): bad input 3"
    (pool,) = snap.pools
    assert (pool.returned, pool.failed, pool.callbacks, pool.error_callbacks) == (4, 1, 3, 0)
    assert pool.state == "joined"  # close() and join() returned as if all was well


@pytest.mark.timeout(30)
def test_error_callback_hears_the_exception_and_the_run_completes():
    outcome, snap, owners, _ = _run("pool-error-callback")
    assert outcome.verdict == "completed"
    assert owners["pool"].error == ""
    (pool,) = snap.pools
    assert (pool.failed, pool.callbacks, pool.error_callbacks, pool.errors) == (1, 3, 1, 1)
    assert dict(zip(pool.arrived, pool.results, strict=True)) == {0: 1, 1: 4, 2: "error", 3: 16}


LONG_POOL = """
[scenario]
title = "a pool that outlives its observer"
start_method = "fork"
duration = 30
[[process]]
name = "pool"
role = "pool"
[process.pool]
processes = 2
method = "map"
function = "sleep_ms"
args = [20000, 20000]
"""


@pytest.mark.timeout(30)
def test_pool_workers_die_with_a_sigkilled_observer(tmp_path):
    path = tmp_path / "long.toml"
    path.write_text(LONG_POOL, encoding="utf-8")
    observer = subprocess.Popen(
        [sys.executable, "-m", "ipcplay", "run", str(path), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        me = psutil.Process(observer.pid)
        wait_for(lambda: len(me.children(recursive=True)) >= 3, timeout=15)
        family = me.children(recursive=True)
        os.kill(observer.pid, signal.SIGKILL)
        observer.wait(10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(
            p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family
        ):
            time.sleep(0.05)
        assert not [p.pid for p in family if p.is_running() and p.status() != "zombie"]
    finally:
        if observer.poll() is None:
            observer.kill()
            observer.wait(10)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("processes = 0\nargs = [1]", "process[0].pool.processes: expected a whole number from 1"),
        ('method = "mapp"\nargs = [1]', "did you mean 'map'"),
        ('function = "eval"\nargs = [1]', "process[0].pool.function: expected one of"),
        ('method = "map"\nargs = [[1, 2]]', "use starmap for lists"),
        ("callback = true\nargs = [1]", "needs an *_async method"),
        ('args = [1]\nfinally = ["join"]', "join comes after close or terminate"),
    ],
)
def test_bad_pool_keys_get_one_line_errors(body, message):
    head = '[scenario]\ntitle = "t"\n[[process]]\nname = "p"\nrole = "pool"\n'
    text = f"{head}[process.pool]\n{body}\n"
    with pytest.raises(ScenarioError) as err:
        loads(text, source="bad.toml")
    assert message in str(err.value) and "\n" not in str(err.value)
