"""Saved runs: a whole run in one file, to replay without running anything.

The format (README, "Saved runs"), version 1: a gzip file of JSON Lines.

* line 1, the header: `{"format": "ipcplay-run", "version": 1, "ipcplay":
  "0.1.0", "scenario": {"name", "title", "start_method", "expect", "toml",
  "set"}, "hz": 10.0, "schema": {...}}` — `toml` is the scenario's own text,
  so a replay can show the preset; `schema` names every field of every
  snapshot type (history_codec), so a file stays readable after fields are
  added;
* `["e", place, [event, ...]]`: journal events, each once, by their place in
  the log, each a list of the Event's fields in the schema's order;
* `["s", index, snapshot, events_released, shown]`: a snapshot, in full at
  the first and at every block start, else the change from the one before
  (history_codec.diff); its `recent_events` are the `shown` events before
  place `events_released`;
* last, `["end", {...}]`: how many snapshots and events, the verdict, the
  duration, the moments, and what the run's report said beyond the final
  snapshot (trace, tour, schedule), so `ipcplay replay --json` prints it again.

Why gzip and JSON Lines: the standard library reads and writes both, `zcat
FILE | head` shows what is in it, JSON (unlike pickle) runs no code when a
file someone sent is opened, and gzip's CRC-32 and length at the end tell a
damaged or truncated file from a whole one. The file is written to a
temporary name and renamed when complete, so a killed run never leaves a
half file under the name asked for.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import stat
import tempfile
import zlib
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from ipcplay import __version__
from ipcplay import history_codec as codec
from ipcplay.engine.snapshot import Snapshot
from ipcplay.history import History, _dumps
from ipcplay.history_moments import Moment
from ipcplay.safetext import neutralise

FORMAT = "ipcplay-run"
VERSION = 1


class SavedRunError(Exception):
    """A file that is not a saved run this ipcplay can read; the message is
    the one line to show: the file and what is wrong with it."""


@dataclass
class SavedRun:
    """What a saved run holds: its header, its history and its ending."""

    scenario: dict[str, Any]  # name, title, start_method, expect, toml, set
    history: History | None  # None when read for its report only (load(whole=False))
    verdict: str
    duration_s: float
    journal_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # trace, tour, schedule: as reported
    ipcplay: str = __version__
    hz: float = 10.0
    final: Snapshot | None = None  # the last snapshot: the report's
    snapshots: int = 0
    events: int = 0
    moments: list[Moment] = field(default_factory=list)


# ------------------------------------------------------------------ writing
class SaveTarget:
    """Where a saved run goes, chosen before the run starts (a bad path costs
    nothing): a temporary file next to it, renamed over it once complete.
    An existing device (/dev/null) is written in place, never replaced."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.path = Path(name)
        self._tmp: str | None = None
        self.in_place = False
        try:
            mode = os.stat(self.path).st_mode
        except OSError:
            mode = None
        self.existed = mode is not None
        if mode is not None and not stat.S_ISREG(mode):
            self.in_place = True
            return
        try:
            fd, self._tmp = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent or "."
            )
        except OSError as exc:
            raise ValueError(f"{name}: --save-run: cannot write ({exc.strerror or exc})") from None
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self._tmp, 0o666 & ~umask)  # as any file the user writes, not mkstemp's 0600

    def write(self, run: SavedRun) -> int:
        """Write `run`; the file's size in bytes. OSError if it cannot be written."""
        target = self.name if self.in_place else self._tmp
        assert target is not None
        try:
            with open(target, "wb") as raw:
                with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as out:
                    _write_lines(out, run)
                if not self.in_place:
                    raw.flush()
                    os.fsync(raw.fileno())
            size = os.stat(target).st_size
            if not self.in_place:
                os.replace(target, self.path)
                self._tmp = None
            return size
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the temporary file, if any is left (the run failed)."""
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
            self._tmp = None


def _write_lines(out: IO[bytes], run: SavedRun) -> None:
    history = run.history

    def line(data: Any) -> None:
        out.write(_dumps(data).encode("utf-8") + b"\n")

    line(
        {
            "format": FORMAT,
            "version": VERSION,
            "ipcplay": run.ipcplay,
            "scenario": run.scenario,
            "hz": run.hz,
            "schema": codec.schema(),
        }
    )
    start, stop = history.events_first, history.events_count
    for place in range(start, stop, 4096):
        chunk = history.events(place, min(stop, place + 4096))
        line(["e", place, [None if e is None else codec.encode_event(e) for e in chunk]])
    count = 0
    for index, text in history.lines():
        out.write(f'["s",{index},'.encode() + text[1:].encode("utf-8") + b"\n")
        count += 1
    line(
        [
            "end",
            {
                "snapshots": count,
                "events": stop - start,
                "verdict": run.verdict,
                "duration_s": run.duration_s,
                "journal_file": run.journal_file,
                "extra": run.extra,
                "moments": [[m.t, m.index, m.kind, m.words] for m in history.moments()],
            },
        ]
    )


# ------------------------------------------------------------------ reading
def load(name: str, *, whole: bool = True) -> SavedRun:
    """Read a saved run; SavedRunError (one line naming the file) if it is
    empty, not a saved run, damaged, truncated, or from a newer ipcplay.
    `whole`: rebuild its History (the TUI's replay); else only the final
    snapshot (a report: every line is still read and checked, but only the
    last block is decoded, seconds sooner on a long run)."""
    try:
        with open(name, "rb") as raw:
            head = raw.read(2)
            if not head:
                raise SavedRunError(f"{name}: the file is empty, expected a saved run")
            if head != b"\x1f\x8b":
                raise SavedRunError(
                    f"{name}: not a saved run (expected a gzip file written by"
                    " `ipcplay run --save-run`)"
                )
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw, mode="rb") as data:
                return _read(name, data, whole)
    except SavedRunError:
        raise
    except OSError as exc:
        if isinstance(exc, gzip.BadGzipFile):
            raise SavedRunError(f"{name}: damaged ({exc})") from None
        raise SavedRunError(f"{name}: cannot read ({exc.strerror or exc})") from None
    except EOFError:
        raise SavedRunError(
            f"{name}: truncated: the file ends before its end record (was it cut short?)"
        ) from None
    except zlib.error as exc:
        raise SavedRunError(f"{name}: damaged: the compressed data is corrupt ({exc})") from None


def _read(name: str, data: IO[bytes], whole: bool) -> SavedRun:
    first = data.readline()
    try:
        header = json.loads(first)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        # A flipped byte can garble the first line too: read to the end, where
        # gzip's check tells a damaged saved run from something else.
        while data.read(1 << 20):
            pass
        raise SavedRunError(f"{name}: not a saved run (its first line is no {FORMAT} header)")
    version = header.get("version")
    if not isinstance(version, int) or version < 1:
        raise SavedRunError(f"{name}: damaged: format version {version!r} is not a version")
    if version > VERSION:
        raise SavedRunError(
            f"{name}: written by a newer ipcplay ({header.get('ipcplay')}, format version"
            f" {version}); this one ({__version__}) reads version {VERSION}: upgrade ipcplay"
        )
    try:
        return _body(name, header, data, whole)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        if isinstance(exc, SavedRunError):
            raise
        raise SavedRunError(f"{name}: damaged: {exc}") from None


def _body(name: str, header: dict[str, Any], data: IO[bytes], whole: bool) -> SavedRun:
    decoder = codec.Decoder(header["schema"], clean=True)
    # A change read can be kept as it is when the file's fields are this
    # ipcplay's and no string in it could be neutralised (no escape at all).
    same_schema = header["schema"] == codec.schema()
    scenario = header["scenario"]
    if not isinstance(scenario, dict):
        raise ValueError("the header's scenario is not an object")
    history = History() if whole else None
    tail: list[Any] = []  # not whole: the payloads from the last full snapshot on
    last_events: deque[tuple[int, list[Any]]] = deque(maxlen=2)
    last = (0, 0)
    end: dict[str, Any] | None = None
    prev: Any = None
    number = 1
    snapshots = 0  # read (the history may thin a long run's oldest as it reads)
    for number, text in enumerate(data, start=2):
        if end is not None:
            raise ValueError(f"line {number} comes after the end record")
        record = json.loads(text)
        kind = record[0] if isinstance(record, list) and record else None
        if kind == "e":
            _, place, events = record
            if not isinstance(place, int) or place < 0 or not isinstance(events, list):
                raise ValueError(f"line {number} is not a block of events")
            if history is not None:
                decoded = [None if e is None else decoder.event(e) for e in events]
                history.adopt_events(place, decoded)
            else:
                last_events.append((place, events))
        elif kind == "s":
            _, index, payload, released, shown = record
            if not all(isinstance(n, int) for n in (index, released, shown)):
                raise ValueError(f"line {number} is not a snapshot")
            snapshots += 1
            last = (released, shown)
            if history is None:
                if not (isinstance(payload, dict) and codec.PATCH in payload):
                    tail.clear()  # a full snapshot: what came before is not needed
                tail.append(payload)
                continue
            bare = decoder.apply(prev, payload) if prev is not None else decoder.decode(payload)
            prev = bare
            plain = same_schema and b"\\" not in text
            history.adopt(index, bare, released, shown, payload if plain else None)
        elif kind == "end":
            end = record[1]
        else:
            raise ValueError(f"line {number} is not a record of a saved run")
    if end is None:
        raise SavedRunError(
            f"{name}: truncated: the file ends at line {number}, before its end record"
        )
    if end["snapshots"] != snapshots or not snapshots:
        raise ValueError(f"the end record counts {end['snapshots']} snapshots")
    moments = [
        Moment(float(t), int(i), neutralise(str(k)), neutralise(str(w)))
        for t, i, k, w in end["moments"]
    ]
    if history is not None:
        history.replace_moments(moments)
        final = history.at(len(history) - 1)
    else:
        final = _final(decoder, tail, last, last_events)
    return SavedRun(
        scenario=scenario,
        history=history,
        final=final,
        snapshots=snapshots,
        events=int(end["events"]),
        moments=moments,
        verdict=str(end["verdict"]),
        duration_s=float(end["duration_s"]),
        journal_file=end.get("journal_file"),
        extra=dict(end.get("extra") or {}),
        ipcplay=str(header.get("ipcplay", "")),
        hz=float(header.get("hz", 10.0)),
    )


def _final(
    decoder: codec.Decoder,
    tail: list[Any],
    last: tuple[int, int],
    blocks: deque[tuple[int, list[Any]]],
) -> Snapshot:
    """The last snapshot alone: its block decoded, and the events it shows."""
    if not tail:
        raise ValueError("no snapshot")
    snap = decoder.decode(tail[0])
    for payload in tail[1:]:
        snap = decoder.apply(snap, payload)
    if not isinstance(snap, Snapshot):
        raise ValueError("the last snapshot is not a snapshot")
    released, shown = last
    recent = []
    for place in range(released - shown, released):
        block = next(((at, items) for at, items in blocks if at <= place < at + len(items)), None)
        item = None if block is None else block[1][place - block[0]]
        if item is None:
            raise ValueError("the last snapshot shows events the file does not hold")
        recent.append(decoder.event(item))
    return replace(snap, recent_events=tuple(recent))
