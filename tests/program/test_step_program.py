"""Step mode on a user's own program (issue 18, part 5): `ipcplay run
PROGRAM.py --schedule FILE` gates every operation of the program's
processes, as a scenario's, and the processes stay real ones.

The programs are plain multiprocessing code written to tmp_path; the
schedules name the processes the program names. Every wait is bounded, and
every run is stopped and checked for leftovers.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil
import pytest
from watched import left_in_shm, line_of, process, remove_from_shm, shared, shm, watch, write

from ipcplay.engine.program import Program, ProgramEngine

WAIT_S = 10.0

LOST = """
import multiprocessing as mp


def add(counter):
    for _ in range(2):
        counter.value += 1


if __name__ == "__main__":
    counter = mp.Value("i", 0)
    adders = [mp.Process(target=add, args=(counter,), name=f"adder-{i}") for i in (1, 2)]
    for p in adders:
        p.start()
    for p in adders:
        p.join()
    print(counter.value)
"""

DEADLOCK = """
import multiprocessing as mp


def left(a, b):
    with a:
        with b:
            pass


def right(a, b):
    with b:
        with a:
            pass


if __name__ == "__main__":
    lock_a = mp.Lock()
    lock_b = mp.Lock()
    ps = [
        mp.Process(target=left, args=(lock_a, lock_b), name="left"),
        mp.Process(target=right, args=(lock_a, lock_b), name="right"),
    ]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
"""

# A child started while step mode is on: its first operation is a put.
LATE = """
import multiprocessing as mp


def put_one(q):
    q.put("hello")


if __name__ == "__main__":
    q = mp.Queue()
    p = mp.Process(target=put_one, args=(q,), name="late")
    p.start()
    print(q.get())
    p.join()
"""

# Runs until stopped: a worker putting, the main process getting.
FOREVER = """
import multiprocessing as mp
import time


def work(q):
    n = 0
    while True:
        q.put(n)
        n += 1
        time.sleep(0.002)


if __name__ == "__main__":
    q = mp.Queue()
    p = mp.Process(target=work, args=(q,), name="worker")
    p.start()
    while True:
        q.get()
