"""Instrumented vs raw channel throughput, side by side in one run.

For each case — Queue, JoinableQueue, SimpleQueue, Pipe send/recv, Pipe
send_bytes — one producer process sends 64-byte messages to one consumer
process three ways: through the raw multiprocessing object, through ipcplay's
instrumented wrapper with counters only, and with the journal on too (the
parent drains the journal at 10 Hz, as the observer does).

Why the method is what it is: on a small virtual machine the speed of a pipe
between two processes swings by ±30 % from one moment to the next (whether the
reader finds data waiting or must be woken, and what the host is doing), more
than the difference being measured. So each variant keeps one producer/consumer
pair alive for the whole run, pinned producer to one core and consumer to the
other, and the pairs take turns: many short rounds (a few thousand messages,
tens of milliseconds) interleaved raw, counters, journal, then counters,
journal, raw, and so on (each round starts with the next variant) so that
every swing falls on all three alike. The figure is the ratio of the
throughputs over all rounds (all messages / all time, as one long run would
give), with the median of the per-round ratios in brackets.

How many rounds: what is left of the swings shows in a raw-against-raw run
(two raw pairs, same method). Over twelve such runs of 60 rounds the ratio
came out 0.94 to 1.02; with 200 rounds, 0.98 to 1.04. Fewer rounds would let
a run land a few hundredths from the truth either way, as large as the
margins measured here; 200 rounds take about two minutes for all five cases.

Run:  python benchmarks/channels.py [--messages N] [--rounds R] [--method fork]
Prints one line per case and variant ending in `instrumented/raw = X.XX`.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import threading
import time
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine.channels import Endpoint, instrument
from ipcplay.engine.gate import Gate, install
from ipcplay.engine.gate_classes import adopt
from ipcplay.engine.journal import JournalWriter, drain_raw

PAYLOAD = b"x" * 64
CASES = ("Queue", "JoinableQueue", "SimpleQueue", "Pipe send/recv", "Pipe send_bytes")
# "gated": counters, with each end swapped for its step-mode twin (engine/gate.py)
# and step mode off again, as after a `g`: what having used step mode costs.
VARIANTS = ("raw", "counters", "journal", "gated")
KIND = {"Pipe send/recv": "Pipe", "Pipe send_bytes": "Pipe"}


def _pin(side: int) -> None:
    """Producer on the first core, consumer on the second, in every variant:
    the scheduler moving them about is one more swing we need not measure."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        os.sched_setaffinity(0, {cpus[side]})


def _wrap(case: str, obj: Any, proc: int, raw: Any, layout: B.Layout, variant: str) -> Any:
    mv = B.view(raw)
    journal = variant == "journal"
    ep = Endpoint(
        0,
        "c",
        KIND.get(case, case),
        0,
        reads=proc == 1,
        writes=proc == 0,
        peer_out=(layout.chan(0, 0) + B.OUT_N,),
        peer_in_bytes=(layout.chan(1, 0) + B.IN_BYTES,),
        recv_hint=True,
        send_hint=True,
    )
    jw = JournalWriter(mv, layout, proc) if journal else None
    end = instrument(ep.kind, obj, ep, mv, layout, proc, jw)
    if variant == "gated":
        gate = Gate(mv, layout.proc(proc))
        adopt(gate, end, 0)
        install(gate)
        gate.arm()  # C_GATE stays 0: every call passes its gate with one board read
    return end


def producer(
    case: str, obj: Any, raw: Any, layout: B.Layout | None, variant: str, ctl: Any
) -> None:
    """Send as many messages as each command asks, then an end-of-round mark."""
    _pin(0)
    ch = _wrap(case, obj, 0, raw, layout, variant) if layout is not None else obj
    if case == "Pipe send_bytes":
        send, end_round, end_run = ch.send_bytes, b"", b"end"
    else:
        send = ch.send if case.startswith("Pipe") else ch.put
        end_round, end_run = None, "end"
    while n := ctl.recv():
        for _ in range(n):
            send(PAYLOAD)
        send(end_round)
    send(end_run)
    if hasattr(ch, "join_thread"):
        ch.close()
        ch.join_thread()


def consumer(
    case: str, obj: Any, raw: Any, layout: B.Layout | None, variant: str, ctl: Any
) -> None:
    """Take messages until the end-of-round mark, then tell the parent."""
    _pin(1)
    ch = _wrap(case, obj, 1, raw, layout, variant) if layout is not None else obj
    if case == "Pipe send_bytes":
        recv, end_round = ch.recv_bytes, b""
    else:
        recv = ch.recv if case.startswith("Pipe") else ch.get
        end_round = None
    while True:
        item = recv()
        if item == end_round:
            ctl.send(True)
        elif item in ("end", b"end"):
            return


