"""Shared objects, as the sampler sees them: who holds and who waits on each
lock, Event, Condition and Barrier, and one `SharedSample` per object.

Part of the sampler (engine/sampler.py). Names, kinds and shapes (parties,
permits, sizes) come from the registry's topology (engine/registry.py); the
values of Values, Arrays, Events, SharedMemory blocks and ShareableLists are
read from the live objects the supervisor hands over, without taking their
locks.
"""

from __future__ import annotations

import struct
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine.primitives import read_items
from ipcplay.engine.registry import ObjectInfo, Topology
from ipcplay.engine.sampler_tick import Tick
from ipcplay.engine.snapshot import BlockedOn, SharedSample, exit_words
from ipcplay.engine.stuck import Wait

# The markers a process leaves on the board while inside a wait on a shared object.
WAIT_MARKERS = (B.OP_ACQUIRE, B.OP_EVENT_WAIT, B.OP_BARRIER_WAIT)


class SharedWatch:
    """The shared objects of a run: their live handles, and the Manager watcher."""

    def __init__(self, topology: Topology, layout: B.Layout, objects: list[Any], managers: Any):
        self.topology = topology  # the sampler keeps it current
        self.objects = objects  # the real objects, by shared index
        self.managers = managers  # engine.manager_watch.Managers, or None
        self.layout = layout
        self._base = B.HEADER_SLOTS + layout.nchan * B.CHAN_SLOTS
        self._items: dict[int, tuple[Any, ...]] = {}  # each ShareableList's last whole read

    def slot(self, s: int, slot: int) -> int:
        """Where shared object s's slot is in a process's copied values."""
        return self._base + s * B.SHARED_SLOTS + slot

    def markers(self, tick: Tick) -> None:
        """Which live processes are inside a wait on each shared object right now:
        a marker counts only while its sequence number is the object's op count."""
        nchan = self.layout.nchan  # shared object s marks nchan + s
        nshared = len(self.topology.shared)
        inside: dict[int, list[int]] = {}
        if nshared:
            for p, values in enumerate(tick.vals):
                seq, code, op, _ = B.unmark(values[B.P_MARK])
                if not tick.alive[p] or op not in WAIT_MARKERS:
                    continue
                s = code - nchan
                if 0 <= s < nshared and values[self.slot(s, B.S_OPS)] == seq:
                    inside.setdefault(s, []).append(p)
        tick.inside = inside

    def totals(self, s: int, tick: Tick) -> list[int]:
        """Object s's slots summed over the processes that use it."""
        total = [0] * B.SHARED_SLOTS
        base = self.slot(s, 0)
        for q in self.topology.users[s]:
            values = tick.vals[q]
            for k in range(B.SHARED_SLOTS):
                total[k] += values[base + k]
        return total

    def _holders(self, s: int, tick: Tick) -> list[int]:
        """Who holds object s now: each holder says so in its own slot."""
        return [q for q in self.topology.users[s] if tick.vals[q][self.slot(s, B.S_HELD)] > 0]

    def _holding(self, s: int, tick: Tick) -> list[int]:
        """The same, as a waiter sees it: any count but zero (a wait's words
        and the stuck detector have always read it so)."""
        return [q for q in self.topology.users[s] if tick.vals[q][self.slot(s, B.S_HELD)]]

    # ------------------------------------------------------------------ waits
    def _gone(self, q: int, tick: Tick) -> str:
        """How a holder that is no longer alive ended, as the lock's waiters need it."""
        if tick.alive[q]:
            return ""
        code = tick.exitcodes[q]
        if code is not None and code < 0:
            return f", which was {exit_words(code)} while holding it"
        return ", which has exited"

    def _who(self, q: int, tick: Tick) -> str:
        pid = tick.vals[q][B.P_PID]
        name = self.topology.names[q]
        return f"{name} (pid {pid})" if pid else name

    def blocked(self, p: int, s: int, tick: Tick) -> BlockedOn | None:
        """A process inside acquire or wait on shared object `s`: what it waits for.

        Waits are always stamped (P_SINCE is exact). A wait that is about to
        end (the Event is set, the lock has no holder, the Barrier is full) is
        shown but is not a wait in the graph."""
        if p not in tick.inside.get(s, ()):
            return None
        values = tick.vals[p]
        _, _, op, _ = B.unmark(values[B.P_MARK])
        obj = self.topology.shared[s]
        since = tick.since(p)
        name = self.topology.names[p]
        holds = tuple(
            self.topology.shared[o].name
            for o in self.topology.used_shared[p]
            if o != s and values[self.slot(o, B.S_HELD)] > 0
        )
        if op == B.OP_ACQUIRE:
            holders = self._holding(s, tick)
            words = ", ".join(self._who(q, tick) + self._gone(q, tick) for q in holders)
            if holders:
                live = frozenset(q for q in holders if tick.alive[q])
                tick.waits[p] = Wait(p, name, "acquire", obj.name, "", live, holds, words)
            return BlockedOn("acquire", obj.name, "", since, True, words)
        if obj.kind == "Condition":
            return self._condition_wait(p, s, tick, holds)
        if op == B.OP_EVENT_WAIT:
            live = self.objects[s] if s < len(self.objects) else None
            if self.event_is_set(s) if live is not None else self._said(s, tick):
                return BlockedOn("wait", obj.name, "", since, True)
            setters = self.topology.step_users(s, "set")
            can = frozenset(q for q in setters if q != p and tick.alive[q])
            tick.waits[p] = Wait(p, name, "wait", obj.name, "Event not set", can, holds)
            return BlockedOn("wait", obj.name, "Event not set", since, True)
        here = tick.inside.get(s, [])
        reason = f"{len(here)} of {obj.parties} parties there"
        if len(here) < obj.parties:
            parties = self.topology.step_users(s, "wait")
            others = frozenset(q for q in parties if q not in here and tick.alive[q])
            tick.waits[p] = Wait(p, name, "wait", obj.name, reason, others, holds)
        return BlockedOn("wait", obj.name, reason, since, True)

    def _condition_wait(self, p: int, s: int, tick: Tick, holds: tuple[str, ...]) -> BlockedOn:
        """Inside Condition.wait(): it waits for the live processes that can
        notify it, and, once notified, for whoever holds the lock it must take
        back. With neither left alive, nothing can ever wake it: a hang."""
        obj = self.topology.shared[s]
        reason = self.topology.note(p, "shared", s) or "not notified yet"
        notifiers = self.topology.step_users(s, "notify", "notify_all")
        can = {q for q in (*notifiers, *self._holding(s, tick)) if q != p and tick.alive[q]}
        name = self.topology.names[p]
        tick.waits[p] = Wait(p, name, "wait", obj.name, reason, frozenset(can), holds)
        return BlockedOn("wait", obj.name, reason, tick.since(p), True)

    def event_is_set(self, s: int) -> bool | None:
        """Read the Event's flag (a semaphore's value) without taking its
        Condition, which a stopped process could be holding."""
        try:
            return bool(self.objects[s]._flag.get_value())
        except (AttributeError, IndexError, NotImplementedError, OSError):
            return None

    def _said_value(self, s: int, obj: ObjectInfo, tick: Tick) -> int | float:
        """The newest value a watched program's process wrote to Value s
        (board.S_VALUE), else its first."""
        latest, value = 0, obj.initial
        for q in self.topology.users[s]:
            at = tick.vals[q][self.slot(s, B.S_VALUE_AT)]
            if at > latest:
                latest, value = at, tick.vals[q][self.slot(s, B.S_VALUE)]
        if obj.is_float and latest:
            return struct.unpack("d", struct.pack("q", value))[0]
        return value

    def _said(self, s: int, tick: Tick) -> bool:
        """A watched program's Event, whose semaphore the observer cannot
        read: the state its users said last (board.S_EVENT_AT)."""
        latest, state = 0, 0
        for q in self.topology.users[s]:
            at = tick.vals[q][self.slot(s, B.S_EVENT_AT)]
            if at > latest:
                latest, state = at, tick.vals[q][self.slot(s, B.S_EVENT_STATE)]
        return bool(state)

    # ------------------------------------------------------------------ rows
    def samples(self, tick: Tick) -> list[SharedSample]:
        return [self._sample(s, obj, tick) for s, obj in enumerate(self.topology.shared)]

    def _sample(self, s: int, obj: ObjectInfo, tick: Tick) -> SharedSample:
        users = self.topology.users[s]
        total = self.totals(s, tick)
        if obj.kind.startswith("Manager") and self.managers is not None:
            names = tuple(self.topology.names[q] for q in users)
            return self.managers.shared_sample(s, obj.name, total, names)
        holders = self._holders(s, tick)
        since = [tick.vals[q][self.slot(s, B.S_HELD_SINCE)] for q in holders]
        names = self.topology.names
        return SharedSample(
            index=s,
            name=obj.name,
            kind=obj.kind,
            updates=total[B.S_UPDATES],
            holders=tuple(names[q] for q in holders),
            holder_pids=tuple(tick.vals[q][B.P_PID] for q in holders),
            held=total[B.S_HELD],
            held_since=min(since) / 1e9 if since else 0.0,
            waiting=tuple(names[q] for q in tick.inside.get(s, [])),
            acquires=total[B.S_OPS],
            releases=total[B.S_RELEASES],
            contended=total[B.S_CONTENDED],
            wait_s=total[B.S_WAIT_NS] / 1e9,
            hold_s=total[B.S_HOLD_NS] / 1e9,
            sets=total[B.S_SETS] if obj.kind == "Event" else 0,
            clears=total[B.S_CLEARS] if obj.kind == "Event" else 0,
            users=tuple(names[q] for q in users),
            **self._kind_fields(s, obj, total, bool(holders), tick),
        )

    def _kind_fields(
        self, s: int, obj: ObjectInfo, total: list[int], held: bool, tick: Tick
    ) -> dict[str, Any]:
        """What only this kind of object has: a value, permits, a flag, parties."""
        fields: dict[str, Any] = {}
        live = self.objects[s] if s < len(self.objects) else None
        if obj.kind == "Value" and live is None and obj.memory[0]:
            # A watched program's Value the observer could not map (made and
            # dropped within a tick): the value its writers said last.
            fields["value"] = self._said_value(s, obj, tick)
            fields["typecode"] = obj.typecode
            if self.topology.adds_only(s):
                expected = obj.initial + total[B.S_ADDED]
                fields["expected"] = expected
                fields["lost"] = max(0, expected - int(fields["value"]))
        if obj.kind in ("Value", "Array") and live is not None:
            raw = live.get_obj()  # the ctypes memory itself: no lock taken
            fields["value"] = raw.value if obj.kind == "Value" else tuple(raw[:])
            fields["typecode"] = obj.typecode
            if self.topology.adds_only(s):
                expected = obj.initial + total[B.S_ADDED]
                fields["expected"] = expected
                fields["lost"] = max(0, expected - int(fields["value"]))
        if obj.kind.startswith("Manager"):  # a watched program's proxy (watch_manager)
            fields["calls"] = (("calls", total[B.S_OPS]), ("changes", total[B.S_UPDATES]))
        if obj.kind in ("Lock", "RLock"):
            fields["free"] = 0 if held else 1
        elif obj.kind in ("Semaphore", "BoundedSemaphore"):
            fields["permits"] = obj.initial
            fields["free"] = max(0, obj.initial - total[B.S_HELD])
        elif obj.kind == "Event":
            fields["is_set"] = self.event_is_set(s) if live is not None else self._said(s, tick)
        elif obj.kind == "Condition":
            fields["free"] = 0 if held else 1
            fields["notifies"] = total[B.S_NOTIFIES]
        elif obj.kind == "SharedMemory":
            fields.update(self._block_fields(s, obj, live, tick))
        elif obj.kind == "ShareableList":
            fields.update(self._list_fields(s, live, tick))
        elif obj.kind == "Barrier":
            fields["parties"] = obj.parties
            fields["arrived"] = len(tick.inside.get(s, []))
            broken = bool(total[B.S_BROKEN]) or bool(getattr(live, "broken", False))
            fields["broken"] = broken
        return fields

    def _block_fields(self, s: int, obj: ObjectInfo, live: Any, tick: Tick) -> dict[str, Any]:
        """A SharedMemory block: plain memory, so the observer reads it without
        waiting for anyone; and who read and wrote it, per process."""
        out: dict[str, Any] = {"size": obj.size}
        buf = getattr(live, "buf", None)
        if buf is not None:
            data = bytes(buf)
            out.update(block=live.name, value=sum(data), head=data[:8].hex(" "))
        out["per_process"] = self._per_process(s, tick)
        return out

    def _per_process(self, s: int, tick: Tick) -> tuple[tuple[str, int, int, int], ...]:
        """Who read and wrote object s, from each user's own slots: (name,
        reads, writes, the byte sum its last read of a block saw)."""
        return tuple(
            (
                self.topology.names[q],
                tick.vals[q][self.slot(s, B.S_READS)],
                tick.vals[q][self.slot(s, B.S_WRITES)],
                tick.vals[q][self.slot(s, B.S_READ_SUM)],
            )
            for q in self.topology.users[s]
        )

    def _list_fields(self, s: int, live: Any, tick: Tick) -> dict[str, Any]:
        """A ShareableList: its items, read from its block without a lock (it
        has none), so a read torn by a write in flight keeps the last whole
        one; the block's name and size; who read and wrote it, per process."""
        out: dict[str, Any] = {"per_process": self._per_process(s, tick)}
        shm = getattr(live, "shm", None)
        items = read_items(live) if shm is not None else None
        if items is not None:
            self._items[s] = items
        if shm is not None and shm.buf is not None:
            out.update(block=shm.name, size=shm.size)
        out["value"] = self._items.get(s)
        return out

    def manager_samples(self, tick: Tick) -> tuple[Any, ...]:
        """The Manager servers' panels: calls summed per method from the callers' slots."""
        shared = {
            obj.name: self.totals(s, tick)
            for s, obj in enumerate(self.topology.shared)
            if obj.kind.startswith("Manager")
        }
        chans = {c.name: tick.sums[i] for i, c in enumerate(self.topology.channels)}
        return self.managers.samples(shared, chans, tick.now)
