"""Pipe ends and SimpleQueue, counted: send and recv over a pipe (see channels.py).

Pipe and SimpleQueue senders see the pickled size directly: the wrapper
pickles, exactly as the stdlib would, then sends the bytes.
"""

from __future__ import annotations

import errno
import fcntl
import multiprocessing.queues
import os
import stat
from time import monotonic
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine.channels_base import (
    ATOMIC_PAYLOAD,
    HEADER,
    PIPE_SAFE_BYTES,
    SMALL_MESSAGE,
    SMALL_PAYLOAD,
    CountedEnd,
    dumps,
    loads,
    pack_len,
)


def _is_pipe(fd: int) -> bool:
    """A pipe, not a socket (a duplex Pipe's ends are sockets)."""
    try:
        return stat.S_ISFIFO(os.fstat(fd).st_mode)
    except OSError:
        return False


def nowait_fd(fd: int) -> bool:
    """True if a send on `fd` may first be tried with a non-blocking write.

    Linux pipes take RWF_NOWAIT (pwritev2) on a blocking descriptor, without
    touching the O_NONBLOCK flag that every process sharing the pipe end sees.
    Sockets (duplex Pipes) and other systems keep the timed path; a kernel too
    old for it on pipes says so on the first try (`_send_nowait`)."""
    return hasattr(os, "RWF_NOWAIT") and _is_pipe(fd)


def pipe_room(fd: int) -> int:
    """How many framed bytes of small messages may be in flight, the new one
    included, before a send on this pipe could block.

    Why more than PIPE_SAFE_BYTES: when the reader lags by more than 8 KiB,
    which at 64-byte messages is every other send, each send took the timed
    slow path and logged a wait that was no wait. The bound, from Linux's pipe
    code: a pipe is a ring of `slots` pages; a write of at most a page either
    merges into the last page or takes a new slot, and blocks only when it
    can do neither. Every slot but the first (partly read) and the last then
    holds more than a page less the new write. So with messages of at most
    SMALL_MESSAGE bytes, a send cannot block while in flight + its size is at
    most (slots - 2) * (page - SMALL_MESSAGE): 50,176 bytes in a 64 KiB pipe.
    Sockets (duplex Pipes) and systems without F_GETPIPE_SZ keep 8 KiB; a pipe
    too small for the bound (a user over pipe-user-pages-soft) gets none.
    Larger messages keep 8 KiB at most (see `_room`)."""
    if not _is_pipe(fd):
        return PIPE_SAFE_BYTES
    try:
        size = fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)  # type: ignore[attr-defined]
        page = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return PIPE_SAFE_BYTES
    slots = size // page
    if slots < 8:
        return 0
    return (slots - 2) * (page - SMALL_MESSAGE)


class _PipeLike(CountedEnd):
    """Send/recv over a pipe (a Pipe end, or a SimpleQueue's pipe).

    The fast paths are written out in full in each public method: on this
    path every extra Python call costs as much as the counting itself.
    Their short local names are the measured hot path's (see channels.py).
    """

    __slots__ = ("_nowait",)

    def _raw_send(self, data: Any) -> None:
        raise NotImplementedError

    def _send_nowait(self, data: bytes, fd: int) -> bool:
        """Try the send as one non-blocking write of the very frame Connection
        writes (length, then bytes); True if it went. Why: the bound `_room`
        checks is conservative, and a producer running ahead of its reader
        lives just past it, where a third of its sends took the timed path,
        each logged as a wait, though the pipe had room for 99 % of them. The
        kernel's answer is exact and costs the same system call."""
        frame = pack_len(len(data)) + data
        try:
            written = os.pwritev(fd, (frame,), -1, os.RWF_NOWAIT)
        except BlockingIOError:
            return False
        except OSError as e:
            if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise  # BrokenPipeError and the like, as Connection raises them
            self._nowait = False  # this kernel cannot: the timed path from now on
            return False
        if written < len(frame):  # not for an atomic write to a pipe; if ever, finish the frame
            rest = memoryview(frame)[written:]
            while rest:
                rest = rest[os.write(fd, rest) :]
        return True

    def _raw_recv(self) -> bytes:
        raise NotImplementedError

    def _send_slow(self, data: Any) -> None:
        t0 = self._timed(B.OP_PUT, self._nout)
        try:
            self._raw_send(data)
        finally:
            self._mv[self._mark] = 0
            self._blk_out += self._waited(B.OP_PUT, t0)
            self._mvc[B.BLOCK_OUT_NS] = self._blk_out

    def _recv_slow(self) -> bytes:
        t0 = self._timed(B.OP_GET, self._nin)
        try:
            return self._raw_recv()
        finally:
            self._mv[self._mark] = 0
            self._blk_in += self._waited(B.OP_GET, t0)
            self._mvc[B.BLOCK_IN_NS] = self._blk_in


