"""Hand-built, fully deterministic snapshots for pictures and Pilot tests.

No processes and no clock: every pid, time, count and event is fixed here, so
a picture of the app fed one of these (through `FrozenSource`) is the same on
every machine and every run. The numbers are chosen to look like a real run
of the scenario they belong to.

`FrozenSource.now()` is `snapshot.t + 0.05`; waits are placed so that "for X s"
lands well away from a rounding boundary.
"""

from __future__ import annotations

from dataclasses import replace

from ipcplay.engine.journal import Event
from ipcplay.engine.plan import instances as instances_of
from ipcplay.engine.snapshot import (
    BlockedOn,
    ChannelSample,
    Direction,
    ProcessSample,
    SharedSample,
    Snapshot,
    Stuck,
    WaitEdge,
)
from ipcplay.scenario import load, loads, resolve
from ipcplay.scenario.model import Scenario

T = 1000.0  # the snapshot's monotonic time
OBSERVER_PID = 4200  # the app: every child's parent
PID0 = 4242
MIB = 1024 * 1024

DEADLOCK_TOML = """
[scenario]
title = "Two pongers, each waiting for the other to speak first"
explain = '''
Two pongers: left answers what arrives on a by putting it on b, right answers
what arrives on b by putting it on a. Nobody ever speaks first, so each waits
in get() for the other forever: a deadlock, found by following who waits for
whom.
'''
start_method = "spawn"
expect = "deadlock"
duration = 5

[channels.a]
kind = "Queue"

[channels.b]
kind = "Queue"

[[process]]
name = "left"
role = "ponger"
in = "a"
out = "b"

[[process]]
name = "right"
role = "ponger"
in = "b"
out = "a"
"""

DEADLOCK_DESCRIPTION = (
    "deadlock: left → right → left wait for each other; "
    "left is blocked in get on 'a' (queue empty), waiting for right; "
    "right is blocked in get on 'b' (queue empty), waiting for left"
)


SHARED_TOML = """
[scenario]
title = "Every kind of shared object at once"
explain = "A lock-order deadlock, a race on a Value, a semaphore, an Event and a Barrier."
start_method = "spawn"
expect = "deadlock"

[shared.counter]
kind = "Value"

[shared.arr]
kind = "Array"
values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]

[shared.lock_a]
kind = "Lock"

[shared.lock_b]
kind = "Lock"

[shared.pool]
kind = "Semaphore"
value = 2

[shared.go]
kind = "Event"

[shared.gate]
kind = "Barrier"
parties = 3

[[process]]
name = "left"
role = "steps"
steps = [
    { acquire = "lock_a" },
    { sleep = 200 },
    { acquire = "lock_b" },
    { release = "lock_b" },
    { release = "lock_a" },
]

[[process]]
name = "right"
role = "steps"
steps = [
    { acquire = "lock_b" },
    { sleep = 200 },
    { acquire = "lock_a" },
    { release = "lock_a" },
    { release = "lock_b" },
]

[[process]]
name = "adder"
role = "steps"
count = 80000
steps = [{ on = "counter", add = 1 }]

[[process]]
name = "filler"
role = "steps"
steps = [{ on = "arr", multiply = 100 }]

[[process]]
name = "worker"
role = "steps"
replicas = 3
steps = [{ acquire = "pool" }, { sleep = 300 }, { release = "pool" }, { wait = "gate" }]

[[process]]
name = "main"
role = "steps"
steps = [{ set = "go" }, { wait = "gate" }]
"""

SHARED_DESCRIPTION = (
    "deadlock: left → right → left wait for each other; "
    "left holds 'lock_a' and is blocked in acquire on 'lock_b', held by right (pid 4243); "
    "right holds 'lock_b' and is blocked in acquire on 'lock_a', held by left (pid 4242)"
)


def shared_scenario() -> Scenario:
    return loads(SHARED_TOML, source="<shared>", name="shared-objects")


