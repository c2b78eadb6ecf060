"""What watching a program costs it: plain vs `ipcplay run`, side by side in one run.

The program is benchmarks/watch_program.py, plain stdlib multiprocessing
that times itself (Queue put/get between two processes, Pipe send/recv, Pipe
send_bytes/recv_bytes, Lock acquire/release in a loop, Value updates under
its lock) and prints items/s per case as one JSON line. This script runs it

1. plain, `python watch_program.py`, and
2. watched, `ipcplay run watch_program.py` (no --json: the program's output
   passes straight through, the report goes to standard error; no journal,
   as `ipcplay run` has none unless asked: counters only),

in interleaved rounds, each round starting with the other one than the
round before (plain, watched, then watched, plain...), so that whatever the
machine does meanwhile falls on both alike. The figure per case is the
median over rounds of watched/plain (the two runs of one round side by
side); target ≥ 0.90. Beside it, what watching adds to one item in µs (from
the median rates): what a ratio means for a program that does real work per
item. Why whole runs and not short rounds inside one run, as
benchmarks/channels.py does: plain and watched are two different runs of
the program, and the cost measured includes everything `ipcplay run` adds to
a program (the hooks, the wrapped objects, the observer sampling at 10 Hz
on the same two cores), not only the instrumented ends.

Each round's watched run is checked: its verdict is `completed` and the
program exited 0. Once, after the rounds, the program runs under `ipcplay
run --json` with a small scale to check that every item was counted (the
puts and gets of each channel, the lock's acquires, the Value's updates): a
ratio measured on a path that counts nothing would be worth nothing. The
kinds the program reports say, per case, whether it got an ipcplay object;
a case that did not (Value, until it is counted) measures the uncounted
path and the output says so.

Start-up: the same program with --startup (print a line, start one process
that prints a line, join it, exit), launched `--startup-rounds` times each
way, interleaved likewise: the time from launch to the program's first line
on standard output, and to the exit of the command (for `ipcplay run`, after
its report). Medians; target ≤ 1.5x plain.

Run:  python benchmarks/watch.py [--rounds 20] [--scale 1] [--startup-rounds 10]
      [--method fork|spawn|forkserver] [--cases Queue,Lock,...]
Exit status: 0 all targets met, 1 a target missed, 2 could not measure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROGRAM = Path(__file__).with_name("watch_program.py")
CASES = ("Queue", "Pipe send/recv", "Pipe send_bytes", "Lock", "Value")
TARGET_RATIO = 0.90
TARGET_STARTUP = 1.5
TIMEOUT_S = 120.0


class BenchError(Exception):
    """Could not measure; the message says why."""


def commands(ipcplay: str, extra: list[str]) -> dict[str, list[str]]:
    return {
        "plain": [sys.executable, str(PROGRAM), *extra],
        "watched": [ipcplay, "run", str(PROGRAM), "--", *extra],
    }


def run_once(cmd: list[str], way: str) -> dict[str, dict[str, object]]:
    """One run of the program; its JSON line."""
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.run(
            cmd, stdout=subprocess.PIPE, stderr=err, text=True, timeout=TIMEOUT_S, check=False
        )
        err.seek(0)
        report = err.read()
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('{"rates"')]
    if proc.returncode != 0 or not lines:
        raise BenchError(
            f"the {way} run ended with status {proc.returncode}:\n{proc.stdout}{report}"
        )
    if way == "watched" and "verdict: completed" not in report:
        raise BenchError(f"the watched run's verdict is not completed:\n{report}")
    return json.loads(lines[-1])


def startup_once(cmd: list[str]) -> tuple[float, float]:
    """Seconds from launch to the first line on stdout, and to the exit."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    t1 = time.perf_counter()
    proc.stdout.read()
    status = proc.wait(TIMEOUT_S)
    t2 = time.perf_counter()
    if status != 0 or not first.startswith(b"started"):
        raise BenchError(f"start-up run {cmd} ended with status {status}, first line {first!r}")
    return t1 - t0, t2 - t0


