"""Immutable snapshots: the only thing that leaves the engine for a UI.

A snapshot is built by the sampler thread and never changed afterwards, so
any thread may read it; a UI that falls behind simply takes the latest one.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

from ipcplay.engine.journal import Event


@dataclass(frozen=True)
class BlockedOn:
    """What a process is waiting for right now.

    `since` is a monotonic time in seconds. `exact` is true when the child
    stamped it as it began to wait (slow path); otherwise it is the first
    sample that saw the wait, so the wait is at least that long.
    """

    op: str  # put, get, send, recv, join; acquire, wait (an Event or a Barrier)
    channel: str  # the channel or shared object
    reason: str  # "queue full", "queue empty", "pipe empty", "pipe full", "unfinished tasks"
    since: float
    exact: bool
    holder: str = ""  # acquire: who holds it, as "worker-2 (pid 4242)"; "" if nobody live
    where: str = ""  # a watched program's own line it waits at, "consumer.py:17"; "" unknown


@dataclass(frozen=True)
class NextOp:
    """What a process held at its gate (step mode, gate.py) will do when it
    is let go, and whether that will block, read from the same sample:
    `will_block` None when it cannot be told (a pipe send, a set)."""

    op: str  # put, get, send, recv, acquire, release, wait, read, write, ...
    target: str  # the channel, shared object or process it acts on
    arg: int | None = None  # what a write will write
    why: str = ""  # "queue 3/3 full", "held by right", "counter is 2 now"
    will_block: bool | None = None

    @property
    def words(self) -> str:
        """`put 'queue' — queue 3/3 full, will block`: a row's "next:"."""
        what = (
            f"{self.op} {self.arg} to '{self.target}'"
            if self.arg is not None
            else (f"{self.op} '{self.target}'")
        )
        outcome = (
            "" if self.will_block is None else "will block" if self.will_block else "will not block"
        )
        tail = ", ".join(part for part in (self.why, outcome) if part)
        return f"{what} — {tail}" if tail else what


@dataclass(frozen=True)
class ProcessSample:
    index: int
    name: str
    template: str
    role: str
    pid: int | None
    ppid: int | None
    alive: bool
    exitcode: int | None
    state: str  # words: starting, running, blocked, sleeping, stopped, exited, killed, ...
    status: str  # the OS status as psutil reports it ("" when gone)
    activity: str
    blocked: BlockedOn | None
    cpu_percent: float
    cpu_s: float
    rss: int
    threads: int
    ctx_switches: int
    sent: int
    received: int
    items: int
    pills_sent: int
    pills_received: int
    blocked_s: float  # measured time blocked in put/send/get/recv/join so far
    error: str
    stopped_by_engine: bool
    # Demo roles (globals, coroutines): exact numbers the process reports
    # about itself, as (label, value), in the role's order.
    notes: tuple[tuple[str, int], ...] = ()
    # Step mode: the operation it is held before (state "held"), else None.
    next: NextOp | None = None
    gates: int = 0  # operations it has stopped at its gate for, so far


@dataclass(frozen=True)
class Direction:
    """One direction of a pipe: from one end's process to the other's."""

    src: str
    dst: str
    sent: int
    received: int
    in_flight: int
    bytes: int
    rate: float = 0.0  # messages per second over the last sample interval
    bytes_rate: float = 0.0


@dataclass(frozen=True)
class ChannelSample:
    index: int
    name: str
    kind: str
    maxsize: int
    puts: int  # for pipes: sends
    gets: int  # for pipes: recvs
    depth: int  # puts - gets - lost; for pipes: messages in flight
    max_depth: int
    bytes: int  # pickled bytes delivered to readers
    task_done: int
    unfinished: int  # JoinableQueue: puts - task_done
    full_hits: int
    blocked_put_s: float
    blocked_get_s: float
    put_rate: float  # per second, over the last sample interval
    get_rate: float
    writers: tuple[str, ...]
    readers: tuple[str, ...]
    directions: tuple[Direction, ...]
    wait_s: float = 0.0  # how long the item most recently taken waited in the channel
    max_wait_s: float = 0.0  # the longest such wait so far (put -> get, per message)
    lost: int = 0  # Queue: put, but dropped by the feeder thread (could not pickle)