def shared_snapshot(scenario: Scenario) -> Snapshot:
    """Left and right deadlocked on two locks; the rest of the kinds around them."""
    names = ["left", "right", "adder", "filler", "worker-1", "worker-2", "worker-3", "main"]
    assert [p.name for p in instances_of(scenario)] == names

    def blocked(i: int, name: str, tmpl: str, b: BlockedOn, s: float) -> ProcessSample:
        return _proc(i, name, tmpl, "steps", state="blocked", blocked=b, blocked_s=s, cpu_s=0.05)

    def gone(i: int, name: str, cpu: float) -> ProcessSample:
        p = _proc(i, name, name, "steps", state="exited 0", cpu_s=cpu)
        return replace(p, alive=False, exitcode=0, status="")

    processes = (
        blocked(
            0,
            "left",
            "left",
            BlockedOn("acquire", "lock_b", "", T - 6.05, True, "right (pid 4243)"),
            6.1,
        ),
        blocked(
            1,
            "right",
            "right",
            BlockedOn("acquire", "lock_a", "", T - 6.0, True, "left (pid 4242)"),
            6.05,
        ),
        gone(2, "adder", 0.31),
        gone(3, "filler", 0.02),
        _proc(4, "worker-1", "worker", "steps", state="sleeping", activity="sleeping"),
        _proc(5, "worker-2", "worker", "steps", state="sleeping", activity="sleeping"),
        blocked(
            6,
            "worker-3",
            "worker",
            BlockedOn(
                "acquire", "pool", "", T - 0.25, True, "worker-1 (pid 4246), worker-2 (pid 4247)"
            ),
            0.25,
        ),
        blocked(
            7,
            "main",
            "main",
            BlockedOn("wait", "gate", "1 of 3 parties there", T - 2.25, True),
            2.25,
        ),
    )
    users = ("worker-1", "worker-2", "worker-3", "main")
    shared = (
        SharedSample(
            0,
            "counter",
            "Value",
            "i",
            value=61234,
            expected=80000,
            lost=18766,
            updates=80000,
            users=("adder",),
        ),
        SharedSample(
            1, "arr", "Array", "i", value=tuple(range(0, 1000, 100)), updates=1, users=("filler",)
        ),
        SharedSample(
            2,
            "lock_a",
            "Lock",
            holders=("left",),
            holder_pids=(4242,),
            held=1,
            held_since=T - 6.15,
            free=0,
            waiting=("right",),
            acquires=1,
            contended=1,
            wait_s=6.0,
            users=("left", "right"),
        ),
        SharedSample(
            3,
            "lock_b",
            "Lock",
            holders=("right",),
            holder_pids=(4243,),
            held=1,
            held_since=T - 6.05,
            free=0,
            waiting=("left",),
            acquires=1,
            contended=1,
            wait_s=6.05,
            users=("left", "right"),
        ),
        SharedSample(
            4,
            "pool",
            "Semaphore",
            holders=("worker-1", "worker-2"),
            holder_pids=(4246, 4247),
            held=2,
            held_since=T - 0.15,
            free=0,
            permits=2,
            waiting=("worker-3",),
            acquires=2,
            contended=1,
            wait_s=0.25,
            users=users[:3],
        ),
        SharedSample(5, "go", "Event", is_set=True, sets=1, users=("main",)),
        SharedSample(6, "gate", "Barrier", parties=3, arrived=1, waiting=("main",), users=users),
    )
    return Snapshot(
        seq=64,
        t=T,
        elapsed_s=6.4,
        processes=processes,
        channels=(),
        recent_events=(
            Event(_ns(6.3), 0, "acquire", 2, -1, 0),
            Event(_ns(6.25), 1, "acquire", 3, -1, 0),
            Event(_ns(2.3), 7, "set", 5, -1, 0),
            Event(_ns(0.15), 4, "acquire", 4, -1, 0),
            Event(_ns(0.15), 5, "acquire", 4, -1, 0),
        ),
        events_total=5,
        events_released=5,
        events_dropped=0,
        observer_cpu_percent=1.0,
        finished=False,
        stuck=Stuck("deadlock", ("left", "right"), SHARED_DESCRIPTION, T - 5.0),
        shared=shared,
        waits=(
            WaitEdge(
                "left", "acquire", "lock_b", "", ("right",), T - 6.05, "right (pid 4243)", True
            ),
            WaitEdge("right", "acquire", "lock_a", "", ("left",), T - 6.0, "left (pid 4242)", True),
            WaitEdge(
                "worker-3",
                "acquire",
                "pool",
                "",
                ("worker-1", "worker-2"),
                T - 0.25,
                "worker-1 (pid 4246), worker-2 (pid 4247)",
            ),
            WaitEdge(
                "main",
                "wait",
                "gate",
                "1 of 3 parties there",
                ("worker-1", "worker-2", "worker-3"),
                T - 2.25,
            ),
        ),
    )


