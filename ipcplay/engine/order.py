"""The journal's events from every process's ring, in one true order.

Why this is needed: each process writes its own ring and the observer drains
the rings one after another, so two processes' events arrive in turns, not
in time order; and an event drained from one ring in this pass can be older
than one already taken from another ring in the last pass (it was committed
just after that ring was read).

What it does:

* **Time order with a hold-back.** Drained events wait here until every ring
  has been read past their time: only events older than `hold_ns` before the
  start of the latest drain pass are released, sorted by time. An event is
  stamped a few hundred nanoseconds before it is committed, so one that
  arrives later still than that (its process was stopped or descheduled for
  longer than the hold-back between the two) is released as soon as it is
  seen, after newer ones; `late` counts them.
* **Causes before effects.** A put or send is stamped before its message is
  handed over (engine/channels.py), so its reader's get or recv is stamped
  later. Where the writer waited first (a full queue or pipe) the stamp comes
  after the wait, and a reader on another core may return with the message
  first: such a get is released right after its put, with the put's time
  (the get cannot have returned before its message was sent). A get near
  the hold-back's edge whose put is not among the events released with it
  waits one more round for it.

Gets find their puts by message id on the same channel, from another process
(a ponger answers with the id it got): raw pipe bytes carry no id and keep
their own times. Events are the journal's raw triples (time ns, message id,
packed code) with the process index in front.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from itertools import repeat

from ipcplay.engine import board as B

RawEvent = tuple[int, int, int, int]  # (t_ns, proc, mid, packed)

_KEEP_PUTS = 65536  # unmatched puts remembered for their gets (items still queued)
_OP_BITS = 0xF | B.TIMED  # an op with a message id: its code's low bits, TIMED clear
_BIG = 1 << 62


def _chan(packed: int) -> int:
    return (packed >> 5) & 0x7FF


class EventOrder:
    """Merge drained rings into time order, causes first (see the module docstring)."""

    def __init__(self, hold_ns: int = 50_000_000) -> None:
        self.hold_ns = hold_ns
        self._pending: list[RawEvent] = []
        self._released_to = 0  # the watermark of the last release, ns
        # (chan, mid) -> [(proc, t_ns)] of released puts no get has matched yet
        self._puts: OrderedDict[tuple[int, int], list[tuple[int, int]]] = OrderedDict()
        self.late = 0  # events released after newer ones (see the docstring)
        self.raised = 0  # gets released with their put's time

    def add(self, proc: int, vals: list[int]) -> None:
        """The unpacked triples of one ring's drain (journal.unpack)."""
        self._pending.extend(zip(vals[0::3], repeat(proc), vals[1::3], vals[2::3]))

    def release(self, drained_at_ns: int, final: bool = False) -> list[RawEvent]:
        """The events every ring has been read past, in order; all of them if
        `final` (every process has ended and its ring is empty).

        Why it is written as it is: with `--journal` this sees every event,
        hundreds of thousands a second, so it looks at each one once, with
        bit tests inline, and never again at those it holds back."""
        pend = self._pending
        if not pend:
            return []
        pend.sort()  # runs already in order (each ring's, and what was held): a merge
        upto = drained_at_ns - self.hold_ns
        ready_count = len(pend) if final else bisect_right(pend, (upto, _BIG))
        ready, rest = pend[:ready_count], pend[ready_count:]
        released_to = self._released_to
        if ready and ready[0][0] < released_to:
            self.late += bisect_right(ready, (released_to, -1))
        # Puts in this batch, by (chan, mid): a get must not overtake one.
        ahead: dict[tuple[int, int], list[int]] = {}
        for event in ready:
            if event[3] & _OP_BITS == B.OP_PUT and event[2] >= 0:
                ahead.setdefault(((event[3] >> 5) & 0x7FF, event[2]), []).append(event[1])
        # A get this close to the hold-back's edge may have its put just past
        # it (a put that waited is stamped after its wait): it waits a round.
        edge = upto - self.hold_ns // 4
        out: list[RawEvent] = []
        held: list[RawEvent] = []
        waiting: dict[tuple[int, int], list[RawEvent]] = {}
        for event in ready:
            op = event[3] & _OP_BITS
            if op == B.OP_PUT and event[2] >= 0:
                key = ((event[3] >> 5) & 0x7FF, event[2])
                ahead[key].remove(event[1])
                out.append(event)
                self._remember(key, event[1], event[0])
                for later_get in waiting.pop(key, ()):
                    if not self._match(later_get, out):
                        waiting.setdefault(key, []).append(later_get)
            elif op == B.OP_GET and event[2] >= 0:
                if self._match(event, out):
                    continue
                key = ((event[3] >> 5) & 0x7FF, event[2])
                if any(writer != event[1] for writer in ahead.get(key, ())):
                    waiting.setdefault(key, []).append(event)  # its put is later in this batch
                elif event[0] > edge and not final:
                    held.append(event)
                else:
                    out.append(event)  # its put is not in the journal (dropped, or before it)
            else:
                out.append(event)
        for gets in waiting.values():
            out.extend(gets)  # the one put of their id went to another get: never hold them
        if held:
            rest = sorted(held + rest)
        self._pending = rest
        if out:
            self._released_to = max(released_to, out[-1][0])
        return out

    def _remember(self, key: tuple[int, int], proc: int, t_ns: int) -> None:
        puts = self._puts.get(key)
        if puts is None:
            self._puts[key] = [(proc, t_ns)]
            if len(self._puts) > _KEEP_PUTS:
                self._puts.popitem(last=False)
        else:
            puts.append((proc, t_ns))

    def _match(self, get: RawEvent, out: list[RawEvent]) -> bool:
        """Release `get` after a released put of its message by another
        process, if there is one; True if it was released."""
        key = (_chan(get[3]), get[2])
        puts = self._puts.get(key)
        if not puts:
            return False
        position = next(
            (position for position, (writer, _) in enumerate(puts) if writer != get[1]), None
        )
        if position is None:
            return False
        _, t_put = puts.pop(position)
        if not puts:
            del self._puts[key]
        if get[0] < t_put:
            self.raised += 1
            get = (t_put, get[1], get[2], get[3])
        out.append(get)
        return True
