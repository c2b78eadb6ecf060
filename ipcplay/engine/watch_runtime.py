"""What each process of a watched program knows about being watched.

One `Runtime` per process, made from the environment (watch_board.ENV) the
first time anything needs it: the board, this process's index on it (-1
until it is registered: then nothing it does is counted, so no slot ever has
two writers), its journal writer, and where its output goes.

A process is registered by the parent that starts it (watch_hooks patches
`BaseProcess.start`), and enters its index itself, first thing in
`_bootstrap`; it says its exit status last thing there. A fork that
multiprocessing did not make (os.fork) is not registered, and counts nothing.

Step mode (issue 18) gates a program's operations here too: each registered
process has a gate (engine/gate.py) on its own header, and every watched
object's operation first reads `gate_on[0]`, this process's C_GATE, one
slot of shared memory (a view of a zero for a process that is not
registered). Only with step mode on does the call go further (`gate`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
import weakref
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine import gate as G
from ipcplay.engine.journal import JournalWriter
from ipcplay.engine.registry import BIT
from ipcplay.engine.watch_board import CHAN_CAP, ENV, T_MAPPED, T_STEP, WatchBoard, WatchSpec

# Frames of these folders are not the program's: a blocked call's line is the
# first frame outside them (the standard library's multiprocessing and
# concurrent.futures, and ipcplay).
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MP = os.path.dirname(os.path.abspath(__import__("multiprocessing").__file__))
# concurrent/futures beside it in the standard library, found without importing
# it (with logging, it was a third of a watched child's start-up).
_CF = os.path.join(os.path.dirname(_MP), "concurrent", "futures")
_NOT_THE_PROGRAM = (
    _HERE + os.sep,
    _MP + os.sep,
    _CF + os.sep,
    os.path.join(os.path.dirname(_MP), "threading.py"),
    "<frozen ",
    "<string>",  # a Manager's proxy methods are made by exec()
)


class Runtime:
    """This process's side of the watch."""

    def __init__(self, spec: WatchSpec) -> None:
        self.spec = spec
        self.board = WatchBoard.attach(spec)
        self.mv = self.board.mv
        self.layout = self.board.layout
        self.registry = self.board.registry
        self.proc = -1
        self.base = -1
        self.journal: JournalWriter | None = None
        self.pid = os.getpid()
        # Every counted object alive in this process: a new process must
        # bind each afresh to its own slots (watch_objects).
        self.objects: weakref.WeakSet[Any] = weakref.WeakSet()
        self.names: dict[str, int] = {}  # names given here so far: the second `q` is `q#2`
        self.mapped_at = 0  # the registry generation of the last object made here with memory

    # ------------------------------------------------------------ processes
    def register_child(self, name: str, role: str = "process") -> int:
        """A parent registers the process it is about to start; its index."""
        # Under the lock, as every registry write of a watched program: the
        # generation is bumped by a read and a write (`+= 1`), and a bump lost
        # to a race would hide what was registered from the observer.
        with self.board.locked():
            index = self.board.allocate("process")
            if index >= 0:
                self.registry.register_process(index, name, role)
                # In step mode from its first operation, if step mode is on now
                # (the observer turns it on and off under this same lock).
                at = self.layout.pool_base + T_STEP
                self.mv[self.layout.proc(index) + B.C_GATE] = self.mv[at]
        return index

    def not_started(self, index: int, error: str) -> None:
        """start() raised (a spawn that cannot pickle its target, say): the
        process never ran; say so for it, or the run would wait for it."""
        if index < 0:
            return
        mv, base = self.mv, self.layout.proc(index)
        B.write_text(mv, base, f"did not start: {error}")
        mv[base + B.P_EXIT_STATUS] = 1 + B.EXIT_SAID
        mv[base + B.P_PHASE] = B.PHASE_FAILED

    def started(self, index: int, pid: int) -> None:
        """The parent: the child's pid, as soon as start() returns (a child
        killed before its first instruction never says it)."""
        if index >= 0:
            self.mv[self.layout.proc(index) + B.P_PID] = pid

    def reaped(self, index: int, code: int) -> None:
        """The parent has reaped child `index`: its exit code, as
        multiprocessing reports it (-N: killed by signal N). The child is
        gone, so it writes these slots no more."""
        if index < 0:
            return
        at = self.layout.proc(index) + B.P_EXIT_STATUS
        if not self.mv[at]:
            self.mv[at] = code + B.EXIT_SAID

    def enter(self, index: int) -> None:
        """This process is `index` from now on: say its pid and start."""
        self.pid = os.getpid()
        self.proc = index
        if index < 0:
            self.base = -1
            self.journal = None
            _gate_here(None, -1)
        else:
            self.base = self.layout.proc(index)
            mv, base = self.mv, self.base
            self.journal = (
                JournalWriter(mv, self.layout, index) if self.layout.journal_cap else None
            )
            mv[base + B.P_PID] = self.pid
            mv[base + B.P_STARTED_NS] = time.monotonic_ns()
            mv[base + B.P_PHASE] = B.PHASE_RUNNING
            if self.journal is not None:
                self.journal.log(B.OP_START, -1, 0)
            _gate_here(mv, self.base)
        for obj in list(self.objects):
            obj._unbind()

    def forked(self) -> None:
        """After a bare os.fork: not a registered process, counts nothing."""
        self.enter(-1)

    def leave(self, status: int, error: str = "") -> None:
        """Say how this process ended: its status, its CPU time, the time."""
        if self.base < 0:
            return
        self.seen()
        mv, base = self.mv, self.base
        if error:
            B.write_text(mv, base, error)
        mv[base + B.P_MARK] = 0
        mv[base + B.P_CPU_NS] = time.process_time_ns()
        mv[base + B.P_ENDED_NS] = time.monotonic_ns()
        mv[base + B.P_EXIT_STATUS] = status + B.EXIT_SAID
        mv[base + B.P_PHASE] = B.PHASE_DONE if status == 0 else B.PHASE_FAILED
        if self.journal is not None:
            self.journal.log(B.OP_EXIT, -1, status & 0xFFFF)

    def joining(self, index: int) -> None:
        """This process waits in join() for process `index` to end."""
        mv, base = self.mv, self.base
        self.where()
        mv[base + B.P_WAITS_ON] = index
        mv[base + B.P_SINCE] = time.monotonic_ns()
        mv[base + B.P_ACTIVITY] = B.ACT_JOINING

    def joined(self) -> None:
        self.mv[self.base + B.P_ACTIVITY] = B.ACT_BUSY

    # ------------------------------------------------------------ objects
    def register_object(self, family: str, kind: str, name: str, **shape: Any) -> tuple[int, int]:
        """(index in its family, registry slot) of a new object; (-1, -1)
        once the caps are reached."""
        with self.board.locked():
            index = self.board.allocate(family)
            if index < 0:
                return -1, -1
            slot = self.registry.register_object(family, index, kind, name, **shape)
            if shape.get("memory"):
                self.mapped_at = self.registry.generation
        return index, slot

    def seen(self, limit: float = 0.3) -> None:
        """Before this process exits: wait (at most `limit` s) until the
        observer has mapped the memory of the Values, Arrays and blocks made
        here (watch_board.T_MAPPED); they go with the process."""
        if not self.mapped_at:
            return
        at = self.layout.pool_base + T_MAPPED
        deadline = time.monotonic() + limit
        while self.mv[at] < self.mapped_at and time.monotonic() < deadline:
            time.sleep(0.005)

    def use(self, slot: int, *ops: str) -> None:
        """This process uses object `slot` so (its own word: no lock)."""
        if self.proc < 0 or slot < 0:
            return
        bits = 0
        for op in ops:
            bits |= BIT[op]
        if (
            self.mv is not None
            and self.registry.mv[self.registry.use_at(self.proc, slot)] & bits == bits
        ):
            return  # said before: one read, no lock
        with self.board.locked():
            self.registry.add_use(self.proc, slot, *ops)

    # ------------------------------------------------------------ where
    def where(self) -> None:
        """Say, on the board, the program's line this process is in: called
        on the slow path only (a call that will wait)."""
        if self.base < 0:
            return
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename.startswith(_NOT_THE_PROGRAM):
            if frame.f_code.co_name == "_bootstrap":
                # The start of this process: below it is the stack its parent
                # had when it forked (a Pool's worker, idle, has no line of its own).
                frame = None
                break
            frame = frame.f_back
        text = ""
        if frame is not None:
            text = f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
        B.write_at(self.mv, self.base, text)

    # ------------------------------------------------------------ output
    def capture_output(self) -> None:
        """Send this process's own stdout and stderr to the observer, kept
        apart from every other process's: two fresh pipes on fds 1 and 2,
        their read ends handed over the observer's socket (SCM_RIGHTS)."""
        if not self.spec.capture or not self.spec.output or self.proc < 0:
            return
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                pass
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(self.spec.output)
                socket.send_fds(sock, [self.proc.to_bytes(4, "little")], [out_r, err_r])
                sock.recv(1)  # the observer has them: our ends may close
        except OSError:
            for fd in (out_r, out_w, err_r, err_w):
                os.close(fd)
            return
        os.close(out_r)
        os.close(err_r)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.close(out_w)
        os.close(err_w)
        line_buffered()


