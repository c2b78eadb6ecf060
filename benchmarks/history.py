"""What a run's history (ipcplay/history.py) costs: memory and the sampler's CPU.

Runs the 128-process benchmark scenario of benchmarks/observer.py (32 groups
of producer → Queue → 3 consumers, producers at 50 items/s) for real, for
--duration seconds of wall time, with the event rings on as the TUI has
them, and hands every snapshot to a History on the sampler thread, as the
TUI and `ipcplay run --save-run` do. Prints, as one JSON object:

* `snapshots`, `events`, `moments`: what the history holds;
* `compressed_bytes`: its blocks (History.nbytes);
* `deep_bytes`: every object reachable from the History, counted once
  (sys.getsizeof over gc referents; types, modules and functions excluded):
  what the history really takes in this process;
* `rss_start`, `rss_end`: the process's RSS, for scale;
* `observer_cpu_pct`: this process's own CPU (user + system, every thread:
  the sampler, the history, the main thread's waiting) over the run, as % of
  one core; run once with --no-history for the same figure without it.
* `at_ms`: the median time of `at(i)` over 50 random indices (a rewind).

Run: nice python benchmarks/history.py --duration 600 [--no-history] [--save FILE]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import types
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).parent))

from observer import scenario_toml

from ipcplay.engine.supervisor import Engine
from ipcplay.history import History
from ipcplay.scenario import load


def deep_size(root: object) -> int:
    """Bytes of every object reachable from `root`, each counted once."""
    seen: set[int] = set()
    todo = [root]
    total = 0
    skip = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, skip):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        todo.extend(gc.get_referents(obj))
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=600.0)
    ap.add_argument("--size", type=int, default=128, choices=(16, 128))
    ap.add_argument("--hz", type=float, default=10.0)
    ap.add_argument("--no-history", action="store_true")
    ap.add_argument("--save", metavar="FILE", help="also write the run as a saved run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"observer-{args.size}.toml"
        path.write_text(scenario_toml(args.size), encoding="utf-8")
        scenario = load(str(path))
    history = None if args.no_history else History()
    me = psutil.Process()
    stop = threading.Event()
    engine = Engine(
        scenario,
        journal_events=65536,
        sample_hz=args.hz,
        on_snapshot=history.append if history is not None else None,
    )
    rss_start = me.memory_info().rss
    engine.start()
    cpu0 = me.cpu_times()
    t0 = time.monotonic()
    try:
        outcome = engine.run(args.duration, stop)
    finally:
        engine.shutdown()
    wall = time.monotonic() - t0
    cpu1 = me.cpu_times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    result: dict[str, Any] = {
        "scenario": f"{args.size} processes",
        "duration_s": round(wall, 1),
        "hz": args.hz,
        "history": history is not None,
        "observer_cpu_pct": round(100 * cpu / wall, 1),
        "rss_start": rss_start,
        "rss_end": me.memory_info().rss,
    }
    if history is not None:
        history.append(outcome.snapshot)
        kept = list(history.kept())
        times = []
        for i in random.Random(1).sample(kept, min(50, len(kept))):
            t = time.perf_counter()
            history.at(i)
            times.append((time.perf_counter() - t) * 1000)
        result |= {
            "snapshots": len(history),
            "kept": len(kept),
            "events": history.events_count - history.events_first,
            "moments": len(history.moments()),
            "compressed_bytes": history.nbytes(),
            "deep_bytes": deep_size(history),
            "at_ms": round(statistics.median(times), 1),
        }
        if args.save:
            from ipcplay.savedrun import SavedRun, SaveTarget

            run = SavedRun(
                scenario={"name": scenario.name, "title": scenario.title, "toml": ""},
                history=history,
                verdict=outcome.verdict,
                duration_s=outcome.duration_s,
            )
            result["saved_bytes"] = SaveTarget(args.save).write(run)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
