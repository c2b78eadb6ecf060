"""A run's history: every snapshot it showed, to rewind to and to save.

Why it is stored this way: a 128-process snapshot is a tree of ~20,000
Python objects, ten a second; kept as they are, ten minutes would take
gigabytes. Between two ticks only a few counters change, so the history
keeps blocks of BLOCK snapshots, each block one full snapshot then the
changes from one to the next (history_codec.diff), as JSON compressed with
zlib once the block is full. The journal's events are kept once each, in
blocks of their own, by their place in the log (`Snapshot.events_released`):
a snapshot's `recent_events` are the last ones before its cursor, so a
snapshot stores only how many it shows.

The bound (stated in the README, measured by benchmarks/observer.py):

* the last FULL_RATE_S of the run are kept at the full sampling rate;
* older blocks are thinned to one snapshot every THIN_S seconds, plus every
  snapshot a moment points at;
* if all of it still takes more than MAX_BYTES (compressed), the oldest
  blocks go, snapshots and the events only they showed; `first` says where
  the history now starts. Moments are kept (the last MAX_MOMENTS).

Indices are the snapshots' arrival numbers and do not move when old ones are
thinned away: `at(i)` of a thinned index is the last snapshot kept before it.

Threads: `append` runs on the sampler thread (Engine's on_snapshot), readers
on the UI's; one lock guards the blocks. Nothing here imports Textual.
"""

from __future__ import annotations

import bisect
import json
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ipcplay import history_codec as codec
from ipcplay.engine.journal import Event
from ipcplay.engine.snapshot import Snapshot
from ipcplay.history_moments import Moment, MomentFinder

BLOCK = 50  # snapshots a block: 5 s at 10 Hz; a rewind decodes at most one block
EVENT_BLOCK = 2048
FULL_RATE_S = 600.0  # the last ten minutes: every snapshot
THIN_S = 1.0  # before that: one a second (and every moment's)
MAX_BYTES = 64 << 20  # compressed blocks, snapshots and events together
MAX_MOMENTS = 10_000
_CACHED_BLOCKS = 1  # the block being rewound through; the next decodes in ms


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), allow_nan=True)


@dataclass
class _Block:
    """Kept snapshots `indices` (ascending), their times, and their lines:
    the first a full snapshot, each next one the change from the one before.
    A line is [snapshot or change, events_released, len(recent_events)]."""

    indices: list[int]
    times: list[float]
    lines: list[str] = field(default_factory=list)  # while open
    packed: bytes = b""  # once closed
    thinned: bool = False

    def texts(self) -> list[str]:
        if self.lines:
            return self.lines
        return zlib.decompress(self.packed).decode("utf-8").split("\n")

    @property
    def size(self) -> int:
        return len(self.packed) + sum(len(line) for line in self.lines)


