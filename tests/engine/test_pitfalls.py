"""The newer pitfall pairs, with real processes: the broken half is caught and
named within two seconds of going wrong, the fixed half completes."""

from __future__ import annotations

import pytest

from ipcplay.engine import Engine
from ipcplay.scenario import load, resolve


def _run(name: str, duration: float = 15):
    return Engine(load(resolve(name))).run(duration=duration)


@pytest.mark.timeout(30)
def test_a_reader_holding_its_own_write_end_hangs_and_says_why():
    outcome = _run("pipe-write-end-open")
    assert outcome.verdict == "hang"
    stuck = outcome.snapshot.stuck
    assert stuck is not None and stuck.processes == ("reader",)
    assert "own copy of the write end is open" in stuck.description
    stream = outcome.snapshot.channels[0]
    assert (stream.puts, stream.gets) == (10, 10)  # every message arrived; only EOF never does
    writer = next(p for p in outcome.snapshot.processes if p.name == "streamer")
    assert writer.exitcode == 0
    # Seen hopeless as soon as the streamer exits after its last send.
    (edge,) = outcome.snapshot.waits
    assert edge.waiter == "reader" and edge.waits_for == ()
    assert stuck.since - edge.since < 1.0


@pytest.mark.timeout(30)
def test_terminate_while_holding_a_lock_is_a_hang_naming_the_dead_holder():
    outcome = _run("terminate-holding-lock")
    assert outcome.verdict == "hang"
    snap = outcome.snapshot
    holder = next(p for p in snap.processes if p.name == "holder")
    assert holder.exitcode == -15  # terminated by the parent, SIGTERM
    assert snap.stuck is not None and snap.stuck.processes == ("waiter",)
    assert f"held by holder (pid {holder.pid}), which was killed by SIGTERM" in (
        snap.stuck.description
    )
    # The waiter blocked just after the holder took the Lock; the holder was
    # terminated 0.5 s into its run, and from then on the wait was hopeless.
    # Seen hopeless within a sample or two of that, reported hang_after (2 s) later.
    (edge,) = snap.waits
    assert edge.waiter == "waiter" and edge.waits_for == ()
    assert snap.stuck.since - edge.since < 0.5 + 1.0


@pytest.mark.timeout(30)
def test_asking_the_holder_to_stop_lets_the_waiter_through():
    outcome = _run("terminate-holding-lock-fixed")
    assert outcome.verdict == "completed"
    assert [p.exitcode for p in outcome.snapshot.processes] == [0, 0, 0]
    lock = next(o for o in outcome.snapshot.shared if o.name == "lock")
    assert lock.acquires == lock.releases == 2


@pytest.mark.timeout(30)
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_joining_before_draining_is_a_deadlock_between_flush_and_join(method):
    from dataclasses import replace

    outcome = Engine(replace(load(resolve("join-before-drain")), start_method=method)).run(20)
    assert outcome.verdict == "deadlock"
    snap = outcome.snapshot
    assert snap.stuck is not None and set(snap.stuck.processes) == {"worker", "main"}
    edges = {w.waiter: w for w in snap.waits}
    assert (edges["worker"].op, edges["worker"].obj, edges["worker"].waits_for) == (
        "flush",
        "results",
        ("main",),
    )
    assert (edges["main"].op, edges["main"].obj, edges["main"].waits_for) == (
        "join",
        "worker",
        ("worker",),
    )
    assert all(w.in_cycle for w in snap.waits)
    results = snap.channels[0]
    assert (results.puts, results.gets) == (4, 0)  # all put, none could be taken


@pytest.mark.timeout(30)
def test_draining_then_joining_completes_and_main_saw_worker_exit_first():
    outcome = _run("join-after-drain")
    assert outcome.verdict == "completed"
    results = outcome.snapshot.channels[0]
    assert (results.puts, results.gets, results.depth) == (4, 4, 0)
    assert [p.exitcode for p in outcome.snapshot.processes] == [0, 0]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_lambda_on_a_queue_is_counted_lost_and_its_reader_hangs(method):
    from dataclasses import replace

    scenario = replace(load(resolve("queue-unpicklable-lambda")), start_method=method)
    outcome = Engine(scenario).run(20)
    assert outcome.verdict == "hang"
    (items,) = outcome.snapshot.channels
    assert (items.puts, items.gets, items.lost, items.depth) == (1, 0, 1, 0)
    sender = next(p for p in outcome.snapshot.processes if p.name == "sender")
    assert sender.exitcode == 0  # put() never raised: the feeder thread dropped it
    stuck = outcome.snapshot.stuck
    assert stuck is not None and stuck.processes == ("receiver",)
    assert "1 put item never sent: pickling failed in the feeder thread" in stuck.description


@pytest.mark.timeout(30)
def test_a_module_level_function_goes_through():
    outcome = _run("queue-picklable-function")
    assert outcome.verdict == "completed"
    (items,) = outcome.snapshot.channels
    assert (items.puts, items.gets, items.lost, items.depth) == (1, 1, 0, 0)


def _states(name: str) -> tuple[object, list[tuple[str, str, int | None, int | None]]]:
    """Run a preset and keep quick's (state, OS status, exit code, pid) at every sample."""
    seen: list[tuple[str, str, int | None, int | None]] = []
    engine = Engine(load(resolve(name)))
    engine._on_snapshot = lambda s: seen.append(
        (s.processes[0].state, s.processes[0].status, s.processes[0].exitcode, s.processes[0].pid)
    )
    return engine.run(20), seen


@pytest.mark.timeout(30)
def test_a_process_the_parent_joins_late_is_a_zombie_until_then():
    import psutil

    outcome, seen = _states("zombie-until-join")
    assert outcome.verdict == "completed"
    zombie = [s for s in seen if s[0] == "zombie"]
    # quick ends at ~0.2 s of its run and is joined at 3 s: about 28 samples at 10 Hz
    assert len(zombie) >= 15
    assert all(status == psutil.STATUS_ZOMBIE and code is None for _, status, code, _ in zombie)
    assert seen[-1][0] == "exited 0" and seen[-1][2] == 0  # joined: reaped, code known


@pytest.mark.timeout(30)
def test_a_process_joined_as_it_ends_never_lingers_as_a_zombie():
    outcome, seen = _states("zombie-joined")
    assert outcome.verdict == "completed"
    # reaped at the first sample after it ends (at most one sample may catch
    # the instant between its exit and the parent's waitpid)
    assert sum(1 for s in seen if s[0] == "zombie") <= 1
    assert seen[-1][0] == "exited 0"