@dataclass(frozen=True)
class SharedSample:
    """A shared object as the observer sees it: counted from the board, and for
    Values, Arrays, Events and Barriers read from the object's own memory
    without taking its lock (the observer never blocks on a process).

    `value` is a Value's number or an Array's elements; `expected` is what a
    Value would hold if no update were lost (initial + every counted add) when
    only adds touch it, and `lost` = expected - value. For locks and
    semaphores, `holders` are the processes that hold it now (an RLock's
    recursion and a Semaphore's permits are in `held`), `free` how many more
    acquires would not block. `waiting` are the processes blocked on it now.
    """

    index: int
    name: str
    kind: str
    typecode: str = ""
    value: int | float | tuple[int | float, ...] | None = None
    expected: int | None = None
    lost: int | None = None
    updates: int = 0
    holders: tuple[str, ...] = ()
    holder_pids: tuple[int, ...] = ()
    held: int = 0
    held_since: float = 0.0  # monotonic seconds the longest current hold began
    free: int | None = None  # Semaphore: permits left; Lock: 1 or 0
    permits: int = 0  # Semaphore's initial value
    waiting: tuple[str, ...] = ()
    acquires: int = 0  # acquires that returned; waits that returned (Event, Barrier)
    releases: int = 0
    contended: int = 0
    wait_s: float = 0.0
    hold_s: float = 0.0
    is_set: bool | None = None  # Event
    sets: int = 0
    clears: int = 0
    parties: int = 0  # Barrier
    arrived: int = 0  # Barrier: how many wait at it now
    broken: bool = False
    notifies: int = 0  # Condition: notify() and notify_all() calls
    # SharedMemory: its name in /dev/shm, its size, the first bytes (hex),
    # and per process (name, reads, writes, the byte sum its last read saw);
    # `value` is the sum of its bytes now, read by the observer.
    block: str = ""
    size: int = 0
    head: str = ""
    per_process: tuple[tuple[str, int, int, int], ...] = ()
    users: tuple[str, ...] = ()
    calls: tuple[tuple[str, int], ...] = ()  # Manager objects: proxy calls by method, counted
    read_at: float = 0.0  # Manager objects: monotonic s of the observer's last read of `value`


@dataclass(frozen=True)
class ManagerSample:
    """A Manager's server process, as its own panel.

    `calls` are the proxy calls every process made on the objects this server
    holds, by method, counted by the callers (exact); `observer_reads` are the
    observer's own reads of the live values (its one extra connection).
    `threads` is the OS's count: the server runs one thread per connection.
    """

    name: str  # "manager" (a SyncManager) or "remote manager" (a BaseManager)
    kind: str  # "SyncManager" or "BaseManager"
    pid: int | None
    alive: bool
    exitcode: int | None
    address: str  # "127.0.0.1:40123" or the unix socket path
    cpu_percent: float
    cpu_s: float
    rss: int
    threads: int
    calls: tuple[tuple[str, int], ...]
    observer_reads: int
    objects: tuple[str, ...]  # the shared objects and channels it serves


@dataclass(frozen=True)
class Stuck:
    """A wait that can never complete, or a cycle of them."""

    kind: str  # "deadlock" or "hang"
    processes: tuple[str, ...]
    description: str
    since: float


