"""A watched program's processes as the sampler sees them: pid and exit code.

The observer is the parent of the program's main process only; every other
process is reaped by its own parent, inside the program. So its exit code is
what it said on the board as it ended (watch_runtime.Runtime.leave), and
until its parent reaps it, it is a zombie, as `ps` shows it: the code is
given once the pid is gone. A process that ended without a word (SIGKILL,
os._exit) has its status read from /proc while it is a zombie (the exit
code field of /proc/PID/stat); reaped before anyone looked, it is said
to have ended with UNKNOWN.
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import os
import signal
import subprocess
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine.registry import ObjectInfo

UNKNOWN = -int(signal.SIGKILL)  # ended without a word, and reaped before we looked


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, start time, wait status) of a pid, from /proc; None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            fields = file.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the name: state is field 3, starttime 22, exit_code 52 (1-based).
    status = int(fields[49]) if len(fields) > 49 else 0
    return fields[0].decode(), int(fields[19]), status


def _code_of(status: int) -> int:
    """A wait status as multiprocessing reports it: the code, or -signal."""
    if status & 0x7F:
        return -(status & 0x7F)
    return (status >> 8) & 0xFF


class ChildView:
    """One process of the program that the observer did not start."""

    def __init__(self, mv: memoryview, base: int) -> None:
        self._mv = mv
        self._base = base
        self._start = 0  # its /proc start time, when first seen: a reused pid differs
        self._code: int | None = None
        self._zombie: int | None = None  # its wait status, seen while a zombie

    @property
    def pid(self) -> int | None:
        return self._mv[self._base + B.P_PID] or None

    @property
    def exitcode(self) -> int | None:
        if self._code is not None:
            return self._code
        mv, base = self._mv, self._base
        said = mv[base + B.P_EXIT_STATUS]
        pid = mv[base + B.P_PID]
        if not pid:
            if said:  # it never ran: start() raised in its parent
                self._code = said - B.EXIT_SAID
            return self._code
        stat = _stat(pid)
        if stat is not None and self._start and stat[1] != self._start:
            stat = None  # the pid is someone else's now
        if stat is None:  # reaped by its parent
            said = mv[base + B.P_EXIT_STATUS]  # again: it may have said so since the first look
            if said:
                self._code = said - B.EXIT_SAID
            elif self._zombie is not None:
                self._code = _code_of(self._zombie)
            else:
                self._code = UNKNOWN
            return self._code
        state, start, status = stat
        if not self._start:
            self._start = start
        if state == "Z":  # ended; its parent has not reaped it yet, as `ps` shows
            self._zombie = status
        return None


class MainView:
    """The program's main process: the observer's own child."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen

    @property
    def pid(self) -> int | None:
        return self.popen.pid

    @property
    def exitcode(self) -> int | None:
        return self.popen.poll()


class ProgramProcesses:
    """By process index, as the sampler asks for them: index 0 is the main
    process, the others are made when first asked for."""

    def __init__(self, mv: memoryview, layout: B.Layout, main: MainView) -> None:
        self._mv = mv
        self._layout = layout
        self._views: list[Any] = [main]

    def __len__(self) -> int:
        return self._layout.nproc

    def __getitem__(self, index: int) -> Any:
        while len(self._views) <= index:
            self._views.append(ChildView(self._mv, self._layout.proc(len(self._views))))
        return self._views[index]

    def __iter__(self) -> Any:
        return iter(self._views)


class MappedData:
    """A watched program's Value or Array, as the observer reads it: the
    very memory, mapped from the heap arena that holds it (through
    /proc/PID/fd of the process that made it), read without its lock."""

    def __init__(self, info: ObjectInfo) -> None:
        from multiprocessing.sharedctypes import typecode_to_type

        pid, fd, offset, size = info.memory
        path = f"/proc/{pid}/fd/{fd}"
        opened = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        try:
            length = os.fstat(opened).st_size
            self._map = mmap.mmap(opened, length, mmap.MAP_SHARED)
        finally:
            os.close(opened)
        ctype: Any = typecode_to_type[info.typecode]
        if info.kind == "Array":
            ctype = ctype * info.size
        if ctypes.sizeof(ctype) > size:
            raise ValueError("not the memory registered")
        self._obj = ctype.from_buffer(self._map, offset)

    def get_obj(self) -> Any:
        return self._obj

    def close(self) -> None:
        del self._obj
        with contextlib.suppress(BufferError):
            self._map.close()


class MappedBlock:
    """A watched program's SharedMemory block, as the observer reads it:
    mapped read-only through /proc/PID/fd of the process that made it."""

    name = ""  # the block's name stays the program's business

    def __init__(self, info: ObjectInfo) -> None:
        pid, fd, _, size = info.memory
        opened = os.open(f"/proc/{pid}/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            self._map = mmap.mmap(opened, size, mmap.MAP_SHARED, mmap.PROT_READ)
        finally:
            os.close(opened)
        self.buf = memoryview(self._map)

    def close(self) -> None:
        self.buf.release()
        with contextlib.suppress(BufferError):
            self._map.close()


def map_data(info: ObjectInfo) -> MappedData | MappedBlock | None:
    """The observer's view of a Value, an Array or a SharedMemory block, if
    its memory can be mapped."""
    if not info.memory[0]:
        return None
    try:
        if info.kind == "SharedMemory" and info.memory[1] >= 0:
            return MappedBlock(info)
        if info.kind in ("Value", "Array") and info.typecode:
            return MappedData(info)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return None