# ---------------------------------------------------------------- step mode

_NO_GATE = memoryview(bytearray(8)).cast("q")
# This process's C_GATE, as a one-slot view: what every watched operation
# reads first. Replaced as the process enters its index.
gate_on: memoryview = _NO_GATE


def _gate_here(mv: memoryview | None, base: int) -> None:
    """This process's gate (none for a process that is not registered)."""
    global gate_on
    if mv is None or base < 0:
        gate_on = _NO_GATE
        G.install(None)
        return
    gate_on = mv[base + B.C_GATE : base + B.C_GATE + 1]
    G.install(G.Gate(mv, base))


def gate(word: str, target: int, arg: Any = None) -> None:
    """Step mode is on: wait at this process's gate before operation `word`
    on object `target` (a channel's index, CHAN_CAP + a shared object's, or
    a process's for "join process"), saying the program's line first.

    An uncounted object (target < 0) is not gated, and neither is a helper
    thread (a ProcessPoolExecutor's manager thread puts its calls): the
    gate's slots are the process's, and one thread at a time may wait there."""
    gate = G.current
    if gate is None or target < 0 or not _in_main_thread():
        return
    rt = _RUNTIME
    if rt is not None:
        rt.where()
    said = arg if type(arg) is int and -(1 << 63) <= arg < 1 << 63 else None
    gate.stop(G.OP[word], target, said)


def shared_code(index: int) -> int:
    """The gate's target code of shared object `index` (-1: uncounted)."""
    return CHAN_CAP + index if index >= 0 else -1


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def line_buffered() -> None:
    """As on a terminal: each line reaches the observer as it is printed."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(OSError, ValueError):
                reconfigure(line_buffering=True)


_RUNTIME: Runtime | None = None
_TRIED = False


def runtime() -> Runtime | None:
    """This process's Runtime, made on first use; None if not watched."""
    global _RUNTIME, _TRIED
    if _RUNTIME is not None or _TRIED:
        return _RUNTIME
    _TRIED = True
    text = os.environ.get(ENV)
    if not text:
        return None
    try:
        _RUNTIME = Runtime(WatchSpec.decode(text))
    except (OSError, ValueError):  # the observer is gone: run unwatched
        _RUNTIME = None
    return _RUNTIME
