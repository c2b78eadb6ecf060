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
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ipcplay import __version__
from ipcplay import history_codec as codec
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
    history: History
    verdict: str
    duration_s: float
    journal_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # trace, tour, schedule: as reported
    ipcplay: str = __version__
    hz: float = 10.0


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
def load(name: str) -> SavedRun:
    """Read a saved run; SavedRunError (one line naming the file) if it is
    empty, not a saved run, damaged, truncated, or from a newer ipcplay."""
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
                return _read(name, data)
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


def _read(name: str, data: IO[bytes]) -> SavedRun:
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
        return _body(name, header, data)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        if isinstance(exc, SavedRunError):
            raise
        raise SavedRunError(f"{name}: damaged: {exc}") from None


def _body(name: str, header: dict[str, Any], data: IO[bytes]) -> SavedRun:
    decoder = codec.Decoder(header["schema"], clean=True)
    scenario = header["scenario"]
    if not isinstance(scenario, dict):
        raise ValueError("the header's scenario is not an object")
    history = History()
    end: dict[str, Any] | None = None
    prev: Any = None
    number = 1
    for number, text in enumerate(data, start=2):
        if end is not None:
            raise ValueError(f"line {number} comes after the end record")
        record = json.loads(text)
        kind = record[0] if isinstance(record, list) and record else None
        if kind == "e":
            _, place, events = record
            if not isinstance(place, int) or place < 0 or not isinstance(events, list):
                raise ValueError(f"line {number} is not a block of events")
            history.adopt_events(place, [None if e is None else decoder.event(e) for e in events])
        elif kind == "s":
            _, index, payload, released, shown = record
            if not all(isinstance(n, int) for n in (index, released, shown)):
                raise ValueError(f"line {number} is not a snapshot")
            bare = decoder.apply(prev, payload) if prev is not None else decoder.decode(payload)
            prev = bare
            history.adopt(index, bare, released, shown)
        elif kind == "end":
            end = record[1]
        else:
            raise ValueError(f"line {number} is not a record of a saved run")
    if end is None:
        raise SavedRunError(
            f"{name}: truncated: the file ends at line {number}, before its end record"
        )
    if end["snapshots"] != len(list(history.kept())) or not len(history):
        raise ValueError(f"the end record counts {end['snapshots']} snapshots")
    history.replace_moments(
        [
            Moment(float(t), int(i), neutralise(str(k)), neutralise(str(w)))
            for t, i, k, w in end["moments"]
        ]
    )
    return SavedRun(
        scenario=scenario,
        history=history,
        verdict=str(end["verdict"]),
        duration_s=float(end["duration_s"]),
        journal_file=end.get("journal_file"),
        extra=dict(end.get("extra") or {}),
        ipcplay=str(header.get("ipcplay", "")),
        hz=float(header.get("hz", 10.0)),
    )
