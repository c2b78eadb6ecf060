"""Instrumented channels: the real multiprocessing objects, counted.

Each wrapper has the API of the object it wraps and raises the same
exceptions (queue.Full, queue.Empty, EOFError, ValueError), because it *is*
that object underneath: only counting is added.

Cost is what matters here, so the hot path does the least that keeps every
number exact:

* a counter update is a local add and one store into the board;
* time is read only on the *slow path*, when a call is known to be able to
  block: a bounded put that found the queue full (we try a non-blocking put
  first, which costs the same as a blocking one that does not wait), or a
  get/recv that the counters say has nothing to take (another process's put
  counter equal to ours), or a pipe send that the counters cannot clear and
  the kernel, asked with a non-blocking write of the same frame (Linux),
  refuses. So blocked time is measured, not sampled, wherever a call really
  waits, and fast calls pay no clock reads;
* the "blocked on" marker carries the op's sequence number, so the observer can
  tell a call still in progress from one that has finished without the child
  clearing it on the fast path.

Byte counts are the pickled sizes. Pipe and SimpleQueue senders see them
directly (we pickle, exactly as the stdlib would, then send the bytes); for
Queue and JoinableQueue, which pickle in a feeder thread, the receiver counts
them by wrapping the queue's `_recv_bytes` hook. That hook and SimpleQueue's
`_reader`/`_writer`/`_rlock`/`_wlock` are CPython internals, stable since 3.8;
`check_internals()` verifies them and the tests pin it.

Names on the hot path: the put/get and send/recv methods (channels_queue.py,
channels_pipe.py) and the journal writer's log methods are measured
(benchmarks/channels.py) and written out in full, one store a line, so their
locals keep one name per figure, the same in each: n the count, b the bytes so
far, nb this message's bytes, m the pair's board slots, j the journal, t the
time, i a ring index. Everything off that path uses real names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine.channels_base import PIPE_SAFE_BYTES, SMALL_MESSAGE, CountedEnd
from ipcplay.engine.channels_pipe import (
    InstrumentedConnection,
    InstrumentedSimpleQueue,
    nowait_fd,
    pipe_room,
)
from ipcplay.engine.channels_queue import InstrumentedJoinableQueue, InstrumentedQueue
from ipcplay.engine.endpoints import Endpoint
from ipcplay.engine.journal import JournalWriter
from ipcplay.engine.manager import instrument_queue


def check_internals() -> list[str]:
    """Name the CPython internals we rely on that this interpreter lacks."""
    import multiprocessing as mp

    missing = []
    queue = mp.Queue()
    if not callable(getattr(queue, "_recv_bytes", None)):
        missing.append("Queue._recv_bytes")
    if not callable(getattr(getattr(queue, "_sem", None), "acquire", None)):
        missing.append("Queue._sem")
    queue.close()
    queue.join_thread()
    simple = mp.SimpleQueue()
    for attr in ("_reader", "_writer", "_rlock", "_wlock"):
        if not hasattr(simple, attr):
            missing.append(f"SimpleQueue.{attr}")
    simple.close()
    end_a, end_b = mp.Pipe()
    for attr in (
        "_send_bytes",
        "_recv_bytes",
        "_handle",
        "_readable",
        "_writable",
        "_check_closed",
        "_check_readable",
        "_check_writable",
    ):
        if not hasattr(end_a, attr):
            missing.append(f"Connection.{attr}")
    end_a.close()
    end_b.close()
    return missing


# A channel kind's instrumented wrapper: a class, or a function that returns one,
# called as wrapper(raw object, endpoint, board, layout, process, journal). A new
# kind is one entry here.
WRAPPERS: dict[str, Callable[..., Any]] = {
    "Queue": InstrumentedQueue,
    "JoinableQueue": InstrumentedJoinableQueue,
    "SimpleQueue": InstrumentedSimpleQueue,
    "Pipe": InstrumentedConnection,
    "ManagerQueue": instrument_queue,
}


# A kind whose processes each open their own end, not one they inherit (a
# socket): how the observer prepares those ends for one run, called as
# own_ends(channel name, the indices of the processes using it, in file order);
# it returns an object with `ends` (process index -> what that process is handed,
# its wrapper's raw object) and a close() the observer calls at the end.
OWN_ENDS: dict[str, Callable[[str, list[int]], Any]] = {}


def instrument(
    kind: str,
    obj: Any,
    ep: Endpoint,
    mv: memoryview,
    layout: B.Layout,
    proc: int,
    journal: JournalWriter | None,
) -> Any:
    """Wrap a raw multiprocessing channel object for use in process `proc`."""
    return WRAPPERS[kind](obj, ep, mv, layout, proc, journal)


__all__ = [
    "PIPE_SAFE_BYTES",
    "SMALL_MESSAGE",
    "WRAPPERS",
    "CountedEnd",
    "Endpoint",
    "InstrumentedConnection",
    "InstrumentedJoinableQueue",
    "InstrumentedQueue",
    "InstrumentedSimpleQueue",
    "check_internals",
    "instrument",
    "nowait_fd",
    "pipe_room",
]
