"""`ipcplay run --trace`: a Chrome trace / Perfetto JSON file of the run.

Checked as a trace viewer reads it: valid JSON; one named track per PID of the
run; slices properly nested on each track; every arrow a start and a finish
with one id, each bound to a slice (a viewer attaches an arrow to the slice
around its timestamp on the same track, and drops it otherwise).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from ipcplay.scenario import load, resolve
from ipcplay.trace import build

pytestmark = pytest.mark.timeout(90)


def run_traced(tmp_path: Path, preset: str) -> tuple[dict[str, Any], dict[str, Any]]:
    out = tmp_path / "run.trace.json"
    proc = subprocess.run(
        [sys.executable, "-m", "ipcplay", "run", preset, "--trace", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), json.loads(out.read_text())


def check_well_formed(trace: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """Structural checks any viewer relies on; the slices per track."""
    events = trace["traceEvents"]
    tracks: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        assert e["ph"] in ("M", "X", "i", "s", "f"), e
        assert isinstance(e["pid"], int)
        if e["ph"] == "X":
            assert e["tid"] == e["pid"] and e["dur"] >= 0 and e["ts"] >= 0, e
            tracks[e["pid"]].append(e)
    for pid, slices in tracks.items():
        # Properly nested: a slice starting inside another ends inside it too.
        open_: list[tuple[float, float]] = []
        for s in sorted(slices, key=lambda s: (s["ts"], -s["dur"])):
            start, end = s["ts"], s["ts"] + s["dur"]
            while open_ and open_[-1][1] <= start + 1e-9:
                open_.pop()
            if open_:
                assert end <= open_[-1][1] + 1e-6, (pid, s, open_[-1])
            open_.append((start, end))
    flows = defaultdict(list)
    for e in events:
        if e["ph"] in ("s", "f"):
            flows[e["id"]].append(e)
            bound = [
                s
                for s in tracks[e["pid"]]
                if s["cat"] == "ipc" and s["ts"] <= e["ts"] <= s["ts"] + s["dur"]
            ]
            assert bound, f"arrow end not on a slice: {e}"
    for fid, ends in flows.items():
        assert sorted(x["ph"] for x in ends) == ["f", "s"], (fid, ends)
    return tracks


def test_bounded_queue_trace_has_a_track_per_pid_and_an_arrow_per_item(tmp_path: Path) -> None:
    report, trace = run_traced(tmp_path, "bounded-queue")
    tracks = check_well_formed(trace)
    pids = {p["pid"] for p in report["processes"]}
    named = {e["pid"] for e in trace["traceEvents"] if e.get("name") == "process_name"}
    assert named == pids and set(tracks) <= pids
    names = {e["pid"]: e["args"]["name"] for e in trace["traceEvents"] if e["ph"] == "M"}
    assert names == {p["pid"]: p["name"] for p in report["processes"]}

    queue = report["channels"][0]
    items = queue["gets"] - sum(p["pills_received"] for p in report["processes"])
    starts = [e for e in trace["traceEvents"] if e["ph"] == "s"]
    assert len(starts) == items == 10
    assert report["trace"]["flows"] == 10 and report["trace"]["unpaired"] == 0
    # Every arrow leaves a put slice and lands on a get slice.
    slices = [e for e in trace["traceEvents"] if e["ph"] == "X" and e["cat"] == "ipc"]
    for e in trace["traceEvents"]:
        if e["ph"] in ("s", "f"):
            word = "put" if e["ph"] == "s" else "get"
            assert any(
                s["pid"] == e["pid"] and s["name"] == f"{word} queue" and s["ts"] <= e["ts"]
                for s in slices
            )
    # Ten writers on a Queue(3): some waited, and the trace shows how long.
    blocked = [e for e in trace["traceEvents"] if e["ph"] == "X" and e["cat"] == "blocked"]
    assert any(b["name"] == "blocked in put" and b["dur"] > 1000 for b in blocked)
    waited = sum(b["dur"] for b in blocked if b["name"] == "blocked in put") / 1e6
    assert waited == pytest.approx(queue["blocked_put_s"], rel=0.05, abs=0.002)


def test_ping_pong_arrows_go_both_ways(tmp_path: Path) -> None:
    report, trace = run_traced(tmp_path, "pipe-ping-pong")
    check_well_formed(trace)
    link = report["channels"][0]
    starts = [e for e in trace["traceEvents"] if e["ph"] == "s"]
    assert len(starts) == link["puts"] == link["gets"]
    by_pid = Counter(e["pid"] for e in starts)
    assert len(by_pid) == 2 and set(by_pid.values()) == {link["puts"] // 2}
    names = {e["name"] for e in trace["traceEvents"] if e["ph"] == "X"}
    assert {"send link", "recv link"} <= names and "put link" not in names


def rec(t: float, pid: int, op: str, chan: str | None, msg: int | None = None, **kw: Any) -> dict:
    return {
        "t": t,
        "pid": pid,
        "process": f"p{pid}",
        "op": op,
        "channel": chan,
        "msg": msg,
        "pill": kw.get("pill"),
        "bytes": kw.get("nbytes", 0),
        **({"wait_s": kw["wait"]} if "wait" in kw else {}),
    }


def test_pairs_a_get_timed_before_its_put_and_raw_bytes_in_order() -> None:
    scenario = load(resolve("pipe-stream-eof"))
    chan = scenario.channels[0].name
    records = [
        rec(1.000, 1, "put", chan, nbytes=8),
        rec(0.999, 2, "get", chan, nbytes=8),  # the reader had it before put() returned
        rec(1.100, 1, "put", chan, nbytes=8),
        rec(1.200, 2, "wait-get", chan, wait=0.1),
        rec(1.200, 2, "get", chan, nbytes=8),
        rec(1.500, 2, "wait-get", chan, wait=0.2),  # EOFError: the wait stands alone
        rec(1.600, 2, "close", chan),
    ]
    trace, stats = build(records, scenario)
    check_well_formed(trace)
    assert stats.flows == 2 and stats.unpaired == 0
    x = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    blocked = sorted((e["ts"], e["dur"]) for e in x if e["cat"] == "blocked")
    assert blocked == [pytest.approx((1.1e6, 0.1e6)), pytest.approx((1.3e6, 0.2e6))]
    recv = [e for e in x if e["name"] == f"recv {chan}"]
    assert recv[1]["ts"] == pytest.approx(1.1e6) and recv[1]["args"]["waited_ms"] == 100.0


def test_a_bad_trace_path_is_refused_before_anything_starts(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ipcplay", "run", "simplequeue-hello", "--trace", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--trace: is a directory" in proc.stderr
    assert "Traceback" not in proc.stderr
