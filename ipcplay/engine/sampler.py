"""Turn the board and what the OS knows into one immutable Snapshot.

Runs in the engine's sampler thread (and once more, on the caller's thread,
after every child has exited, for the exact final figures). All mutable state
it keeps between samples (rates, first-seen waits, high-water marks) is
private to it; what it hands out is frozen.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections import OrderedDict, deque
from dataclasses import replace
from typing import IO, Any

import psutil

from ipcplay.engine import board as B
from ipcplay.engine import demos
from ipcplay.engine import journal as J
from ipcplay.engine.order import EventOrder, RawEvent
from ipcplay.engine.plan import Instance, readers_of, shared_users, step_users, writers_of
from ipcplay.engine.preview import preview as preview_text
from ipcplay.engine.snapshot import (
    BlockedOn,
    ChannelSample,
    Direction,
    ProcessSample,
    SharedSample,
    Snapshot,
    Stuck,
    WaitEdge,
    exit_words,
)
from ipcplay.engine.stops import Stops
from ipcplay.engine.stuck import Wait, describe, has_cycle, stuck_set
from ipcplay.engine.tempo import ScenarioClock
from ipcplay.scenario.model import Scenario

RECENT_EVENTS = 500
DECODE_PER_TICK = 64  # in all processes together: the log shows a screenful, twice a second
OS_READS_PER_TICK = 16
HOLD_BACK_S = 0.25  # events wait this long for older ones from other rings (the TUI's log)
HOLD_BACK_FILE_S = 1.0  # the same for a saved journal (--journal)

_PROC_STAT = os.path.exists("/proc/self/stat")
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_CTX_RE = re.compile(rb"ctxt_switches:\s+(\d+)")
# /proc/PID/stat state letters, named as psutil names them.
_STATUS = {
    b"R": psutil.STATUS_RUNNING,
    b"S": psutil.STATUS_SLEEPING,
    b"D": psutil.STATUS_DISK_SLEEP,
    b"T": psutil.STATUS_STOPPED,
    b"t": psutil.STATUS_TRACING_STOP,
    b"Z": psutil.STATUS_ZOMBIE,
    b"X": psutil.STATUS_DEAD,
    b"I": psutil.STATUS_IDLE,
}


class Windowed:
    """Rates over tumbling windows of about a second, per key.

    A rate over one 100 ms sample is mostly noise (cpu time comes in 10 ms
    ticks; messages in bursts) and its digits change every tick; a rate per
    second is what a reader can take in, and it changes once a second.
    """

    def __init__(self, span: float = 1.0) -> None:
        self.span = span
        self._start: dict[object, tuple[float, float]] = {}
        self._rate: dict[object, float] = {}

    def __call__(self, key: object, now: float, value: float) -> float:
        start = self._start.get(key)
        if start is None:
            self._start[key] = (now, value)
            return 0.0
        t0, v0 = start
        dt = now - t0
        if dt >= self.span or (key not in self._rate and dt >= 0.25):
            self._rate[key] = max(0.0, (value - v0) / dt)
            if dt >= self.span:
                self._start[key] = (now, value)
        return self._rate.get(key, 0.0)


class Sampler:
    def __init__(
        self,
        scenario: Scenario,
        layout: B.Layout,
        insts: tuple[Instance, ...],
        raw_board: Any,
        processes: list[Any],
        t0: float,
        journal_out: IO[str] | None = None,
        hang_after: float = 1.0,
        shared: list[Any] | None = None,
        managers: Any = None,
    ) -> None:
        self.scenario = scenario
        self.layout = layout
        self.insts = insts
        self.mv = B.view(raw_board)
        self.processes = processes  # multiprocessing.Process objects, by instance index
        self.t0 = t0
        self.t0_ns = int(t0 * 1e9)
        self.journal_out = journal_out
        self.hang_after = hang_after
        self.hz = 10.0  # how often sample() is called; the engine keeps it current
        self.clock: ScenarioClock | None = None  # slow motion: the scenario's time (the engine's)
        self.writers = writers_of(scenario, insts)
        self.readers = readers_of(scenario, insts)
        n = len(insts)
        chan_index = {c.name: i for i, c in enumerate(scenario.channels)}
        # Each process touches one or two channels: read and sum only those.
        self.used: list[list[int]] = [
            sorted({chan_index[c] for c in (*i.spec.inputs, *i.spec.outputs)}) for i in insts
        ]
        self.managers = managers  # engine.manager.Managers: server panels and live values
        self.shared_objs = list(shared or [])  # the real objects: values are read from them
        self.shared_users = shared_users(scenario, insts)
        self.setters = step_users(scenario, insts, "set")
        self.barrier_users = step_users(scenario, insts, "wait")
        self.notifiers = _notifiers(scenario, insts)
        shared_index = {o.name: i for i, o in enumerate(scenario.shared)}
        self.used_shared: list[list[int]] = [
            sorted(shared_index[n] for n in i.spec.shared_used) for i in insts
        ]
        # A Value's lost updates are expected - actual only when adds alone touch it.
        self._adds_only = [
            o.kind == "Value"
            and not o.is_float
            and all(
                st.op == "add" for p in scenario.processes for st in p.steps if st.target == o.name
            )
            for o in scenario.shared
        ]
        self._shared0 = B.HEADER_SLOTS + layout.nchan * B.CHAN_SLOTS
        self._zeros = [0] * (layout.nchan * B.CHAN_SLOTS + layout.nshared * B.SHARED_SLOTS)
        self._tick = 0
        self._ps: list[psutil.Process | None] = [None] * n
        self._last_os: list[tuple[str, float, int, int, int, int | None]] = [
            ("", 0.0, 0, 0, 0, None)
        ] * n
        self._rates = Windowed()
        self._first_seen: dict[int, tuple[int, float]] = {}
        self._exitcodes: list[int | None] = []  # the latest sample's, by instance
        self._max_depth = [0] * layout.nchan
        self._events: deque[J.Event] = deque(maxlen=RECENT_EVENTS)
        self._events_total = 0
        self._events_released = 0  # events appended to _events so far, in order
        # How long drained events wait for older ones still in another ring
        # (order.py). A put is stamped before the call that hands its message
        # over, and committed after it: the hold-back must outlast a slow call
        # (the first put starts the feeder thread; a loaded machine preempts).
        # A saved journal can wait longer than a log a person reads.
        hold_s = HOLD_BACK_FILE_S if journal_out is not None else HOLD_BACK_S
        self._order = EventOrder(hold_ns=int(hold_s * 1e9))
        self._drained_at = 0  # monotonic ns just before the latest drain pass
        # Message previews by (channel, message id), then by the process whose
        # board held it: the pickle's first bytes, then the text once a line
        # needs it. (A ponger answers with the id it got, on the same channel.)
        self._previews: OrderedDict[tuple[int, int], dict[int, bytes | str]] = OrderedDict()
        self._stuck_sig: tuple[Any, ...] | None = None
        self._stuck_since = 0.0
        self._stuck: Stuck | None = None
        self._cycle: list[int] = []  # the confirmed deadlock's cycle, in order
        self._names = [i.name for i in self.insts]
        self.stopped_by_engine: set[int] = set()
        self.poke: set[int] = set()  # processes just signalled: read their OS state now
        self.stops = Stops()  # SIGSTOPs by the engine: time stopped is not time blocked
        self._shifts: dict[int, float] = {}  # this sample's, per process (stops.py)
        self._stat_fds: dict[int, tuple[int, int]] = {}  # process index -> (pid, fd)
        self._self = psutil.Process()
        self._seq = 0
        self.pools = None
        if any(i.spec.pool is not None for i in insts):
            from ipcplay.engine.pool_watch import PoolWatch

            self.pools = PoolWatch(insts, self.mv, layout)

    # ------------------------------------------------------------------ OS side
    def _os_sample(
        self, i: int, pid: int, full: bool
    ) -> tuple[str, float, int, int, int, int | None]:
        """(status, cpu s, rss, threads, ctx switches, ppid) as the OS knows them.

        On Linux every tick reads /proc/PID/stat, one file, ~30 µs here; the
        same figures through psutil's oneshot() cost ~100 µs, and with 128
        processes at 10 Hz that difference alone is 9 % of a core, more than
        htop spends in all. Context switches (another file) come once a second.
        Elsewhere, psutil.
        """
        last = self._last_os[i]
        if _PROC_STAT:
            try:
                data = self._read_stat(i, pid)
                r = data.rpartition(b")")[2].split()
                status = _STATUS.get(r[0], "?")
                ppid = int(r[1])
                cpu_s = (int(r[11]) + int(r[12])) / _CLK_TCK
                threads = int(r[17])
                rss = int(r[21]) * _PAGE
                ctx = last[4]
                if full:
                    with open(f"/proc/{pid}/status", "rb") as f:
                        found = _CTX_RE.findall(f.read())
                    ctx = sum(int(x) for x in found)
            except (OSError, IndexError, ValueError):
                return last
            result = (status, cpu_s, rss, threads, ctx, ppid)
            self._last_os[i] = result
            return result
        ps = self._ps[i]
        if ps is None or ps.pid != pid:
            try:
                ps = psutil.Process(pid)
            except psutil.Error:
                return last
            self._ps[i] = ps
            full = True
        try:
            with ps.oneshot():
                t = ps.cpu_times()
                cpu_s = t.user + t.system
                status = ps.status()
                if full:
                    rss = ps.memory_info().rss
                    threads = ps.num_threads()
                    cs = ps.num_ctx_switches()
                    ctx = cs.voluntary + cs.involuntary
                    ppid = ps.ppid()
                else:
                    rss, threads, ctx, ppid = last[2], last[3], last[4], last[5]
        except psutil.Error:
            return last
        result = (status, cpu_s, rss, threads, ctx, ppid)
        self._last_os[i] = result
        return result

    def _read_stat(self, i: int, pid: int) -> bytes:
        """/proc/PID/stat through a descriptor kept open per process: one
        pread a tick instead of open, read and close. The descriptor stays
        tied to that process (a reused PID gets a new one); once the process
        is reaped, reading it fails and the last figures stand."""
        held = self._stat_fds.get(i)
        if held is None or held[0] != pid:
            if held is not None:
                os.close(held[1])
            held = self._stat_fds[i] = (pid, os.open(f"/proc/{pid}/stat", os.O_RDONLY))
        try:
            return os.pread(held[1], 4096, 0)
        except OSError:
            os.close(held[1])
            del self._stat_fds[i]
            raise

    def close(self) -> None:
        """Give back the descriptors held for /proc reads, and the shared objects."""
        self.shared_objs = []
        for _, fd in self._stat_fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._stat_fds.clear()

    def _cpu_percent(self, i: int, cpu_s: float, now: float) -> float:
        return self._rates(("cpu", i), now, cpu_s) * 100.0

    def _observer_cpu(self, now: float) -> float:
        t = self._self.cpu_times()
        return self._rates("observer", now, t.user + t.system) * 100.0

    # ------------------------------------------------------------------ journal
    def _drain(self) -> None:
        """Empty every ring (a memcpy each) into the event order; decode only
        what is shown or saved (see `_release`)."""
        if not self.layout.journal_cap:
            return
        per_proc = max(1, DECODE_PER_TICK // max(1, self.layout.nproc))
        # Before the first ring is read: every event stamped a hold-back
        # before this has been committed in every ring by now (order.py).
        self._drained_at = time.monotonic_ns()
        for p in range(self.layout.nproc):
            data = J.drain_raw(self.mv, self.layout, p)
            if not data:
                continue
            self._events_total += len(data) // 24
            # Only the newest few per process are decoded for display when
            # nothing is saved: decoding 500 x 128 events 10 times a second
            # would cost more than everything else the sampler does.
            if self.journal_out is None:
                data = data[-per_proc * 24 :]
            self._order.add(p, J.unpack(data))
            if self.layout.previews:
                self._read_previews(p)

    def _read_previews(self, p: int) -> None:
        """Take the preview of each channel's last message from process p's
        board (written before the event that names it was committed)."""
        mv, layout = self.mv, self.layout
        raw = None
        for c in self.used[p]:
            area = layout.preview(p, c)
            for at in range(area, area + B.PREVIEWS * B.PREVIEW_SLOTS, B.PREVIEW_SLOTS):
                mid = mv[at]
                if mid < 0:
                    continue
                by = self._previews.get((c, mid))
                if by is not None and p in by:
                    continue
                if raw is None:
                    raw = mv.cast("B")
                data = raw[(at + 1) * 8 : (at + B.PREVIEW_SLOTS) * 8].tobytes()
                if mv[at] != mid or data[0] != 0x80:
                    continue  # rewritten while being read, or never written (no pickle)
                if by is None:
                    by = self._previews[(c, mid)] = {}
                    if len(self._previews) > 4096:
                        self._previews.popitem(last=False)
                by[p] = data

    def _preview(self, e: J.Event) -> str:
        """The content of the message a put or get event names: a put's from
        its own writer's board; a get's from another process's (its writer's;
        a Queue's reader saves its own)."""
        by = self._previews.get((e.chan, e.mid))
        if not by:
            return ""
        if e.op == "put":
            p = e.proc if e.proc in by else next(iter(by))
        else:
            p = next((q for q in by if q != e.proc), e.proc)
        got = by[p]
        if isinstance(got, bytes):
            got = by[p] = preview_text(got)
        return got

    def _release(self, final: bool) -> None:
        """Hand the events every ring has been read past, in order, to the
        log (the newest few, decoded) and to the journal file (all)."""
        out = self._order.release(self._drained_at, final)
        if not out:
            return
        if self.journal_out is not None:
            self._write_events(out)
        # A tick shows its newest few (decoding costs); the last release, once
        # every process has ended, shows all it holds, or a short run's last
        # moments, released at once, would be missing from the log.
        shown = out[-RECENT_EVENTS:] if final else out[-DECODE_PER_TICK:]
        previews = self.layout.previews
        for t, p, mid, packed in shown:
            e = J.decode(p, t, mid, packed)
            if previews and e.mid >= 0 and e.op in ("put", "get"):
                text = self._preview(e)
                if text:
                    e = replace(e, preview=text)
            elif e.wait_ns and (stopped := self._stopped_in(e)):
                e = replace(e, stopped_ns=stopped)
            self._events.append(e)
        self._events_released += len(shown)

    def _stopped_in(self, e: J.Event) -> int:
        """Of a wait event's time, the ns ipcplay kept its process stopped."""
        return round(self.stops.within(e.proc, (e.t_ns - e.wait_ns) / 1e9, e.t_ns / 1e9) * 1e9)

    def _write_events(self, events: list[RawEvent]) -> None:
        out = self.journal_out
        assert out is not None
        pids = [self.mv[self.layout.proc(p) + B.P_PID] for p in range(self.layout.nproc)]
        names = [json.dumps(i.name) for i in self.insts]
        chans = [json.dumps(c.name) for c in (*self.scenario.channels, *self.scenario.shared)]
        previews = self.layout.previews
        t0 = self.t0_ns
        lines = []
        for t, p, mid, packed in events:
            e = J.decode(p, t, mid, packed)
            chan = chans[e.chan] if 0 <= e.chan < len(chans) else "null"
            msg = e.mid if e.mid >= 0 else "null"
            pill = "true" if e.mid == -2 else "null"
            wait = f',"wait_s":{e.wait_ns / 1e9:.9f}' if e.wait_ns else ""
            if e.wait_ns and (stopped := self._stopped_in(e)):
                wait += f',"stopped_s":{stopped / 1e9:.9f}'
            if previews and e.mid >= 0 and e.op in ("put", "get"):
                text = self._preview(e)
                if text:
                    wait += f',"preview":{json.dumps(text)}'
            lines.append(
                f'{{"t":{(e.t_ns - t0) / 1e9:.9f},"pid":{pids[p]},"process":{names[p]},'
                f'"op":"{e.op}","channel":{chan},"msg":{msg},"pill":{pill},"bytes":{e.nbytes}'
                f"{wait}}}\n"
            )
        out.write("".join(lines))

    # ------------------------------------------------------------------ sample
    def sample(self) -> Snapshot:
        now = time.monotonic()
        layout = self.layout
        mv = self.mv
        self._drain()
        self._tick += 1
        vals = []
        for p in range(layout.nproc):
            base = layout.proc(p)
            v = mv[base : base + B.HEADER_SLOTS].tolist() + self._zeros
            for c in self.used[p]:
                cb = B.HEADER_SLOTS + c * B.CHAN_SLOTS
                v[cb : cb + B.CHAN_SLOTS] = mv[base + cb : base + cb + B.CHAN_SLOTS].tolist()
            for o in self.used_shared[p]:
                sb = self._shared0 + o * B.SHARED_SLOTS
                v[sb : sb + B.SHARED_SLOTS] = mv[base + sb : base + sb + B.SHARED_SLOTS].tolist()
            vals.append(v)
        chans = self.scenario.channels
        nchan = len(chans)

        # Channel totals first: process states need depths to explain waits.
        sums = [[0] * B.CHAN_SLOTS for _ in range(nchan)]
        for p, v in enumerate(vals):
            for c in self.used[p]:
                cb = B.HEADER_SLOTS + c * B.CHAN_SLOTS
                row = sums[c]
                for k in range(B.CHAN_SLOTS):
                    row[k] += v[cb + k]
        # Counts are stored just after each call returns, so for an instant a
        # get can be counted before its put, or a put before the get that made
        # room for it: clamp to what the queue can really hold (never below 0,
        # never above maxsize). Once every process has ended it is exact.
        depths = []
        for c, s in enumerate(sums):
            d = max(0, s[B.OUT_N] - s[B.IN_N] - s[B.LOST])
            cap = self.scenario.channels[c].maxsize
            depths.append(min(d, cap) if cap else d)

        alive: list[bool] = []
        exitcodes: list[int | None] = []
        for p, proc in enumerate(self.processes):
            # Process.exitcode reaps (waitpid): it is the parent's join. With
            # joined_after, the parent does not look before then, so a process
            # that ended sooner stays a zombie, as `ps` shows it.
            late = self.insts[p].spec.joined_after
            started_ns = vals[p][B.P_STARTED_NS]
            waiting = late > 0 and (not started_ns or self._scene(started_ns / 1e9, now) < late)
            code = proc.exitcode if proc is not None and not waiting else None
            started = vals[p][B.P_PID] != 0 or (proc is not None and proc.pid is not None)
            exitcodes.append(code)
            alive.append(started and code is None and proc is not None)
        self._exitcodes = exitcodes  # this sample's, for the words of a dead holder
        if exitcodes and all(c is not None for c in exitcodes):
            self._drain()  # every ring is final now: take the last events too
            self._release(final=True)
        else:
            self._release(final=False)

        ongoing_out = [0.0] * nchan
        ongoing_in = [0.0] * nchan
        waits: dict[int, Wait] = {}
        self._at = self._shared_markers(vals, alive)
        blocked_on: list[BlockedOn | None] = [None] * layout.nproc
        for p, v in enumerate(vals):
            self._shifts[p] = self.stops.shift(p, v[B.P_MARK], now)
            b = self._blocked(
                p, v, alive[p], now, depths, ongoing_out, ongoing_in, waits, alive, vals
            )
            blocked_on[p] = b
        if self.pools is not None:
            self.pools.read()
            for p in self.pools.owners:
                blocked_on[p] = self.pools.blocked(p, self._names[p], alive[p], waits)

        stuck = self._update_stuck(waits, vals, now)
        edges = self._edges(waits, blocked_on)

        procs = []
        for p, inst in enumerate(self.insts):
            procs.append(
                self._process_sample(p, inst, vals[p], alive[p], exitcodes[p], blocked_on[p], now)
            )

        channels = self._channel_samples(vals, sums, depths, ongoing_out, ongoing_in, now)
        shared = self._shared_samples(vals, alive) if self.scenario.shared else []
        pools = []
        if self.pools is not None:
            procs += self.pools.workers(now, len(procs), alive)
            pools = self.pools.samples(alive)
        finished = all(c is not None for c in exitcodes)
        if self.managers is not None:
            self.managers.read_values(now, finished)
        shared = self._shared_samples(vals, alive) if self.scenario.shared else []
        managers = self._manager_samples(vals, sums, now) if self.managers is not None else ()
        self._seq += 1
        return Snapshot(
            seq=self._seq,
            t=now,
            elapsed_s=now - self.t0,
            processes=tuple(procs),
            channels=tuple(channels),
            recent_events=tuple(self._events),
            events_total=self._events_total,
            events_released=self._events_released,
            events_late=self._order.late,
            events_dropped=sum(v[B.J_DROPPED] for v in vals),
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

    def _scene(self, start: float, now: float) -> float:
        """Seconds of the scenario's own time between two monotonic times."""
        return self.clock.since(start, now) if self.clock is not None else now - start

    def _since(self, p: int, v: list[int]) -> float:
        """When p's current wait began (monotonic s), later by the time ipcplay
        has kept it stopped inside that wait (stops.py)."""
        return v[B.P_SINCE] / 1e9 + self._shifts.get(p, 0.0)

    def _blocked(
        self,
        p: int,
        v: list[int],
        is_alive: bool,
        now: float,
        depths: list[int],
        ongoing_out: list[float],
        ongoing_in: list[float],
        waits: dict[int, Wait],
        alive: list[bool],
        vals: list[list[int]],
    ) -> BlockedOn | None:
        mk = v[B.P_MARK]
        if is_alive and not mk and v[B.P_ACTIVITY] in (B.ACT_FLUSHING, B.ACT_JOINING):
            return self._blocked_ending(p, v, alive, waits)
        seq, c, op, timed = B.unmark(mk)
        nchan = len(self.scenario.channels)
        if is_alive and op and nchan <= c < nchan + len(self.scenario.shared):
            return self._blocked_shared(p, vals, c - nchan, alive, waits)
        if not is_alive or not op or c >= nchan:
            self._first_seen.pop(p, None)
            return None
        cb = B.HEADER_SLOTS + c * B.CHAN_SLOTS
        current = v[cb + (B.JOINS if op == B.OP_JOIN else B.IN_N if op == B.OP_GET else B.OUT_N)]
        if current != seq:
            self._first_seen.pop(p, None)
            return None
        seen = self._first_seen.get(p)
        if seen is None or seen[0] != mk:
            self._first_seen[p] = (mk, now)
            if not timed:
                return None  # a fast-path call caught mid-flight; blocked only if it persists
            first = now
        else:
            first = seen[1]
        since = self._since(p, v) if timed else first
        ch = self.scenario.channels[c]
        pipe = ch.kind == "Pipe"
        name = self.insts[p].name
        if op == B.OP_GET:
            opname = "recv" if pipe else "get"
            if pipe:
                inflight = self._pipe_inflight_to(p, c, vals)
                reason = "pipe empty" if inflight <= 0 else ""
                if reason and ch.reader_keeps_write_end:
                    # The writer may be gone, but this reader's own copy of the
                    # write end keeps the pipe open: EOFError can never come.
                    reason += "; its own copy of the write end is open, so no EOFError"
            else:
                inflight = depths[c]
                reason = "queue empty" if inflight <= 0 else ""
                lost = sum(vals[w][cb + B.LOST] for w in self.writers[ch.name])
                if reason and lost:
                    reason += f"; {lost} put {'item' if lost == 1 else 'items'} never sent:"
                    reason += " pickling failed in the feeder thread"
            who = self.writers[ch.name]
            ongoing_in[c] += max(0.0, now - since) if timed else 0.0
            transient = inflight > 0
        elif op == B.OP_JOIN:
            opname, reason = "join", "tasks not done"
            who = self.readers[ch.name]
            transient = False
        else:
            opname = "send" if pipe else "put"
            full = op == B.OP_PUT_FULL
            reason = "queue full" if full else ("pipe full" if pipe else "")
            who = self.readers[ch.name]
            if timed:
                ongoing_out[c] += max(0.0, now - since)
            transient = full and depths[c] < ch.maxsize
        if not transient:
            waits[p] = Wait(
                p, name, opname, ch.name, reason, frozenset(w for w in who if w != p and alive[w])
            )
        return BlockedOn(opname, ch.name, reason, since, timed)

    def _blocked_ending(
        self, p: int, v: list[int], alive: list[bool], waits: dict[int, Wait]
    ) -> BlockedOn | None:
        """Waits that are no channel call: a process flushing its Queue's feeder
        thread before it can exit (Queue.close() + join_thread(), what every
        process that put on a Queue does at exit), or one joining another
        process. Both are stamped by the child, so `since` is exact."""
        since = self._since(p, v)
        name = self.insts[p].name
        target = v[B.P_WAITS_ON]
        if v[B.P_ACTIVITY] == B.ACT_JOINING:
            if not 0 <= target < len(self.insts):
                return None
            other = self.insts[target].name
            if alive[target]:
                waits[p] = Wait(p, name, "join", other, "until it exits", frozenset({target}))
            return BlockedOn("join", other, "until it exits", since, True)
        if not 0 <= target < len(self.scenario.channels):
            return None
        ch = self.scenario.channels[target]
        reason = "its feeder thread still has items for the pipe"
        who = frozenset(r for r in self.readers[ch.name] if r != p and alive[r])
        waits[p] = Wait(p, name, "flush", ch.name, reason, who)
        return BlockedOn("flush", ch.name, reason, since, True)

    # ------------------------------------------------------------------ shared objects
    def _sslot(self, s: int, slot: int) -> int:
        return self._shared0 + s * B.SHARED_SLOTS + slot

    def _shared_markers(self, vals: list[list[int]], alive: list[bool]) -> dict[int, list[int]]:
        """Which live processes are inside a wait on each shared object right now:
        a marker counts only while its sequence number is the object's op count."""
        nchan = len(self.scenario.channels)
        at: dict[int, list[int]] = {}
        if not self.scenario.shared:
            return at
        for p, v in enumerate(vals):
            seq, c, op, _ = B.unmark(v[B.P_MARK])
            if not alive[p] or op not in (B.OP_ACQUIRE, B.OP_EVENT_WAIT, B.OP_BARRIER_WAIT):
                continue
            s = c - nchan
            if 0 <= s < len(self.scenario.shared) and v[self._sslot(s, B.S_OPS)] == seq:
                at.setdefault(s, []).append(p)
        return at

    def _gone(self, q: int, alive: list[bool]) -> str:
        """How a holder that is no longer alive ended, as the lock's waiters need it."""
        if alive[q]:
            return ""
        code = self._exitcodes[q]
        if code is not None and code < 0:
            return f", which was {exit_words(code)} while holding it"
        return ", which has exited"

    def _who(self, q: int, vals: list[list[int]]) -> str:
        pid = vals[q][B.P_PID]
        return f"{self.insts[q].name} (pid {pid})" if pid else self.insts[q].name

    def _blocked_shared(
        self,
        p: int,
        vals: list[list[int]],
        s: int,
        alive: list[bool],
        waits: dict[int, Wait],
    ) -> BlockedOn | None:
        """A process inside acquire or wait on shared object `s`: what it waits for.

        Waits are always stamped (P_SINCE is exact). A wait that is about to
        end (the Event is set, the lock has no holder, the Barrier is full) is
        shown but is not a wait in the graph."""
        if p not in self._at.get(s, ()):
            return None
        v = vals[p]
        _, _, op, _ = B.unmark(v[B.P_MARK])
        spec = self.scenario.shared[s]
        since = self._since(p, v)
        name = self.insts[p].name
        holds = tuple(
            self.scenario.shared[o].name
            for o in self.used_shared[p]
            if o != s and v[self._sslot(o, B.S_HELD)] > 0
        )
        if op == B.OP_ACQUIRE:
            holders = [q for q in self.shared_users[spec.name] if vals[q][self._sslot(s, B.S_HELD)]]
            words = ", ".join(self._who(q, vals) + self._gone(q, alive) for q in holders)
            if holders:
                live = frozenset(q for q in holders if alive[q])
                waits[p] = Wait(p, name, "acquire", spec.name, "", live, holds, words)
            return BlockedOn("acquire", spec.name, "", since, True, words)
        if spec.kind == "Condition":
            return self._condition_wait(p, vals, s, alive, waits, holds)
        if op == B.OP_EVENT_WAIT:
            if self._event_is_set(s):
                return BlockedOn("wait", spec.name, "", since, True)
            setters = frozenset(q for q in self.setters[spec.name] if q != p and alive[q])
            waits[p] = Wait(p, name, "wait", spec.name, "Event not set", setters, holds)
            return BlockedOn("wait", spec.name, "Event not set", since, True)
        here = self._at.get(s, [])
        reason = f"{len(here)} of {spec.parties} parties there"
        if len(here) < spec.parties:
            others = frozenset(
                q for q in self.barrier_users[spec.name] if q not in here and alive[q]
            )
            waits[p] = Wait(p, name, "wait", spec.name, reason, others, holds)
        return BlockedOn("wait", spec.name, reason, since, True)

    def _condition_wait(
        self,
        p: int,
        vals: list[list[int]],
        s: int,
        alive: list[bool],
        waits: dict[int, Wait],
        holds: tuple[str, ...],
    ) -> BlockedOn:
        """Inside Condition.wait(): it waits for the live processes that can
        notify it, and, once notified, for whoever holds the lock it must take
        back. With neither left alive, nothing can ever wake it: a hang."""
        spec = self.scenario.shared[s]
        name = self.insts[p].name
        since = self._since(p, vals[p])
        step = next(
            (
                st
                for st in self.insts[p].spec.steps
                if st.target == spec.name and st.op == "wait_for"
            ),
            None,
        )
        reason = "not notified yet"
        if step is not None:
            reason = f"until {step.other} >= {step.amount:g}"
        holders = [q for q in self.shared_users[spec.name] if vals[q][self._sslot(s, B.S_HELD)]]
        can = {q for q in (*self.notifiers[spec.name], *holders) if q != p and alive[q]}
        waits[p] = Wait(p, name, "wait", spec.name, reason, frozenset(can), holds)
        return BlockedOn("wait", spec.name, reason, since, True)

    def _block_fields(
        self, s: int, obj: Any, users: list[int], vals: list[list[int]]
    ) -> dict[str, Any]:
        """A SharedMemory block: plain memory, so the observer reads it without
        waiting for anyone; and who read and wrote it, per process."""
        spec = self.scenario.shared[s]
        out: dict[str, Any] = {"size": spec.size}
        buf = getattr(obj, "buf", None)
        if buf is not None:
            data = bytes(buf)
            out.update(block=obj.name, value=sum(data), head=data[:8].hex(" "))
        out["per_process"] = tuple(
            (
                self.insts[q].name,
                vals[q][self._sslot(s, B.S_READS)],
                vals[q][self._sslot(s, B.S_WRITES)],
                vals[q][self._sslot(s, B.S_READ_SUM)],
            )
            for q in users
        )
        return out

    def _event_is_set(self, s: int) -> bool | None:
        """Read the Event's flag (a semaphore's value) without taking its
        Condition, which a stopped process could be holding."""
        try:
            return bool(self.shared_objs[s]._flag.get_value())
        except (AttributeError, IndexError, NotImplementedError, OSError):
            return None

    def _shared_samples(self, vals: list[list[int]], alive: list[bool]) -> list[SharedSample]:
        out = []
        for s, spec in enumerate(self.scenario.shared):
            users = self.shared_users[spec.name]
            tot = [0] * B.SHARED_SLOTS
            for q in users:
                sb = self._sslot(s, 0)
                for k in range(B.SHARED_SLOTS):
                    tot[k] += vals[q][sb + k]
            holders = [q for q in users if vals[q][self._sslot(s, B.S_HELD)] > 0]
            since = [vals[q][self._sslot(s, B.S_HELD_SINCE)] for q in holders]
            if spec.kind.startswith("Manager") and self.managers is not None:
                names = tuple(self.insts[q].name for q in users)
                out.append(self.managers.shared_sample(s, spec, tot, names))
                continue
            f: dict[str, Any] = {}
            obj = self.shared_objs[s] if s < len(self.shared_objs) else None
            if spec.kind in ("Value", "Array") and obj is not None:
                raw = obj.get_obj()  # the ctypes memory itself: no lock taken
                f["value"] = raw.value if spec.kind == "Value" else tuple(raw[:])
                f["typecode"] = spec.typecode
                if self._adds_only[s]:
                    expected = int(spec.value) + tot[B.S_ADDED]
                    f["expected"] = expected
                    f["lost"] = max(0, expected - int(f["value"]))
            if spec.kind in ("Lock", "RLock"):
                f["free"] = 0 if holders else 1
            elif spec.kind in ("Semaphore", "BoundedSemaphore"):
                f["permits"] = int(spec.value)
                f["free"] = max(0, int(spec.value) - tot[B.S_HELD])
            elif spec.kind == "Event":
                f["is_set"] = self._event_is_set(s)
            elif spec.kind == "Condition":
                f["free"] = 0 if holders else 1
                f["notifies"] = tot[B.S_NOTIFIES]
            elif spec.kind == "SharedMemory":
                f.update(self._block_fields(s, obj, users, vals))
            elif spec.kind == "Barrier":
                f["parties"] = spec.parties
                f["arrived"] = len(self._at.get(s, []))
                f["broken"] = bool(tot[B.S_BROKEN]) or bool(getattr(obj, "broken", False))
            out.append(
                SharedSample(
                    index=s,
                    name=spec.name,
                    kind=spec.kind,
                    updates=tot[B.S_UPDATES],
                    holders=tuple(self.insts[q].name for q in holders),
                    holder_pids=tuple(vals[q][B.P_PID] for q in holders),
                    held=tot[B.S_HELD],
                    held_since=min(since) / 1e9 if since else 0.0,
                    waiting=tuple(self.insts[q].name for q in self._at.get(s, [])),
                    acquires=tot[B.S_OPS],
                    releases=tot[B.S_RELEASES],
                    contended=tot[B.S_CONTENDED],
                    wait_s=tot[B.S_WAIT_NS] / 1e9,
                    hold_s=tot[B.S_HOLD_NS] / 1e9,
                    sets=tot[B.S_SETS] if spec.kind == "Event" else 0,
                    clears=tot[B.S_CLEARS] if spec.kind == "Event" else 0,
                    users=tuple(self.insts[q].name for q in users),
                    **f,
                )
            )
        return out

    def _shared_totals(self, s: int, vals: list[list[int]]) -> list[int]:
        tot = [0] * B.SHARED_SLOTS
        sb = self._sslot(s, 0)
        for q in self.shared_users[self.scenario.shared[s].name]:
            for k in range(B.SHARED_SLOTS):
                tot[k] += vals[q][sb + k]
        return tot

    def _manager_samples(
        self, vals: list[list[int]], sums: list[list[int]], now: float
    ) -> tuple[Any, ...]:
        """The Manager servers' panels: calls summed per method from the callers' slots."""
        shared = {
            o.name: self._shared_totals(s, vals)
            for s, o in enumerate(self.scenario.shared)
            if o.kind.startswith("Manager")
        }
        chans = {c.name: sums[i] for i, c in enumerate(self.scenario.channels)}
        return self.managers.samples(shared, chans, now)

    def _pipe_inflight_to(self, p: int, c: int, vals: list[list[int]]) -> int:
        """Messages sent to `p` on pipe `c` and not yet received, from this
        sample's values (not fresh reads, which could disagree with them)."""
        cb = B.HEADER_SLOTS + c * B.CHAN_SLOTS
        sent = sum(
            vals[w][cb + B.OUT_N] for w in self.writers[self.scenario.channels[c].name] if w != p
        )
        return sent - vals[p][cb + B.IN_N]

    def _edges(
        self, waits: dict[int, Wait], blocked_on: list[BlockedOn | None]
    ) -> tuple[WaitEdge, ...]:
        """The wait-for graph as the UI draws it: the confirmed deadlock's
        cycle first, in the order its processes wait for each other."""
        if not waits:
            return ()
        cycle = self._cycle if self._stuck is not None else []
        order = [*cycle, *(p for p in sorted(waits) if p not in cycle)]
        names = self._names
        out = []
        for p in order:
            w = waits[p]
            b = blocked_on[p]
            reason = w.reason
            if self.stops.is_stopped(p):  # its time stands still: say why
                reason = f"{reason}; stopped by ipcplay" if reason else "stopped by ipcplay"
            out.append(
                WaitEdge(
                    waiter=w.name,
                    op=w.op,
                    obj=w.channel,
                    reason=reason,
                    waits_for=tuple(names[q] for q in sorted(w.waits_for)),
                    since=b.since if b is not None else 0.0,
                    holder=w.held_by,
                    in_cycle=p in cycle,
                )
            )
        return tuple(out)

    def _update_stuck(
        self, waits: dict[int, Wait], vals: list[list[int]], now: float
    ) -> Stuck | None:
        stuck = stuck_set(waits)
        if not stuck:
            self._stuck_sig = None
            self._stuck = None
            self._cycle = []
            return None
        # Nothing may move: same waits and same counters on every channel.
        counters = tuple(tuple(v[B.HEADER_SLOTS :]) for v in vals)
        sig = (frozenset((p, vals[p][B.P_MARK]) for p in stuck), counters)
        if sig != self._stuck_sig:
            self._stuck_sig = sig
            self._stuck_since = now
            self._stuck = None
            self._cycle = []
            return None
        if self._stuck is None and now - self._stuck_since >= self.hang_after:
            names = {i.index: i.name for i in self.insts}
            kind, text = describe(stuck, waits, names)
            self._cycle = (has_cycle(stuck, waits) or []) if kind == "deadlock" else []
            self._stuck = Stuck(
                kind, tuple(names[p] for p in sorted(stuck)), text, self._stuck_since
            )
        return self._stuck

    def _process_sample(
        self,
        p: int,
        inst: Instance,
        v: list[int],
        is_alive: bool,
        exitcode: int | None,
        blocked: BlockedOn | None,
        now: float,
    ) -> ProcessSample:
        proc = self.processes[p]
        pid = v[B.P_PID] or (proc.pid if proc is not None else None) or None
        status, cpu_s, rss, threads, ctx, ppid = self._last_os[p]
        cpu_pct = 0.0
        if is_alive and pid:
            # Read the OS's figures for at most OS_READS_PER_TICK processes per
            # tick, in turn (and always for a process just signalled): with 16
            # processes that is every tick; with 128, each one every 0.8 s.
            n = len(self.insts)
            every = max(1, -(-n // OS_READS_PER_TICK))
            due = (self._tick + p) % every == 0 or p in self.poke or not self._last_os[p][0]
            if due:
                self.poke.discard(p)
                # Context switches about once a second, and at the first read:
                # a process that lives less than a second has them too.
                full = (self._tick + p) % max(every, round(self.hz)) == 0 or not ctx
                status, cpu_s, rss, threads, ctx, ppid = self._os_sample(p, pid, full)
            cpu_pct = self._cpu_percent(p, cpu_s, now)
        elif v[B.P_CPU_NS]:
            cpu_s = max(cpu_s, v[B.P_CPU_NS] / 1e9)
            ctx = max(ctx, v[B.P_CTX_SWITCHES])  # as the role ended: a reaped pid has no /proc
        act = v[B.P_ACTIVITY]
        activity = B.ACTIVITY_WORDS[act] if 0 <= act < len(B.ACTIVITY_WORDS) else "running"
        phase = v[B.P_PHASE]
        if exitcode is not None:
            state = exit_words(exitcode)
            status = ""
        elif status == psutil.STATUS_STOPPED:  # stopped even before it got going
            state = "stopped"
        elif not pid or phase == B.PHASE_NEW:
            state = "starting"
        elif status == psutil.STATUS_ZOMBIE:
            state = "zombie"
        elif blocked is not None:
            state = "blocked"
        elif phase in (B.PHASE_DONE, B.PHASE_STOPPED, B.PHASE_FAILED):
            state = "exiting"
        else:
            state = activity
        sent = received = 0
        blocked_ns = 0
        for c in self.used[p]:
            cb = B.HEADER_SLOTS + c * B.CHAN_SLOTS
            sent += v[cb + B.OUT_N]
            received += v[cb + B.IN_N]
            blocked_ns += v[cb + B.BLOCK_OUT_NS] + v[cb + B.BLOCK_IN_NS] + v[cb + B.BLOCK_JOIN_NS]
        for o in self.used_shared[p]:
            blocked_ns += v[self._sslot(o, B.S_WAIT_NS)]
        # Not the time ipcplay kept it stopped inside a wait (stops.py).
        blocked_s = max(0.0, blocked_ns / 1e9 - self.stops.done_proc.get(p, 0.0))
        if blocked is not None and blocked.exact:
            blocked_s += max(0.0, now - blocked.since)
        return ProcessSample(
            index=p,
            name=inst.name,
            template=inst.spec.name,
            role=inst.spec.role,
            pid=pid,
            ppid=ppid,
            alive=is_alive,
            exitcode=exitcode,
            state=state,
            status=status,
            activity=activity,
            blocked=blocked,
            cpu_percent=cpu_pct,
            cpu_s=cpu_s,
            rss=rss,
            threads=threads,
            ctx_switches=ctx,
            sent=sent,
            received=received,
            items=v[B.P_ITEMS],
            pills_sent=v[B.P_PILLS_SENT],
            pills_received=v[B.P_PILLS_RECEIVED],
            blocked_s=blocked_s,
            error=B.read_text(v, 0),
            stopped_by_engine=p in self.stopped_by_engine,
            notes=_notes(inst.spec.role, v),
        )

    def _channel_samples(
        self,
        vals: list[list[int]],
        sums: list[list[int]],
        depths: list[int],
        ongoing_out: list[float],
        ongoing_in: list[float],
        now: float,
    ) -> list[ChannelSample]:
        out = []
        names = [i.name for i in self.insts]
        stopped = self.stops.done_chan
        for c, ch in enumerate(self.scenario.channels):
            s = sums[c]
            depth = depths[c]
            hw = max(self._max_depth[c], depth)
            if s[B.FULL_HITS] and ch.maxsize:
                hw = max(hw, ch.maxsize)  # a put found it full: it held maxsize items then
            self._max_depth[c] = hw
            put_rate = self._rates(("put", c), now, s[B.OUT_N])
            get_rate = self._rates(("get", c), now, s[B.IN_N])
            ws = self.writers[ch.name]
            rs = self.readers[ch.name]
            directions: list[Direction] = []
            if ch.kind == "Pipe":
                users = list(dict.fromkeys([*ws, *rs]))
                for a in users:
                    for b in users:
                        if a == b or a not in ws or b not in rs:
                            continue
                        cba = B.HEADER_SLOTS + c * B.CHAN_SLOTS
                        sent = vals[a][cba + B.OUT_N]
                        rec = vals[b][cba + B.IN_N]
                        nbytes = vals[b][cba + B.IN_BYTES]
                        r = self._rates(("dir", c, a, b), now, rec)
                        br = self._rates(("dirb", c, a, b), now, nbytes)
                        directions.append(
                            Direction(
                                names[a], names[b], sent, rec, max(0, sent - rec), nbytes, r, br
                            )
                        )
            out.append(
                ChannelSample(
                    index=c,
                    name=ch.name,
                    kind=ch.kind,
                    maxsize=ch.maxsize,
                    puts=s[B.OUT_N],
                    gets=s[B.IN_N],
                    depth=depth,
                    max_depth=hw,
                    bytes=s[B.IN_BYTES],
                    task_done=s[B.TASK_DONE],
                    unfinished=max(0, s[B.OUT_N] - s[B.TASK_DONE])
                    if ch.kind == "JoinableQueue"
                    else 0,
                    full_hits=s[B.FULL_HITS],
                    lost=s[B.LOST],
                    blocked_put_s=max(0.0, s[B.BLOCK_OUT_NS] / 1e9 - stopped[(c, "out")])
                    + ongoing_out[c],
                    blocked_get_s=max(0.0, s[B.BLOCK_IN_NS] / 1e9 - stopped[(c, "in")])
                    + ongoing_in[c],
                    put_rate=put_rate,
                    get_rate=get_rate,
                    wait_s=max(
                        (vals[r][B.HEADER_SLOTS + c * B.CHAN_SLOTS + B.LAST_WAIT_NS] for r in rs),
                        default=0,
                    )
                    / 1e9,
                    max_wait_s=max(
                        (vals[r][B.HEADER_SLOTS + c * B.CHAN_SLOTS + B.MAX_WAIT_NS] for r in rs),
                        default=0,
                    )
                    / 1e9,
                    writers=tuple(names[w] for w in ws),
                    readers=tuple(names[r] for r in rs),
                    directions=tuple(directions),
                )
            )
        return out


def _notifiers(scenario: Scenario, insts: tuple[Instance, ...]) -> dict[str, list[int]]:
    """Instance indices with a notify or notify_all step on each shared object."""
    one = step_users(scenario, insts, "notify")
    every = step_users(scenario, insts, "notify_all")
    return {n: sorted({*one[n], *every[n]}) for n in one}


def _notes(role: str, v: list[int]) -> tuple[tuple[str, int], ...]:
    """The numbers a demo role has written about itself (only those written),
    and for `globals` the parent's own value of the same global, read here."""
    labels = demos.NOTE_LABELS.get(role)
    if labels is None:
        return ()
    out = [(label, v[B.P_NOTE + i]) for i, label in enumerate(labels) if v[B.P_NOTE_SET] >> i & 1]
    if role == "globals":
        out.append(("parent's global", demos.parent_value()))
    return tuple(out)
