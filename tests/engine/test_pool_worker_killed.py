"""A pool worker killed from outside says so, as every other process does.

The pool process reaps its workers, so the observer never learns their exit
status by itself; it showed "gone" for a worker someone ran `kill -9` on
(issue 15, item 7). The pool process now writes it on the board.
"""

from __future__ import annotations

import os
import signal

import pytest
from conftest import wait_for

from ipcplay.engine import Engine
from ipcplay.scenario import loads

SLOW_POOL = """
[scenario]
title = "a pool with slow tasks"
start_method = "{method}"
duration = 30
[[process]]
name = "pool"
role = "pool"
[process.pool]
processes = 2
method = "map_async"
function = "sleep_ms"
args = [300, 300, 300, 300, 300, 300, 300, 300]
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_pool_worker_killed_from_outside_shows_killed_by_sigkill(method):
    engine = Engine(loads(SLOW_POOL.format(method=method)))
    engine.start()
    try:

        def a_worker():
            return next(
                (p for p in engine.latest.processes if p.role == "pool-worker" and p.alive), None
            )

        victim = wait_for(a_worker, timeout=30)
        os.kill(victim.pid, signal.SIGKILL)

        def its_state():
            for p in engine.latest.processes:
                if p.pid == victim.pid and not p.alive:
                    return p
            return None

        dead = wait_for(its_state, timeout=10)
        wait_for(lambda: its_state().state != "gone", timeout=3)
        dead = its_state()
        assert dead.state == "killed by SIGKILL", dead.state
        assert dead.exitcode == -signal.SIGKILL
    finally:
        engine.shutdown()