class InstrumentedSimpleQueue(_PipeLike):
    """multiprocessing.SimpleQueue, counted (same locks and pipe as the real one)."""

    __slots__ = ("_q", "_reader", "_rlock", "_wlock", "_writer")

    def __init__(
        self, queue: multiprocessing.queues.SimpleQueue, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._q = queue
        self._reader = queue._reader  # type: ignore[attr-defined]
        self._writer = queue._writer  # type: ignore[attr-defined]
        self._rlock = queue._rlock  # type: ignore[attr-defined]
        self._wlock = queue._wlock  # type: ignore[attr-defined]
        # With other writers the lock may be held: keep their waits for it timed.
        self._nowait = False
        if self._sslot >= 0 and not self._writer.closed:
            self._safe = pipe_room(self._writer.fileno())
            self._nowait = nowait_fd(self._writer.fileno())

    def _raw_send(self, data: Any) -> None:
        if self._wlock is None:
            self._writer.send_bytes(data)
        else:
            with self._wlock:
                self._writer.send_bytes(data)

    def _raw_recv(self) -> bytes:
        with self._rlock:
            return self._reader.recv_bytes()

    def _put_nowait(self, data: bytes) -> bool:
        writer = self._writer
        if writer._handle is None:
            return False  # closed: the timed path raises as SimpleQueue does
        if self._wlock is None:
            return self._send_nowait(data, writer._handle)
        with self._wlock:
            return self._send_nowait(data, writer._handle)

    def put(self, obj: Any) -> None:
        data = dumps(obj)
        nb = len(data)
        n = self._nout + 1
        b = self._bout + nb
        j = self._j
        t = monotonic() if j is not None else 0.0  # before the message can reach a reader
        if (nb <= SMALL_PAYLOAD and b + HEADER * n - self._pin <= self._safe) or self._room(
            b, n, nb
        ):
            wlock = self._wlock
            if wlock is None:
                self._writer.send_bytes(data)
            else:
                with wlock:
                    self._writer.send_bytes(data)
        elif not (self._nowait and nb <= ATOMIC_PAYLOAD and self._put_nowait(data)):
            self._send_slow(data)
            t = monotonic()  # after its wait event
        self._nout = n
        self._bout = b
        m = self._mvc
        m[0] = n
        m[1] = b
        if j is not None:
            j.log_message(self._put_code, obj, nb, t, data, self._pv)

    def get(self) -> Any:
        n = self._nin + 1
        if n <= self._seen or self._more(n):
            with self._rlock:
                buf = self._reader.recv_bytes()
        else:
            buf = self._recv_slow()
        self._nin = n
        b = self._bin + len(buf)
        self._bin = b
        m = self._mvc
        m[2] = n
        m[3] = b
        obj = loads(buf)
        if self._j is not None:
            self._j.log_item(self._get_code, obj, len(buf))
        return obj

    def empty(self) -> bool:
        return self._q.empty()

    def close(self) -> None:
        self._q.close()


class InstrumentedConnection(_PipeLike):
    """One end of a multiprocessing.Pipe, counted."""

    __slots__ = ("_c", "_crecv", "_csend")

    def __init__(self, conn: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._c = conn
        # Connection's own framing calls, which its public send/recv use after
        # checking the handle: we do the same checks (`_ok`), once per call.
        self._csend = conn._send_bytes
        self._crecv = conn._recv_bytes
        self._nowait = False
        if not conn.closed and conn.writable:
            if self._sslot >= 0:
                self._safe = pipe_room(conn.fileno())
            self._nowait = nowait_fd(conn.fileno())

    def _ok(self, writing: bool) -> None:
        """Raise exactly what Connection raises for a closed or wrong-way end."""
        conn = self._c
        conn._check_closed()
        if writing:
            conn._check_writable()
        else:
            conn._check_readable()

    def _raw_send(self, data: Any) -> None:
        self._csend(data)

    def _raw_recv(self) -> bytes:
        return self._crecv().getvalue()

    def send_bytes(self, buf: Any, offset: int = 0, size: int | None = None) -> None:
        if offset or size is not None or type(buf) is not bytes:
            buf = bytes(memoryview(buf).cast("B")[offset : None if size is None else offset + size])
        c = self._c
        if c._handle is None or not c._writable:
            self._ok(writing=True)
        nb = len(buf)
        n = self._nout + 1
        b = self._bout + nb
        j = self._j
        t = monotonic() if j is not None else 0.0  # before the bytes can reach a reader
        if (nb <= SMALL_PAYLOAD and b + HEADER * n - self._pin <= self._safe) or self._room(
            b, n, nb
        ):
            self._csend(buf)
        elif not (self._nowait and nb <= ATOMIC_PAYLOAD and self._send_nowait(buf, c._handle)):
            self._send_slow(buf)
            t = monotonic()  # after its wait event
        self._nout = n
        self._bout = b
        m = self._mvc
        m[0] = n
        m[1] = b
        if j is not None:
            j.log_raw(self._put_raw | (nb << 16), t)

    def recv_bytes(self, maxlength: int | None = None) -> bytes:
        c = self._c
        if c._handle is None or not c._readable:
            self._ok(writing=False)
        n = self._nin + 1
        if maxlength is not None:
            buf = c.recv_bytes(maxlength)
        elif n <= self._seen or self._more(n):
            buf = self._crecv().getvalue()
        else:
            buf = self._recv_slow()
        self._nin = n
        nb = len(buf)
        b = self._bin + nb
        self._bin = b
        m = self._mvc
        m[2] = n
        m[3] = b
        j = self._j
        if j is not None:
            j.log_raw(self._get_raw | (nb << 16), monotonic())
        return buf

    def send(self, obj: Any) -> None:
        c = self._c
        if c._handle is None or not c._writable:
            self._ok(writing=True)
        data = dumps(obj)
        nb = len(data)
        n = self._nout + 1
        b = self._bout + nb
        j = self._j
        t = monotonic() if j is not None else 0.0  # before the message can reach a reader
        if (nb <= SMALL_PAYLOAD and b + HEADER * n - self._pin <= self._safe) or self._room(
            b, n, nb
        ):
            self._csend(data)
        elif not (self._nowait and nb <= ATOMIC_PAYLOAD and self._send_nowait(data, c._handle)):
            self._send_slow(data)
            t = monotonic()  # after its wait event
        self._nout = n
        self._bout = b
        m = self._mvc
        m[0] = n
        m[1] = b
        if j is not None:
            j.log_message(self._put_code, obj, nb, t, data, self._pv)

    def recv(self) -> Any:
        c = self._c
        if c._handle is None or not c._readable:
            self._ok(writing=False)
        n = self._nin + 1
        if n <= self._seen or self._more(n):
            buf: Any = self._crecv().getbuffer()  # as Connection.recv: no copy
        else:
            buf = self._recv_slow()
        self._nin = n
        nbytes = len(buf)
        b = self._bin + nbytes
        self._bin = b
        m = self._mvc
        m[2] = n
        m[3] = b
        obj = loads(buf)
        if self._j is not None:
            self._j.log_item(self._get_code, obj, nbytes)
        return obj

    def poll(self, timeout: float | None = 0.0) -> bool:
        return self._c.poll(timeout)

    def close(self) -> None:
        self._c.close()
        if self._j is not None:
            self._j.log(B.mark(0, self._ep.chan, B.OP_CLOSE), -1, 0)

    def fileno(self) -> int:
        return self._c.fileno()

    @property
    def closed(self) -> bool:
        return self._c.closed

    @property
    def readable(self) -> bool:
        return self._c.readable

    @property
    def writable(self) -> bool:
        return self._c.writable
