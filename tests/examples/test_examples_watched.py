"""Every program in examples/ under `ipcplay run --json`: its exact counts and its own output.

What a student sees after reading a seed article (issue 17, part 6): each
example, watched, must report the processes, channels, shared objects, pools
and managers its code makes, with the figures read off the code
(expected_counts.py), and each of its processes must have printed what the
plain run prints (test_examples_plain.py's EXPECTED): every line, by the
process that printed it.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from expected_counts import EXPECTED_COUNTS
from test_examples_plain import EXAMPLES, EXPECTED, STDERR, plain_env

# A Pool left by `with Pool(...)` is terminated: whether a worker had already
# left (0) or was terminated (-15) is up to the scheduler (expected_counts.py).
EXIT_CODES_VARY = {"seed004_pool_map.py"}


def _run(name: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "ipcplay", "run", name, "--json"],
        cwd=EXAMPLES,
        env=plain_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=90,
        check=False,
    )
    out = done.stdout.decode("utf-8", "replace")
    assert out.count("\n") == 1, f"not one JSON object:\n{out[:2000]}\n{done.stderr[-2000:]!r}"
    assert done.stderr == b"", done.stderr.decode("utf-8", "replace")
    report = json.loads(out)
    report["_status"] = done.returncode
    return report


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    """Each example's report, run once for the tests that read it (lazily)."""
    return {}


def _report(reports: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    if name not in reports:
        reports[name] = _run(name)
    return reports[name]


def _by_name(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in entries}


def _examples() -> list[str]:
    return sorted(EXPECTED_COUNTS)


# ---------------------------------------------------------------- counts


@pytest.mark.parametrize("name", _examples())
def test_example_counts_are_its_codes(reports: dict[str, Any], name: str) -> None:
    expected = EXPECTED_COUNTS[name]
    report = _report(reports, name)
    assert report["program"]["exit_status"] == 0, report["processes"][0]["stderr"]
    assert [p["name"] for p in report["processes"]] == expected["processes"]
    if name not in EXIT_CODES_VARY:
        codes = {p["name"]: p["exitcode"] for p in report["processes"]}
        nonzero = expected.get("exitcodes", {})
        assert codes == {n: nonzero.get(n, 0) for n in expected["processes"]}
    verdict = "crashed" if expected.get("exitcodes") else "completed"
    assert report["verdict"] == verdict, report["stuck"]
    assert report["_status"] == (6 if verdict == "crashed" else 0)
    assert report["program"]["uncounted_objects"] == 0
    assert report["program"]["observer_error"] is None  # every sample of ours worked
    _check_channels(report, expected)
    _check_shared(report, expected)
    _check_pools(report, expected)
    _check_managers(report, expected)


def _check_channels(report: dict[str, Any], expected: dict[str, Any]) -> None:
    channels = _by_name(report["channels"])
    pools = {
        f"{pool} {queue}" for pool in expected.get("pools", {}) for queue in ("tasks", "results")
    }
    assert set(channels) == set(expected["channels"]) | pools
    for var, want in expected["channels"].items():
        got = channels[var]
        assert got["kind"] == want["kind"], var
        assert (got["puts"], got["gets"]) == (want["puts"], want["gets"]), var
        assert got["maxsize"] == want.get("maxsize", 0), var
        if "task_done" in want:
            assert got["task_done"] == want["task_done"], var
        for side in ("writers", "readers"):
            if side in want:
                assert sorted(got[side]) == sorted(want[side]), (var, side)
        if want.get("duplex") is False:  # one way only: every message from a writer
            assert {d["from"] for d in got["directions"]} <= set(want["writers"]), var


def _check_shared(report: dict[str, Any], expected: dict[str, Any]) -> None:
    shared = _by_name(report["shared"])
    proxies = {p for m in expected.get("managers", {}).values() for p in m["proxies"]}
    assert set(shared) == set(expected.get("shared", {})) | proxies
    for var, want in expected.get("shared", {}).items():
        got = shared[var]
        for key, value in want.items():
            assert got[key] == value, (var, key, got)


def _check_pools(report: dict[str, Any], expected: dict[str, Any]) -> None:
    """A watched Pool is its two queues: one task message per call here (map's
    inputs are fewer than its chunks), then one sentinel per worker as it
    closes; and every call's result."""
    channels = _by_name(report["channels"])
    for var, want in expected.get("pools", {}).items():
        workers = [p for p in report["processes"] if "PoolWorker-" in p["name"]]
        assert len(workers) == want["processes"], var
        tasks, results = channels[f"{var} tasks"], channels[f"{var} results"]
        assert tasks["puts"] == want["calls"] + want["processes"], (var, tasks)
        assert results["puts"] >= want["calls"] and results["gets"] >= want["calls"], results


def _check_managers(report: dict[str, Any], expected: dict[str, Any]) -> None:
    shared = _by_name(report["shared"])
    for var, want in expected.get("managers", {}).items():
        for proxy, kind in want["proxies"].items():
            got = shared[proxy]
            assert got["kind"].lower().endswith(kind), (var, proxy, got["kind"])
            assert got["calls"]["calls"] == sum(want["calls"].values()), (var, proxy, got)


# ---------------------------------------------------------------- output


def _lines_of(report: dict[str, Any]) -> dict[str, list[str]]:
    """Each process's stdout lines, for those that printed."""
    return {
        p["name"]: p["stdout"].splitlines(keepends=True) for p in report["processes"] if p["stdout"]
    }


def _is_subsequence(part: list[str], whole: list[str]) -> bool:
    rest = iter(whole)
    return all(line in rest for line in part)


def _some_order_passes(blocks: list[list[str]], check: Callable[[str], None]) -> bool:
    """Does some order of the processes' outputs, each whole, pass the check?"""
    orders = itertools.permutations(blocks) if len(blocks) <= 6 else [blocks]
    for order in orders:
        try:
            check("".join(line for block in order for line in block))
        except AssertionError:
            continue
        return True
    return False


@pytest.mark.parametrize("name", _examples())
def test_example_prints_what_a_plain_run_prints(reports: dict[str, Any], name: str) -> None:
    report = _report(reports, name)
    by_process = _lines_of(report)
    expected = EXPECTED[name]
    if isinstance(expected, str):
        # Every line, once, and each process's lines in the order a plain run prints them.
        want = expected.splitlines(keepends=True)
        got = [line for lines in by_process.values() for line in lines]
        assert Counter(got) == Counter(want), by_process
        for process, lines in by_process.items():
            assert _is_subsequence(lines, want), (process, lines)
    else:
        assert _some_order_passes(list(by_process.values()), expected), by_process
    stderr = {p["name"]: p["stderr"] for p in report["processes"] if p["stderr"]}
    if name in STDERR:
        assert any(STDERR[name] in text for text in stderr.values()), stderr
    else:
        assert stderr == {}


def test_every_example_is_tested_watched() -> None:
    assert sorted(path.name for path in Path(EXAMPLES).glob("*.py")) == _examples()
