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

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Client, Connection, Listener
from shutil import rmtree
from time import sleep
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


# --------------------------------------------------------------------------- Listener/Client
# A socket between two processes that inherited nothing of it: the first
# process using the channel (in file order) makes a Listener and accept()s one
# connection; the other connects with Client(). Each then holds a Connection,
# counted by the very wrapper that counts a Pipe end.

CONNECT_TRIES = 2000
CONNECT_PAUSE_S = 0.005
"""Client() is tried CONNECT_TRIES times, CONNECT_PAUSE_S apart, while nobody
listens yet (the listening process may start after the connecting one): about
10 s of running, counted in tries so that a pause (SIGSTOP) does not use them
up. Then the error is raised, and the process fails saying so."""


@dataclass(frozen=True)
class SocketEnd:
    """One process's end of a Listener/Client channel before it exists: where
    to listen or connect, and the key both ends must prove they hold. The
    child is handed this, not an open end, and makes its connection itself."""

    address: str
    authkey: bytes
    listens: bool

    def open(self) -> Connection:
        """accept() one connection, or connect with Client(), retrying while
        the address has no listener yet. A wrong authkey raises
        AuthenticationError here, as it would in any program."""
        if self.listens:
            # Closed once it has accepted: one connection, and no one else gets in.
            with Listener(self.address, "AF_UNIX", authkey=self.authkey) as listener:
                return listener.accept()
        tries = 0
        while True:
            try:
                return Client(self.address, "AF_UNIX", authkey=self.authkey)
            except (ConnectionRefusedError, FileNotFoundError):
                tries += 1
                if tries >= CONNECT_TRIES:
                    raise
                sleep(CONNECT_PAUSE_S)


@dataclass(frozen=True)
class SocketChannel:
    """What the observer keeps of a Listener/Client channel: each process's
    end, and the private folder of its socket file where there is one."""

    ends: dict[int, SocketEnd]
    folder: str = ""

    def close(self) -> None:
        """Remove the socket's folder, if any. An abstract address (Linux)
        leaves no file at all; elsewhere the Listener unlinks its file when it
        closes, unless it was killed first, and the folder goes here."""
        if self.folder:
            rmtree(self.folder, ignore_errors=True)


def socket_channel(name: str, users: list[int]) -> SocketChannel:
    """A fresh address and authkey for one run of channel `name`, used by the
    processes `users` (in file order; the first listens).

    On Linux the address is abstract ("\\0ipcplay-..."), which no file stands
    for, so nothing is left behind even if every process is killed; elsewhere
    it is a socket file in a private temporary folder, removed at the end of
    the run. The authkey is 16 random bytes (os.urandom), as the docs advise:
    a key written in a preset would be a password in a file."""
    folder = ""
    tag = f"ipcplay-{os.getpid()}-{os.urandom(4).hex()}-{name}"
    if sys.platform.startswith("linux"):
        address = "\0" + tag
    else:
        folder = tempfile.mkdtemp(prefix="ipcplay-")
        address = os.path.join(folder, f"{name}.sock")
    authkey = os.urandom(16)
    ends = {proc: SocketEnd(address, authkey, order == 0) for order, proc in enumerate(users)}
    return SocketChannel(ends, folder)


def open_socket_end(end: SocketEnd, *counting: Any) -> InstrumentedConnection:
    """A Listener/Client channel's wrapper: open this process's end, then count
    it exactly as a Pipe end is counted (send/recv, bytes, blocked time, EOF)."""
    return InstrumentedConnection(end.open(), *counting)


# A channel kind's instrumented wrapper: a class, or a function that returns one,
# called as wrapper(raw object, endpoint, board, layout, process, journal). A new
# kind is one entry here.
WRAPPERS: dict[str, Callable[..., Any]] = {
    "Queue": InstrumentedQueue,
    "JoinableQueue": InstrumentedJoinableQueue,
    "SimpleQueue": InstrumentedSimpleQueue,
    "Pipe": InstrumentedConnection,
    "Listener": open_socket_end,
    "ManagerQueue": instrument_queue,
}


# A kind whose processes each open their own end, not one they inherit (a
# socket): how the observer prepares those ends for one run, called as
# own_ends(channel name, the indices of the processes using it, in file order);
# it returns an object with `ends` (process index -> what that process is handed,
# its wrapper's raw object) and a close() the observer calls at the end.
OWN_ENDS: dict[str, Callable[[str, list[int]], Any]] = {"Listener": socket_channel}


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
    "SocketChannel",
    "SocketEnd",
    "check_internals",
    "instrument",
    "nowait_fd",
    "pipe_room",
    "socket_channel",
]
