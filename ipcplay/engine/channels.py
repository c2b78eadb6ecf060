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
"""

from __future__ import annotations

import errno
import fcntl
import multiprocessing.queues
import os
import select
import stat
import struct
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler
from queue import Full
from time import monotonic, monotonic_ns
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine.journal import JournalWriter

_dumps = ForkingPickler.dumps
_loads = ForkingPickler.loads

# A pipe send with fewer than this many bytes in flight, itself included,
# cannot block: the kernel pipe buffer is 64 KiB on Linux and at least 16 KiB
# on macOS. Used where the pipe's own size is unknown, and for larger messages.
PIPE_SAFE_BYTES = 8 * 1024
# Small messages (header included) get a bound from the pipe's real size.
SMALL_MESSAGE = 512
_HEADER = 4  # Connection frames each message with a 4-byte length
_SMALL_PAYLOAD = SMALL_MESSAGE - _HEADER


# A write of at most PIPE_BUF bytes to a pipe is atomic: all of it or, with
# RWF_NOWAIT, EAGAIN. Longer frames keep the timed path.
_ATOMIC_PAYLOAD = getattr(select, "PIPE_BUF", 512) - _HEADER
_pack_len = struct.Struct("!i").pack


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


@dataclass(frozen=True)
class Endpoint:
    """How one process uses one channel, with the board slots of its peers.

    `peer_out` are the OUT_N slots of the processes that write what we read;
    `peer_in_bytes` the IN_BYTES slots of the processes that read what we
    write. `recv_hint` is true when we are the only reader and those counters
    can prove an item is waiting; `send_hint` when we are the only writer and
    the readers' byte counters can prove a pipe send will not block.
    """

    chan: int
    name: str
    kind: str
    maxsize: int
    reads: bool
    writes: bool
    peer_out: tuple[int, ...]
    peer_in_bytes: tuple[int, ...]
    recv_hint: bool
    send_hint: bool


class _Base:
    __slots__ = (
        "_bin",
        "_blk_in",
        "_blk_out",
        "_bout",
        "_ep",
        "_get_code",
        "_get_raw",
        "_j",
        "_mark",
        "_mv",
        "_mvc",
        "_nin",
        "_nout",
        "_pin",
        "_put_code",
        "_put_raw",
        "_pv",
        "_rslot",
        "_safe",
        "_seen",
        "_since",
        "_sslot",
    )

    def __init__(
        self,
        ep: Endpoint,
        mv: memoryview,
        layout: B.Layout,
        proc: int,
        journal: JournalWriter | None,
    ) -> None:
        self._ep = ep
        self._mv = mv
        self._j = journal
        pbase = layout.proc(proc)
        self._mark = pbase + B.P_MARK
        self._since = pbase + B.P_SINCE
        cb = layout.chan(proc, ep.chan)
        # This pair's slots on their own, indexed by B.OUT_N, B.IN_BYTES...: no
        # offset to add. The hottest paths write the first four as literals:
        # OUT_N [0], OUT_BYTES [1], IN_N [2], IN_BYTES [3].
        self._mvc = mv[cb : cb + B.CHAN_SLOTS]
        self._nout = mv[cb + B.OUT_N]
        self._nin = mv[cb + B.IN_N]
        self._bout = mv[cb + B.OUT_BYTES]
        self._bin = mv[cb + B.IN_BYTES]
        self._blk_out = mv[cb + B.BLOCK_OUT_NS]
        self._blk_in = mv[cb + B.BLOCK_IN_NS]
        self._put_code = B.mark(0, ep.chan, B.OP_PUT)
        self._get_code = B.mark(0, ep.chan, B.OP_GET)
        # journal codes of byte-level events, flagged "no message id"
        self._put_raw = self._put_code | B.TIMED
        self._get_raw = self._get_code | B.TIMED
        # The one peer counter that proves an item is waiting (-1: always time the wait),
        # and the one reader byte counter that proves a pipe write cannot block.
        self._rslot = ep.peer_out[0] if ep.recv_hint else -1
        self._sslot = ep.peer_in_bytes[0] if ep.send_hint else -1
        # Cached reads of those peer counters. The peer writes them on every message,
        # so reading them every time would bounce their cache line between cores;
        # a stale value is always on the safe side (fewer items, more bytes in flight).
        self._seen = 0  # the writer's count as last read: items up to it are waiting for us
        # Pipe writers: the reader's framed bytes received (payload and headers)
        # as last read, and how many may be in flight (see pipe_room); with no
        # reader counter to trust, every send is taken as one that may block.
        self._pin = 0 if self._sslot >= 0 else -(1 << 62)
        self._safe = PIPE_SAFE_BYTES
        # Where this end writes the preview of a message (-1: previews off).
        self._pv = layout.preview(proc, ep.chan) if journal is not None and layout.previews else -1

    def _more(self, n: int) -> bool:
        """Re-read the writer's counter: True if our `n`th item is already sent."""
        s = self._rslot
        if s < 0:
            return False
        seen = self._seen = self._mv[s]
        return n <= seen

    def _room(self, sent: int, count: int, nb: int) -> bool:
        """Re-read the reader's counters: True if a send of `nb` bytes, which
        brings ours to `sent` bytes in `count` messages, cannot block."""
        s = self._sslot
        if s < 0:
            return False
        mv = self._mv
        self._pin = mv[s] + _HEADER * mv[s - B.IN_BYTES + B.IN_N]
        limit = self._safe if nb <= _SMALL_PAYLOAD else min(self._safe, PIPE_SAFE_BYTES)
        return sent + _HEADER * count - self._pin <= limit

    @property
    def name(self) -> str:
        return self._ep.name

    def _timed(self, op: int, seq: int) -> int:
        t0 = monotonic_ns()
        self._mv[self._since] = t0
        self._mv[self._mark] = B.mark(seq, self._ep.chan, op, timed=True)
        return t0

    def _waited(self, op: int, t0: int) -> int:
        """The wait since `t0` in ns, also journalled (only the slow paths get
        here): a trace draws it as a blocked slice, the log as a wait."""
        ns = monotonic_ns() - t0
        if self._j is not None:
            self._j.log(B.mark(0, self._ep.chan, B.OP_WAIT), op, ns)
        return ns


