"""The registry: what exists in a run, said by whoever made it exist.

The observer must not learn the topology from a scenario file: a program
ipcplay did not write (issue 17) declares nothing in advance. So every object
registers itself where it is constructed, and every process is registered by
the parent that starts it, with the uses it declares of each object; the
observer reads all of it back as one frozen `Topology`.

Storage is a `RawArray` of int64 slots beside the board (engine/board.py), for
the board's reasons: any process may write it, nothing is left in /dev/shm, no
lock is taken by a reader. The layout, in slots:

    header   HEADER slots: magic, generation, counts and capacities
    objects  object_cap records of OBJ_SLOTS: family, index, kind, name, shape
    procs    proc_cap records of PROC_SLOTS: index, replica, name, template, role
    uses     proc_cap x object_cap words: bits of USES per (process, object)
    notes    note_cap records: (process, object, a short text), e.g. the
             predicate a Condition.wait_for() waits on

Records are appended and never changed, and use bits are only ever added, so
a reader needs no lock: a writer fills a record, then bumps its count, then
the generation. `Registry.read()` rebuilds the Topology only when the
generation has moved, so the observer may call it every tick, and processes
and objects may appear during a run.

Who writes what: today the supervisor is the only writer, before any child
starts (engine/objects.py, engine/supervisor.py), so counts never race. A
child that starts using an object it did not declare (issue 17) calls
`Registry.add_use` on its own (process, object) word: one writer per word, as
on the board. An object created inside a child (issue 17) needs a slot: that
writer must take a lock around `register_object` (the one allocation point);
the observer still reads without one.

Text fields hold TEXT_BYTES of UTF-8 (longer text is cut at a character
boundary): the loader caps scenario names at 32 characters, so a replica's
name (`worker-12`) fits whole.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from multiprocessing.sharedctypes import RawArray
from types import MappingProxyType
from typing import Any

MAGIC = 0x1BC_0E61

# Header slots.
R_MAGIC, R_GENERATION, R_OBJECTS, R_PROCS, R_NOTES = 0, 1, 2, 3, 4
R_OBJECT_CAP, R_PROC_CAP, R_NOTE_CAP = 5, 6, 7
HEADER = 8

# A text field: its length in bytes, then the bytes, 8 a slot.
NAME_SLOTS = 7  # 48 bytes
KIND_SLOTS = 4  # 24 bytes
NOTE_SLOTS = 13  # 96 bytes

FAMILIES = ("", "channel", "shared")  # a record's family 0 is "not written yet"

# Object record.
O_FAMILY = 0
O_INDEX = 1  # the object's index among its family: the board's channel or shared index
O_KIND = 2
O_NAME = O_KIND + KIND_SLOTS
O_MAXSIZE = O_NAME + NAME_SLOTS
O_FLAGS = O_MAXSIZE + 1  # see FLAG_*
O_PARTIES = O_FLAGS + 1
O_SIZE = O_PARTIES + 1
O_TYPECODE = O_SIZE + 1  # ord() of a ctypes typecode, 0 for none
# An integer initial value (a Value's, a Semaphore's permits), in two words:
# a typecode Q Value may start at 2**64 - 1, more than one int64 holds.
O_INITIAL_HIGH = O_TYPECODE + 1  # value >> 32
O_INITIAL_LOW = O_INITIAL_HIGH + 1  # value & 0xFFFFFFFF
# Where a watched program's Value or Array lives (issue 17): the pid and
# descriptor of the heap arena that holds it, its offset and its bytes, so the
# observer can map the very memory and read it, taking no lock.
O_MEMORY = O_INITIAL_LOW + 1
OBJ_SLOTS = O_MEMORY + 4

FLAG_DUPLEX = 1  # a Pipe: both ends send and receive
FLAG_REMOTE = 2  # served by a Manager's server process (a proxy's referent)
FLAG_KEEPS_WRITE_END = 4  # a one-way Pipe whose reader holds the write end too
FLAG_FLOAT = 8  # a Value or Array of floating-point numbers
FLAG_PIPE_LIKE = 16  # two connected ends: what one sent and the other has not received is in flight

# Process record.
P_INDEX = 0  # its index + 1 (0: not written yet); the board's process index
P_REPLICA = 1
P_JOINED_AFTER_US = 2  # the parent first join()s it this long after its start
P_FLAGS = 3  # PFLAG_*
P_NAME = 4
P_TEMPLATE = P_NAME + NAME_SLOTS
P_ROLE = P_TEMPLATE + NAME_SLOTS
PROC_SLOTS = P_ROLE + KIND_SLOTS

PFLAG_POOL = 1  # it owns a multiprocessing.Pool (engine/pool.py watches its workers)

# Note record: process, object slot, text.
N_PROC, N_OBJECT, N_TEXT = 0, 1, 2
NOTE_RECORD = N_TEXT + NOTE_SLOTS

# What a process may declare about an object, one bit each. "reads" and
# "writes" are a channel's input and output sides; "uses" says a shared
# object is touched at all (a Condition's wait_for reads a Value it names);
# the rest are the step operations on a shared object. Append only: the bit
# of a name is its position.
OPS = (
    "reads",
    "writes",
    "uses",
    "acquire",
    "release",
    "wait",
    "set",
    "clear",
    "sleep",
    "add",
    "multiply",
    "value",
    "notify",
    "notify_all",
    "wait_for",
    "write",
    "fill",
    "read",
    "append",
    "setitem",
    "setattr",
    "put",
    "get",
)
BIT = {name: 1 << i for i, name in enumerate(OPS)}
_STEP_MASK = ~(BIT["reads"] | BIT["writes"] | BIT["uses"])


@dataclass(frozen=True)
class ObjectInfo:
    """One channel or shared object, as it registered itself."""

    family: str  # "channel" or "shared"
    index: int  # among its family: the board's channel or shared-object index
    kind: str  # "Queue", "Pipe", "Semaphore", ... the name, not an index
    name: str
    maxsize: int = 0
    duplex: bool = False
    remote: bool = False
    reader_keeps_write_end: bool = False
    is_float: bool = False
    parties: int = 0
    size: int = 0
    typecode: str = ""
    initial: int = 0
    pipe_like: bool = False  # send()/recv() between two ends, no depth of its own (a Pipe)
    memory: tuple[int, int, int, int] = (0, 0, 0, 0)  # (pid, fd, offset, bytes); see O_MEMORY


@dataclass(frozen=True)
class ProcessInfo:
    """One process, as the parent that started it registered it."""

    index: int
    name: str
    role: str
    template: str = ""
    replica: int = 1
    joined_after: float = 0.0  # seconds; > 0: the parent reaps it that late
    pool: bool = False


@dataclass(frozen=True)
class Topology:
    """Everything the observer knows exists, at one generation.

    The per-object tuples list process indices in ascending order, the order
    reports and tables show them in. `ops` maps (process, family, index) to
    the use bits declared."""

    generation: int
    processes: tuple[ProcessInfo, ...]
    channels: tuple[ObjectInfo, ...]
    shared: tuple[ObjectInfo, ...]
    ops: Mapping[tuple[int, str, int], int] = field(default_factory=dict, compare=False)
    notes: Mapping[tuple[int, str, int], str] = field(default_factory=dict, compare=False)
    names: tuple[str, ...] = ()  # each process's name, by index
    writers: tuple[tuple[int, ...], ...] = ()  # by channel index
    readers: tuple[tuple[int, ...], ...] = ()
    users: tuple[tuple[int, ...], ...] = ()  # by shared index: any use
    used_channels: tuple[tuple[int, ...], ...] = ()  # by process index
    used_shared: tuple[tuple[int, ...], ...] = ()

    def step_users(self, s: int, *ops: str) -> tuple[int, ...]:
        """Processes that declared any of `ops` (step operations) on shared object s."""
        mask = 0
        for op in ops:
            mask |= BIT[op]
        return tuple(p for p in self.users[s] if self.ops.get((p, "shared", s), 0) & mask)

    def adds_only(self, s: int) -> bool:
        """A Value whose every declared step is an add: then its lost updates
        are exactly expected - actual (anything else may change it too)."""
        obj = self.shared[s]
        if obj.kind != "Value" or obj.is_float:
            return False
        allowed = BIT["add"]
        return all(
            not (self.ops.get((p, "shared", s), 0) & _STEP_MASK & ~allowed) for p in self.users[s]
        )

    def note(self, p: int, family: str, index: int) -> str:
        return self.notes.get((p, family, index), "")


def _text_put(mv: memoryview, at: int, slots: int, text: str) -> None:
    data = text.encode("utf-8")[: (slots - 1) * 8]
    data = data.decode("utf-8", "ignore").encode("utf-8")  # never half a character
    words = memoryview(data.ljust((slots - 1) * 8, b"\0")).cast("q")
    for i in range(slots - 1):
        mv[at + 1 + i] = words[i]
    mv[at] = len(data)


def _text_get(values: list[int], at: int, slots: int) -> str:
    length = values[at]
    if length <= 0:
        return ""
    words = values[at + 1 : at + slots]
    raw = b"".join(w.to_bytes(8, sys.byteorder, signed=True) for w in words)
    return raw[:length].decode("utf-8", "replace")


class Registry:
    """A view of one registry array: writers register, the observer reads."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.mv = memoryview(raw).cast("B").cast("q")
        if self.mv[R_MAGIC] != MAGIC:
            raise ValueError("not a registry")
        self._cached: Topology | None = None
        self._slots: dict[tuple[str, int], int] = {}  # (family, index) -> object slot

    @classmethod
    def create(cls, processes: int, objects: int, notes: int = 0) -> Registry:
        """Room for this many of each; pass `.raw` to a child that registers."""
        raw = RawArray(ctypes.c_int64, cls.slots_for(processes, objects, notes))
        return cls.format(raw, processes, objects, notes)

    @staticmethod
    def slots_for(processes: int, objects: int, notes: int = 0) -> int:
        """How many int64 slots a registry with this room takes."""
        processes, objects, notes = max(1, processes), max(1, objects), max(1, notes)
        return (
            HEADER
            + objects * OBJ_SLOTS
            + processes * PROC_SLOTS
            + processes * objects
            + notes * NOTE_RECORD
        )

    @classmethod
    def format(cls, raw: Any, processes: int, objects: int, notes: int = 0) -> Registry:
        """A registry in zeroed memory of `slots_for` slots (a watched
        program's, engine/watch_board.py, lives beside its board)."""
        processes, objects, notes = max(1, processes), max(1, objects), max(1, notes)
        mv = memoryview(raw).cast("B").cast("q")
        mv[R_OBJECT_CAP], mv[R_PROC_CAP], mv[R_NOTE_CAP] = objects, processes, notes
        mv[R_MAGIC] = MAGIC
        return cls(raw)

    # ---------------------------------------------------------------- where
    def _object_at(self, slot: int) -> int:
        return HEADER + slot * OBJ_SLOTS

    def _proc_at(self, slot: int) -> int:
        return HEADER + self.mv[R_OBJECT_CAP] * OBJ_SLOTS + slot * PROC_SLOTS

    def use_at(self, proc: int, slot: int) -> int:
        """The word holding process `proc`'s use bits of object `slot`."""
        cap = self.mv[R_OBJECT_CAP]
        return HEADER + cap * OBJ_SLOTS + self.mv[R_PROC_CAP] * PROC_SLOTS + proc * cap + slot

    def _note_at(self, slot: int) -> int:
        return self.use_at(self.mv[R_PROC_CAP], 0) + slot * NOTE_RECORD

    def _bump(self) -> None:
        self.mv[R_GENERATION] += 1

    # ---------------------------------------------------------------- writers
    def register_object(
        self,
        family: str,
        index: int,
        kind: str,
        name: str,
        *,
        maxsize: int = 0,
        duplex: bool = False,
        remote: bool = False,
        reader_keeps_write_end: bool = False,
        is_float: bool = False,
        parties: int = 0,
        size: int = 0,
        typecode: str = "",
        initial: int = 0,
        pipe_like: bool = False,
        memory: tuple[int, int, int, int] = (0, 0, 0, 0),
    ) -> int:
        """Say that an object exists, as it is constructed; returns its slot."""
        mv = self.mv
        slot = mv[R_OBJECTS]
        if slot >= mv[R_OBJECT_CAP]:
            raise ValueError(f"registry full: {slot} objects")
        at = self._object_at(slot)
        mv[at + O_INDEX] = index
        _text_put(mv, at + O_KIND, KIND_SLOTS, kind)
        _text_put(mv, at + O_NAME, NAME_SLOTS, name)
        mv[at + O_MAXSIZE] = maxsize
        flags = (FLAG_DUPLEX if duplex else 0) | (FLAG_REMOTE if remote else 0)
        flags |= (FLAG_KEEPS_WRITE_END if reader_keeps_write_end else 0) | (
            FLAG_FLOAT if is_float else 0
        )
        flags |= FLAG_PIPE_LIKE if pipe_like else 0
        mv[at + O_FLAGS] = flags
        mv[at + O_PARTIES] = parties
        mv[at + O_SIZE] = size
        mv[at + O_TYPECODE] = ord(typecode) if typecode else 0
        mv[at + O_INITIAL_HIGH] = initial >> 32
        mv[at + O_INITIAL_LOW] = initial & 0xFFFFFFFF
        for i, number in enumerate(memory):
            mv[at + O_MEMORY + i] = number
        mv[at + O_FAMILY] = FAMILIES.index(family)  # last: the record is whole
        mv[R_OBJECTS] = slot + 1
        self._slots[(family, index)] = slot
        self._bump()
        return slot

    def register_process(
        self,
        index: int,
        name: str,
        role: str,
        *,
        template: str = "",
        replica: int = 1,
        joined_after: float = 0.0,
        pool: bool = False,
    ) -> None:
        """Say that a process exists: its parent does, as it starts it."""
        mv = self.mv
        if index >= mv[R_PROC_CAP]:
            raise ValueError(f"registry full: process {index}")
        at = self._proc_at(index)
        mv[at + P_REPLICA] = replica
        mv[at + P_JOINED_AFTER_US] = round(joined_after * 1e6)
        mv[at + P_FLAGS] = PFLAG_POOL if pool else 0
        _text_put(mv, at + P_NAME, NAME_SLOTS, name)
        _text_put(mv, at + P_TEMPLATE, NAME_SLOTS, template or name)
        _text_put(mv, at + P_ROLE, KIND_SLOTS, role)
        mv[at + P_INDEX] = index + 1  # last: the record is whole
        mv[R_PROCS] = max(mv[R_PROCS], index + 1)
        self._bump()

    def slot_of(self, family: str, index: int) -> int:
        """The registry slot of an object this view registered."""
        return self._slots[(family, index)]

    def declare_use(self, proc: int, family: str, index: int, ops: Iterable[str]) -> None:
        """What a process will do with an object (`OPS` names), from its parent."""
        self.add_use(proc, self.slot_of(family, index), *ops)

    def add_use(self, proc: int, slot: int, *ops: str) -> None:
        """Add use bits to a (process, object) word. Its only writer is the
        parent before the start, then the process itself (issue 17: a child
        marks a use on first use); a bit already there costs one read."""
        bits = 0
        for op in ops:
            bits |= BIT[op]
        at = self.use_at(proc, slot)
        if self.mv[at] & bits != bits:
            self.mv[at] |= bits
            self._bump()

    def add_note(self, proc: int, family: str, index: int, text: str) -> None:
        """A short text about how a process uses an object (a wait's predicate)."""
        mv = self.mv
        slot = mv[R_NOTES]
        if slot >= mv[R_NOTE_CAP]:
            raise ValueError(f"registry full: {slot} notes")
        at = self._note_at(slot)
        mv[at + N_PROC] = proc
        mv[at + N_OBJECT] = self.slot_of(family, index)
        _text_put(mv, at + N_TEXT, NOTE_SLOTS, text)
        mv[R_NOTES] = slot + 1
        self._bump()

    # ---------------------------------------------------------------- reader
    @property
    def generation(self) -> int:
        return self.mv[R_GENERATION]

    def read(self) -> Topology:
        """The topology as registered now; the same object while nothing changed.

        Only what is registered is copied: the records, and of the use matrix
        each registered process's row up to the last registered object (a
        watched program's registry has room for 1,536 processes)."""
        mv = self.mv
        generation = mv[R_GENERATION]
        if self._cached is not None and self._cached.generation == generation:
            return self._cached
        nproc = mv[R_PROCS]
        values = mv[: self._proc_at(nproc)].tolist()
        objects = _objects(values)
        processes = _processes(values, self._proc_at(0))
        ops = self._uses(objects, len(processes))
        notes = {}
        for slot in range(mv[R_NOTES]):
            at = self._note_at(slot)
            record = mv[at : at + NOTE_RECORD].tolist()
            if not 0 <= record[N_OBJECT] < len(objects):
                continue
            obj = objects[record[N_OBJECT]]
            text = _text_get(record, N_TEXT, NOTE_SLOTS)
            notes[(record[N_PROC], obj.family, obj.index)] = text
        self._cached = _topology(generation, processes, objects, ops, notes)
        return self._cached

    def _uses(self, objects: list[ObjectInfo], nproc: int) -> dict[tuple[int, str, int], int]:
        ops = {}
        count = len(objects)
        mv = self.mv
        for p in range(nproc):
            at = self.use_at(p, 0)
            row = mv[at : at + count].tolist()
            if not any(row):
                continue
            for slot, bits in enumerate(row):
                if bits:
                    obj = objects[slot]
                    ops[(p, obj.family, obj.index)] = bits
        return ops


