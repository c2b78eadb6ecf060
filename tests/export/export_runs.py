"""Running exported scripts the way a student would, and reading their totals.

A script runs with `python -I -S` from a temporary folder: isolated mode and
no site-packages, so neither ipcplay nor anything pip installed is importable
(`ISOLATED` checks that), and the children multiprocessing starts inherit
both flags. Every run is in its own session, so a run that times out is killed
with all its children.
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ipcplay.report import EXIT_CODES

ISOLATED = [sys.executable, "-I", "-S"]
CLEAN_ENV = {"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C.UTF-8"}
_LINE = re.compile(r"^(channel|process) (\S+): (.*)$")


def run(
    cmd: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """subprocess.run, but a run past `timeout` is killed with its whole
    process group (the script's children too) before the test fails."""
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError(f"{cmd} did not finish within {timeout} s") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def run_script(path: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return run([*ISOLATED, path.name], cwd=path.parent, timeout=timeout, env=CLEAN_ENV)


def run_engine(
    preset: str | Path, cwd: Path, timeout: float = 60, expect: str | None = None
) -> dict[str, Any]:
    """`ipcplay run PRESET --json`: its one JSON object. With `expect` (the
    verdict the preset is documented to reach), the exit status must be that
    verdict's."""
    r = run([sys.executable, "-m", "ipcplay", "run", str(preset), "--json"], cwd, timeout)
    if expect is None:
        assert r.returncode in (0, 3, 4, 5, 6), r.stderr
    else:
        assert r.returncode == EXIT_CODES[expect], r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1, r.stdout  # exactly one JSON object
    return json.loads(lines[0])


def check_cli_report(report: dict[str, Any], name: str) -> None:
    """What `ipcplay run NAME --json` promises about any preset: its name, the
    keys of the report, of each process and channel, a real and distinct pid
    for every process, and exact counts: every channel's puts = gets + depth +
    lost, a bounded queue never deeper than its maxsize, and a channel only
    producers write to holds exactly what they sent (items and pills). (Each
    built-in preset's export test runs that command anyway: the check rides
    along, with the preset's own start method; tests/engine/test_truth.py
    checks the same counts under the other one.)"""
    assert report["scenario"] == name
    assert set(report) >= {"scenario", "verdict", "duration_s", "processes", "channels"}
    by_name = {p["name"]: p for p in report["processes"]}
    for p in report["processes"]:
        assert isinstance(p["pid"], int) and p["pid"] > 0 and p["pid"] != os.getpid()
        assert {"name", "role", "exitcode", "cpu_s", "sent", "received"} <= set(p)
    assert len({p["pid"] for p in report["processes"]}) == len(report["processes"])
    for c in report["channels"]:
        assert c["puts"] == c["gets"] + c["depth"] + c["lost"], c
        assert {"name", "kind", "max_depth", "bytes"} <= set(c)
        if c["maxsize"]:
            assert c["max_depth"] <= c["maxsize"], c
        writers = [by_name[w] for w in c["writers"]]
        if c["kind"] != "Pipe" and all(w["role"] == "producer" for w in writers):
            assert c["puts"] == sum(w["items"] + w["pills_sent"] for w in writers), c


def both(
    script: Path, preset: str | Path, timeout: float = 60, expect: str | None = None
) -> tuple[Any, dict[str, Any]]:
    """Run the exported script and `ipcplay run --json` side by side."""
    with ThreadPoolExecutor(2) as pool:
        s = pool.submit(run_script, script, timeout)
        e = pool.submit(run_engine, preset, script.parent, timeout, expect)
        return s.result(), e.result()


def script_totals(stdout: str) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]], str]:
    """(channels, processes, outcome line) from a script's printed totals."""
    channels: dict[str, dict[str, int]] = {}
    processes: dict[str, dict[str, int]] = {}
    outcome = ""
    for line in stdout.splitlines():
        m = _LINE.match(line)
        if m:
            what, name, rest = m.groups()
            fields = {k: int(v) for k, v in (kv.split("=") for kv in rest.split())}
            (channels if what == "channel" else processes)[name] = fields
        elif line.startswith("outcome:"):
            outcome = line
    return channels, processes, outcome


def engine_totals(report: dict[str, Any]) -> tuple[dict[str, dict[str, int]], dict[str, Any]]:
    """The same numbers from a `--json` report, in the script's shape."""
    channels = {}
    for c in report["channels"]:
        row = {"puts": c["puts"], "gets": c["gets"], "depth": c["depth"]}
        if c["kind"] == "JoinableQueue":
            row["task_done"] = c["task_done"]
        channels[c["name"]] = row
    processes = {
        p["name"]: {"sent": p["sent"], "received": p["received"], "exitcode": p["exitcode"]}
        for p in report["processes"]
        if p["role"] != "pool-worker"  # which worker takes which task is the scheduler's
    }
    return channels, processes


def imported_modules(source: str) -> set[str]:
    """Top-level names of every module the source imports."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            names.add((node.module or "").split(".")[0])
    return names
