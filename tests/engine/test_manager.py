"""Manager objects and queues on real server processes: exact per-method counts,
seed 003's numbers, the server's life, the remote manager's address, the hang."""

from __future__ import annotations

import json
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
from ipcplay.scenario import load


def _run(name: str, method: str = "fork"):
    scenario = replace(load(PRESETS / f"{name}.toml"), start_method=method)
    return Engine(scenario).run()


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.timeout(60)
def test_seed003_list_counts_every_append_and_ends_with_the_seeds_items():
    outcome = _run("seed003-manager-list")
    assert outcome.verdict == "completed"
    (ml,) = outcome.snapshot.shared
    assert sorted(ml.value) == sorted([11, 22, 33, 1, 1, 4, 27, 256])
    assert ml.value[:3] == (11, 22, 33) and len(ml.value) == 8
    assert ml.calls == (("append", 5),)
    (server,) = outcome.snapshot.managers
    assert server.kind == "SyncManager" and dict(server.calls) == {"append": 5}
    assert server.observer_reads >= 1
    # A real process, a child of the observer, not one of the scenario's; reaped at stop.
    assert server.pid not in {p.pid for p in outcome.snapshot.processes}
    assert (server.alive, server.exitcode) == (False, 0)  # asked to shut down, and reaped
    assert _gone(server.pid)


@pytest.mark.timeout(60)
def test_seed003_dict_has_name_bob_and_five_keys_each_set_once():
    outcome = _run("seed003-manager-dict", "spawn")
    (md,) = outcome.snapshot.shared
    assert dict(md.value) == {"name": "bob", 0: "a", 1: "a", 2: "a", 3: "a", 4: "a"}
    assert md.calls == (("__setitem__", 5),)
    assert dict(outcome.snapshot.managers[0].calls) == {"__setitem__": 5}


@pytest.mark.timeout(60)
def test_remote_manager_listens_on_loopback_only_and_counts_puts_and_gets():
    scenario = replace(load(PRESETS / "remote-manager-queue.toml"), start_method="fork")
    engine = Engine(scenario)
    engine.start()
    try:
        server = engine.latest.managers[0]
        assert server.kind == "BaseManager" and server.address.startswith("127.0.0.1:")
        port = int(server.address.rsplit(":", 1)[1])
        listening = [
            c
            for c in psutil.Process(server.pid).net_connections("tcp")
            if c.status == psutil.CONN_LISTEN
        ]
        assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", port)]
        assert server.alive and server.threads >= 2  # its main thread and the accepter
        outcome = engine.run()
    finally:
        engine.shutdown()
    assert outcome.verdict == "completed"
    (jobs,) = outcome.snapshot.channels
    assert (jobs.puts, jobs.gets, jobs.depth) == (22, 22, 0)  # 20 items, 2 pills
    assert jobs.bytes > 22  # each item's pickled size, measured by its reader
    assert dict(outcome.snapshot.managers[0].calls) == {"put": 22, "get": 22}
    assert _gone(server.pid)


@pytest.mark.timeout(60)
def test_a_get_on_a_manager_queue_with_every_producer_gone_is_a_hang():
    outcome = _run("manager-queue-no-pill")
    assert outcome.verdict == "hang"
    stuck = outcome.snapshot.stuck
    assert stuck.processes == ("consumer-1", "consumer-2")
    assert "blocked in get on 'tasks' (queue empty)" in stuck.description
    producer = next(p for p in outcome.snapshot.processes if p.name == "producer")
    assert producer.items == 10
    assert outcome.duration_s < 4.0  # the producer ends within ~1 s; detected ~1 s later


OBSERVER = """
import sys, time
from ipcplay.engine import Engine
from ipcplay.scenario import load
e = Engine(load(sys.argv[1]))
e.start()
print(e.latest.managers[0].pid, flush=True)
time.sleep(60)
"""


@pytest.mark.timeout(60)
def test_the_server_dies_with_the_observer_even_on_sigkill(tmp_path):
    preset = tmp_path / "held.toml"
    text = (PRESETS / "seed003-manager-list.toml").read_text(encoding="utf-8")
    preset.write_text(text.replace("steps = [", "steps = [{ sleep = 30000 }, "), encoding="utf-8")
    observer = subprocess.Popen(
        [sys.executable, "-c", OBSERVER, str(preset)], stdout=subprocess.PIPE, text=True
    )
    try:
        pid = int(observer.stdout.readline())
        assert psutil.pid_exists(pid)
        os.kill(observer.pid, signal.SIGKILL)
        observer.wait(10)
        wait_for(lambda: _gone(pid), timeout=10)
    finally:
        if observer.poll() is None:
            observer.kill()
            observer.wait(10)
        observer.stdout.close()


def test_run_json_shows_the_list_and_the_calls(tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "ipcplay",
            "run",
            str(PRESETS / "seed003-manager-list.toml"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    report = json.loads(r.stdout)
    (ml,) = report["shared"]
    assert sorted(ml["value"]) == [1, 1, 4, 11, 22, 27, 33, 256]
    assert ml["calls"] == {"append": 5}
    assert report["managers"][0]["calls"] == {"append": 5}


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("name", "inner", "calls"),
    [
        ("manager-nested-lost", [], {"__getitem__": 10}),
        ("manager-nested-fixed", [1] * 10, {"__getitem__": 10, "__setitem__": 10}),
    ],
)
def test_an_append_to_a_proxys_inner_list_is_lost_unless_assigned_back(name, inner, calls):
    outcome = _run(name)
    (ml,) = outcome.snapshot.shared
    assert ml.value == (tuple(inner),)
    assert (ml.expected, ml.lost) == (10, 10 - len(inner))
    assert dict(ml.calls) == calls


@pytest.mark.timeout(60)
def test_a_paused_server_never_stalls_the_sampler(tmp_path):
    """The observer reads live values with a bounded wait: with the server
    stopped (SIGSTOP), snapshots keep coming at the sampling rate and the value
    simply stays as last read; shutdown resumes the server and reaps it."""
    text = (PRESETS / "seed003-manager-list.toml").read_text(encoding="utf-8")
    preset = tmp_path / "slow.toml"
    preset.write_text(text.replace("steps = [", "steps = [{ sleep = 3000 }, "), encoding="utf-8")
    engine = Engine(replace(load(preset), start_method="fork"))
    engine.start()
    try:
        server = wait_for(lambda: engine.latest.shared[0].read_at and engine.latest.managers[0])
        os.kill(server.pid, signal.SIGSTOP)
        first = engine.latest.seq
        time.sleep(1.5)  # three read attempts at 0.5 s, each given up after 0.1 s
        assert engine.latest.seq - first >= 8  # 10 Hz: at most ~0.3 s lost to the reads
        assert engine.latest.shared[0].value == (11, 22, 33)
    finally:
        final = engine.shutdown()
    assert _gone(server.pid)
    assert final.managers[0].exitcode is not None