def _objects(values: list[int]) -> list[ObjectInfo]:
    out = []
    for slot in range(values[R_OBJECTS]):
        at = HEADER + slot * OBJ_SLOTS
        family = values[at + O_FAMILY]
        if not 0 < family < len(FAMILIES):
            break  # still being written: the next read will have it
        flags = values[at + O_FLAGS]
        code = values[at + O_TYPECODE]
        out.append(
            ObjectInfo(
                family=FAMILIES[family],
                index=values[at + O_INDEX],
                kind=_text_get(values, at + O_KIND, KIND_SLOTS),
                name=_text_get(values, at + O_NAME, NAME_SLOTS),
                maxsize=values[at + O_MAXSIZE],
                duplex=bool(flags & FLAG_DUPLEX),
                remote=bool(flags & FLAG_REMOTE),
                reader_keeps_write_end=bool(flags & FLAG_KEEPS_WRITE_END),
                is_float=bool(flags & FLAG_FLOAT),
                pipe_like=bool(flags & FLAG_PIPE_LIKE),
                parties=values[at + O_PARTIES],
                size=values[at + O_SIZE],
                typecode=chr(code) if code else "",
                initial=(values[at + O_INITIAL_HIGH] << 32) | values[at + O_INITIAL_LOW],
                memory=(
                    values[at + O_MEMORY],
                    values[at + O_MEMORY + 1],
                    values[at + O_MEMORY + 2],
                    values[at + O_MEMORY + 3],
                ),
            )
        )
    return out


