"""The board and registry of a watched program (issue 17), in one memfd.

A program ipcplay did not write starts its own processes, by fork, spawn or
forkserver, and makes its own objects, in any of them, at any time. So its
board cannot be a `RawArray` handed to each child as an argument, as a
scenario's is: every process of the program must find it on its own. It is a
memfd (anonymous memory with a descriptor, never a name in /dev/shm, so
nothing is left behind whatever kills whom): the observer makes it and passes
its descriptor to the program's main process; a forked child inherits it; a
spawned one (or a fork server's) opens `/proc/<observer>/fd/<fd>`, named in
the environment variable ENV, which every child inherits.

Layout: the board (engine/board.py) with room for PROC_CAP processes,
CHAN_CAP channels and SHARED_CAP shared objects, then the registry
(engine/registry.py). Indices are handed out by counters in the board's
spare global slots, under a POSIX record lock on the memfd: the one
allocation point, taken when a process or an object is made, never on a
send or a get.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import mmap
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ipcplay.engine import board as B
from ipcplay.engine.registry import Registry

ENV = "IPCPLAY_WATCH"
# The command line of a watched program's main process (engine/watch_boot.py),
# here so the observer need not import the program's side to start it.
BOOT = "from ipcplay.engine.watch_boot import main; main()"

PROC_CAP = 1536  # processes over a whole run
CHAN_CAP = 256  # channels (a Queue, a Pipe...) over a whole run
SHARED_CAP = 256  # shared objects (a Lock, a Value...) over a whole run
NOTE_CAP = 64

# The board's global slots 4..7 (engine/board.py leaves them free).
G_NEXT_PROC = 4
G_NEXT_CHAN = 5
G_NEXT_SHARED = 6
G_UNCOUNTED = 7  # objects made once the caps were reached: they work, uncounted

NEXT_SLOT = {"process": G_NEXT_PROC, "channel": G_NEXT_CHAN, "shared": G_NEXT_SHARED}
CAPS = {"process": PROC_CAP, "channel": CHAN_CAP, "shared": SHARED_CAP}


@dataclass(frozen=True)
class WatchSpec:
    """What a program's process needs to find the board: the environment
    variable's content, `observer:fd:size:journal:previews:capture:output`."""

    observer: int  # the observer's pid
    fd: int  # the memfd, in the observer (and in the main process, inherited)
    size: int  # bytes
    journal: int  # events per process ring; 0: no journal
    previews: bool
    capture: bool  # each process's stdout/stderr goes to the observer, per process
    output: str  # the observer's socket for the capture ("" if none)

    def encode(self) -> str:
        return ":".join(
            str(x)
            for x in (
                self.observer,
                self.fd,
                self.size,
                self.journal,
                int(self.previews),
                int(self.capture),
                self.output.encode().hex(),
            )
        )

    @classmethod
    def decode(cls, text: str) -> WatchSpec:
        observer, fd, size, journal, previews, capture, output = text.split(":")
        return cls(
            int(observer),
            int(fd),
            int(size),
            int(journal),
            previews == "1",
            capture == "1",
            bytes.fromhex(output).decode(),
        )


# After every process's region: the watch's own words. The observer writes
# there the registry generation whose objects it has mapped (program.py); a
# process that made a Value, an Array or a block waits for it, briefly, before
# it exits (watch_runtime.Runtime.seen), or a program shorter than a tick
# would take their memory with it before the observer could map it.
TAIL_SLOTS = 8
T_MAPPED = 0
# 1 while the run is in step mode (issue 18): a process registered then
# starts with its gate set (C_GATE), before its first operation.
T_STEP = 1


def layout_for(journal: int, previews: bool) -> B.Layout:
    return B.Layout(
        nproc=PROC_CAP,
        nchan=CHAN_CAP,
        journal_cap=journal,
        nshared=SHARED_CAP,
        pool_slots=TAIL_SLOTS,
        previews=previews,
    )