def steady_scenario() -> Scenario:
    return load(resolve("steady-pipeline"))


def ping_pong_scenario() -> Scenario:
    return load(resolve("pipe-ping-pong"))


def deadlock_scenario() -> Scenario:
    return loads(DEADLOCK_TOML, source="<two-pongers>", name="two-pongers")


def _proc(
    index: int,
    name: str,
    template: str,
    role: str,
    *,
    state: str,
    activity: str = "running",
    blocked: BlockedOn | None = None,
    cpu_percent: float = 0.0,
    cpu_s: float = 0.0,
    rss: int = 14 * MIB,
    sent: int = 0,
    received: int = 0,
    items: int = 0,
    blocked_s: float = 0.0,
    ctx_switches: int = 0,
) -> ProcessSample:
    return ProcessSample(
        index=index,
        name=name,
        template=template,
        role=role,
        pid=PID0 + index,
        ppid=OBSERVER_PID,
        alive=True,
        exitcode=None,
        state=state,
        status="sleeping",
        activity=activity,
        blocked=blocked,
        cpu_percent=cpu_percent,
        cpu_s=cpu_s,
        rss=rss,
        threads=1 if role in ("consumer", "ponger") else 2,  # a feeder thread once it puts
        ctx_switches=ctx_switches,
        sent=sent,
        received=received,
        items=items,
        pills_sent=0,
        pills_received=0,
        blocked_s=blocked_s,
        error="",
        stopped_by_engine=False,
    )


def _queue(
    index: int,
    name: str,
    *,
    maxsize: int,
    puts: int,
    gets: int,
    max_depth: int,
    nbytes: int,
    put_rate: float,
    get_rate: float,
    writers: tuple[str, ...],
    readers: tuple[str, ...],
    blocked_put_s: float = 0.0,
    blocked_get_s: float = 0.0,
) -> ChannelSample:
    return ChannelSample(
        index=index,
        name=name,
        kind="Queue",
        maxsize=maxsize,
        puts=puts,
        gets=gets,
        depth=puts - gets,
        max_depth=max_depth,
        bytes=nbytes,
        task_done=0,
        unfinished=0,
        full_hits=0,
        blocked_put_s=blocked_put_s,
        blocked_get_s=blocked_get_s,
        put_rate=put_rate,
        get_rate=get_rate,
        writers=writers,
        readers=readers,
        directions=(),
    )


def _mid(proc: int, seq: int) -> int:
    """A message id as the children stamp it: the producer's index, then its count."""
    return (proc << 32) | seq


def _ns(seconds_before_t: float) -> int:
    return round((T - seconds_before_t) * 1e9)