"""


def schedule(folder: Path, program: str, steps: list[str]) -> Path:
    path = folder / "steps.toml"
    quoted = ", ".join(f'"{step}"' for step in steps)
    path.write_text(f'version = 1\nscenario = "{program}"\nsteps = [{quoted}]\n')
    return path


# adder-1 reads 0, adder-2 reads 0, both write 1: one update lost; then each
# adds once more in turn.
LOSE_ONE = ["adder-1", "adder-2", "adder-1", "adder-2", "adder-1", "adder-1", "adder-2", "adder-2"]


def test_a_lost_update_made_by_a_schedule_is_made_every_time(tmp_path: Path) -> None:
    prog = write(tmp_path, "lost.py", LOST)
    steps = schedule(tmp_path, "lost.py", LOSE_ONE)
    for _ in range(3):
        run = watch(prog, "--schedule", str(steps))
        report = run.report
        assert run.code == 0, run.stderr
        assert report["verdict"] == "completed"
        assert report["schedule"]["played"] == len(LOSE_ONE)
        assert report["schedule"]["stopped_at"] is None
        counter = shared(report, "counter")
        assert (counter["value"], counter["expected"], counter["lost_updates"]) == (3, 4, 1)
        assert process(report, "main")["stdout"] == "3\n"


def test_a_schedule_in_turn_loses_nothing_and_go_runs_the_rest(tmp_path: Path) -> None:
    prog = write(tmp_path, "lost.py", LOST)
    steps = schedule(tmp_path, "lost.py", ["adder-1", "adder-1", "go"])
    report = watch(prog, "--schedule", str(steps)).report
    counter = shared(report, "counter")
    assert (counter["value"], counter["lost_updates"]) == (4, 0)
    assert (report["schedule"]["played"], report["schedule"]["steps"]) == (2, 2)


def test_two_locks_stepped_into_a_deadlock_name_both_processes_and_lines(tmp_path: Path) -> None:
    prog = write(tmp_path, "dead.py", DEADLOCK)
    steps = schedule(tmp_path, "dead.py", ["left", "right", "left", "right"])
    run = watch(prog, "--schedule", str(steps))
    report = run.report
    assert report["verdict"] == "deadlock", run.stderr
    stuck = report["stuck"]
    assert {"left", "right"} <= set(stuck["processes"])
    inner_left = line_of(DEADLOCK, "        with b:")  # left's second lock
    inner_right = line_of(DEADLOCK, "        with a:")  # right's
    assert f"dead.py:{inner_left}" in stuck["description"]
    assert f"dead.py:{inner_right}" in stuck["description"]
    cycle = {w["waiter"]: w["object"] for w in stuck["waits"] if w["in_cycle"]}
    assert cycle == {"left": "lock_b", "right": "lock_a"}


def test_a_schedule_for_another_program_is_one_line_and_exit_2(tmp_path: Path) -> None:
    prog = write(tmp_path, "lost.py", LOST)
    steps = schedule(tmp_path, "other.py", LOSE_ONE)
    run = watch(prog, "--schedule", str(steps), json_report=False)
    assert run.code == 2
    assert run.stderr.count("\n") == 1
    assert "scenario: this schedule is for 'other.py', not 'lost.py'" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_step_for_a_process_the_program_never_starts_says_so(tmp_path: Path) -> None:
    prog = write(tmp_path, "lost.py", LOST)
    steps = schedule(tmp_path, "lost.py", ["adder-1", "nobody"])
    started = time.monotonic()
    report = watch(prog, "--schedule", str(steps)).report
    assert time.monotonic() - started < 20  # not the replay's 30 s a step
    played = report["schedule"]
    assert (played["played"], played["stopped_at"]) == (1, 2)
    assert "nobody did not reach its next operation" in played["why"]
    # The rest ran freely (racing: adder-1 was let read, so its write may lose one).
    assert report["verdict"] == "completed"
    assert shared(report, "counter")["updates"] == 4


# ---------------------------------------------------------------- the engine


def _engine(prog: Path, step: bool) -> ProgramEngine:
    engine = ProgramEngine(Program(str(prog)), step=step, capture=True, sample_hz=20)
    engine.start()
    return engine


def _gone(pids: list[int], within: float = 5.0) -> list[int]:
    """The pids still there (running or a zombie) after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        left = [pid for pid in pids if psutil.pid_exists(pid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def test_a_process_started_in_step_mode_is_held_before_its_first_operation(
    tmp_path: Path,
) -> None:
    before = shm()
    prog = write(tmp_path, "late.py", LATE)
    engine = _engine(prog, step=True)
    pids: list[int] = []
    try:
        stepper = engine.stepper
        assert stepper is not None
        assert stepper.wait_held("main", WAIT_S)
        assert stepper.wait_held("late", WAIT_S)
        assert stepper.next_of("main")[0] == "get"
        assert stepper.next_of("late")[0] == "put"
        base = engine.board.layout.proc(stepper.names.index("late"))
        assert engine.board.mv[base + 64] == 1  # board.P_ARRIVED: its first gate
        for name in ("late", "main"):
            arrived = stepper.step(name)
            assert arrived
            stepper.settle(name, arrived, WAIT_S)
        assert stepper.wait_held("main", WAIT_S)
        assert stepper.next_of("main")[0] == "join process"
        stepper.step("main")
        outcome = engine.run(WAIT_S)
        assert outcome.verdict == "completed"
        pids = [p.pid for p in outcome.snapshot.processes if p.pid]
        assert stepper.schedule == ["late", "main", "main"]
        assert engine.output.text(0, "stdout") == "hello\n"
    finally:
        engine.shutdown()
        engine.close()
    # A finished stepped run leaves no process, no zombie, no segment.
    assert len(pids) == 2 and _gone(pids) == []
    left = left_in_shm(before)
    remove_from_shm(left)
    assert left == set()


def test_step_mode_comes_on_while_a_program_runs_and_a_held_process_is_real(
    tmp_path: Path,
) -> None:
    before = shm()
    prog = write(tmp_path, "forever.py", FOREVER)
    engine = _engine(prog, step=False)
    pids: list[int] = []
    try:
        deadline = time.monotonic() + WAIT_S
        while not any(c.puts > 20 for c in engine.latest.channels):
            assert time.monotonic() < deadline, "the worker never put"
            time.sleep(0.02)
        stepper = engine.stepper
        assert stepper is not None
        stepper.set_mode(True)
        assert stepper.wait_held("worker", WAIT_S)
        # main gets what the worker puts: at its gate, or in a get that waits
        deadline = time.monotonic() + WAIT_S
        while engine.process("main").state not in ("held", "blocked"):
            assert time.monotonic() < deadline, engine.process("main").state
            time.sleep(0.02)
        worker = engine.process("worker")
        pids = [p.pid for p in engine.latest.processes if p.pid]
        time.sleep(0.3)  # held: nothing moves
        puts = engine.latest.channels[0].puts
        time.sleep(0.3)
        assert engine.latest.channels[0].puts == puts
        held = engine.process("worker")
        assert held.state == "held"
        assert held.next is not None and held.next.op == "put"
        # `ps` shows it, sleeping in its gate; SIGKILL ends it.
        assert psutil.Process(worker.pid).status() in (
            psutil.STATUS_SLEEPING,
            psutil.STATUS_RUNNING,
        )
        os.kill(worker.pid, signal.SIGKILL)
        # A zombie, as `ps` says, until its parent (held in its get) reaps it.
        deadline = time.monotonic() + WAIT_S
        while engine.process("worker").state != "zombie":
            assert time.monotonic() < deadline, engine.process("worker").state
            time.sleep(0.02)
        final = engine.shutdown()  # quitting, with main still in its get
        worker_end = next(p for p in final.processes if p.name == "worker")
        assert worker_end.exitcode == -signal.SIGKILL
        assert worker_end.state == "killed by SIGKILL"
    finally:
        engine.shutdown()
        engine.close()
    assert _gone(pids) == []
    left = left_in_shm(before)
    remove_from_shm(left)
    assert left == set()


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_a_schedule_replays_under_every_start_method(tmp_path: Path, method: str) -> None:
    source = LOST.replace(
        'if __name__ == "__main__":\n',
        f'if __name__ == "__main__":\n    mp.set_start_method("{method}")\n',
    )
    prog = write(tmp_path, "lost.py", source)
    steps = schedule(tmp_path, "lost.py", LOSE_ONE)
    report = watch(prog, "--schedule", str(steps)).report
    counter = shared(report, "counter")
    assert (counter["value"], counter["lost_updates"]) == (3, 1)


EVERY_OP = """
import multiprocessing as mp


def child(q, jq, conn, ev, cond, arr, lock):
    q.put(1)
    jq.get()
    jq.task_done()
    conn.send("x")
    ev.wait()
    with lock:
        arr[0] = arr[0] + 1
    with cond:
        cond.notify()


if __name__ == "__main__":
    q = mp.Queue()
    jq = mp.JoinableQueue()
    a, b = mp.Pipe()
    ev = mp.Event()
    cond = mp.Condition()
    arr = mp.Array("i", 2)
    lock = mp.Lock()
    p = mp.Process(target=child, args=(q, jq, b, ev, cond, arr, lock), name="child")
    p.start()
    jq.put(0)
    jq.join()
    q.get()
    a.recv()
    ev.set()
    p.join()
    with mp.Pool(1) as pool:
        print(pool.map(abs, [-2]))
"""


def _step_to_the_end(engine: ProgramEngine, first: str) -> list[tuple[str, str, str]]:
    """Let every held process go, `first` before the others, one operation
    at a time, until the program ends: (process, operation, object) in order."""
    stepper = engine.stepper
    assert stepper is not None
    done: list[tuple[str, str, str]] = []
    deadline = time.monotonic() + 30
    while not engine.latest.finished:
        assert time.monotonic() < deadline, done
        held = sorted((h.name for h in stepper.held()), key=lambda n: n != first)
        if not held:
            time.sleep(0.005)
            continue
        name = held[0]
        op, target = stepper.next_of(name) or ("", -1)
        arrived = stepper.step(name)
        if arrived:
            done.append((name, op, _object(engine, target, op)))
            stepper.settle(name, arrived, WAIT_S)
    return done


def _object(engine: ProgramEngine, target: int, op: str) -> str:
    """The name of a gate's target: a channel, a shared object or a process."""
    topology = engine.board.registry.read()
    if op == "join process":
        return topology.names[target]
    nchan = engine.board.layout.nchan
    family = topology.channels if target < nchan else topology.shared
    index = target if target < nchan else target - nchan
    return next(o.name for o in family if o.index == index)


def test_every_operation_of_a_program_stops_at_its_gate_in_code_order(tmp_path: Path) -> None:
    prog = write(tmp_path, "every.py", EVERY_OP)
    engine = _engine(prog, step=True)
    try:
        done = _step_to_the_end(engine, "child")
        assert engine.output.text(0, "stdout") == "[2]\n"
    finally:
        engine.shutdown()
        engine.close()
    child = [(op, obj) for name, op, obj in done if name == "child"]
    assert child == [
        ("put", "q"),
        ("get", "jq"),
        ("task_done", "jq"),
        ("send", "a/b"),
        ("wait", "ev"),
        ("acquire", "lock"),
        ("read", "arr"),
        ("write", "arr"),
        ("release", "lock"),
        ("acquire", "cond"),
        ("notify", "cond"),
        ("release", "cond"),
    ]
    main = [(op, obj) for name, op, obj in done if name == "main"]
    assert main[:6] == [
        ("put", "jq"),
        ("join", "jq"),
        ("get", "q"),
        ("recv", "a/b"),
        ("set", "ev"),
        ("join process", "child"),
    ]
    assert ("get", "pool results") in main[6:]  # map's wait for its result
    worker = [(op, obj) for name, op, obj in done if name.startswith("ForkPoolWorker")]
    assert worker[:2] == [("get", "pool tasks"), ("put", "pool results")]


NAMESPACE = """
import multiprocessing as mp


def add(ns):
    ns.total += 1


if __name__ == "__main__":
    with mp.Manager() as manager:
        ns = manager.Namespace()
        ns.total = 0
        adders = [mp.Process(target=add, args=(ns,), name=f"adder-{i}") for i in (1, 2)]
        for p in adders:
            p.start()
        for p in adders:
            p.join()
        print(ns.total)
"""


def test_a_managers_namespace_loses_an_update_by_hand(tmp_path: Path) -> None:
    """`ns.total += 1` on a proxy is a read and a write, each a round trip
    to the Manager's server, and each a step: both adders read 0."""
    prog = write(tmp_path, "ns.py", NAMESPACE)
    order = ["main", "adder-1", "adder-2", "adder-1", "adder-2", "go"]
    report = watch(prog, "--schedule", str(schedule(tmp_path, "ns.py", order))).report
    assert report["verdict"] == "completed"
    assert report["schedule"]["played"] == 5
    assert process(report, "main")["stdout"] == "1\n"
