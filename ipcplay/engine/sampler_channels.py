"""Channels, as the sampler sees them: depths, waits in put/get/send/recv,
and one `ChannelSample` per channel.

Part of the sampler (engine/sampler.py). Who writes and reads each channel
comes from the registry's topology (engine/registry.py): what the processes
said they use, not what a scenario file declared.
"""

from __future__ import annotations

from ipcplay.engine import board as B
from ipcplay.engine.registry import Topology
from ipcplay.engine.sampler_tick import Tick, Windowed
from ipcplay.engine.snapshot import BlockedOn, ChannelSample, Direction
from ipcplay.engine.stops import Stops
from ipcplay.engine.stuck import Wait


def _slot(chan: int, slot: int) -> int:
    """Where a channel's slot is in a process's copied values."""
    return B.HEADER_SLOTS + chan * B.CHAN_SLOTS + slot


class ChannelWatch:
    """Per-channel state kept between ticks: high-water marks and first sightings."""

    def __init__(self, topology: Topology, rates: Windowed, stops: Stops) -> None:
        self.topology = topology  # the sampler keeps it current
        self.rates = rates
        self.stops = stops
        self.max_depth = [0] * len(topology.channels)
        # A wait not stamped by the child (fast path): the first tick that saw it.
        self._first_seen: dict[int, tuple[int, float]] = {}

    def totals(self, tick: Tick) -> None:
        """Each channel's slots summed over its users, and its depth.

        Counts are stored just after each call returns, so for an instant a
        get can be counted before its put, or a put before the get that made
        room for it: clamp to what the queue can really hold (never below 0,
        never above maxsize). Once every process has ended it is exact."""
        channels = self.topology.channels
        sums = [[0] * B.CHAN_SLOTS for _ in channels]
        for p, values in enumerate(tick.vals):
            for c in self.topology.used_channels[p]:
                base = B.HEADER_SLOTS + c * B.CHAN_SLOTS
                row = sums[c]
                for k in range(B.CHAN_SLOTS):
                    row[k] += values[base + k]
        depths = []
        for c, total in enumerate(sums):
            depth = max(0, total[B.OUT_N] - total[B.IN_N] - total[B.LOST])
            cap = channels[c].maxsize
            depths.append(min(depth, cap) if cap else depth)
        tick.sums, tick.depths = sums, depths
        tick.ongoing_out = [0.0] * len(channels)
        tick.ongoing_in = [0.0] * len(channels)

    def forget(self, p: int) -> None:
        self._first_seen.pop(p, None)

    def blocked(self, p: int, tick: Tick) -> BlockedOn | None:
        """Process p inside a channel call, if it still is: the call, and why.

        A call the child stamped (slow path, `timed`) is exact; a fast-path
        call is blocked only if a second tick still sees it, and then it has
        been waiting at least since the first."""
        values = tick.vals[p]
        marker = values[B.P_MARK]
        seq, c, op, timed = B.unmark(marker)
        counted = B.JOINS if op == B.OP_JOIN else B.IN_N if op == B.OP_GET else B.OUT_N
        current = values[B.HEADER_SLOTS + c * B.CHAN_SLOTS + counted]
        if current != seq:
            self._first_seen.pop(p, None)
            return None
        seen = self._first_seen.get(p)
        if seen is None or seen[0] != marker:
            self._first_seen[p] = (marker, tick.now)
            if not timed:
                return None  # a fast-path call caught mid-flight; blocked only if it persists
            first = tick.now
        else:
            first = seen[1]
        since = tick.since(p) if timed else first
        if op == B.OP_GET:
            opname, reason, who, transient = self._getting(p, c, tick)
            tick.ongoing_in[c] += max(0.0, tick.now - since) if timed else 0.0
        elif op == B.OP_JOIN and self.topology.channels[c].kind == "SimpleQueue":
            # A watched program's Pool: its process waits for results (map,
            # apply, get) that come back on this queue (watch_pool).
            # Who can answer is not known: a worker that took a task may have
            # died with it (cpython#96062). A stall here is a hang, not a cycle.
            opname, reason, transient = "wait", "for its results", False
            who = ()
        elif op == B.OP_JOIN:
            opname, reason, transient = "join", "tasks not done", False
            who = self.topology.readers[c]
        else:
            opname, reason, who, transient = self._putting(c, op, tick)
            if timed:
                tick.ongoing_out[c] += max(0.0, tick.now - since)
        channel = self.topology.channels[c]
        if not transient:
            others = frozenset(w for w in who if w != p and tick.alive[w])
            name = self.topology.processes[p].name
            tick.waits[p] = Wait(p, name, opname, channel.name, reason, others)
        return BlockedOn(opname, channel.name, reason, since, timed)

    def _getting(self, p: int, c: int, tick: Tick) -> tuple[str, str, tuple[int, ...], bool]:
        """(op, reason, whom it waits for, about to end) of a get or recv."""
        channel = self.topology.channels[c]
        writers = self.topology.writers[c]
        if channel.pipe_like:
            inflight = self._pipe_inflight_to(p, c, tick)
            reason = "pipe empty" if inflight <= 0 else ""
            if reason and channel.reader_keeps_write_end:
                # The writer may be gone, but this reader's own copy of the
                # write end keeps the pipe open: EOFError can never come.
                reason += "; its own copy of the write end is open, so no EOFError"
            return "recv", reason, writers, inflight > 0
        inflight = tick.depths[c]
        reason = "queue empty" if inflight <= 0 else ""
        lost = sum(tick.vals[w][_slot(c, B.LOST)] for w in writers)
        if reason and lost:
            reason += f"; {lost} put {'item' if lost == 1 else 'items'} never sent:"
            reason += " pickling failed in the feeder thread"
        return "get", reason, writers, inflight > 0

    def _putting(self, c: int, op: int, tick: Tick) -> tuple[str, str, tuple[int, ...], bool]:
        """(op, reason, whom it waits for, about to end) of a put or send."""
        channel = self.topology.channels[c]
        pipe = channel.pipe_like
        full = op == B.OP_PUT_FULL
        reason = "queue full" if full else ("pipe full" if pipe else "")
        transient = full and tick.depths[c] < channel.maxsize
        return ("send" if pipe else "put"), reason, self.topology.readers[c], transient

    def _pipe_inflight_to(self, p: int, c: int, tick: Tick) -> int:
        """Messages sent to `p` on pipe `c` and not yet received, from this
        sample's values (not fresh reads, which could disagree with them)."""
        sent = sum(tick.vals[w][_slot(c, B.OUT_N)] for w in self.topology.writers[c] if w != p)
        return sent - tick.vals[p][_slot(c, B.IN_N)]

    def flushing(self, p: int, tick: Tick) -> BlockedOn | None:
        """A process flushing its Queue's feeder thread before it can exit
        (Queue.close() + join_thread(), what every process that put on a
        Queue does at exit). Stamped by the child, so `since` is exact."""
        target = tick.vals[p][B.P_WAITS_ON]
        if not 0 <= target < len(self.topology.channels):
            return None
        channel = self.topology.channels[target]
        reason = "its feeder thread still has items for the pipe"
        who = frozenset(r for r in self.topology.readers[target] if r != p and tick.alive[r])
        name = self.topology.processes[p].name
        tick.waits[p] = Wait(p, name, "flush", channel.name, reason, who)
        return BlockedOn("flush", channel.name, reason, tick.since(p), True)

    def samples(self, tick: Tick) -> list[ChannelSample]:
        return [self._sample(c, tick) for c in range(len(self.topology.channels))]

    def _sample(self, c: int, tick: Tick) -> ChannelSample:
        channel = self.topology.channels[c]
        names = self.topology.names
        stopped = self.stops.done_chan
        total = tick.sums[c]
        depth = tick.depths[c]
        if c >= len(self.max_depth):  # a channel made since the last tick
            self.max_depth += [0] * (c + 1 - len(self.max_depth))
        high = max(self.max_depth[c], depth)
        if total[B.FULL_HITS] and channel.maxsize:
            high = max(high, channel.maxsize)  # a put found it full: it held maxsize items then
        self.max_depth[c] = high
        writers, readers = self.topology.writers[c], self.topology.readers[c]
        values = tick.vals
        base = B.HEADER_SLOTS + c * B.CHAN_SLOTS
        return ChannelSample(
            index=c,
            name=channel.name,
            kind=channel.kind,
            maxsize=channel.maxsize,
            puts=total[B.OUT_N],
            gets=total[B.IN_N],
            depth=depth,
            max_depth=high,
            bytes=total[B.IN_BYTES],
            task_done=total[B.TASK_DONE],
            unfinished=max(0, total[B.OUT_N] - total[B.TASK_DONE])
            if channel.kind == "JoinableQueue"
            else 0,
            full_hits=total[B.FULL_HITS],
            lost=total[B.LOST],
            blocked_put_s=max(0.0, total[B.BLOCK_OUT_NS] / 1e9 - stopped[(c, "out")])
            + tick.ongoing_out[c],
            blocked_get_s=max(0.0, total[B.BLOCK_IN_NS] / 1e9 - stopped[(c, "in")])
            + tick.ongoing_in[c],
            put_rate=self.rates(("put", c), tick.now, total[B.OUT_N]),
            get_rate=self.rates(("get", c), tick.now, total[B.IN_N]),
            wait_s=max((values[r][base + B.LAST_WAIT_NS] for r in readers), default=0) / 1e9,
            max_wait_s=max((values[r][base + B.MAX_WAIT_NS] for r in readers), default=0) / 1e9,
            writers=tuple(names[w] for w in writers),
            readers=tuple(names[r] for r in readers),
            directions=self._directions(c, tick) if channel.pipe_like else (),
        )

    def _directions(self, c: int, tick: Tick) -> tuple[Direction, ...]:
        """A pipe's traffic each way: from each end's process to the other's."""
        writers, readers = self.topology.writers[c], self.topology.readers[c]
        names = self.topology.names
        out = []
        for src in dict.fromkeys([*writers, *readers]):
            for dst in dict.fromkeys([*writers, *readers]):
                if src == dst or src not in writers or dst not in readers:
                    continue
                sent = tick.vals[src][_slot(c, B.OUT_N)]
                received = tick.vals[dst][_slot(c, B.IN_N)]
                nbytes = tick.vals[dst][_slot(c, B.IN_BYTES)]
                rate = self.rates(("dir", c, src, dst), tick.now, received)
                bytes_rate = self.rates(("dirb", c, src, dst), tick.now, nbytes)
                out.append(
                    Direction(
                        names[src],
                        names[dst],
                        sent,
                        received,
                        max(0, sent - received),
                        nbytes,
                        rate,
                        bytes_rate,
                    )
                )
        return tuple(out)