def steady_snapshot(scenario: Scenario) -> Snapshot:
    """steady-pipeline, 12.3 s in: the tasks queue at 37/50 (yellow)."""
    assert [p.name for p in scenario.processes] == ["producer", "worker", "collector"]
    assert [c.name for c in scenario.channels] == ["tasks", "results"]
    workers = ("worker-1", "worker-2", "worker-3")
    processes = (
        _proc(
            0,
            "producer",
            "producer",
            "producer",
            state="waiting for its rate",
            activity="waiting for its rate",
            cpu_percent=3.0,
            cpu_s=0.41,
            rss=15 * MIB,
            sent=2460,
            items=2460,
            ctx_switches=4931,
        ),
        _proc(
            1,
            "worker-1",
            "worker",
            "worker",
            state="sleeping",
            activity="sleeping",
            cpu_percent=4.0,
            cpu_s=0.52,
            sent=808,
            received=809,
            items=808,
            blocked_s=1.74,
            ctx_switches=3240,
        ),
        _proc(
            2,
            "worker-2",
            "worker",
            "worker",
            state="blocked",
            blocked=BlockedOn("get", "tasks", "queue empty", T - 0.75, True),
            cpu_percent=4.0,
            cpu_s=0.50,
            sent=806,
            received=806,
            items=806,
            blocked_s=1.92,
            ctx_switches=3228,
        ),
        _proc(
            3,
            "worker-3",
            "worker",
            "worker",
            state="blocked",
            blocked=BlockedOn("get", "tasks", "queue empty", T - 0.35, False),
            cpu_percent=5.0,
            cpu_s=0.55,
            sent=808,
            received=808,
            items=808,
            blocked_s=1.81,
            ctx_switches=3251,
        ),
        _proc(
            4,
            "collector",
            "collector",
            "consumer",
            state="blocked",
            blocked=BlockedOn("get", "results", "queue empty", T - 0.15, True),
            cpu_percent=2.0,
            cpu_s=0.27,
            rss=13 * MIB,
            received=2422,
            items=2422,
            blocked_s=10.85,
            ctx_switches=2431,
        ),
    )
    channels = (
        _queue(
            0,
            "tasks",
            maxsize=50,
            puts=2460,
            gets=2423,
            max_depth=41,
            nbytes=2423 * 14,
            put_rate=200.0,
            get_rate=197.0,
            writers=("producer",),
            readers=workers,
            blocked_get_s=5.47,
        ),
        _queue(
            1,
            "results",
            maxsize=0,
            puts=2422,
            gets=2422,
            max_depth=3,
            nbytes=2422 * 17,
            put_rate=197.0,
            get_rate=197.0,
            writers=workers,
            readers=("collector",),
            blocked_get_s=10.85,
        ),
    )
    events: list[Event] = []
    step = 0.012
    ago = 0.26
    seq = 2440  # the producer's item numbers; results keep their task's id
    for i in range(5):
        w = 1 + i % 3
        events.append(Event(_ns(ago), 0, "put", 0, _mid(0, seq + i), 14))
        ago -= step / 3
        events.append(Event(_ns(ago), w, "get", 0, _mid(0, seq + i - 37), 14))
        ago -= step / 3
        events.append(Event(_ns(ago), w, "put", 1, _mid(0, seq + i - 38), 17))
        ago -= step / 3
        events.append(Event(_ns(ago), 4, "get", 1, _mid(0, seq + i - 38), 17))
        ago -= step / 3
    return Snapshot(
        seq=123,
        t=T,
        elapsed_s=12.3,
        processes=processes,
        channels=channels,
        recent_events=tuple(events),
        events_total=9773,
        events_released=9773,
        events_dropped=0,
        observer_cpu_percent=1.0,
        finished=False,
        stuck=None,
    )


