"""A plain multiprocessing throughput program, timed from the inside.

benchmarks/watch.py runs this file twice per round, as `python
watch_program.py` and as `ipcplay run watch_program.py`, and compares what
it prints. It is an ordinary stdlib program on purpose: nothing in it knows
about ipcplay, so under `ipcplay run` every object it makes is whatever the
hooks hand it, as for any user's program.

Each case times itself and the program prints one JSON line at the end:
{"rates": {case: items/s}, "kinds": {case: "module.Type" of the object
used}}, the second so the runner can tell a counted object (an ipcplay
type) from the raw one.

* Queue, Pipe send/recv, Pipe send_bytes: the main process sends N 64-byte
  items to one child, which takes them all, then says so on a second object
  of the same kind; the time runs from the first send to that word (one
  producer, one consumer, pinned to different cores when there are two, as
  benchmarks/channels.py does, because the scheduler moving them about is a
  swing larger than what is measured).
* Lock: acquire() then release(), N times, in the main process: the
  uncontended call a program makes most.
* Value: `with v.get_lock(): v.value += 1`, N times, in the main process.

With --startup it does only what a trivial program does: print a line, start
one process that prints a line, wait for it, exit (benchmarks/watch.py times
the launch to the first line and to the exit).

Run:  python benchmarks/watch_program.py [--scale X] [--method fork|spawn|forkserver]
      [--startup]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
from typing import Any

PAYLOAD = b"x" * 64
# Items per case at --scale 1: about 0.1 to 0.3 s each on a small machine.
ITEMS = {
    "Queue": 20_000,
    "Pipe send/recv": 40_000,
    "Pipe send_bytes": 60_000,
    "Lock": 200_000,
    "Value": 150_000,
}


def pin(side: int) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        os.sched_setaffinity(0, {cpus[side]})


def take_queue(q: Any, ack: Any, n: int) -> None:
    pin(1)
    ack.put("ready")
    for _ in range(n):
        q.get()
    ack.put("done")


def take_pipe(r: Any, ack: Any, n: int) -> None:
    pin(1)
    ack.send("ready")
    for _ in range(n):
        r.recv()
    ack.send("done")


def take_bytes(r: Any, ack: Any, n: int) -> None:
    pin(1)
    ack.send_bytes(b"ready")
    for _ in range(n):
        r.recv_bytes()
    ack.send_bytes(b"done")


def kind(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__name__}"


def case_queue(ctx: Any, n: int) -> tuple[float, str]:
    q, ack = ctx.Queue(), ctx.Queue()
    p = ctx.Process(target=take_queue, args=(q, ack, n), name="taker")
    p.start()
    ack.get()
    put = q.put
    t0 = time.perf_counter()
    for _ in range(n):
        put(PAYLOAD)
    ack.get()
    dt = time.perf_counter() - t0
    p.join()
    return n / dt, kind(q)


def case_pipe(ctx: Any, n: int) -> tuple[float, str]:
    r, w = ctx.Pipe(duplex=False)
    ack_r, ack_w = ctx.Pipe(duplex=False)
    p = ctx.Process(target=take_pipe, args=(r, ack_w, n), name="receiver")
    p.start()
    ack_r.recv()
    send = w.send
    t0 = time.perf_counter()
    for _ in range(n):
        send(PAYLOAD)
    ack_r.recv()
    dt = time.perf_counter() - t0
    p.join()
    return n / dt, kind(w)


def case_bytes(ctx: Any, n: int) -> tuple[float, str]:
    r, w = ctx.Pipe(duplex=False)
    ack_r, ack_w = ctx.Pipe(duplex=False)
    p = ctx.Process(target=take_bytes, args=(r, ack_w, n), name="receiver")
    p.start()
    ack_r.recv_bytes()
    send = w.send_bytes
    t0 = time.perf_counter()
    for _ in range(n):
        send(PAYLOAD)
    ack_r.recv_bytes()
    dt = time.perf_counter() - t0
    p.join()
    return n / dt, kind(w)


def case_lock(ctx: Any, n: int) -> tuple[float, str]:
    lock = ctx.Lock()
    acquire, release = lock.acquire, lock.release
    t0 = time.perf_counter()
    for _ in range(n):
        acquire()
        release()
    return n / (time.perf_counter() - t0), kind(lock)


def case_value(ctx: Any, n: int) -> tuple[float, str]:
    v = ctx.Value("i", 0)
    t0 = time.perf_counter()
    for _ in range(n):
        with v.get_lock():
            v.value += 1
    dt = time.perf_counter() - t0
    if v.value != n:
        raise SystemExit(f"Value: {v.value} after {n} updates")
    return n / dt, kind(v)


CASES = {
    "Queue": case_queue,
    "Pipe send/recv": case_pipe,
    "Pipe send_bytes": case_bytes,
    "Lock": case_lock,
    "Value": case_value,
}


def hello() -> None:
    print("hello from a child", flush=True)


def startup(ctx: Any) -> None:
    print("started", flush=True)
    p = ctx.Process(target=hello)
    p.start()
    p.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="items per case, x this (1)")
    ap.add_argument("--method", default="fork", choices=("fork", "spawn", "forkserver"))
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--startup", action="store_true", help="a trivial program only")
    args = ap.parse_args()
    ctx = mp.get_context(args.method)
    if args.startup:
        startup(ctx)
        return
    pin(0)
    rates: dict[str, float] = {}
    kinds: dict[str, str] = {}
    for case in (c.strip() for c in args.cases.split(",")):
        n = max(1, int(ITEMS[case] * args.scale))
        rates[case], kinds[case] = CASES[case](ctx, n)
    print(json.dumps({"rates": rates, "kinds": kinds}), flush=True)


if __name__ == "__main__":
    main()
