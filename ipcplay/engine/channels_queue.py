"""multiprocessing.Queue and JoinableQueue, counted (see channels.py).

Queue and JoinableQueue pickle in a feeder thread, so their receiver counts
the bytes, by wrapping the queue's `_recv_bytes` hook.
"""

from __future__ import annotations

import multiprocessing.queues
from queue import Full
from time import monotonic, monotonic_ns
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine.channels_base import CountedEnd
from ipcplay.engine.endpoints import Endpoint
from ipcplay.engine.journal import JournalWriter


class InstrumentedQueue(CountedEnd):
    """multiprocessing.Queue, counted."""

    __slots__ = ("_bounded", "_last_buf", "_q")

    def __init__(
        self,
        queue: multiprocessing.queues.Queue,
        ep: Endpoint,
        mv: memoryview,
        layout: B.Layout,
        proc: int,
        journal: JournalWriter | None,
    ) -> None:
        super().__init__(ep, mv, layout, proc, journal)
        self._q = queue
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
        # The queue's own hook, as its class has it: a subclass's (the
        # executor's _SafeQueue fails the future) must still run.
        default = getattr(
            self._q, "_on_queue_feeder_error", multiprocessing.queues.Queue._on_queue_feeder_error
        )  # a Manager's queue proxy has none: the class's, as before
        lost = 0

        def on_error(error: Exception, obj: object) -> None:
            nonlocal lost
            lost += 1
            mv[slot] = lost
            default(error, obj)  # the usual traceback on stderr (or the subclass's handling)

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
        queue = self._q
        sem = queue._sem  # type: ignore[attr-defined]
        end = None if timeout is None else monotonic() + timeout
        while True:
            left = None if end is None else max(0.0, end - monotonic())
            if not sem.acquire(True, left):
                raise Full
            sem.release()
            try:
                queue.put((item[0], item[1], monotonic_ns()), False)
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

    def _get_slow(self, seq: int, block: bool, timeout: float | None) -> Any:
        mv = self._mv
        t0 = self._timed(B.OP_GET, seq)
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
