"""The journal, as the sampler reads it: every ring drained, events put in
order, the newest few decoded for the log, all of them written to a file.

Part of the sampler (engine/sampler.py). Names come from the registry's
topology (engine/registry.py), never from a scenario.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict, deque
from dataclasses import replace
from typing import IO

from ipcplay.engine import board as B
from ipcplay.engine import journal as J
from ipcplay.engine.order import EventOrder, RawEvent
from ipcplay.engine.preview import preview as preview_text
from ipcplay.engine.registry import Topology
from ipcplay.engine.stops import Stops

RECENT_EVENTS = 500
DECODE_PER_TICK = 64  # in all processes together: the log shows a screenful, twice a second
HOLD_BACK_S = 0.25  # events wait this long for older ones from other rings (the TUI's log)
HOLD_BACK_FILE_S = 1.0  # the same for a saved journal (--journal)


class EventStream:
    """Every process's journal ring, read each tick, released in order."""

    def __init__(
        self,
        mv: memoryview,
        layout: B.Layout,
        topology: Topology,
        stops: Stops,
        t0_ns: int,
        journal_out: IO[str] | None,
    ) -> None:
        self.mv = mv
        self.layout = layout
        self.topology = topology  # the sampler keeps it current
        self.stops = stops
        self.t0_ns = t0_ns
        self.journal_out = journal_out
        self.events: deque[J.Event] = deque(maxlen=RECENT_EVENTS)
        self.total = 0
        self.released = 0  # events appended to `events` so far, in order
        # How long drained events wait for older ones still in another ring
        # (order.py). A put is stamped before the call that hands its message
        # over, and committed after it: the hold-back must outlast a slow call
        # (the first put starts the feeder thread; a loaded machine preempts).
        # A saved journal can wait longer than a log a person reads.
        hold_s = HOLD_BACK_FILE_S if journal_out is not None else HOLD_BACK_S
        self.order = EventOrder(hold_ns=int(hold_s * 1e9))
        self._drained_at = 0  # monotonic ns just before the latest drain pass
        # Message previews by (channel, message id), then by the process whose
        # board held it: the pickle's first bytes, then the text once a line
        # needs it. (A ponger answers with the id it got, on the same channel.)
        self._previews: OrderedDict[tuple[int, int], dict[int, bytes | str]] = OrderedDict()

    def drain(self) -> None:
        """Empty every ring (a memcpy each) into the event order; decode only
        what is shown or saved (see `release`)."""
        if not self.layout.journal_cap:
            return
        # The registered processes' rings (a watched program's board has room
        # for 1,536, most of them never used).
        nproc = min(self.layout.nproc, len(self.topology.processes))
        per_proc = max(1, DECODE_PER_TICK // max(1, nproc))
        # Before the first ring is read: every event stamped a hold-back
        # before this has been committed in every ring by now (order.py).
        self._drained_at = time.monotonic_ns()
        for p in range(nproc):
            data = J.drain_raw(self.mv, self.layout, p)
            if not data:
                continue
            self.total += len(data) // 24
            # Only the newest few per process are decoded for display when
            # nothing is saved: decoding 500 x 128 events 10 times a second
            # would cost more than everything else the sampler does.
            if self.journal_out is None:
                data = data[-per_proc * 24 :]
            self.order.add(p, J.unpack(data))
            if self.layout.previews:
                self._read_previews(p)

    def _read_previews(self, p: int) -> None:
        """Take the preview of each channel's last message from process p's
        board (written before the event that names it was committed)."""
        mv, layout = self.mv, self.layout
        raw = None
        used = self.topology.used_channels
        if p >= len(used):  # registered since this topology was read: next tick
            return
        for chan in used[p]:
            area = layout.preview(p, chan)
            for at in range(area, area + B.PREVIEWS * B.PREVIEW_SLOTS, B.PREVIEW_SLOTS):
                message = mv[at]
                if message < 0:
                    continue
                by_proc = self._previews.get((chan, message))
                if by_proc is not None and p in by_proc:
                    continue
                if raw is None:
                    raw = mv.cast("B")
                data = raw[(at + 1) * 8 : (at + B.PREVIEW_SLOTS) * 8].tobytes()
                if mv[at] != message or data[0] != 0x80:
                    continue  # rewritten while being read, or never written (no pickle)
                if by_proc is None:
                    by_proc = self._previews[(chan, message)] = {}
                    if len(self._previews) > 4096:
                        self._previews.popitem(last=False)
                by_proc[p] = data

    def _preview(self, event: J.Event) -> str:
        """The content of the message a put or get event names: a put's from
        its own writer's board; a get's from another process's (its writer's;
        a Queue's reader saves its own)."""
        by_proc = self._previews.get((event.chan, event.mid))
        if not by_proc:
            return ""
        if event.op == "put":
            p = event.proc if event.proc in by_proc else next(iter(by_proc))
        else:
            p = next((q for q in by_proc if q != event.proc), event.proc)
        got = by_proc[p]
        if isinstance(got, bytes):
            got = by_proc[p] = preview_text(got)
        return got

    def release(self, final: bool) -> None:
        """Hand the events every ring has been read past, in order, to the
        log (the newest few, decoded) and to the journal file (all)."""
        out = self.order.release(self._drained_at, final)
        if not out:
            return
        if self.journal_out is not None:
            self._write(out)
        # A tick shows its newest few (decoding costs); the last release, once
        # every process has ended, shows all it holds, or a short run's last
        # moments, released at once, would be missing from the log.
        shown = out[-RECENT_EVENTS:] if final else out[-DECODE_PER_TICK:]
        previews = self.layout.previews
        for t, p, mid, packed in shown:
            event = J.decode(p, t, mid, packed)
            if previews and event.mid >= 0 and event.op in ("put", "get"):
                text = self._preview(event)
                if text:
                    event = replace(event, preview=text)
            elif event.wait_ns and (stopped := self._stopped_in(event)):
                event = replace(event, stopped_ns=stopped)
            self.events.append(event)
        self.released += len(shown)

    def _stopped_in(self, event: J.Event) -> int:
        """Of a wait event's time, the ns ipcplay kept its process stopped."""
        start = (event.t_ns - event.wait_ns) / 1e9
        return round(self.stops.within(event.proc, start, event.t_ns / 1e9) * 1e9)

    def _write(self, events: list[RawEvent]) -> None:
        """One JSON line per event: the journal's format (docs, trace.py)."""
        out = self.journal_out
        assert out is not None
        topology = self.topology
        pids = [self.mv[self.layout.proc(p) + B.P_PID] for p in range(self.layout.nproc)]
        names = [json.dumps(p.name) for p in topology.processes]
        # By journal code: channel c is c, shared object s is nchan + s.
        objects = [json.dumps(o.name) for o in topology.channels]
        objects += ["null"] * (self.layout.nchan - len(objects))
        objects += [json.dumps(o.name) for o in topology.shared]
        previews = self.layout.previews
        t0 = self.t0_ns
        lines = []
        for t, p, mid, packed in events:
            event = J.decode(p, t, mid, packed)
            chan = objects[event.chan] if 0 <= event.chan < len(objects) else "null"
            msg = event.mid if event.mid >= 0 else "null"
            pill = "true" if event.mid == -2 else "null"
            extra = f',"wait_s":{event.wait_ns / 1e9:.9f}' if event.wait_ns else ""
            if event.wait_ns and (stopped := self._stopped_in(event)):
                extra += f',"stopped_s":{stopped / 1e9:.9f}'
            if previews and event.mid >= 0 and event.op in ("put", "get"):
                text = self._preview(event)
                if text:
                    extra += f',"preview":{json.dumps(text)}'
            lines.append(
                f'{{"t":{(event.t_ns - t0) / 1e9:.9f},"pid":{pids[p]},"process":{names[p]},'
                f'"op":"{event.op}","channel":{chan},"msg":{msg},"pill":{pill},'
                f'"bytes":{event.nbytes}{extra}}}\n'
            )
        out.write("".join(lines))