class InstrumentedQueue(_Base):
    """multiprocessing.Queue, counted."""

    __slots__ = ("_bounded", "_last_buf", "_q")

    def __init__(
        self,
        q: multiprocessing.queues.Queue,
        ep: Endpoint,
        mv: memoryview,
        layout: B.Layout,
        proc: int,
        journal: JournalWriter | None,
    ) -> None:
        super().__init__(ep, mv, layout, proc, journal)
        self._q = q
        self._bounded = ep.maxsize > 0
        self._last_buf = b""  # the pickle of the item got last (journal on)
        if ep.reads:
            self._hook_recv()
        if ep.writes:
            self._hook_feeder_errors()

    def _hook_feeder_errors(self) -> None:
        """Count the items the feeder thread could not send.

        Queue.put() only appends to a buffer; the feeder thread pickles later
        and, if that fails (a lambda, say), reports through the documented
        hook `_on_queue_feeder_error` and drops the item. put() returned, so
        the item was counted: without this count its reader would wait for an
        item that will never come while the depth said one was there. Only
        the feeder thread writes this slot, so it still has a single writer."""
        mv, slot = self._mvc, B.LOST
        default = multiprocessing.queues.Queue._on_queue_feeder_error
        lost = 0

        def on_error(e: Exception, obj: object) -> None:
            nonlocal lost
            lost += 1
            mv[slot] = lost
            default(e, obj)  # the usual traceback on stderr

        self._q._on_queue_feeder_error = on_error  # type: ignore[method-assign]

    def _hook_recv(self) -> None:
        """Count received bytes where the Queue itself reads them: its reader
        thread-free get() calls `self._recv_bytes()` for every item."""
        recv = self._q._recv_bytes  # type: ignore[attr-defined]
        mv = self._mvc
        slot = B.IN_BYTES
        total = self._bin
        if self._j is None:

            def counting_recv_bytes(*args: Any) -> bytes:
                nonlocal total
                buf = recv(*args)
                total += len(buf)
                mv[slot] = total
                return buf
        else:

            def counting_recv_bytes(*args: Any) -> bytes:
                nonlocal total
                buf = self._last_buf = recv(*args)
                total += len(buf)
                mv[slot] = total
                return buf

        self._q._recv_bytes = counting_recv_bytes  # type: ignore[attr-defined]

    def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        j = self._j
        t = monotonic() if j is not None else 0.0  # before the item can reach a reader
        if self._bounded:
            mv = self._mv
            mv[self._mark] = (self._nout << 16) | self._put_code
            try:
                try:
                    self._q.put(obj, False)
                except Full:
                    if not block:
                        raise
                    self._put_slow(obj, timeout)
                    t = monotonic()  # after its wait event
            except BaseException:
                mv[self._mark] = 0
                raise
        else:
            self._q.put(obj, block, timeout)
        n = self._nout + 1
        self._nout = n
        self._mvc[0] = n
        if j is not None:
            j.log_message(self._put_code, obj, 0, t, b"", -1)

    def _put_slow(self, obj: Any, timeout: float | None) -> None:
        mvc = self._mvc
        mvc[B.FULL_HITS] += 1
        t0 = self._timed(B.OP_PUT_FULL, self._nout)
        try:
            stamped = type(obj) is tuple and len(obj) == 3 and type(obj[2]) is int
            if stamped and hasattr(self._q, "_sem"):  # not a Manager's queue proxy
                self._put_stamped(obj, timeout)
            else:
                self._q.put(obj, True, timeout)
        finally:
            self._blk_out += self._waited(B.OP_PUT, t0)
            mvc[B.BLOCK_OUT_NS] = self._blk_out

    def _put_stamped(self, item: tuple[Any, Any, int], timeout: float | None) -> None:
        """Put one of ipcplay's items (id, body, sent at) once there is room,
        stamped as it goes in.

        Why: an item's age is its time in the channel, and its reader measures
        it from that stamp. Stamped before the wait, it would include how long
        its writer was blocked (or paused with SIGSTOP) waiting for room, which
        is the writer's blocked time, not the item's. So wait on the queue's
        own semaphore for room (exactly what a blocking put waits on), give
        that room straight back to the non-blocking put of the restamped item,
        and wait again if another writer took it first."""
        q = self._q
        sem = q._sem  # type: ignore[attr-defined]
        end = None if timeout is None else monotonic() + timeout
        while True:
            left = None if end is None else max(0.0, end - monotonic())
            if not sem.acquire(True, left):
                raise Full
            sem.release()
            try:
                q.put((item[0], item[1], monotonic_ns()), False)
                return
            except Full:
                continue

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        mv = self._mv
        n = self._nin
        if n < self._seen or self._more(n + 1):
            mv[self._mark] = (n << 16) | self._get_code
            try:
                obj = self._q.get(block, timeout)
            except BaseException:
                mv[self._mark] = 0
                raise
        else:
            obj = self._get_slow(n, block, timeout)
        n += 1
        self._nin = n
        self._mvc[2] = n
        j = self._j
        if j is not None:
            # The reader has the pickle (the feeder thread made it): the preview is taken here.
            buf = self._last_buf
            j.log_message(self._get_code, obj, len(buf), monotonic(), buf, self._pv)
        return obj

    def _get_slow(self, n: int, block: bool, timeout: float | None) -> Any:
        mv = self._mv
        t0 = self._timed(B.OP_GET, n)
        try:
            return self._q.get(block, timeout)
        finally:
            mv[self._mark] = 0
            self._blk_in += self._waited(B.OP_GET, t0)
            self._mvc[B.BLOCK_IN_NS] = self._blk_in

    def put_nowait(self, obj: Any) -> None:
        self.put(obj, False)

    def get_nowait(self) -> Any:
        return self.get(False)

    def qsize(self) -> int:
        return self._q.qsize()

    def empty(self) -> bool:
        return self._q.empty()

    def full(self) -> bool:
        return self._q.full()

    def close(self) -> None:
        self._q.close()

    def join_thread(self) -> None:
        self._q.join_thread()

    def cancel_join_thread(self) -> None:
        self._q.cancel_join_thread()