def ping_pong_snapshot(scenario: Scenario) -> Snapshot:
    """pipe-ping-pong, 1.42 s in: 14 round trips done, the ponger waits in recv()."""
    assert [p.name for p in scenario.processes] == ["pinger", "ponger"]
    assert [c.name for c in scenario.channels] == ["link"]
    processes = (
        _proc(
            0,
            "pinger",
            "pinger",
            "pinger",
            state="waiting for its rate",
            activity="waiting for its rate",
            cpu_percent=1.0,
            cpu_s=0.09,
            rss=13 * MIB,
            sent=14,
            received=14,
            items=14,
            blocked_s=0.021,
            ctx_switches=61,
        ),
        _proc(
            1,
            "ponger",
            "ponger",
            "ponger",
            state="blocked",
            blocked=BlockedOn("recv", "link", "pipe empty", T - 0.07, True),
            cpu_percent=1.0,
            cpu_s=0.08,
            rss=13 * MIB,
            sent=14,
            received=14,
            items=14,
            blocked_s=1.33,
            ctx_switches=58,
        ),
    )
    link = ChannelSample(
        index=0,
        name="link",
        kind="Pipe",
        maxsize=0,
        puts=28,
        gets=28,
        depth=0,
        max_depth=1,
        bytes=14 * 20 + 14 * 25,
        task_done=0,
        unfinished=0,
        full_hits=0,
        blocked_put_s=0.0,
        blocked_get_s=1.35,
        put_rate=20.0,
        get_rate=20.0,
        writers=("pinger", "ponger"),
        readers=("pinger", "ponger"),
        directions=(
            Direction(
                "pinger",
                "ponger",
                sent=14,
                received=14,
                in_flight=0,
                bytes=14 * 20,
                rate=10.0,
                bytes_rate=200.0,
            ),
            Direction(
                "ponger",
                "pinger",
                sent=14,
                received=14,
                in_flight=0,
                bytes=14 * 25,
                rate=10.0,
                bytes_rate=250.0,
            ),
        ),
    )
    events: list[Event] = [
        Event(_ns(1.42), 0, "start", -1, -1, 0),
        Event(_ns(1.41), 1, "start", -1, -1, 0),
    ]
    for k in range(5):  # the last five round trips
        ago = 0.52 - 0.1 * k
        n = 9 + k
        events += [
            Event(_ns(ago), 0, "put", 0, _mid(0, n), 20),
            Event(_ns(ago - 0.0003), 1, "get", 0, _mid(0, n), 20),
            Event(_ns(ago - 0.0005), 1, "put", 0, _mid(1, n), 25),
            Event(_ns(ago - 0.0008), 0, "get", 0, _mid(1, n), 25),
        ]
    return Snapshot(
        seq=15,
        t=T,
        elapsed_s=1.42,
        processes=processes,
        channels=(link,),
        recent_events=tuple(events),
        events_total=58,
        events_released=58,
        events_dropped=0,
        observer_cpu_percent=1.0,
        finished=False,
        stuck=None,
    )


def deadlock_snapshot(scenario: Scenario) -> Snapshot:
    """Two pongers waiting for each other since the start: a deadlock."""
    assert [p.name for p in scenario.processes] == ["left", "right"]
    assert [c.name for c in scenario.channels] == ["a", "b"]
    processes = (
        _proc(
            0,
            "left",
            "left",
            "ponger",
            state="blocked",
            blocked=BlockedOn("get", "a", "queue empty", T - 6.25, True),
            cpu_s=0.06,
            rss=12 * MIB,
            blocked_s=6.3,
            ctx_switches=9,
        ),
        _proc(
            1,
            "right",
            "right",
            "ponger",
            state="blocked",
            blocked=BlockedOn("get", "b", "queue empty", T - 6.2, True),
            cpu_s=0.06,
            rss=12 * MIB,
            blocked_s=6.25,
            ctx_switches=9,
        ),
    )
    channels = (
        _queue(
            0,
            "a",
            maxsize=0,
            puts=0,
            gets=0,
            max_depth=0,
            nbytes=0,
            put_rate=0.0,
            get_rate=0.0,
            writers=("right",),
            readers=("left",),
            blocked_get_s=6.3,
        ),
        _queue(
            1,
            "b",
            maxsize=0,
            puts=0,
            gets=0,
            max_depth=0,
            nbytes=0,
            put_rate=0.0,
            get_rate=0.0,
            writers=("left",),
            readers=("right",),
            blocked_get_s=6.25,
        ),
    )
    events = (
        Event(_ns(6.4), 0, "start", -1, -1, 0),
        Event(_ns(6.35), 1, "start", -1, -1, 0),
    )
    return Snapshot(
        seq=64,
        t=T,
        elapsed_s=6.4,
        processes=processes,
        channels=channels,
        recent_events=events,
        events_total=2,
        events_released=2,
        events_dropped=0,
        observer_cpu_percent=0.0,
        finished=False,
        stuck=Stuck(
            kind="deadlock",
            processes=("left", "right"),
            description=DEADLOCK_DESCRIPTION,
            since=T - 5.2,
        ),
        waits=(
            WaitEdge("left", "get", "a", "queue empty", ("right",), T - 6.25, in_cycle=True),
            WaitEdge("right", "get", "b", "queue empty", ("left",), T - 6.2, in_cycle=True),
        ),
    )


def finished(snap: Snapshot) -> Snapshot:
    """The same picture with every process exited 0 (for verdict tests)."""
    procs = tuple(
        replace(p, alive=False, exitcode=0, state="exited 0", status="", blocked=None)
        for p in snap.processes
    )
    return replace(snap, processes=procs, finished=True, stuck=None)


