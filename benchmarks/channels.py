"""Instrumented vs raw channel throughput, side by side in one run.

For each case — Queue, JoinableQueue, SimpleQueue, Pipe send/recv, Pipe
send_bytes — one producer process sends N 64-byte messages to one consumer
process, first through the raw multiprocessing object, then through ipcplay's
instrumented wrapper (journal off, then on). Rounds are interleaved (raw,
counters, journal, raw, counters, journal, ...) so that drift in the machine's
speed hits all variants alike. Two figures per line: the ratio of the best
rounds (as `timeit` takes the best: interference only ever slows a round
down) and, in brackets, the median of the per-round ratios.

Run:  python benchmarks/channels.py [--messages N] [--rounds R] [--method fork]
Prints one line per case and variant ending in `instrumented/raw = X.XX`.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine.channels import Endpoint, instrument
from ipcplay.engine.journal import JournalWriter

PAYLOAD = b"x" * 64
CASES = ("Queue", "JoinableQueue", "SimpleQueue", "Pipe send/recv", "Pipe send_bytes")
KIND = {"Pipe send/recv": "Pipe", "Pipe send_bytes": "Pipe"}


def _wrap(case: str, obj: Any, proc: int, raw: Any, layout: B.Layout, journal: bool) -> Any:
    mv = B.view(raw)
    out_slot = layout.chan(0, 0) + B.OUT_N
    in_bytes = layout.chan(1, 0) + B.IN_BYTES
    ep = Endpoint(
        0,
        "c",
        KIND.get(case, case),
        0,
        reads=proc == 1,
        writes=proc == 0,
        peer_out=(out_slot,),
        peer_in_bytes=(in_bytes,),
        recv_hint=True,
        send_hint=True,
    )
    jw = JournalWriter(mv, layout, proc) if journal else None
    return instrument(ep.kind, obj, ep, mv, layout, proc, jw)


def producer(
    case: str, obj: Any, n: int, raw: Any, layout: B.Layout | None, journal: bool, go: Any
) -> None:
    ch = _wrap(case, obj, 0, raw, layout, journal) if layout is not None else obj
    go.wait()
    if case == "Pipe send_bytes":
        send = ch.send_bytes
        for _ in range(n):
            send(PAYLOAD)
        send(b"")
    else:
        put = ch.send if case.startswith("Pipe") else ch.put
        for _ in range(n):
            put(PAYLOAD)
        put(None)


def consumer(
    case: str, obj: Any, n: int, raw: Any, layout: B.Layout | None, journal: bool, done: Any
) -> None:
    ch = _wrap(case, obj, 1, raw, layout, journal) if layout is not None else obj
    if case == "Pipe send_bytes":
        recv = ch.recv_bytes
        while recv():
            pass
    else:
        get = ch.recv if case.startswith("Pipe") else ch.get
        while get() is not None:
            pass
    done.set()


def drain_journal(raw: Any, layout: B.Layout, stop: Any) -> None:
    """Play the observer: empty the rings at 10 Hz, as the sampler would."""
    from ipcplay.engine.journal import drain_raw

    mv = B.view(raw)
    while not stop.wait(0.1):
        for p in (0, 1):
            drain_raw(mv, layout, p)


def one_round(ctx: Any, case: str, variant: str, n: int) -> float:
    kind = KIND.get(case, case)
    if kind == "Pipe":
        r, w = ctx.Pipe(duplex=False)
        objs = (w, r)
    elif kind == "SimpleQueue":
        q = ctx.SimpleQueue()
        objs = (q, q)
    else:
        q = ctx.Queue() if kind == "Queue" else ctx.JoinableQueue()
        objs = (q, q)
    journal = variant == "journal"
    layout = None if variant == "raw" else B.Layout(2, 1, 1 << 16 if journal else 0)
    raw = B.create(layout) if layout is not None else None
    go, done = ctx.Event(), ctx.Event()
    procs = [
        ctx.Process(target=producer, args=(case, objs[0], n, raw, layout, journal, go)),
        ctx.Process(target=consumer, args=(case, objs[1], n, raw, layout, journal, done)),
    ]
    for p in procs:
        p.start()
    import threading

    stop = threading.Event()
    drainer = None
    if journal:
        drainer = threading.Thread(target=drain_journal, args=(raw, layout, stop), daemon=True)
        drainer.start()
    time.sleep(0.05)
    t = time.perf_counter()
    go.set()
    done.wait(120)
    elapsed = time.perf_counter() - t
    stop.set()
    for p in procs:
        p.join(30)
    if drainer is not None:
        drainer.join()
    if kind == "Pipe":
        for o in objs:
            o.close()
    if journal:
        mv = B.view(raw)
        dropped = mv[layout.proc(0) + B.J_DROPPED] + mv[layout.proc(1) + B.J_DROPPED]
        if dropped:
            print(f"  ({case}: {dropped} journal events dropped)")
    return n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--method", default="fork", choices=("fork", "spawn", "forkserver"))
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args()
    ctx = mp.get_context(args.method)
    cases = [c.strip() for c in args.cases.split(",")]
    rates: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for case in cases:
            for variant in ("raw", "counters", "journal"):
                rates.setdefault((case, variant), []).append(
                    one_round(ctx, case, variant, args.messages)
                )
    print(
        f"{args.messages} messages of 64 bytes, 1 producer -> 1 consumer, "
        f"{args.rounds} interleaved rounds, start method {args.method}"
    )
    for case in cases:
        raw = rates[(case, "raw")]
        for variant in ("counters", "journal"):
            inst = rates[(case, variant)]
            best = max(inst) / max(raw)
            med = statistics.median(i / r for i, r in zip(inst, raw, strict=True))
            print(
                f"{case:<16} {variant:<9} raw {max(raw):>9,.0f} msg/s  instrumented "
                f"{max(inst):>9,.0f} msg/s  (median ratio {med:.2f})  "
                f"instrumented/raw = {best:.2f}"
            )


if __name__ == "__main__":
    main()