class WatchBoard:
    """One mapping of the memfd: the board's view, the registry, the lock."""

    def __init__(self, fd: int, size: int, layout: B.Layout, fresh: bool = False) -> None:
        self.fd = fd
        self.size = size
        self.layout = layout
        self.map = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        slots = layout.total_slots
        # ctypes arrays over the mapping: what engine/board.py and the
        # registry take as `raw` (a RawArray is one too).
        self.raw = (ctypes.c_int64 * slots).from_buffer(self.map)
        self.registry_raw = (ctypes.c_int64 * (size // 8 - slots)).from_buffer(self.map, slots * 8)
        self.mv = B.view(self.raw)
        if fresh:
            B.init(self.raw, layout)
            Registry.format(self.registry_raw, PROC_CAP, CHAN_CAP + SHARED_CAP, NOTE_CAP)
        self.registry = Registry(self.registry_raw)

    @classmethod
    def create(cls, journal: int, previews: bool) -> WatchBoard:
        """The observer's: a fresh memfd, formatted."""
        layout = layout_for(journal, previews)
        registry_slots = Registry.slots_for(PROC_CAP, CHAN_CAP + SHARED_CAP, NOTE_CAP)
        size = (layout.total_slots + registry_slots) * 8
        fd = os.memfd_create("ipcplay-board", os.MFD_CLOEXEC)
        os.ftruncate(fd, size)
        return cls(fd, size, layout, fresh=True)

    @classmethod
    def attach(cls, spec: WatchSpec) -> WatchBoard:
        """A program process's: the inherited descriptor if it is still ours,
        else the observer's, opened through /proc."""
        fd = -1
        try:
            if os.fstat(spec.fd).st_size == spec.size and _is_memfd(spec.fd):
                fd = spec.fd
        except OSError:
            fd = -1
        if fd < 0:
            fd = os.open(f"/proc/{spec.observer}/fd/{spec.fd}", os.O_RDWR | os.O_CLOEXEC)
        return cls(fd, spec.size, layout_for(spec.journal, spec.previews))

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The allocation lock: a POSIX record lock, which a forked child
        does not share with its parent (a flock on an inherited descriptor
        would be)."""
        fcntl.lockf(self.fd, fcntl.LOCK_EX, 1, 0)
        try:
            yield
        finally:
            fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, 0)

    def allocate(self, family: str) -> int:
        """The next index of a process, channel or shared object; -1 once
        the cap is reached (then the thing works, uncounted, and is counted
        in G_UNCOUNTED). Call with the lock held."""
        slot = NEXT_SLOT[family]
        index = self.mv[slot]
        if index >= CAPS[family]:
            self.mv[G_UNCOUNTED] += 1
            return -1
        self.mv[slot] = index + 1
        return index

    def close(self) -> None:
        """The observer's end: let the mapping and the descriptor go."""
        del self.mv, self.raw, self.registry_raw, self.registry
        # A view still held somewhere (a sampler's copy): the process's exit frees it.
        with contextlib.suppress(BufferError):
            self.map.close()
        os.close(self.fd)


def _is_memfd(fd: int) -> bool:
    try:
        return os.readlink(f"/proc/self/fd/{fd}").startswith("/memfd:ipcplay-board")
    except OSError:
        return False


def group_members(group: int) -> list[tuple[int, bool]]:
    """(pid, is a resource tracker) of every process in process group `group`."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as file:
                fields = file.read().rsplit(b")", 1)[1].split()
            if int(fields[2]) != group:  # field 5, pgrp
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as file:
                tracker = b"resource_tracker" in file.read()
        except (OSError, IndexError, ValueError):
            continue
        members.append((int(entry), tracker))
    return members


def kill_group(group: int, wait: float = 2.0) -> None:
    """SIGKILL a program's process group, its resource tracker last.

    The tracker unlinks what the program leaked (a spawn Lock's named
    semaphore, a SharedMemory block) once every process that used it has
    gone; killed with them, it could not, and /dev/shm would keep them. So
    everything else dies first, the tracker gets `wait` seconds to finish its
    work and exit by itself, and only then is anything left killed."""
    import time

    members = group_members(group)
    for pid, tracker in members:
        if not tracker:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    trackers = [pid for pid, tracker in members if tracker]
    deadline = time.monotonic() + wait
    # Watched by pid, not by scanning /proc again: a scan reads every
    # process's stat, a thousand files on a busy machine, fifty times a second.
    while trackers and time.monotonic() < deadline:
        trackers = [pid for pid in trackers if _running(pid)]
        if trackers:
            time.sleep(0.02)
    with contextlib.suppress(OSError):
        os.killpg(group, signal.SIGKILL)


def _running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def uncounted(mv: memoryview) -> int:
    return mv[G_UNCOUNTED]


def registered(mv: memoryview, family: str) -> int:
    return mv[NEXT_SLOT[family]]