@dataclass(frozen=True)
class WaitEdge:
    """One process's edge in the wait-for graph: `waiter` is blocked in `op` on
    `obj` (a channel or a shared object) and only one of `waits_for` can let it
    go on; none of them alive means nobody ever will. `holder` says who holds
    the lock or semaphore an acquire wants, as "right (pid 4243)". `in_cycle`
    is set once the detector has named this edge part of a deadlock cycle.

    Transient waits (a get with an item already on its way, a lock nobody
    holds) are not edges: they are about to end.
    """

    waiter: str
    op: str
    obj: str
    reason: str
    waits_for: tuple[str, ...]
    since: float  # monotonic seconds, as BlockedOn.since
    holder: str = ""
    in_cycle: bool = False
    where: str = ""  # the waiter's own line, in a watched program


@dataclass(frozen=True)
class PoolSample:
    """A `multiprocessing.Pool` as counted on the board (engine/pool.py).

    Task flow: `submitted` by the owner, `taken` by a worker, `returned` by a
    worker (a result or an exception, `failed`), `collected` by the owner
    (get, next or a callback). The pool's task queue holds `queued` =
    submitted - taken; `running` = taken - returned; its result side holds
    `unread` = returned - collected - errors. `arrived` lists task indices in
    the order their results reached the owner, `results` the values in that
    order ("error" for an exception); `tasks` the calls in submission order.
    `lost` are tasks a worker took and died on: the Pool never runs them again.
    """

    name: str  # the pool process
    method: str
    function: str
    processes: int
    maxtasksperchild: int
    chunksize: int
    state: str  # running, closed, terminated, joined
    submitted: int
    taken: int
    returned: int
    failed: int
    collected: int
    errors: int  # worker exceptions that reached the owner (get() or error_callback)
    callbacks: int
    error_callbacks: int
    timeouts: int
    resubmitted: int
    tasks: tuple[str, ...]
    arrived: tuple[int, ...]
    results: tuple[object, ...]
    workers_started: int
    workers_exited: int
    workers_overflow: int
    lost: tuple[int, ...]
    waiting: str  # "map: waiting for 3", or ""

    @property
    def queued(self) -> int:
        return max(0, self.submitted - self.taken)

    @property
    def running(self) -> int:
        return max(0, self.taken - self.returned)

    @property
    def unread(self) -> int:
        return max(0, self.returned - self.collected - self.errors)


@dataclass(frozen=True)
class Snapshot:
    seq: int
    t: float  # monotonic seconds when sampled
    elapsed_s: float
    processes: tuple[ProcessSample, ...]
    channels: tuple[ChannelSample, ...]
    recent_events: tuple[Event, ...]  # the newest, in time order, causes first (order.py)
    events_total: int
    events_dropped: int
    observer_cpu_percent: float
    finished: bool  # every process has exited
    stuck: Stuck | None
    shared: tuple[SharedSample, ...] = ()
    waits: tuple[WaitEdge, ...] = ()  # a deadlock's cycle first, in its order
    pools: tuple[PoolSample, ...] = ()  # pool workers are in `processes`, role "pool-worker"
    managers: tuple[ManagerSample, ...] = ()  # Manager server processes, one panel each
    events_released: int = 0  # events appended to recent_events so far (the log's cursor)
    events_late: int = 0  # events released after newer ones: later than the hold-back (order.py)
    speed: float = 1.0  # slow motion: the scenario's own time runs at this fraction (tempo.py)
    scenario_s: float | None = None  # the scenario's own time since the start; None: elapsed_s

    @property
    def clock_s(self) -> float:
        """The scenario's time: what its `after`s and durations are measured in."""
        return self.elapsed_s if self.scenario_s is None else self.scenario_s


def exit_words(code: int) -> str:
    """An exit status in the words of a process row: `exited 0`, `killed by SIGKILL`."""
    if code >= 0:
        return f"exited {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


def crashed(processes: tuple[ProcessSample, ...]) -> bool:
    """Did a process fail by itself? Not one ipcplay stopped, and not a pool
    worker: the Pool replaces a dead worker, and a task lost with it shows as
    a hang or an error in the pool process. The one rule for the headless
    verdict and the TUI's."""
    return any(
        p.exitcode not in (0, None) and not p.stopped_by_engine and p.role != "pool-worker"
        for p in processes
    )