class History:
    """Every snapshot of one run, in order; `moments()` the ones that matter."""

    def __init__(self, *, full_rate_s: float = FULL_RATE_S, max_bytes: int = MAX_BYTES) -> None:
        self.full_rate_s = full_rate_s
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._blocks: list[_Block] = []
        self._firsts: list[int] = []  # each block's first index, for bisect
        self._count = 0
        self._last: Snapshot | None = None
        self._last_bare: Snapshot | None = None  # _last without its events: the next diff's base
        self._finder = MomentFinder()
        self._moments: list[Moment] = []
        self._moment_indices: set[int] = set()
        self._cache: dict[int, _Decoded] = {}  # block's first index -> decoded so far
        self._events = _EventStore()
        self.bytes_dropped = 0
        self._thin_slot: int | None = None  # the second the last thinned snapshot kept is in

    # ------------------------------------------------------------ writing
    def append(self, snap: Snapshot) -> None:
        """Keep `snap`, the next snapshot of the run (on the sampler thread)."""
        self._add(snap, None)

    def _add(self, snap: Snapshot, change: Any) -> None:
        """`change` is the diff from the last snapshot when the caller has it
        already (a saved run being read), else None to compute it."""
        with self._lock:
            index = self._count
            prev = self._last
            new = snap.events_released - (prev.events_released if prev is not None else 0)
            recent = snap.recent_events
            if prev is None:
                self._events.put(snap.events_released - len(recent), recent)
            elif 0 < new <= len(recent):
                self._events.put(snap.events_released - new, recent[len(recent) - new :])
            elif new > len(recent):  # events nobody saw (a skipped snapshot): a gap
                self._events.put(snap.events_released - len(recent), recent)
            block = self._blocks[-1] if self._blocks else None
            bare = replace(snap, recent_events=()) if snap.recent_events else snap
            if block is None or len(block.indices) >= BLOCK or prev is None:
                self._close_last()
                block = _Block([], [])
                self._blocks.append(block)
                self._firsts.append(index)
                payload = codec.encode(bare)
            else:
                payload = change if change is not None else codec.diff(self._last_bare, bare)
            block.lines.append(_dumps([payload, snap.events_released, len(recent)]))
            block.indices.append(index)
            block.times.append(snap.elapsed_s)
            self._count += 1
            self._last = snap
            self._last_bare = bare
            for moment in self._finder.feed(index, snap):
                self._note(moment)

    def adopt(
        self, index: int, bare: Snapshot, released: int, shown: int, change: Any = None
    ) -> None:
        """A snapshot read back from a saved run, at its own `index`, its
        events already adopted: rebuilt as it was shown, then kept."""
        with self._lock:
            if index < self._count:
                raise ValueError(f"snapshot {index} comes after snapshot {self._count - 1}")
            if not 0 <= shown <= released:
                raise ValueError(f"snapshot {index} shows {shown} events of {released}")
            recent = self._events.get(released - shown, released)
            self._count = index
        if any(event is None for event in recent):
            raise ValueError(f"snapshot {index} shows events the file does not hold")
        # `change`: the file's own change from the snapshot before, when it can be kept
        self._add(replace(bare, recent_events=tuple(recent)), change)  # type: ignore[arg-type]

    def adopt_events(self, place: int, events: list[Event | None]) -> None:
        """Events read back from a saved run, from `place` in the log on."""
        with self._lock:
            if self._events.started and place < self._events.end:
                raise ValueError(f"events at {place} overlap those before")
            self._events.put_many(place, events)

    def replace_moments(self, moments: list[Moment]) -> None:
        """The moments a saved run recorded (its tour steps among them)."""
        with self._lock:
            self._moments = sorted(moments, key=lambda m: (m.index, m.t))
            self._moment_indices = {m.index for m in self._moments}

    def lines(self) -> Iterator[tuple[int, str]]:
        """Every kept snapshot as its stored line, with its index: a saved
        run is written from these without decoding a snapshot."""
        with self._lock:  # the open block as it is now: a run being saved goes on
            blocks = [
                (list(block.indices), list(block.lines) if block.lines else block)
                for block in self._blocks
            ]
        for indices, texts in blocks:
            lines = texts.texts() if isinstance(texts, _Block) else texts
            yield from zip(indices, lines, strict=True)

    def mark(self, kind: str, words: str) -> Moment | None:
        """A moment the caller knows of (a tour step fired), at the latest snapshot."""
        with self._lock:
            if self._last is None:
                return None
            moment = Moment(self._last.elapsed_s, self._count - 1, kind, words)
            self._note(moment)
            return moment

    def _note(self, moment: Moment) -> None:
        bisect.insort(self._moments, moment, key=lambda m: (m.index, m.t))
        self._moment_indices.add(moment.index)
        if len(self._moments) > MAX_MOMENTS:
            gone = self._moments.pop(0)
            self._moment_indices.discard(gone.index)

    def _close_last(self) -> None:
        """Compress the block that was being filled; thin and drop old ones."""
        if not self._blocks:
            return
        block = self._blocks[-1]
        if block.lines:
            block.packed = zlib.compress("\n".join(block.lines).encode("utf-8"), 6)
            block.lines = []
        self._events.close()
        last_t = block.times[-1]
        for i, old in enumerate(self._blocks[:-1]):
            if old.thinned or last_t - old.times[-1] <= self.full_rate_s:
                continue
            self._blocks[i] = self._thin(old)
            self._firsts[i] = self._blocks[i].indices[0]
        while len(self._blocks) > 2 and self.nbytes() > self.max_bytes:
            gone = self._blocks.pop(0)
            self._firsts.pop(0)
            self._cache.pop(gone.indices[0], None)
            self.bytes_dropped += gone.size
            first = self._decode(self._blocks[0], 0)[0]
            self._events.forget_before(first.events_released - len(first.recent_events))

    def _thin(self, block: _Block) -> _Block:
        snaps = self._decode(block)
        keep: list[int] = []
        for k, (index, t) in enumerate(zip(block.indices, block.times, strict=True)):
            slot = int(t // THIN_S)
            if slot != self._thin_slot or index in self._moment_indices:
                keep.append(k)
                self._thin_slot = slot
        lines = []
        prev: Snapshot | None = None
        for k in keep:
            snap = snaps[k]
            bare = replace(snap, recent_events=())
            payload = codec.encode(bare) if prev is None else codec.diff(prev, bare)
            lines.append(_dumps([payload, snap.events_released, len(snap.recent_events)]))
            prev = bare
        thin = _Block(
            [block.indices[k] for k in keep], [block.times[k] for k in keep], thinned=True
        )
        thin.packed = zlib.compress("\n".join(lines).encode("utf-8"), 6)
        self._cache.pop(block.indices[0], None)
        return thin

    # ------------------------------------------------------------ reading
    def __len__(self) -> int:
        return self._count

    @property
    def first(self) -> int:
        """The first index still kept (0 unless the oldest blocks were dropped)."""
        with self._lock:
            return self._firsts[0] if self._firsts else 0

    def at(self, index: int) -> Snapshot:
        """The snapshot shown at `index`: exactly it when kept, else the last
        one kept before it (older history is thinned); IndexError if none."""
        with self._lock:
            if not 0 <= index < self._count or not self._blocks:
                raise IndexError(f"no snapshot {index} in a history of {self._count}")
            b = max(0, bisect.bisect_right(self._firsts, index) - 1)
            block = self._blocks[b]
            k = max(0, bisect.bisect_right(block.indices, index) - 1)
            return self._decode(block, k)[k]

    def index_at(self, t: float) -> int:
        """The index of the last kept snapshot at or before `t` (elapsed
        seconds); the first one if `t` is before it."""
        with self._lock:
            if not self._blocks:
                raise IndexError("the history is empty")
            starts = [block.times[0] for block in self._blocks]
            b = max(0, bisect.bisect_right(starts, t) - 1)
            block = self._blocks[b]
            k = max(0, bisect.bisect_right(block.times, t) - 1)
            return block.indices[k]

    def kept(self) -> Iterator[int]:
        """The indices of the snapshots kept, in order (for stepping and saving)."""
        with self._lock:
            indices = [i for block in self._blocks for i in block.indices]
        return iter(indices)

    def moments(self) -> list[Moment]:
        """The moments so far, in order of their snapshots."""
        with self._lock:
            return list(self._moments)

    def events(self, start: int, stop: int) -> list[Event | None]:
        """The journal's events at places [start, stop) of the log (None for
        any the history never saw)."""
        with self._lock:
            return self._events.get(start, stop)

    @property
    def events_first(self) -> int:
        return self._events.first

    @property
    def events_count(self) -> int:
        return self._events.end

    def nbytes(self) -> int:
        """Compressed bytes held (blocks being filled counted as their text)."""
        return sum(block.size for block in self._blocks) + self._events.nbytes()

    def _decode(self, block: _Block, upto: int | None = None) -> list[Snapshot]:
        """The block's snapshots, decoded at least to position `upto` (all
        when None). Decoded lazily and kept: a rewind steps back through one
        block without decoding it again, and a jump decodes only up to where
        it lands (a 128-process block whole takes a few hundred ms)."""
        key = block.indices[0]
        entry = self._cache.get(key)
        if entry is None:
            if len(self._cache) >= _CACHED_BLOCKS:
                self._cache.pop(next(iter(self._cache)))
            entry = self._cache[key] = _Decoded()
        if len(entry.rows) < len(block.indices):  # new, or the open block grew
            entry.rows += [json.loads(text) for text in block.texts()[len(entry.rows) :]]
        want = len(entry.rows) if upto is None else min(upto + 1, len(entry.rows))
        todo = entry.rows[len(entry.snaps) : want]
        if todo:
            # The events these snapshots show, decoded once: windows of 500
            # overlap from one snapshot to the next.
            start = min(released - shown for _, released, shown in todo)
            events = self._events.get(start, max(released for _, released, _ in todo))
            decoder = _DECODER
            for payload, released, shown in todo:
                prev = entry.prev
                bare = decoder.decode(payload) if prev is None else decoder.apply(prev, payload)
                entry.prev = bare
                recent = tuple(events[released - shown - start : released - start])
                entry.snaps.append(replace(bare, recent_events=recent))  # type: ignore[arg-type]
        return entry.snaps


@dataclass
class _Decoded:
    """A block being decoded: its rows, the snapshots so far, the last one
    without its events (the base of the next change)."""

    rows: list[Any] = field(default_factory=list)
    snaps: list[Snapshot] = field(default_factory=list)
    prev: Snapshot | None = None


_DECODER = codec.Decoder()


class _EventStore:
    """The journal's events by their place in the log, each once, in
    compressed blocks of EVENT_BLOCK."""

    def __init__(self) -> None:
        self.first = 0  # the place of the first event kept
        self.end = 0  # one past the last
        self._started = False
        self._blocks: list[tuple[int, bytes]] = []  # (first place, packed JSON list)
        self._firsts: list[int] = []  # each block's first place, for bisect
        self._open: list[Any] = []  # encoded events from the last block's end on
        self._open_first = 0
        self._cache: dict[int, list[Event | None]] = {}  # a few decoded blocks, by first place
        self._open_cache: tuple[int, list[Event | None]] | None = None

    @property
    def started(self) -> bool:
        return self._started

    def put(self, place: int, events: tuple[Event, ...]) -> None:
        self.put_many(place, list(events))

    def put_many(self, place: int, events: list[Event | None]) -> None:
        if not self._started:
            self._started = True
            self.first = self.end = self._open_first = place
        if place < self.end:  # already kept (a saved run's snapshot re-read)
            events = events[self.end - place :]
            place = self.end
        self._open.extend([None] * (place - self.end))
        self._open.extend(None if e is None else codec.encode_event(e) for e in events)
        self.end = place + len(events)
        if len(self._open) >= EVENT_BLOCK:
            self.close()

    def close(self) -> None:
        if self._open:
            packed = zlib.compress(_dumps(self._open).encode("utf-8"), 6)
            self._blocks.append((self._open_first, packed))
            self._firsts.append(self._open_first)
            self._open_first = self.end
            self._open_cache = None
            self._open = []

    def forget_before(self, place: int) -> None:
        while len(self._blocks) > 1 and self._blocks[1][0] <= place:
            self._blocks.pop(0)
            self._firsts.pop(0)
            self.first = self._blocks[0][0]
        self._cache.clear()

    def nbytes(self) -> int:
        return sum(len(packed) for _, packed in self._blocks) + 64 * len(self._open)

    def get(self, start: int, stop: int) -> list[Event | None]:
        out: list[Event | None] = []
        place = start
        while place < stop:
            if place < self.first or place >= self.end:
                out.append(None)
                place += 1
                continue
            first, items = self._block_at(place)
            take = items[place - first : stop - first] or [None]  # never stuck on a gap
            out += take
            place += len(take)
        return out

    def _block_at(self, place: int) -> tuple[int, list[Event | None]]:
        if place >= self._open_first:
            cached = self._open_cache
            if cached is None or cached[0] != self._open_first or len(cached[1]) < len(self._open):
                done = cached[1] if cached is not None and cached[0] == self._open_first else []
                done = done + [_event(data) for data in self._open[len(done) :]]
                self._open_cache = cached = (self._open_first, done)
            return cached
        b = bisect.bisect_right(self._firsts, place) - 1
        first, packed = self._blocks[b]
        items = self._cache.get(first)
        if items is None:
            items = [_event(data) for data in json.loads(zlib.decompress(packed))]
            if len(self._cache) >= 4:
                self._cache.pop(next(iter(self._cache)))
            self._cache[first] = items
        return first, items


def _event(data: Any) -> Event | None:
    return None if data is None else _DECODER.event(data)