def check_counted(ipcplay: str, extra: list[str], scale: float, cases: list[str]) -> list[str]:
    """One `ipcplay run --json` of a small run: is every item counted? Notes."""
    sys.path.insert(0, str(PROGRAM.parent))
    from watch_program import ITEMS

    cmd = [ipcplay, "run", str(PROGRAM), "--json", "--", *extra, "--scale", f"{scale:g}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise BenchError(f"ipcplay run --json gave no JSON:\n{proc.stdout}{proc.stderr}") from None
    notes = []
    channels = report.get("channels", [])
    shared = report.get("shared", [])
    for case in cases:
        n = max(1, int(ITEMS[case] * scale))
        if case in ("Queue", "Pipe send/recv", "Pipe send_bytes"):
            kind = case.split()[0]
            ok = any(
                c["kind"] == kind and c["puts"] == n and c["gets"] == n
                for c in channels
                if isinstance(c, dict)
            )
        else:
            # A lock's acquires; a Value's updates, under whatever name it reports them.
            ok = any(
                s.get("kind") == case and n in s.values() for s in shared if isinstance(s, dict)
            )
        if not ok:
            notes.append(f"{case}: {n} items not found counted in `ipcplay run --json`")
    return notes


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="exit status: 0 all targets met, 1 a target missed, 2 could not measure",
    )
    ap.add_argument("--rounds", type=int, default=20, help="throughput rounds (20)")
    ap.add_argument("--scale", type=float, default=1.0, help="items per case, x this (1)")
    ap.add_argument("--startup-rounds", type=int, default=10, help="start-up rounds (10)")
    ap.add_argument("--method", default="fork", choices=("fork", "spawn", "forkserver"))
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("-v", "--verbose", action="store_true", help="every round's ratios")
    args = ap.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if args.rounds < 1 or args.startup_rounds < 0 or args.scale <= 0:
        ap.error("--rounds must be >= 1, --startup-rounds >= 0, --scale > 0")
    if bad := [c for c in cases if c not in CASES]:
        ap.error(f"--cases: expected some of {', '.join(CASES)}, got {', '.join(bad)}")
    ipcplay = str(Path(sys.prefix) / "bin" / "ipcplay")
    if not os.access(ipcplay, os.X_OK):
        print("ipcplay is not installed in this Python environment.", file=sys.stderr)
        return 2
    extra = ["--method", args.method, "--cases", ",".join(cases)]
    print(
        f"{PROGRAM.name} plain vs `ipcplay run` (counters, no journal), start method"
        f" {args.method}, {args.rounds} interleaved rounds, scale {args.scale:g},"
        f" {os.cpu_count()} cores",
        flush=True,
    )
    ok = True
    try:
        ok = throughput(args, ipcplay, extra, cases) and ok
        if args.startup_rounds:
            ok = startup(args, ipcplay) and ok
    except (BenchError, subprocess.TimeoutExpired) as exc:
        print(f"watch benchmark: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0 if ok else 1


def throughput(args: argparse.Namespace, ipcplay: str, extra: list[str], cases: list[str]) -> bool:
    cmds = commands(ipcplay, [*extra, "--scale", f"{args.scale:g}"])
    rates: dict[str, dict[str, list[float]]] = {w: {c: [] for c in cases} for w in cmds}
    kinds: dict[str, str] = {}
    ways = list(cmds)
    for k in range(args.rounds):
        for way in ways if k % 2 == 0 else ways[::-1]:
            got = run_once(cmds[way], way)
            for case in cases:
                rates[way][case].append(float(got["rates"][case]))
                if way == "watched":
                    kinds[case] = str(got["kinds"][case])
    ok = True
    for case in cases:
        plain, watched = rates["plain"][case], rates["watched"][case]
        ratios = [w / p for w, p in zip(watched, plain, strict=True)]
        med = statistics.median(ratios)
        counted = kinds[case].startswith("ipcplay.")
        hit = med >= TARGET_RATIO
        ok = ok and (hit or not counted)
        p_rate, w_rate = statistics.median(plain), statistics.median(watched)
        extra_us = (1 / w_rate - 1 / p_rate) * 1e6  # what watching adds to one item
        print(
            f"{case:<16} plain {p_rate:>12,.0f}/s  watched {w_rate:>10,.0f}/s"
            f"  {extra_us:+.2f} µs/item  watched/plain = {med:.2f}"
            f" (rounds {min(ratios):.2f} to {max(ratios):.2f})"
            + ("" if counted else f"  [not counted: the program got {kinds[case]}]")
            + ("" if hit or not counted else f"  (under the target {TARGET_RATIO:.2f})")
        )
        if args.verbose:
            print("  rounds: " + " ".join(f"{r:.2f}" for r in ratios))
    notes = check_counted(ipcplay, extra, min(args.scale, 0.05), cases)
    for note in notes:
        counted = kinds[note.split(":")[0]].startswith("ipcplay.")
        print(f"  note: {note}" + ("" if counted else " (expected: not counted yet)"))
        ok = ok and not counted
    if not notes:
        print("  every item of every case counted (checked with one `ipcplay run --json`)")
    return ok


def startup(args: argparse.Namespace, ipcplay: str) -> bool:
    cmds = commands(ipcplay, ["--startup", "--method", args.method])
    first: dict[str, list[float]] = {w: [] for w in cmds}
    done: dict[str, list[float]] = {w: [] for w in cmds}
    ways = list(cmds)
    for k in range(args.startup_rounds):
        for way in ways if k % 2 == 0 else ways[::-1]:
            a, b = startup_once(cmds[way])
            first[way].append(a)
            done[way].append(b)
    ok = True
    for label, times in (("first line", first), ("exit", done)):
        p, w = statistics.median(times["plain"]), statistics.median(times["watched"])
        hit = w / p <= TARGET_STARTUP
        ok = ok and hit
        print(
            f"start-up to {label:<10} plain {p * 1000:>5.0f} ms  watched {w * 1000:>5.0f} ms"
            f"  watched/plain = {w / p:.2f}"
            + ("" if hit else f"  (over the target {TARGET_STARTUP:g})")
        )
    return ok


if __name__ == "__main__":
    raise SystemExit(main())