# ------------------------------------------------------- a projector's 100×30
# Pictures of what a class reads on a small screen: the lines that carry the
# lesson (names, pids, objects, "held by …, which …") and many rows.


def lock_order_scenario() -> Scenario:
    return load(resolve("lock-order-deadlock"))


LOCK_ORDER_DESCRIPTION = (
    "deadlock: left → right → left wait for each other; "
    "left holds 'lock_a' and is blocked in acquire on 'lock_b', held by right (pid 4243); "
    "right holds 'lock_b' and is blocked in acquire on 'lock_a', held by left (pid 4242)"
)


def lock_order_snapshot(scenario: Scenario) -> Snapshot:
    """lock-order-deadlock, 6.4 s in: each holds one lock and waits for the other."""
    assert [p.name for p in scenario.processes] == ["left", "right"]

    def waiting(i: int, name: str, lock: str, holder: str, since: float) -> ProcessSample:
        b = BlockedOn("acquire", lock, "", T - since, True, holder)
        p = _proc(i, name, name, "steps", state="blocked", blocked=b, cpu_s=0.11)
        return replace(p, blocked_s=since, ctx_switches=36)

    def lock(i: int, name: str, holder: str, waiter: str, pid: int) -> SharedSample:
        return SharedSample(
            i,
            name,
            "Lock",
            holders=(holder,),
            holder_pids=(pid,),
            held=1,
            held_since=T - 6.2,
            free=0,
            waiting=(waiter,),
            acquires=1,
            contended=1,
            wait_s=6.0,
            users=("left", "right"),
        )

    return Snapshot(
        seq=64,
        t=T,
        elapsed_s=6.4,
        processes=(
            waiting(0, "left", "lock_b", "right (pid 4243)", 6.05),
            waiting(1, "right", "lock_a", "left (pid 4242)", 6.0),
        ),
        channels=(),
        recent_events=(
            Event(_ns(6.3), 0, "acquire", 0, -1, 0),
            Event(_ns(6.25), 1, "acquire", 1, -1, 0),
        ),
        events_total=2,
        events_released=2,
        events_dropped=0,
        observer_cpu_percent=1.0,
        finished=False,
        stuck=Stuck("deadlock", ("left", "right"), LOCK_ORDER_DESCRIPTION, T - 5.0),
        shared=(
            lock(0, "lock_a", "left", "right", 4242),
            lock(1, "lock_b", "right", "left", 4243),
            SharedSample(2, "a_held", "Event", is_set=True, sets=1, users=("left", "right")),
            SharedSample(3, "b_held", "Event", is_set=True, sets=1, users=("left", "right")),
        ),
        waits=(
            WaitEdge(
                "left", "acquire", "lock_b", "", ("right",), T - 6.05, "right (pid 4243)", True
            ),
            WaitEdge("right", "acquire", "lock_a", "", ("left",), T - 6.0, "left (pid 4242)", True),
        ),
    )


LONG_HANG_TOML = """
[scenario]
title = "Pitfall (broken): a checkpoint writer terminated while it holds the journal lock"
explain = "The writer is terminated holding the lock; both rebuilders wait for it forever."
start_method = "spawn"
expect = "hang"

[shared.journal_lock]
kind = "Lock"

[[process]]
name = "checkpoint-writer"
role = "steps"
steps = [{ acquire = "journal_lock" }, { sleep = 5000 }, { release = "journal_lock" }]

[[process]]
name = "index-rebuilder"
role = "steps"
replicas = 2
steps = [{ acquire = "journal_lock" }, { release = "journal_lock" }]
"""

_KILLED_HOLDER = "checkpoint-writer (pid 4242), which was killed by SIGTERM while holding it"

LONG_HANG_DESCRIPTION = "hang: " + "; ".join(
    f"index-rebuilder-{i} is blocked in acquire on 'journal_lock', held by {_KILLED_HOLDER}"
    ", so no live process can ever release it"
    for i in (1, 2)
)


def long_hang_scenario() -> Scenario:
    return loads(LONG_HANG_TOML, source="<long-hang>", name="checkpoint-writer-terminated")


