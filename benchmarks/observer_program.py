"""Plain multiprocessing programs for benchmarks/observer.py's program cases.

Nothing here knows about ipcplay: benchmarks/observer.py opens the live TUI
on this file (`ipcplay PROGRAM.py ARGS`) and measures the observer's CPU,
and runs it under `ipcplay run --json` to check that everything it made was
counted. Three shapes:

* `steady N`: N processes in groups of four, each a producer putting a
  64-byte item into its own Queue `--rate` times a second (50) and three
  consumers getting them, 2 ms of sleep per item (the shape of the scenario
  cases, so the figures compare); N / 4 queues.
* `churn N`: N processes over the run, started in batches of `--batch`
  (32), one batch every `--every` seconds; each puts 10 items (or --items) on one shared
  Queue, which the main process drains, and exits. Processes come and go all
  the time: the TUI must keep up with the arrivals, the table with the
  departures.
* `objects N`: N live objects, half Queues and half Locks, used by
  `--workers` (32) processes, each cycling over its share: under the lock,
  put an item on the queue and get it back, 20 rounds a second.

`--items K`: each producer (churn process, objects worker) does K items
(rounds) and ends, so the counts are known: what `ipcplay run --json` must
show. Without it (0) the program runs until it is stopped, or for
`--seconds`.

Run:  python benchmarks/observer_program.py steady|churn|objects N [--items K]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from typing import Any

PAYLOAD = b"x" * 64
CONSUMERS = 3  # per producer, in steady
CHURN_ITEMS = 10  # per churn process


def produce(q: Any, items: int, rate: float, end: float) -> None:
    period = 1.0 / rate
    n = 0
    t = time.monotonic()
    while (items == 0 or n < items) and t < end:
        q.put(PAYLOAD)
        n += 1
        t += period
        time.sleep(max(0.0, t - time.monotonic()))
    for _ in range(CONSUMERS):
        q.put(None)


def consume(q: Any) -> None:
    while q.get() is not None:
        time.sleep(0.002)


def steady(n: int, items: int, rate: float, end: float) -> None:
    groups = max(1, n // (1 + CONSUMERS))
    queues = [mp.Queue() for _ in range(groups)]
    procs = []
    for g, q in enumerate(queues):
        procs.append(mp.Process(target=produce, args=(q, items, rate, end), name=f"prod{g:03d}"))
        procs += [
            mp.Process(target=consume, args=(q,), name=f"cons{g:03d}.{c}") for c in range(CONSUMERS)
        ]
    for p in procs:
        p.start()
    print(f"steady: {len(procs)} processes, {groups} queues", flush=True)
    for p in procs:
        p.join()


def churn_one(q: Any, items: int) -> None:
    for _ in range(items):
        q.put(PAYLOAD)


def churn(n: int, batch: int, every: float, items: int, end: float) -> None:
    """With items, the program ends once the last batch is done; without,
    each process puts CHURN_ITEMS and the program stays until stopped."""
    each = items or CHURN_ITEMS
    q = mp.Queue()
    started = got = 0
    next_batch = time.monotonic()
    print(f"churn: {n} processes in batches of {batch}", flush=True)
    while started < n and time.monotonic() < end:
        procs = [
            mp.Process(target=churn_one, args=(q, each), name=f"churn{started + i:04d}")
            for i in range(min(batch, n - started))
        ]
        for p in procs:
            p.start()
        started += len(procs)
        for _ in range(len(procs) * each):
            q.get()
            got += 1
        for p in procs:
            p.join()
        next_batch += every
        time.sleep(max(0.0, next_batch - time.monotonic()))
    print(f"churn: {started} processes started, {got} items got", flush=True)
    while not items and time.monotonic() < end:  # stay on screen until stopped
        time.sleep(0.5)


def cycle(pairs: list[tuple[Any, Any]], items: int, end: float) -> None:
    n = 0
    t = time.monotonic()
    while (items == 0 or n < items) and t < end:
        for q, lock in pairs:
            with lock:
                q.put(n)
                q.get()
        n += 1
        t += 0.05
        time.sleep(max(0.0, t - time.monotonic()))


def objects(n: int, workers: int, items: int, end: float) -> None:
    half = n // 2
    queues = [mp.Queue() for _ in range(half)]
    locks = [mp.Lock() for _ in range(half)]
    workers = max(1, min(workers, half))
    procs = [
        mp.Process(
            target=cycle,
            args=(list(zip(queues[w::workers], locks[w::workers], strict=True)), items, end),
            name=f"worker{w:02d}",
        )
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    print(f"objects: {half} queues and {half} locks, {workers} workers", flush=True)
    for p in procs:
        p.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shape", choices=("steady", "churn", "objects"))
    ap.add_argument("n", type=int, help="processes (steady, churn) or objects (objects)")
    ap.add_argument("--items", type=int, default=0, help="items per producer; 0: until stopped")
    ap.add_argument("--seconds", type=float, default=3600.0, help="stop after (3600)")
    ap.add_argument("--rate", type=float, default=50.0, help="steady: items/s per producer (50)")
    ap.add_argument("--batch", type=int, default=32, help="churn: processes per batch (32)")
    ap.add_argument("--every", type=float, default=0.5, help="churn: a batch every S (0.5)")
    ap.add_argument("--workers", type=int, default=32, help="objects: processes (32)")
    args = ap.parse_args()
    end = time.monotonic() + args.seconds
    if args.shape == "steady":
        steady(args.n, args.items, args.rate, end)
    elif args.shape == "churn":
        churn(args.n, args.batch, args.every, args.items, end)
    else:
        objects(args.n, args.workers, args.items, end)


if __name__ == "__main__":
    main()