class Pair:
    """One producer and one consumer of one variant, alive for the whole run."""

    def __init__(self, ctx: Any, case: str, variant: str) -> None:
        kind = KIND.get(case, case)
        if kind == "Pipe":
            r, w = ctx.Pipe(duplex=False)
            self._objs: tuple[Any, Any] = (w, r)
        elif kind == "SimpleQueue":
            q = ctx.SimpleQueue()
            self._objs = (q, q)
        else:
            q = ctx.Queue() if kind == "Queue" else ctx.JoinableQueue()
            self._objs = (q, q)
        journal = variant == "journal"
        self.layout = B.Layout(2, 1, 1 << 16 if journal else 0) if variant != "raw" else None
        self.raw = B.create(self.layout) if self.layout is not None else None
        self._go, go_child = ctx.Pipe()
        self._done, done_child = ctx.Pipe()
        args = (case, self._objs[0], self.raw, self.layout, variant, go_child)
        self._procs = [
            ctx.Process(target=producer, args=args),
            ctx.Process(target=consumer, args=(case, self._objs[1], *args[2:5], done_child)),
        ]
        for p in self._procs:
            p.start()
        self.journal = journal

    def round(self, n: int) -> float:
        """Seconds for n messages from the command to the consumer's ack."""
        t = time.perf_counter()
        self._go.send(n)
        if not self._done.poll(60):
            raise RuntimeError("a round took over 60 s")
        self._done.recv()
        return time.perf_counter() - t

    def dropped(self) -> int:
        if not self.journal:
            return 0
        mv = B.view(self.raw)
        return sum(mv[self.layout.proc(p) + B.J_DROPPED] for p in (0, 1))

    def close(self) -> None:
        self._go.send(0)
        for p in self._procs:
            p.join(30)
            if p.exitcode is None:
                p.kill()
                p.join()
        if isinstance(self._objs[0], type(self._go)):
            for o in self._objs:
                o.close()


def drain_journals(pairs: list[Pair], stop: threading.Event) -> None:
    """Play the observer: empty the rings at 10 Hz, as the sampler would."""
    views = [(B.view(p.raw), p.layout) for p in pairs if p.journal]
    while not stop.wait(0.1):
        for mv, layout in views:
            for proc in (0, 1):
                drain_raw(mv, layout, proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=4_000, help="messages per round")
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--method", default="fork", choices=("fork", "spawn", "forkserver"))
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args()
    ctx = mp.get_context(args.method)
    cases = [c.strip() for c in args.cases.split(",")]
    times: dict[tuple[str, str], list[float]] = {}
    dropped: dict[str, int] = {}
    for case in cases:
        pairs = [Pair(ctx, case, v) for v in VARIANTS]
        stop = threading.Event()
        drainer = threading.Thread(target=drain_journals, args=(pairs, stop), daemon=True)
        drainer.start()
        try:
            for pair in pairs:  # warm-up round, not counted
                pair.round(args.messages)
            for k in range(args.rounds):
                # Each round starts with the next variant: none always follows the same one.
                for j in range(len(VARIANTS)):
                    at = (k + j) % len(VARIANTS)
                    v, pair = VARIANTS[at], pairs[at]
                    times.setdefault((case, v), []).append(pair.round(args.messages))
        finally:
            stop.set()
            drainer.join()
            dropped[case] = sum(p.dropped() for p in pairs)
            for pair in pairs:
                pair.close()
    print(
        f"{args.messages} messages of 64 bytes per round, 1 producer -> 1 consumer on "
        f"separate cores, {args.rounds} interleaved rounds, start method {args.method}"
    )
    n = args.messages
    for case in cases:
        raw = times[(case, "raw")]
        raw_rate = n * len(raw) / sum(raw)
        for variant in VARIANTS[1:]:
            inst = times[(case, variant)]
            rate = n * len(inst) / sum(inst)
            med = statistics.median(r / i for i, r in zip(inst, raw, strict=True))
            print(
                f"{case:<16} {variant:<9} raw {raw_rate:>9,.0f} msg/s  instrumented "
                f"{rate:>9,.0f} msg/s  (median ratio {med:.2f})  "
                f"instrumented/raw = {rate / raw_rate:.2f}"
            )
        if dropped[case]:
            print(f"  ({case}: {dropped[case]} journal events dropped)")


if __name__ == "__main__":
    main()
