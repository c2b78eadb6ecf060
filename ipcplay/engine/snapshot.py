"""Immutable snapshots: the only thing that leaves the engine for a UI.

A snapshot is built by the sampler thread and never changed afterwards, so
any thread may read it; a UI that falls behind simply takes the latest one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ipcplay.engine.journal import Event


@dataclass(frozen=True)
class BlockedOn:
    """What a process is waiting for right now.

    `since` is a monotonic time in seconds. `exact` is true when the child
    stamped it as it began to wait (slow path); otherwise it is the first
    sample that saw the wait, so the wait is at least that long.
    """

    op: str  # put, get, send, recv, join
    channel: str
    reason: str  # "queue full", "queue empty", "pipe empty", "pipe full", "unfinished tasks"
    since: float
    exact: bool


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
    depth: int  # puts - gets; for pipes: messages in flight
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


@dataclass(frozen=True)
class Stuck:
    """A wait that can never complete, or a cycle of them."""

    kind: str  # "deadlock" or "hang"
    processes: tuple[str, ...]
    description: str
    since: float


@dataclass(frozen=True)
class Snapshot:
    seq: int
    t: float  # monotonic seconds when sampled
    elapsed_s: float
    processes: tuple[ProcessSample, ...]
    channels: tuple[ChannelSample, ...]
    recent_events: tuple[Event, ...]
    events_total: int
    events_dropped: int
    observer_cpu_percent: float
    finished: bool  # every process has exited
    stuck: Stuck | None