class InstrumentedJoinableQueue(InstrumentedQueue):
    """multiprocessing.JoinableQueue, counted: task_done and join too."""

    __slots__ = ("_joins", "_td")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._td = self._mvc[B.TASK_DONE]
        self._joins = self._mvc[B.JOINS]

    def task_done(self) -> None:
        self._q.task_done()  # type: ignore[attr-defined]  # raises ValueError like the real one
        self._td += 1
        self._mvc[B.TASK_DONE] = self._td
        if self._j is not None:
            self._j.log(B.mark(0, self._ep.chan, B.OP_TASK_DONE), -1, 0)

    def join(self) -> None:
        mv = self._mv
        t0 = self._timed(B.OP_JOIN, self._joins)
        try:
            self._q.join()  # type: ignore[attr-defined]
        finally:
            mv[self._mark] = 0
            self._mvc[B.BLOCK_JOIN_NS] += self._waited(B.OP_JOIN, t0)
        self._joins += 1
        self._mvc[B.JOINS] = self._joins
        if self._j is not None:
            self._j.log(B.mark(0, self._ep.chan, B.OP_JOIN), -1, 0)


class _PipeLike(_Base):
    """Send/recv over a pipe (a Pipe end, or a SimpleQueue's pipe).

    The fast paths are written out in full in each public method: on this
    path every extra Python call costs as much as the counting itself.
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
        frame = _pack_len(len(data)) + data
        try:
            n = os.pwritev(fd, (frame,), -1, os.RWF_NOWAIT)
        except BlockingIOError:
            return False
        except OSError as e:
            if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise  # BrokenPipeError and the like, as Connection raises them
            self._nowait = False  # this kernel cannot: the timed path from now on
            return False
        if n < len(frame):  # not for an atomic write to a pipe; if ever, finish the frame
            rest = memoryview(frame)[n:]
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

    def __init__(self, q: multiprocessing.queues.SimpleQueue, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._q = q
        self._reader = q._reader  # type: ignore[attr-defined]
        self._writer = q._writer  # type: ignore[attr-defined]
        self._rlock = q._rlock  # type: ignore[attr-defined]
        self._wlock = q._wlock  # type: ignore[attr-defined]
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
        w = self._writer
        if w._handle is None:
            return False  # closed: the timed path raises as SimpleQueue does
        if self._wlock is None:
            return self._send_nowait(data, w._handle)
        with self._wlock:
            return self._send_nowait(data, w._handle)

    def put(self, obj: Any) -> None:
        data = _dumps(obj)
        nb = len(data)
        n = self._nout + 1
        b = self._bout + nb
        j = self._j
        t = monotonic() if j is not None else 0.0  # before the message can reach a reader
        if (nb <= _SMALL_PAYLOAD and b + _HEADER * n - self._pin <= self._safe) or self._room(
            b, n, nb
        ):
            wlock = self._wlock
            if wlock is None:
                self._writer.send_bytes(data)
            else:
                with wlock:
                    self._writer.send_bytes(data)
        elif not (self._nowait and nb <= _ATOMIC_PAYLOAD and self._put_nowait(data)):
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
        obj = _loads(buf)
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
        c = self._c
        c._check_closed()
        if writing:
            c._check_writable()
        else:
            c._check_readable()

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
        if (nb <= _SMALL_PAYLOAD and b + _HEADER * n - self._pin <= self._safe) or self._room(
            b, n, nb
        ):
            self._csend(buf)
        elif not (self._nowait and nb <= _ATOMIC_PAYLOAD and self._send_nowait(buf, c._handle)):
            self._send_slow(buf)
            t = monotonic()  # after its wait event
        self._nout = n
        self._bout = b
        m = self._mvc
        m[0] = n
        m[1] = b
        if j is not None:
            # JournalWriter.log written out: on this path the call costs as much as the stores.
            i = j._i
            if i != j._stop or (i := j.room()) >= 0:
                # no message id: the code says so, and that slot is not written
                j._codes[i] = self._put_raw | (nb << 16)
                j._mvt[i] = t  # commits the event
                j._i = i + 3

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
            i = j._i
            if i != j._stop or (i := j.room()) >= 0:
                j._codes[i] = self._get_raw | (nb << 16)
                j._mvt[i] = monotonic()
                j._i = i + 3
        return buf

    def send(self, obj: Any) -> None:
        c = self._c
        if c._handle is None or not c._writable:
            self._ok(writing=True)
        data = _dumps(obj)
        nb = len(data)
        n = self._nout + 1
        b = self._bout + nb
        j = self._j
        t = monotonic() if j is not None else 0.0  # before the message can reach a reader
        if (nb <= _SMALL_PAYLOAD and b + _HEADER * n - self._pin <= self._safe) or self._room(
            b, n, nb
        ):
            self._csend(data)
        elif not (self._nowait and nb <= _ATOMIC_PAYLOAD and self._send_nowait(data, c._handle)):
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
        obj = _loads(buf)
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


def check_internals() -> list[str]:
    """Name the CPython internals we rely on that this interpreter lacks."""
    import multiprocessing as mp

    missing = []
    q = mp.Queue()
    if not callable(getattr(q, "_recv_bytes", None)):
        missing.append("Queue._recv_bytes")
    if not callable(getattr(getattr(q, "_sem", None), "acquire", None)):
        missing.append("Queue._sem")
    q.close()
    q.join_thread()
    sq = mp.SimpleQueue()
    for attr in ("_reader", "_writer", "_rlock", "_wlock"):
        if not hasattr(sq, attr):
            missing.append(f"SimpleQueue.{attr}")
    sq.close()
    a, b = mp.Pipe()
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
        if not hasattr(a, attr):
            missing.append(f"Connection.{attr}")
    a.close()
    b.close()
    return missing


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
    if kind == "ManagerQueue":
        from ipcplay.engine.manager import instrument_queue

        return instrument_queue(obj, ep, mv, layout, proc, journal)
    cls = {
        "Queue": InstrumentedQueue,
        "JoinableQueue": InstrumentedJoinableQueue,
        "SimpleQueue": InstrumentedSimpleQueue,
        "Pipe": InstrumentedConnection,
    }[kind]
    return cls(obj, ep, mv, layout, proc, journal)
