"""Real processes under real control: pause, kill, stop, and no orphans."""

from __future__ import annotations

import contextlib
import ctypes
import json
import multiprocessing as mp
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
from ipcplay.scenario import load, loads

STEADY = """
[scenario]
title = "steady"
start_method = "{method}"
[channels.q]
kind = "Queue"
maxsize = 10
[[process]]
name = "producer"
role = "producer"
out = "q"
rate = 200
[[process]]
name = "consumer"
role = "consumer"
in = "q"
"""

STUCK_PUT = """
[scenario]
title = "a producer stuck on a full queue"
start_method = "fork"
[channels.q]
kind = "Queue"
maxsize = 2
[[process]]
name = "producer"
role = "producer"
out = "q"
count = 10
"""


BUSY = STEADY.replace("rate = 200\n", "").format(method="fork")  # a producer that never sleeps


@pytest.mark.timeout(30)
@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity")
def test_pause_returns_once_the_process_is_really_stopped():
    """SIGSTOP takes effect only when its target next runs. With the busy
    children on our own CPU, they cannot run until we yield it, so a pause
    that returned at once would leave them showing as running."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        with Engine(loads(BUSY)) as engine:
            wait_for(lambda: engine.latest.channels[0].gets > 100)
            for _ in range(5):
                for name in ("producer", "consumer"):
                    engine.pause(name)
                    status = psutil.Process(engine.process(name).pid).status()
                    assert status == psutil.STATUS_STOPPED, name
                    engine.resume(name)
            engine.pause_all()
            for p in engine.latest.processes:
                assert psutil.Process(p.pid).status() == psutil.STATUS_STOPPED
            engine.resume_all()
    finally:
        os.sched_setaffinity(0, before)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pids_are_real_children_and_pause_shows_stopped(method):
    with Engine(loads(STEADY.format(method=method))) as engine:
        snap = wait_for(
            lambda: (
                all(p.pid and p.state != "starting" for p in engine.latest.processes)
                and engine.latest
            )
        )
        me = os.getpid()
        for p in snap.processes:
            proc = psutil.Process(p.pid)
            assert me in [a.pid for a in proc.parents()]
        engine.pause("consumer")
        pid = engine.process("consumer").pid
        wait_for(lambda: engine.process("consumer").state == "stopped")
        assert psutil.Process(pid).status() == psutil.STATUS_STOPPED
        # The queue fills behind the paused consumer and the producer blocks on it.
        wait_for(lambda: engine.latest.channels[0].depth == 10)
        wait_for(
            lambda: (
                (b := engine.process("producer").blocked) is not None and b.reason == "queue full"
            )
        )
        engine.resume("consumer")
        wait_for(lambda: engine.process("consumer").state not in ("stopped",))
        assert psutil.Process(pid).status() != psutil.STATUS_STOPPED
        # Nothing is stuck: resuming let everything flow again.
        before = engine.latest.channels[0].gets
        wait_for(lambda: engine.latest.channels[0].gets > before + 20)


@pytest.mark.timeout(30)
def test_blocked_time_grows_while_a_producer_is_stuck_on_a_full_queue():
    with Engine(loads(STUCK_PUT), hang_after=60) as engine:
        # (A put caught mid-call on a busy machine can show briefly as blocked
        # without a reason; the wait on the full queue is the one we want.)
        wait_for(
            lambda: (
                (b := engine.process("producer").blocked) is not None and b.reason == "queue full"
            )
        )
        b = engine.process("producer").blocked
        assert (b.op, b.channel, b.reason, b.exact) == ("put", "q", "queue full", True)
        s1 = engine.latest
        time.sleep(0.5)
        s2 = engine.latest
        first, later = (next(p for p in s.processes if p.name == "producer") for s in (s1, s2))
        # Blocked the whole time: its blocked time grows with the clock between
        # the two samples (which are up to a tick older than the reads).
        assert s2.t - s1.t >= 0.35
        assert later.blocked_s - first.blocked_s == pytest.approx(s2.t - s1.t, abs=0.02)
        ch = s2.channels[0]
        assert (ch.puts, ch.depth, ch.max_depth, ch.full_hits) == (2, 2, 2, 1)
        assert ch.blocked_put_s == pytest.approx(later.blocked_s, abs=0.01)  # its only putter


@pytest.mark.timeout(30)
def test_a_child_killed_from_outside_shows_its_signal_and_the_run_is_crashed():
    engine = Engine(loads(STEADY.format(method="fork")))
    engine.start()
    pid = wait_for(lambda: engine.process("consumer").pid)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: engine.process("consumer").state == "killed by SIGKILL")
    assert engine.process("consumer").exitcode == -signal.SIGKILL
    outcome = engine.run(duration=0.5)
    assert outcome.verdict == "crashed"


@pytest.mark.timeout(30)
def test_kill_and_terminate_controls_act_on_the_real_pid():
    with Engine(loads(STEADY.format(method="fork"))) as engine:
        wait_for(lambda: engine.process("consumer").pid)
        engine.kill("consumer")
        wait_for(lambda: engine.process("consumer").state == "killed by SIGKILL")
        engine.terminate("producer")
        wait_for(lambda: engine.process("producer").state == "killed by SIGTERM")
        assert all(p.stopped_by_engine for p in engine.latest.processes)


@pytest.mark.timeout(30)
def test_rate_change_and_poison_pill_controls():
    with Engine(loads(STEADY.format(method="fork"))) as engine:
        wait_for(lambda: engine.latest.channels[0].puts > 5)
        engine.set_rate("producer", 20)
        time.sleep(0.3)  # let the new rate settle
        a = engine.latest.channels[0].puts
        time.sleep(1.0)
        b = engine.latest.channels[0].puts
        assert 10 <= b - a <= 30
        assert engine.poison_pill("consumer") == "sent by producer into 'q'"
        wait_for(lambda: engine.process("consumer").state == "exited 0")
        assert engine.process("consumer").pills_received == 1


def _orphan_check(children: list[int]) -> None:
    """The observer's children must die. Orphans come to this test (a
    subreaper) and are reaped here, so none is left as a zombie either."""
    managed = {p.pid for p in mp.active_children()}

    def gone() -> bool:
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            if psutil.pid_exists(pid):
                try:
                    if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                        return False
                except psutil.NoSuchProcess:
                    pass
        return True

    wait_for(gone, timeout=10)
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error, ChildProcessError):
            if child.pid not in managed and child.status() == psutil.STATUS_ZOMBIE:
                os.waitpid(child.pid, os.WNOHANG)


def _steady_run(duration: str, method: str | None = None) -> list[str]:
    """`ipcplay run` of the steady pipeline, as a separate observer process."""
    args = [
        sys.executable,
        "-m",
        "ipcplay",
        "run",
        str(PRESETS / "steady-pipeline.toml"),
        "--duration",
        duration,
        "--json",
    ]
    return [*args, "--start-method", method] if method else args


def _subreaper(on: bool) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(36, int(on), 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_sigkill_of_the_observer_leaves_no_child_alive(method):
    # Become a subreaper so orphans are reparented to (and reaped by) this test.
    _subreaper(True)
    observer = subprocess.Popen(
        _steady_run("60", method), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        obs = psutil.Process(observer.pid)
        # five role processes (plus multiprocessing's helpers) must be up first
        kids = wait_for(
            lambda: len(obs.children(recursive=True)) >= 5 and obs.children(recursive=True),
            timeout=30,
        )
        pids = [c.pid for c in kids]
        time.sleep(0.3)
        observer.send_signal(signal.SIGKILL)
        observer.wait(10)
        _orphan_check(pids)
    finally:
        if observer.poll() is None:
            observer.kill()
            observer.wait(10)
        _subreaper(False)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sigint_and_sigterm_stop_the_run_cleanly(sig):
    _subreaper(True)
    observer = subprocess.Popen(_steady_run("60"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    obs = psutil.Process(observer.pid)
    wait_for(
        lambda: (
            len([c for c in obs.children() if "resource_tracker" not in " ".join(c.cmdline())]) >= 5
        ),
        timeout=30,
    )
    pids = [c.pid for c in obs.children(recursive=True)]
    time.sleep(0.5)
    observer.send_signal(sig)
    out, err = observer.communicate(timeout=20)
    assert observer.returncode == 0, err  # an endless scenario is meant to be stopped
    assert b"Traceback" not in err
    assert json.loads(out)["verdict"] == "completed"
    try:
        _orphan_check(pids)  # including multiprocessing's resource tracker, which follows shortly
    finally:
        _subreaper(False)


@pytest.mark.timeout(60)
def test_children_stopped_at_the_end_of_a_run_die_by_sigterm_not_sigkill():
    """A forked child must not inherit the observer's SIGTERM handler."""
    r = subprocess.run(
        _steady_run("2", "fork"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    states = {p["name"]: p["state"] for p in json.loads(r.stdout)["processes"]}
    assert "killed by SIGKILL" not in states.values(), states


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_a_hangup_of_the_whole_terminal_leaves_no_process_or_semaphore(method):
    """Closing the terminal sends SIGHUP to every process of the job, including
    multiprocessing's resource tracker, which must survive to unlink the named
    semaphores of spawn/forkserver queues (the autouse fixture checks /dev/shm)."""
    _subreaper(True)
    observer = subprocess.Popen(
        _steady_run("60", method),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        # as from a login shell: whoever runs the tests may have SIGHUP ignored
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL),
    )
    try:
        obs = psutil.Process(observer.pid)
        kids = wait_for(
            lambda: len(obs.children(recursive=True)) >= 6 and obs.children(recursive=True),
            timeout=30,
        )
        pids = [k.pid for k in kids]
        time.sleep(0.5)
        os.killpg(observer.pid, signal.SIGHUP)
        observer.wait(20)
        _orphan_check(pids)
    finally:
        if observer.poll() is None:
            observer.kill()
            observer.wait(10)
        _subreaper(False)


@pytest.mark.timeout(60)
def test_a_run_leaves_no_open_descriptor_behind():
    """The sampler keeps a /proc descriptor per child open while it runs; a
    run must give every one back (the first run may open one-time things,
    such as the resource tracker's pipe, so runs two and three are compared)."""
    scenario = replace(load(PRESETS / "steady-pipeline.toml"), start_method="fork")

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    counts = []
    for _ in range(3):
        engine = Engine(scenario)
        engine.run(0.8)
        engine.shutdown()
        counts.append(open_fds())
    assert counts[1] == counts[2], counts