def _processes(values: list[int], base: int) -> list[ProcessInfo]:
    out = []
    # The count as copied may run past the records copied (one registered in
    # between): the next read has it.
    for slot in range(min(values[R_PROCS], (len(values) - base) // PROC_SLOTS)):
        at = base + slot * PROC_SLOTS
        if values[at + P_INDEX] != slot + 1:
            break  # still being written
        out.append(
            ProcessInfo(
                index=slot,
                name=_text_get(values, at + P_NAME, NAME_SLOTS),
                role=_text_get(values, at + P_ROLE, KIND_SLOTS),
                template=_text_get(values, at + P_TEMPLATE, NAME_SLOTS),
                replica=values[at + P_REPLICA],
                joined_after=values[at + P_JOINED_AFTER_US] / 1e6,
                pool=bool(values[at + P_FLAGS] & PFLAG_POOL),
            )
        )
    return out


def _topology(
    generation: int,
    processes: list[ProcessInfo],
    objects: list[ObjectInfo],
    ops: dict[tuple[int, str, int], int],
    notes: dict[tuple[int, str, int], str],
) -> Topology:
    """Index the records: objects by their own index, users by object."""
    channels = sorted((o for o in objects if o.family == "channel"), key=lambda o: o.index)
    shared = sorted((o for o in objects if o.family == "shared"), key=lambda o: o.index)
    nproc = len(processes)

    def having(family: str, index: int, mask: int) -> tuple[int, ...]:
        return tuple(p for p in range(nproc) if ops.get((p, family, index), 0) & mask)

    any_use = ~0
    return Topology(
        generation=generation,
        processes=tuple(processes),
        channels=tuple(channels),
        shared=tuple(shared),
        ops=MappingProxyType(ops),  # read-only: a Topology is shared as it is
        notes=MappingProxyType(notes),
        names=tuple(p.name for p in processes),
        writers=tuple(having("channel", c.index, BIT["writes"]) for c in channels),
        readers=tuple(having("channel", c.index, BIT["reads"]) for c in channels),
        users=tuple(having("shared", o.index, any_use) for o in shared),
        used_channels=tuple(
            tuple(c.index for c in channels if ops.get((p, "channel", c.index)))
            for p in range(nproc)
        ),
        used_shared=tuple(
            tuple(o.index for o in shared if ops.get((p, "shared", o.index))) for p in range(nproc)
        ),
    )
