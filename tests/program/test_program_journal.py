"""`ipcplay run PROGRAM.py --journal F --trace T`: every counted call is in the journal.

The journal is the run's record, operation by operation: what the report
counts, the journal lists, by process and channel; the trace drawn from it
names the program and its processes.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from watched import watch, write

PROGRAM = """
import multiprocessing as mp


def producer(work, n):
    for i in range(n):
        work.put(i)
    work.put(None)


def consumer(work, done):
    count = 0
    while work.get(timeout=20) is not None:
        count += 1
    done.send(count)


if __name__ == "__main__":
    work = mp.Queue(maxsize=4)
    done, back = mp.Pipe(duplex=False)
    p = mp.Process(target=producer, args=(work, 40), name="producer")
    c = mp.Process(target=consumer, args=(work, back), name="consumer")
    p.start()
    c.start()
    print(done.recv())
    p.join(20)
    c.join(20)
"""


@pytest.fixture(scope="module")
def journaled(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list, dict]:
    folder = tmp_path_factory.mktemp("journal")
    path = write(folder, "journaled.py", PROGRAM)
    run = watch(path.name, "--journal", "run.jsonl", "--trace", "run.trace.json", cwd=folder)
    assert run.code == 0, run.stderr
    report = run.report
    lines = (folder / "run.jsonl").read_text(encoding="utf-8").splitlines()
    trace = json.loads((folder / "run.trace.json").read_text(encoding="utf-8"))
    return report, [json.loads(line) for line in lines], trace


def test_every_counted_call_is_in_the_journal(journaled: Any) -> None:
    report, events, _ = journaled
    assert report["journal"]["file"] == "run.jsonl"
    assert report["journal"]["events"] == len(events)
    assert report["journal"]["dropped"] == 0
    ops = Counter((e["process"], e["op"], e["channel"]) for e in events)
    assert ops[("producer", "put", "work")] == 41
    assert ops[("consumer", "get", "work")] == 41
    assert ops[("consumer", "put", "done/back")] == 1  # a Pipe's send is its put
    assert ops[("main", "get", "done/back")] == 1
    for channel in report["channels"]:
        assert (
            sum(n for (_, op, ch), n in ops.items() if op == "put" and ch == channel["name"])
            == (channel["puts"])
        )
        assert (
            sum(n for (_, op, ch), n in ops.items() if op == "get" and ch == channel["name"])
            == (channel["gets"])
        )


def test_every_process_starts_and_each_child_exits_in_the_journal(journaled: Any) -> None:
    report, events, _ = journaled
    starts = {e["process"]: e["pid"] for e in events if e["op"] == "start"}
    assert starts == {p["name"]: p["pid"] for p in report["processes"]}
    exits = sorted(e["process"] for e in events if e["op"] == "exit")
    assert exits == ["consumer", "producer"]
    times = [e["t"] for e in events]
    assert all(t >= 0 for t in times)


def test_the_trace_names_the_processes(journaled: Any) -> None:
    report, _, trace = journaled
    named = {
        e["args"]["name"]
        for e in trace["traceEvents"]
        if e.get("ph") == "M" and e["name"] == "process_name"
    }
    assert named == {p["name"] for p in report["processes"]}
    slices = Counter(e["name"] for e in trace["traceEvents"] if e.get("ph") == "X")
    assert slices["put work"] == 41 and slices["get work"] == 41
    assert report["trace"]["file"] == "run.trace.json"


def test_the_trace_names_the_program(journaled: Any) -> None:
    _, _, trace = journaled
    assert trace["otherData"]["scenario"] == "journaled.py"
    assert trace["otherData"]["title"] == "journaled.py"