def long_hang_snapshot(scenario: Scenario) -> Snapshot:
    """Two rebuilders wait for a lock whose holder was killed: a HANG whose
    every line is longer than 100 columns."""
    names = ["checkpoint-writer", "index-rebuilder-1", "index-rebuilder-2"]
    assert [p.name for p in instances_of(scenario)] == names
    writer = replace(
        _proc(0, names[0], names[0], "steps", state="killed by SIGTERM", cpu_s=0.11),
        alive=False,
        exitcode=-15,
        status="",
    )

    def rebuilder(i: int, since: float) -> ProcessSample:
        b = BlockedOn("acquire", "journal_lock", "", T - since, True, _KILLED_HOLDER)
        p = _proc(i, names[i], "index-rebuilder", "steps", state="blocked", blocked=b, cpu_s=0.1)
        return replace(p, blocked_s=since, ctx_switches=31)

    return Snapshot(
        seq=64,
        t=T,
        elapsed_s=6.4,
        processes=(writer, rebuilder(1, 5.85), rebuilder(2, 5.8)),
        channels=(),
        recent_events=(
            Event(_ns(6.3), 0, "acquire", 0, -1, 0),
            Event(_ns(5.9), 0, "exit", -1, -1, -15),
        ),
        events_total=2,
        events_released=2,
        events_dropped=0,
        observer_cpu_percent=1.0,
        finished=False,
        stuck=Stuck("hang", tuple(names[1:]), LONG_HANG_DESCRIPTION, T - 5.0),
        shared=(
            SharedSample(
                0,
                "journal_lock",
                "Lock",
                holders=(names[0],),
                holder_pids=(4242,),
                held=1,
                held_since=T - 6.3,
                free=0,
                waiting=tuple(names[1:]),
                acquires=1,
                contended=2,
                wait_s=11.6,
                users=tuple(names),
            ),
        ),
        waits=tuple(
            WaitEdge(n, "acquire", "journal_lock", "", (), T - s, _KILLED_HOLDER)
            for n, s in ((names[1], 5.85), (names[2], 5.8))
        ),
    )


def bounded_scenario() -> Scenario:
    return load(resolve("bounded-queue"))


def bounded_snapshot(scenario: Scenario) -> Snapshot:
    """bounded-queue as its tour leaves it: ten readers paused, the queue at
    3 of 3, three writers done and seven blocked in put(): twenty rows."""
    names = [p.name for p in instances_of(scenario)]
    assert len(names) == 20 and names[0] == "writer-1" and names[10] == "reader-1"
    processes = []
    for i, name in enumerate(names[:10]):
        if i < 3:
            p = _proc(i, name, "writer", "producer", state="exited 0", sent=1, items=1)
            p = replace(p, alive=False, exitcode=0, status="")
        else:
            since = 2.35 - 0.1 * i
            b = BlockedOn("put", "queue", "queue full", T - since, True)
            p = _proc(i, name, "writer", "producer", state="blocked", blocked=b, blocked_s=since)
        processes.append(replace(p, cpu_s=0.08, ctx_switches=40 + i))
    for i, name in enumerate(names[10:], start=10):
        p = _proc(i, name, "reader", "consumer", state="stopped", activity="stopped")
        processes.append(replace(p, status="stopped", cpu_s=0.07, ctx_switches=30 + i))
    queue = _queue(
        0,
        "queue",
        maxsize=3,
        puts=3,
        gets=0,
        max_depth=3,
        nbytes=3 * 36,
        put_rate=0.0,
        get_rate=0.0,
        writers=tuple(names[:10]),
        readers=tuple(names[10:]),
        blocked_put_s=9.1,
    )
    return Snapshot(
        seq=40,
        t=T,
        elapsed_s=2.4,
        processes=tuple(processes),
        channels=(queue,),
        recent_events=tuple(Event(_ns(2.3 - 0.01 * i), i, "put", 0, -1, 36) for i in range(3)),
        events_total=3,
        events_released=3,
        events_dropped=0,
        observer_cpu_percent=4.0,
        finished=False,
        stuck=None,
        waits=tuple(
            WaitEdge(p.name, "put", "queue", "queue full", (), p.blocked.since)
            for p in processes
            if p.blocked is not None
        ),
    )
