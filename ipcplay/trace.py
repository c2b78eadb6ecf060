"""A run's journal as a Chrome trace / Perfetto JSON file.

Built from the same JSON Lines that `--journal` writes, after the run, so
tracing costs the children nothing more than the journal does. One track per
PID; every operation a slice ending at its journal time (when the call
returned; for a put or send, when it handed the message over); a call that
waited (a full queue, an empty pipe, a join) spans its wait, with the wait
itself as a nested "blocked" slice; each message an arrow from its put or
send to its get or recv.

Arrows need to know which get took which put. Queue items carry a message id
(`msg`), so they pair exactly. Raw pipe bytes carry none; they pair in order,
which is exact when each direction of the channel has one writer and one
reader (a pipe's FIFO guarantees the order), and is not attempted otherwise.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from ipcplay.engine.journal import PIPE_WORDS, mid_text
from ipcplay.scenario.kinds import CHANNEL_BY_NAME
from ipcplay.scenario.model import Scenario

TICK_US = 1.0
"""Width of a call that did not wait: the journal has only its end time, and
a slice needs some width to be drawn and to anchor an arrow."""

_SLICED = {"put", "get", "join", "task_done", "close", "pill-sent", "pill-received"}


@dataclass(frozen=True)
class TraceStats:
    events: int
    tracks: int
    slices: int
    flows: int
    unpaired: int  # puts/sends with no matching get/recv in the journal (still queued, or lost)


def build(
    records: Iterable[dict[str, Any]], scenario: Scenario
) -> tuple[dict[str, Any], TraceStats]:
    """The trace object for journal records (dicts as `--journal` writes them)."""
    pipes = {
        channel.name for channel in scenario.channels if CHANNEL_BY_NAME[channel.kind].pipe_like
    }
    return build_for(records, pipes, scenario.name, scenario.title)


def build_for(
    records: Iterable[dict[str, Any]], pipes: set[str], name: str, title: str
) -> tuple[dict[str, Any], TraceStats]:
    """The same, for a run that is no scenario (a watched program): `pipes`
    are the channels whose puts are sends."""
    ordered = sorted(records, key=lambda record: record["t"])
    tracks = _Tracks(pipes)
    for record in ordered:
        tracks.add(record)
    for wait in tracks.pending_wait.values():
        tracks.slices += _lone_wait(tracks.out, wait, pipes)
    flows, unpaired = _flows(tracks.anchors, pipes)
    meta = []
    for pid, process in tracks.names.items():
        meta.append({"ph": "M", "name": "process_name", "pid": pid, "args": {"name": process}})
        meta.append(
            {"ph": "M", "name": "thread_name", "pid": pid, "tid": pid, "args": {"name": process}}
        )
    trace = {
        "traceEvents": meta + tracks.out + flows,
        "displayTimeUnit": "ms",
        "otherData": {"scenario": name, "title": title, "generator": "ipcplay"},
    }
    stats = TraceStats(len(ordered), len(tracks.names), tracks.slices, len(flows) // 2, unpaired)
    return trace, stats


class _Tracks:
    """The slices of every process's track, built one journal record at a
    time (in time order), and the put/get anchors the arrows join."""

    def __init__(self, pipes: set[str]) -> None:
        self.pipes = pipes  # the names of the pipe-like channels: send and recv, not put and get
        self.out: list[dict[str, Any]] = []
        self.names: dict[int, str] = {}
        self.last_end: dict[int, float] = defaultdict(float)
        self.pending_wait: dict[tuple[int, str | None], dict[str, Any]] = {}
        self.anchors: list[tuple[dict[str, Any], int, float]] = []  # (record, pid, arrow ts)
        self.slices = 0

    def add(self, record: dict[str, Any]) -> None:
        pid = record["pid"]
        self.names.setdefault(pid, record["process"])
        op, chan = record["op"], record["channel"]
        t_us = record["t"] * 1e6
        if op.startswith("wait-"):
            self.pending_wait[(pid, chan)] = record  # the call's own event follows
            return
        if op in ("start", "exit"):
            args = {"exit code": record["bytes"]} if op == "exit" else {}
            self.out.append(_instant(pid, op, t_us, args))
            return
        if op not in _SLICED:
            return
        wait = self.pending_wait.pop((pid, chan), None)
        if wait is not None and wait["op"] != f"wait-{op}":
            # A call that waited and then failed (EOFError, a timeout): its
            # wait stands alone; this is another call.
            self.slices += _lone_wait(self.out, wait, self.pipes)
            wait = None
        self._call(record, wait)
        self.last_end[pid] = t_us
        if op in ("put", "get"):
            self.anchors.append((record, pid, t_us - TICK_US / 2))

    def _call(self, record: dict[str, Any], wait: dict[str, Any] | None) -> None:
        """One call's slice; one that waited also gets its nested "blocked" slice."""
        pid, op, chan = record["pid"], record["op"], record["channel"]
        t_us = record["t"] * 1e6
        word = PIPE_WORDS.get(op, op) if chan in self.pipes else op
        args: dict[str, Any] = {"channel": chan}
        if record["msg"] is not None:
            args["msg"] = mid_text(record["msg"])
        if record["bytes"]:
            args["bytes"] = record["bytes"]
        if wait is None:
            start = max(t_us - TICK_US, self.last_end[pid])
            self.out.append(_slice(pid, f"{word} {chan}", "ipc", start, t_us - start, args))
            self.slices += 1
            return
        wait_end = wait["t"] * 1e6
        start = min(wait_end - wait["wait_s"] * 1e6, t_us - TICK_US)
        args["waited_ms"] = round(wait["wait_s"] * 1e3, 3)
        self.out.append(_slice(pid, f"{word} {chan}", "ipc", start, t_us - start, args))
        blocked = {"channel": chan, "waited_ms": args["waited_ms"]}
        duration = max(0.0, min(wait_end, t_us) - start)
        self.out.append(_slice(pid, f"blocked in {word}", "blocked", start, duration, blocked))
        self.slices += 2


