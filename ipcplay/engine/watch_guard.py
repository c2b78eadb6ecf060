"""The guardian of a watched program: it outlives the observer, briefly.

A program's processes are not the observer's children (only its main
process is), so no death signal ties them to it. This process does: started
by the observer before the program, in a session of its own (a Ctrl+C at the
terminal does not reach it), it blocks reading a pipe whose only write end
the observer holds. The observer first writes the program's process group;
when the pipe ends, because the observer is done or because it died (even
by SIGKILL), the guardian kills that group and every process the board
names that still carries this run's mark, then exits.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import signal
import sys

from ipcplay.engine import board as B
from ipcplay.engine.watch_board import ENV, NEXT_SLOT, kill_group


def _ours(pid: int, mark: bytes) -> bool:
    """Is `pid` still a process of this run (not a reused pid)?"""
    try:
        with open(f"/proc/{pid}/environ", "rb") as file:
            return mark in file.read()
    except OSError:
        return False


def _kill_all(group: int, board_fd: int, size: int, proc_slots: int) -> None:
    try:
        mapping = mmap.mmap(board_fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
    except OSError:
        return
    mv = memoryview(mapping).cast("q")
    mark = f"{ENV}=".encode()
    for index in range(mv[NEXT_SLOT["process"]]):
        base = 8 + index * proc_slots  # board.Layout.proc
        pid = mv[base + B.P_PID]
        if pid and not mv[base + B.P_EXIT_STATUS] and _ours(pid, mark):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    mv.release()
    mapping.close()
    if group > 0:
        kill_group(group)  # the resource tracker last: it unlinks what was leaked


def main() -> None:
    """argv: the pipe's read end, the board's fd, its size in bytes, the
    slots of one process record (board.Layout.proc_slots)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    read_fd, board_fd, size, proc_slots = (int(x) for x in sys.argv[1:5])
    group = 0
    buffered = b""
    while True:
        try:
            data = os.read(read_fd, 64)
        except InterruptedError:
            continue
        if not data:
            break
        buffered += data
        if b"\n" in buffered and not group:
            group = int(buffered.split(b"\n", 1)[0] or 0)
    _kill_all(group, board_fd, size, proc_slots)
