"""`ipcplay explore PRESET`: every schedule of a small scenario on its real
processes. The outcomes are the ones the issue names (final values 2, 3
and 4; the deadlock; none with the locks in one order), and each saved
shortest schedule, replayed step by step on a fresh run, ends the same way."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ipcplay import schedule as S
from ipcplay.engine.supervisor import Engine
from ipcplay.explore import Exploration, Found, Result, save
from ipcplay.scenario import load, resolve
from ipcplay.scenario.overrides import apply

TWO_BY_TWO = ("--set", "adder.replicas=2", "--set", "adder.count=2")


def _explore(*args: str, cwd: Path, timeout: float = 100) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ipcplay", "explore", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def _replay(file: str):
    """Play a saved schedule on a fresh run, then let the engine end it:
    (verdict, final snapshot)."""
    plan = S.load(file)
    scenario = apply(load(resolve(plan.scenario)), plan.overrides)
    engine = Engine(scenario, step=True, hang_after=0.3, sample_hz=50)
    stop = threading.Event()
    timer = threading.Timer(30, stop.set)
    timer.start()
    try:
        engine.start()
        assert engine.stepper is not None
        played = S.play(engine.stepper, plan.steps, timeout=20)
        assert played.stopped_at is None, played.why
        outcome = engine.run(stop=stop)
    finally:
        timer.cancel()
        engine.shutdown()
    return outcome.verdict, outcome.snapshot


@pytest.mark.timeout(150)
def test_two_adders_adding_twice_end_at_2_3_or_4_and_each_schedule_replays(tmp_path):
    r = _explore("value-lost-updates", *TWO_BY_TWO, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)  # exactly one JSON object
    found = {o["values"]["counter"]: o for o in report["outcomes"]}
    assert set(found) == {2, 3, 4}
    assert {v: o["lost_updates"]["counter"] for v, o in found.items()} == {2: 2, 3: 1, 4: 0}
    assert all(o["verdict"] == "completed" for o in found.values())
    # 70 interleavings of two read-write-read-write sequences; pruned: fewer
    assert report["complete"] and 0 < report["schedules_run"] < 70
    assert sum(o["schedules"] for o in found.values()) == report["schedules_run"]
    assert sorted(report["files"]) == sorted(o["file"] for o in found.values())
    for value, outcome in found.items():
        assert len(outcome["shortest"]) == 8  # 2 processes x 2 adds x (read, write)
        verdict, snap = _replay(str(tmp_path / outcome["file"]))
        assert verdict == "completed"
        assert (snap.shared[0].value, snap.shared[0].lost) == (value, 4 - value)


@pytest.mark.timeout(150)
def test_lock_order_deadlock_is_reached_and_its_schedule_replays_to_it(tmp_path):
    r = _explore("lock-order-deadlock", "--json", "--out", "found", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    verdicts = {o["verdict"] for o in report["outcomes"]}
    assert verdicts == {"deadlock"}  # its Events make the deadlock certain
    (dead,) = report["outcomes"]
    assert "left → right → left" in dead["words"] and "pid" not in dead["words"]
    assert dead["file"].startswith("found/")
    verdict, snap = _replay(str(tmp_path / dead["file"]))
    assert verdict == "deadlock"
    assert snap.stuck is not None and set(snap.stuck.processes) == {"left", "right"}


@pytest.mark.timeout(150)
def test_lock_order_fixed_never_deadlocks(tmp_path):
    once = ("--set", "left.count=1", "--set", "right.count=1")
    r = _explore("lock-order-fixed", *once, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "lock-order-fixed (left.count=1, right.count=1): 1 outcome"
    assert lines[1] == "  completed: every process ended"
    assert "deadlock" not in r.stdout
    assert "schedules run" in lines[-1] and "not every schedule" not in r.stdout
    assert (tmp_path / "lock-order-fixed-explore" / "completed.schedule.toml").is_file()


@pytest.mark.timeout(100)
def test_max_schedules_stops_and_says_so(tmp_path):
    r = _explore("value-lost-updates", *TWO_BY_TWO, "--max-schedules", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "stopped at 3: not every schedule was run" in r.stdout
    assert "3 schedules run" in r.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("nothere",), "nothere: no such preset or file"),
        (("value-lost-updates", "--set", "adder.x=1"), "--set: adder.x=1: cannot set 'x'"),
        (("value-lost-updates", "--set", "adder.replicas=0"), "expected a whole number from 1"),
        (("value-lost-updates", "--max-schedules", "0"), "expected a whole number of schedules"),
        (("steady-pipeline",), "runs until stopped"),
    ],
)
@pytest.mark.timeout(60)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, words):
    r = _explore(*args, cwd=tmp_path, timeout=40)
    assert r.returncode == 2
    assert words in r.stderr and r.stderr.count("\n") == 1
    assert r.stdout == "" and list(tmp_path.iterdir()) == []


def test_saving_twice_never_replaces_a_file(tmp_path):
    result = Result("completed", "counter = 3 (lost 1)", (("counter", 3, 1),))
    done = Exploration("value-lost-updates", (), (Found(result, 5, ("a", "b")),), 5, 0, 0.1, True)
    first = save(done, tmp_path / "out")
    (tmp_path / "out" / "completed-counter-3.schedule.toml").write_text("mine\n")
    second = save(done, tmp_path / "out")
    assert [p.name for p in first] == ["completed-counter-3.schedule.toml"]
    assert [p.name for p in second] == ["completed-counter-3-2.schedule.toml"]
    assert (tmp_path / "out" / "completed-counter-3.schedule.toml").read_text() == "mine\n"
    assert S.load(second[0]).steps == ("a", "b")


@pytest.mark.timeout(120)
def test_ctrl_c_stops_after_the_run_it_is_in_and_reports_what_it_found(tmp_path):
    """On a terminal the progress line is rewritten on stderr; Ctrl+C once
    it says one schedule was run stops there, with what was found."""
    twice = ("--set", "left.count=2", "--set", "right.count=2")  # 6 schedules, ten seconds
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipcplay", "explore", "lock-order-fixed", *twice, "--json"],
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
        cwd=tmp_path,
    )
    os.close(slave)
    seen = b""
    try:
        end = time.monotonic() + 60
        while b"explored 1 schedule," not in seen and time.monotonic() < end:
            if select.select([master], [], [], 0.5)[0]:
                seen += os.read(master, 4096)
        assert b"explored 1 schedule, 1 outcome" in seen
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 130
    report = json.loads(out)
    assert not report["complete"]
    assert [o["verdict"] for o in report["outcomes"]] == ["completed"]
    assert 1 <= report["schedules_run"] < 6
