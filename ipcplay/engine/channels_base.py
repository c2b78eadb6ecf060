"""What every instrumented channel end shares: its board slots, the peer
counters that prove a call cannot block, and the timed slow path
(channels.py says why the hot path looks as it does).
"""

from __future__ import annotations

import select
import struct
from multiprocessing.reduction import ForkingPickler
from time import monotonic_ns

from ipcplay.engine import board as B
from ipcplay.engine.endpoints import Endpoint
from ipcplay.engine.journal import JournalWriter

dumps = ForkingPickler.dumps
loads = ForkingPickler.loads

# A pipe send with fewer than this many bytes in flight, itself included,
# cannot block: the kernel pipe buffer is 64 KiB on Linux and at least 16 KiB
# on macOS. Used where the pipe's own size is unknown, and for larger messages.
PIPE_SAFE_BYTES = 8 * 1024
# Small messages (header included) get a bound from the pipe's real size.
SMALL_MESSAGE = 512
HEADER = 4  # Connection frames each message with a 4-byte length
SMALL_PAYLOAD = SMALL_MESSAGE - HEADER


# A write of at most PIPE_BUF bytes to a pipe is atomic: all of it or, with
# RWF_NOWAIT, EAGAIN. Longer frames keep the timed path.
ATOMIC_PAYLOAD = getattr(select, "PIPE_BUF", 512) - HEADER
pack_len = struct.Struct("!i").pack


class CountedEnd:
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
        chan_at = layout.chan(proc, ep.chan)
        # This pair's slots on their own, indexed by B.OUT_N, B.IN_BYTES...: no
        # offset to add. The hottest paths write the first four as literals:
        # OUT_N [0], OUT_BYTES [1], IN_N [2], IN_BYTES [3].
        self._mvc = mv[chan_at : chan_at + B.CHAN_SLOTS]
        self._nout = mv[chan_at + B.OUT_N]
        self._nin = mv[chan_at + B.IN_N]
        self._bout = mv[chan_at + B.OUT_BYTES]
        self._bin = mv[chan_at + B.IN_BYTES]
        self._blk_out = mv[chan_at + B.BLOCK_OUT_NS]
        self._blk_in = mv[chan_at + B.BLOCK_IN_NS]
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

    def _more(self, seq: int) -> bool:
        """Re-read the writer's counter: True if our `seq`th item is already sent."""
        slot = self._rslot
        if slot < 0:
            return False
        seen = self._seen = self._mv[slot]
        return seq <= seen

    def _room(self, sent: int, count: int, nbytes: int) -> bool:
        """Re-read the reader's counters: True if a send of `nbytes` bytes, which
        brings ours to `sent` bytes in `count` messages, cannot block."""
        slot = self._sslot
        if slot < 0:
            return False
        mv = self._mv
        self._pin = mv[slot] + HEADER * mv[slot - B.IN_BYTES + B.IN_N]
        limit = self._safe if nbytes <= SMALL_PAYLOAD else min(self._safe, PIPE_SAFE_BYTES)
        return sent + HEADER * count - self._pin <= limit

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
