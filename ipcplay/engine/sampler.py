"""Turn the board and what the OS knows into one immutable Snapshot.

Runs in the engine's sampler thread (and once more, on the caller's thread,
after every child has exited, for the exact final figures). All mutable state
it keeps between samples (rates, first-seen waits, high-water marks) is
private to it; what it hands out is frozen.

What exists comes from the registry (engine/registry.py): the processes and
objects that said so, their names, kinds and declared uses; the supervisor
hands over the live objects by index. The sampler never reads a scenario, so
it can watch processes and objects nobody declared in advance. Its parts:
sampler_events (the journal), sampler_channels, sampler_shared and
sampler_procs, each working on one `Tick` (sampler_tick).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import IO, Any

import psutil

from ipcplay.engine import board as B
from ipcplay.engine import step_next
from ipcplay.engine.registry import Registry, Topology
from ipcplay.engine.sampler_channels import ChannelWatch
from ipcplay.engine.sampler_events import EventStream
from ipcplay.engine.sampler_procs import OS_READS_PER_TICK, OsReader, process_sample
from ipcplay.engine.sampler_shared import SharedWatch
from ipcplay.engine.sampler_tick import Tick, Windowed
from ipcplay.engine.snapshot import BlockedOn, ProcessSample, Snapshot, Stuck, WaitEdge
from ipcplay.engine.stops import Stops
from ipcplay.engine.stuck import Wait, describe, has_cycle, stuck_set
from ipcplay.engine.tempo import ScenarioClock


class Sampler:
    def __init__(
        self,
        layout: B.Layout,
        registry: Registry,
        raw_board: Any,
        processes: list[Any],
        t0: float,
        journal_out: IO[str] | None = None,
        hang_after: float = 1.0,
        shared: list[Any] | None = None,
        managers: Any = None,
        pools: Any = None,
    ) -> None:
        """`processes` are the multiprocessing.Process objects by process
        index; `shared` the real shared objects by shared index (their values
        are read from them); `managers` and `pools` the watchers of Manager
        servers and Pools (engine/manager_watch.py, engine/pool_watch.py)."""
        self.layout = layout
        self.registry = registry
        self.topology: Topology = registry.read()
        self.mv = B.view(raw_board)
        self.processes = processes
        self.t0 = t0
        self.hang_after = hang_after
        self.hz = 10.0  # how often sample() is called; the engine keeps it current
        self.clock: ScenarioClock | None = None  # slow motion: the scenario's time (the engine's)
        self.managers = managers
        self.pools = pools
        self.stopped_by_engine: set[int] = set()
        self.poke: set[int] = set()  # processes just signalled: read their OS state now
        self.stops = Stops()  # SIGSTOPs by the engine: time stopped is not time blocked
        # A watched program (engine/program.py): nobody declared who writes what.
        self.open_world = False
        self._rates = Windowed()
        self.events = EventStream(
            self.mv, layout, self.topology, self.stops, int(t0 * 1e9), journal_out
        )
        self.channel_watch = ChannelWatch(self.topology, self._rates, self.stops)
        self.shared_watch = SharedWatch(self.topology, layout, list(shared or []), managers)
        self.os_reader = OsReader(layout.nproc)
        self._zeros = [0] * (layout.nchan * B.CHAN_SLOTS + layout.nshared * B.SHARED_SLOTS)
        self._ended: dict[int, list[int]] = {}  # ended processes' last copy (see _read)
        self._seen_ended: set[int] = set()  # seen ended once: frozen at the next sighting
        self._tick = 0
        self._seq = 0
        self._stuck_sig: tuple[Any, ...] | None = None
        self._stuck_since = 0.0
        self._stuck: Stuck | None = None
        self._cycle: list[int] = []  # the confirmed deadlock's cycle, in order
        self._self = psutil.Process()

    def close(self) -> None:
        """Give back the descriptors held for /proc reads, and the shared objects."""
        self.shared_watch.objects = []
        self.os_reader.close()

    def _refresh_topology(self) -> None:
        """Follow the registry: a process or object may have appeared."""
        topology = self.registry.read()
        if topology is not self.topology:
            self.topology = topology
            self.events.topology = topology
            self.channel_watch.topology = topology
            self.shared_watch.topology = topology

    # ------------------------------------------------------------------ sample
    def sample(self) -> Snapshot:
        now = time.monotonic()
        self._refresh_topology()
        self.events.drain()
        self._tick += 1
        tick = Tick(now, self._read())
        # Channel totals first: process states need depths to explain waits.
        self.channel_watch.totals(tick)
        self._exits(tick)
        self.shared_watch.markers(tick)
        blocked_on = self._waits(tick)
        stuck = self._update_stuck(tick)
        edges = self._edges(tick.waits, blocked_on)
        procs = [self._process_sample(p, tick, blocked_on[p]) for p in range(len(tick.vals))]
        channels = self.channel_watch.samples(tick)
        pools = []
        if self.pools is not None:
            procs += self.pools.workers(now, len(procs), tick.alive)
            pools = self.pools.samples(tick.alive)
        finished = all(code is not None for code in tick.exitcodes)
        if self.managers is not None:
            self.managers.read_values(now, finished)  # before the shared rows that show them
        shared = self.shared_watch.samples(tick)
        procs = step_next.attach(
            procs, tick.vals, self.layout.nchan, self.topology.names, channels, shared
        )
        managers = self.shared_watch.manager_samples(tick) if self.managers is not None else ()
        self._seq += 1
        return Snapshot(
            seq=self._seq,
            t=now,
            elapsed_s=now - self.t0,
            processes=tuple(procs),
            channels=tuple(channels),
            recent_events=tuple(self.events.events),
            events_total=self.events.total,
            events_released=self.events.released,
            events_late=self.events.order.late,
            events_dropped=sum(values[B.J_DROPPED] for values in tick.vals),
            observer_cpu_percent=self._observer_cpu(now),
            finished=finished,
            stuck=stuck,
            shared=tuple(shared),
            waits=edges,
            pools=tuple(pools),
            managers=managers,
            speed=self.clock.speed if self.clock is not None else 1.0,
            scenario_s=self.clock.at(now) if self.clock is not None else None,
        )

    def _read(self) -> list[list[int]]:
        """Each process's header and the slots of the objects it uses, copied
        once: everything else in the tick reads these lists. Measured hot
        path (benchmarks/observer.py): short local names on purpose."""
        mv, layout, zeros, ended = self.mv, self.layout, self._zeros, self._ended
        used_c, used_s = self.topology.used_channels, self.topology.used_shared
        shared0 = B.HEADER_SLOTS + layout.nchan * B.CHAN_SLOTS
        hs = B.HEADER_SLOTS
        vals = []
        for p in range(len(self.topology.processes)):
            base = layout.proc(p)
            v = ended.get(p)
            if v is not None:  # its object slots are final: only the header may move
                v[0:hs] = mv[base : base + hs].tolist()
                vals.append(v)
                continue
            v = mv[base : base + hs].tolist() + zeros
            for c in used_c[p]:
                cb = hs + c * B.CHAN_SLOTS
                v[cb : cb + B.CHAN_SLOTS] = mv[base + cb : base + cb + B.CHAN_SLOTS].tolist()
            for o in used_s[p]:
                sb = shared0 + o * B.SHARED_SLOTS
                v[sb : sb + B.SHARED_SLOTS] = mv[base + sb : base + sb + B.SHARED_SLOTS].tolist()
            if v[B.P_ENDED_NS] and v[B.P_EXIT_STATUS]:
                # A watched program's process that has said its last word
                # (watch_runtime.Runtime.leave): nothing of it moves again but
                # what its parent and the observer write in its header. A
                # thousand ended processes cost a header each, not a copy.
                # Frozen at its second sighting: the topology read at the start
                # of this tick may predate its last uses, the next one cannot.
                if p in self._seen_ended:
                    ended[p] = v
                else:
                    self._seen_ended.add(p)
            vals.append(v)
        return vals

    def _exits(self, tick: Tick) -> None:
        """Who is alive and how the others ended; then release the journal's
        events, all of them once every process has ended."""
        for p in range(len(tick.vals)):  # the registered processes
            proc = self.processes[p] if p < len(self.processes) else None
            # Process.exitcode reaps (waitpid): it is the parent's join. With
            # joined_after, the parent does not look before then, so a process
            # that ended sooner stays a zombie, as `ps` shows it.
            late = self.topology.processes[p].joined_after
            started_ns = tick.vals[p][B.P_STARTED_NS]
            waiting = late > 0 and (
                not started_ns or self._scene(started_ns / 1e9, tick.now) < late
            )
            code = proc.exitcode if proc is not None and not waiting else None
            started = tick.vals[p][B.P_PID] != 0 or (proc is not None and proc.pid is not None)
            tick.exitcodes.append(code)
            tick.alive.append(started and code is None and proc is not None)
        if tick.exitcodes and all(code is not None for code in tick.exitcodes):
            self.events.drain()  # every ring is final now: take the last events too
            self.events.release(final=True)
        else:
            self.events.release(final=False)

    def _scene(self, start: float, now: float) -> float:
        """Seconds of the scenario's own time between two monotonic times."""
        return self.clock.since(start, now) if self.clock is not None else now - start

    # ------------------------------------------------------------------ waits
    def _waits(self, tick: Tick) -> list[BlockedOn | None]:
        """What each process is blocked in, filling the tick's wait-for graph."""
        blocked_on: list[BlockedOn | None] = [None] * len(tick.vals)
        for p, values in enumerate(tick.vals):
            tick.shifts[p] = self.stops.shift(p, values[B.P_MARK], tick.now)
            blocked = blocked_on[p] = self._blocked(p, tick)
            timed = values[B.P_MARK] & B.TIMED or values[B.P_ACTIVITY] == B.ACT_JOINING
            if blocked is not None and values[B.P_AT] and timed:
                # A watched program's process said its line as this wait began.
                where = B.read_at(values)
                blocked_on[p] = replace(blocked, where=where)
                if p in tick.waits:
                    tick.waits[p] = replace(tick.waits[p], where=where)
        if self.open_world:
            self._widen(tick, blocked_on)
        if self.pools is not None:
            self.pools.read()
            names = self.topology.names
            for p in self.pools.owners:
                blocked_on[p] = self.pools.blocked(p, names[p], tick.alive[p], tick.waits)
        return blocked_on

    def _widen(self, tick: Tick, blocked_on: list[BlockedOn | None]) -> None:
        """A watched program declares nothing: a process that has not yet put
        on a queue (set an Event, notified, reached a Barrier, released a
        Semaphore) may still. So a wait on one waits for every other live
        process; only a Lock's holder and a joined process are known exactly.
        A blocked process with no edge at all (a Semaphore nobody holds, a
        Manager's queue) gets one the same way. A hang is then named only
        when every process that could end it is itself stuck."""
        # Alive and still able to act: not one that has said its last word
        # (a zombie its parent has not reaped yet puts nothing).
        # A Manager's server only answers calls: it unblocks nobody by itself.
        procs = self.topology.processes
        alive = [
            q
            for q, live in enumerate(tick.alive)
            if live and not tick.vals[q][B.P_ENDED_NS] and procs[q].role != "manager"
        ]
        exact = {o.name for o in self.topology.shared if o.kind in ("Lock", "RLock")}
        names = self.topology.names
        for p, blocked in enumerate(blocked_on):
            if blocked is not None and p not in tick.waits and tick.alive[p]:
                tick.waits[p] = Wait(
                    p,
                    names[p],
                    blocked.op,
                    blocked.channel,
                    blocked.reason,
                    frozenset(),
                    where=blocked.where,
                )
        for p, wait in list(tick.waits.items()):
            values = tick.vals[p]
            joining = not values[B.P_MARK] and values[B.P_ACTIVITY] == B.ACT_JOINING
            if (wait.op == "acquire" and wait.channel in exact) or joining:
                continue  # a lock's holder, a joined process: known
            others = frozenset(q for q in alive if q != p)
            tick.waits[p] = replace(wait, waits_for=others, known=wait.waits_for)

    def _blocked(self, p: int, tick: Tick) -> BlockedOn | None:
        """Which part explains p's wait: its marker names a channel, a shared
        object (index nchan + s), or nothing while it flushes or joins."""
        values = tick.vals[p]
        marker = values[B.P_MARK]
        alive = tick.alive[p]
        if alive and not marker and values[B.P_ACTIVITY] in (B.ACT_FLUSHING, B.ACT_JOINING):
            return self._ending(p, tick)
        _, code, op, _ = B.unmark(marker)
        # Shared object s marks nchan + s, nchan the board's room for channels:
        # a scenario's channel count, a watched program's cap (watch_board).
        nchan = self.layout.nchan
        if alive and op and nchan <= code < nchan + len(self.topology.shared):
            return self.shared_watch.blocked(p, code - nchan, tick)
        if not alive or not op or code >= len(self.topology.channels):
            self.channel_watch.forget(p)
            return None
        return self.channel_watch.blocked(p, tick)

    def _ending(self, p: int, tick: Tick) -> BlockedOn | None:
        """Waits that are no channel call: flushing a Queue's feeder thread
        (sampler_channels), or joining another process, stamped by the
        child, so `since` is exact."""
        if tick.vals[p][B.P_ACTIVITY] != B.ACT_JOINING:
            return self.channel_watch.flushing(p, tick)
        target = tick.vals[p][B.P_WAITS_ON]
        names = self.topology.names
        if not 0 <= target < len(names):
            return None
        other = names[target]
        if tick.alive[target]:
            wait = Wait(p, names[p], "join", other, "until it exits", frozenset({target}))
            tick.waits[p] = wait
        return BlockedOn("join", other, "until it exits", tick.since(p), True)

    def _edges(
        self, waits: dict[int, Wait], blocked_on: list[BlockedOn | None]
    ) -> tuple[WaitEdge, ...]:
        """The wait-for graph as the UI draws it: the confirmed deadlock's
        cycle first, in the order its processes wait for each other."""
        if not waits:
            return ()
        cycle = self._cycle if self._stuck is not None else []
        order = [*cycle, *(p for p in sorted(waits) if p not in cycle)]
        names = self.topology.names
        out = []
        for p in order:
            wait = waits[p]
            blocked = blocked_on[p]
            reason = wait.reason
            if self.stops.is_stopped(p):  # its time stands still: say why
                reason = f"{reason}; stopped by ipcplay" if reason else "stopped by ipcplay"
            out.append(
                WaitEdge(
                    waiter=wait.name,
                    op=wait.op,
                    obj=wait.channel,
                    reason=reason,
                    waits_for=tuple(names[q] for q in sorted(wait.waits_for)),
                    since=blocked.since if blocked is not None else 0.0,
                    holder=wait.held_by,
                    in_cycle=p in cycle,
                    where=wait.where,
                )
            )
        return tuple(out)

    def _update_stuck(self, tick: Tick) -> Stuck | None:
        """A hang or deadlock, once the stuck set has not moved for hang_after."""
        waits, vals, now = tick.waits, tick.vals, tick.now
        stuck = stuck_set(waits)
        if not stuck:
            self._stuck_sig = None
            self._stuck = None
            self._cycle = []
            return None
        # Nothing may move: same waits and same counters on every channel.
        counters = tuple(tuple(values[B.HEADER_SLOTS :]) for values in vals)
        signature = (frozenset((p, vals[p][B.P_MARK]) for p in stuck), counters)
        if signature != self._stuck_sig:
            self._stuck_sig = signature
            self._stuck_since = now
            self._stuck = None
            self._cycle = []
            return None
        if self._stuck is None and now - self._stuck_since >= self.hang_after:
            names = dict(enumerate(self.topology.names))
            kind, text = describe(stuck, waits, names)
            self._cycle = (has_cycle(stuck, waits) or []) if kind == "deadlock" else []
            self._stuck = Stuck(
                kind, tuple(names[p] for p in sorted(stuck)), text, self._stuck_since
            )
        return self._stuck

    # ------------------------------------------------------------------ rows
    def _process_sample(self, p: int, tick: Tick, blocked: BlockedOn | None) -> ProcessSample:
        proc = self.processes[p]
        values = tick.vals[p]
        pid = values[B.P_PID] or (proc.pid if proc is not None else None) or None
        figures = self.os_reader.last[p]
        cpu_percent = 0.0
        alive = tick.alive[p]
        if alive and pid:
            # Read the OS's figures for at most OS_READS_PER_TICK processes per
            # tick, in turn (and always for a process just signalled): with 16
            # processes that is every tick; with 128, each one every 0.8 s.
            every = max(1, -(-len(self.topology.processes) // OS_READS_PER_TICK))
            due = (self._tick + p) % every == 0 or p in self.poke or not figures[0]
            if due:
                self.poke.discard(p)
                # Context switches about once a second, and at the first read:
                # a process that lives less than a second has them too.
                full = (self._tick + p) % max(every, round(self.hz)) == 0 or not figures[4]
                figures = self.os_reader.sample(p, pid, full)
            cpu_percent = self._rates(("cpu", p), tick.now, figures[1]) * 100.0
        return process_sample(
            self.topology.processes[p],
            values,
            pid,
            figures,
            cpu_percent,
            tick.exitcodes[p],
            blocked,
            self._traffic(p, values, blocked, tick.now),
            p in self.stopped_by_engine,
            alive,
        )

    def _traffic(
        self, p: int, values: list[int], blocked: BlockedOn | None, now: float
    ) -> tuple[int, int, float]:
        """(sent, received, seconds blocked) of process p over what it uses."""
        sent = received = blocked_ns = 0
        for c in self.topology.used_channels[p]:
            base = B.HEADER_SLOTS + c * B.CHAN_SLOTS
            sent += values[base + B.OUT_N]
            received += values[base + B.IN_N]
            blocked_ns += (
                values[base + B.BLOCK_OUT_NS]
                + values[base + B.BLOCK_IN_NS]
                + values[base + B.BLOCK_JOIN_NS]
            )
        for s in self.topology.used_shared[p]:
            blocked_ns += values[self.shared_watch.slot(s, B.S_WAIT_NS)]
        # Not the time ipcplay kept it stopped inside a wait (stops.py).
        blocked_s = max(0.0, blocked_ns / 1e9 - self.stops.done_proc.get(p, 0.0))
        if blocked is not None and blocked.exact:
            blocked_s += max(0.0, now - blocked.since)
        return sent, received, blocked_s

    def _observer_cpu(self, now: float) -> float:
        times = self._self.cpu_times()
        return self._rates("observer", now, times.user + times.system) * 100.0