def _slice(pid: int, name: str, cat: str, ts: float, dur: float, args: dict[str, Any]) -> dict:
    return {
        "ph": "X",
        "name": name,
        "cat": cat,
        "pid": pid,
        "tid": pid,
        "ts": ts,
        "dur": dur,
        "args": args,
    }


def _lone_wait(out: list[dict[str, Any]], wait: dict[str, Any], pipes: set[str]) -> int:
    chan = wait["channel"]
    op = wait["op"]
    word = PIPE_WORDS.get(op, op) if chan in pipes else op
    end = wait["t"] * 1e6
    dur = wait["wait_s"] * 1e6
    args = {"channel": chan, "waited_ms": round(wait["wait_s"] * 1e3, 3), "returned": False}
    out.append(_slice(wait["pid"], f"blocked in {word[5:]}", "blocked", end - dur, dur, args))
    return 1


def _instant(pid: int, name: str, ts: float, args: dict[str, Any]) -> dict:
    return {"ph": "i", "s": "t", "name": name, "pid": pid, "tid": pid, "ts": ts, "args": args}


def _flows(
    anchors: list[tuple[dict[str, Any], int, float]], pipes: set[str]
) -> tuple[list[dict[str, Any]], int]:
    """Arrows put→get: by message id where there is one, else in order where
    each direction has one writer and one reader. Matching never relies on
    the put's time being earlier: a put is stamped before it hands its
    message over, but after its wait when it had to wait for room, and a
    fast reader can have the item before that."""
    writers: dict[str, set[int]] = defaultdict(set)
    readers: dict[str, set[int]] = defaultdict(set)
    for record, pid, _ in anchors:
        (writers if record["op"] == "put" else readers)[record["channel"]].add(pid)
    by_id: dict[tuple[str, int], list[tuple[int, float]]] = defaultdict(list)
    in_order: dict[tuple[str, int], deque[tuple[int, float]]] = defaultdict(deque)
    gets = []
    unpaired = 0
    for record, pid, ts in anchors:
        chan = record["channel"]
        if record["op"] != "put":
            gets.append((record, pid, ts))
        elif record["pill"]:
            continue
        elif record["msg"] is not None:
            by_id[(chan, record["msg"])].append((pid, ts))
        else:
            dests = readers[chan] - {pid}
            if len(dests) == 1 and writers[chan] - dests == {pid}:
                in_order[(chan, next(iter(dests)))].append((pid, ts))
            else:
                unpaired += 1  # several writers or readers: no order to pair by

    out: list[dict[str, Any]] = []
    for record, pid, ts in gets:
        chan = record["channel"]
        src = None
        if record["pill"]:
            continue
        if record["msg"] is not None:
            # A ponger may echo the pinger's id: take the earliest put by another process.
            puts = by_id.get((chan, record["msg"]), [])
            index = next((index for index, (put_pid, _) in enumerate(puts) if put_pid != pid), None)
            if index is not None:
                src = puts.pop(index)
        elif in_order.get((chan, pid)):
            src = in_order[(chan, pid)].popleft()
        if src is None:
            continue
        name = "bytes" if chan in pipes and record["msg"] is None else "message"
        common = {"name": name, "cat": f"flow {chan}", "id": len(out) // 2 + 1}
        out.append({"ph": "s", "pid": src[0], "tid": src[0], "ts": src[1], **common})
        out.append({"ph": "f", "bp": "e", "pid": pid, "tid": pid, "ts": ts, **common})
    unpaired += sum(len(waiting) for waiting in by_id.values()) + sum(
        len(queue) for queue in in_order.values()
    )
    return out, unpaired


def write(journal_lines: Iterable[str], scenario: Scenario, out: IO[str]) -> TraceStats:
    trace, stats = build((json.loads(line) for line in journal_lines if line.strip()), scenario)
    json.dump(trace, out, separators=(",", ":"))
    out.write("\n")
    return stats


def write_for(
    journal_lines: Iterable[str], pipes: set[str], name: str, title: str, out: IO[str]
) -> TraceStats:
    """`write` for a watched program."""
    records = (json.loads(line) for line in journal_lines if line.strip())
    trace, stats = build_for(records, pipes, name, title)
    json.dump(trace, out, separators=(",", ":"))
    out.write("\n")
    return stats
