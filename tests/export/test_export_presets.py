"""Every built-in preset, exported, runs with a bare `python -I -S` and prints
the totals `ipcplay run --json` reports for it.

Each test runs the script and the engine side by side, so a preset costs the
longer of the two runs. The engine's run is `ipcplay run NAME --json`, so each
test also checks what that command promises for every built-in preset (its
exit status, one JSON object, the report's keys and conserved counts).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from conftest import PRESETS
from export_runs import (
    CLEAN_ENV,
    ISOLATED,
    both,
    check_cli_report,
    engine_totals,
    imported_modules,
    script_totals,
)

from ipcplay.export import to_python
from ipcplay.scenario import load
from ipcplay.scenario.model import Scenario

BUILTIN = sorted(p.stem for p in PRESETS.glob("*.toml"))
COUNTED = [
    n
    for n in BUILTIN
    if not load(PRESETS / f"{n}.toml").endless and load(PRESETS / f"{n}.toml").expect == "completed"
]
STUCK = [n for n in BUILTIN if load(PRESETS / f"{n}.toml").expect in ("deadlock", "hang")]
CRASHED = [n for n in BUILTIN if load(PRESETS / f"{n}.toml").expect == "crashed"]
TIMED = [n for n in BUILTIN if load(PRESETS / f"{n}.toml").endless]


def test_the_presets_cover_both_kinds_of_run():
    assert COUNTED and TIMED == ["steady-pipeline"]


def test_a_bare_interpreter_cannot_import_ipcplay(tmp_path):
    """The premise of the runs below: the script cannot lean on ipcplay."""
    r = subprocess.run(
        [*ISOLATED, "-c", "import ipcplay"],
        cwd=tmp_path,
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode != 0 and "No module named 'ipcplay'" in r.stderr


@pytest.mark.parametrize("name", BUILTIN)
def test_the_script_imports_only_the_standard_library(name):
    source = to_python(load(PRESETS / f"{name}.toml"))
    compile(source, f"{name}.py", "exec")
    modules = imported_modules(source)
    assert "multiprocessing" in modules
    assert modules <= set(sys.stdlib_module_names), modules - set(sys.stdlib_module_names)


# A pitfall's script waits out the scenario's duration before it stops itself
# (8 s for most); its hang comes within a second or two of the start, so the
# script is exported with at most this much and shows the same totals.
PITFALL_S = 5.0


def _export(name: str, tmp_path, longest: float | None = None) -> tuple[Scenario, object]:
    scenario = load(PRESETS / f"{name}.toml")
    if longest is not None and scenario.duration > longest:
        scenario = replace(scenario, duration=longest)
    script = tmp_path / f"{name}.py"
    script.write_text(to_python(scenario), encoding="utf-8")
    return scenario, script


def _shared_readers(scenario: Scenario) -> dict[str, list[str]]:
    """Replicas that take from one queue until it ends share the items as the
    scheduler decides, so only their sum is fixed: template -> replica names."""
    groups = {}
    for spec in scenario.processes:
        if spec.replicas > 1 and spec.inputs and spec.count == 0:
            groups[spec.name] = [f"{spec.name}-{r}" for r in range(1, spec.replicas + 1)]
    return groups


def _per_process(processes: dict, groups: dict[str, list[str]]) -> dict:
    """Messages per process, with each group of shared readers summed."""
    out = {}
    grouped = {n for names in groups.values() for n in names}
    for name, p in processes.items():
        if name not in grouped:
            out[name] = (p["sent"], p["received"])
    for template, names in groups.items():
        out[template + "-*"] = (
            sum(processes[n]["sent"] for n in names),
            sum(processes[n]["received"] for n in names),
        )
    return out


@pytest.mark.timeout(90)
@pytest.mark.parametrize("name", COUNTED)
def test_a_counted_preset_prints_exactly_the_engines_totals(name, tmp_path):
    """Count-bound presets: every channel total is exactly the engine's, and so
    is every process's sent/received (summed over replicas that share one
    queue's items, whose split is up to the scheduler)."""
    scenario, script = _export(name, tmp_path)
    ran, report = both(script, name, expect=scenario.expect)
    check_cli_report(report, name)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert report["verdict"] == "completed"
    channels, processes, outcome = script_totals(ran.stdout)
    want_channels, want_processes = engine_totals(report)
    assert outcome == "outcome: completed"
    assert channels == want_channels
    assert list(processes) == list(want_processes)  # same processes, same order
    assert all(p["exitcode"] == 0 for p in processes.values())
    groups = _shared_readers(scenario)
    assert _per_process(processes, groups) == _per_process(want_processes, groups)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("name", TIMED)
def test_a_timed_preset_keeps_the_engines_invariants(name, tmp_path):
    """Duration-bound presets (a producer with count = 0, stopped after
    `duration` seconds) move as many messages as the timing allows, so the
    counts cannot be equal run to run. What must hold instead, in the script as
    in the engine: the same channels and processes; puts = gets + depth on
    every channel, with the script's queue depth counted by draining the queue
    (not computed); traffic on every channel and through every process; and a
    clean stop (every process returns by itself once `stop` is set)."""
    scenario, script = _export(name, tmp_path)
    ran, report = both(script, name, expect=scenario.expect)
    check_cli_report(report, name)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert report["verdict"] == "completed"
    channels, processes, outcome = script_totals(ran.stdout)
    want_channels, want_processes = engine_totals(report)
    assert outcome.startswith("outcome: completed (ran for")
    assert list(channels) == list(want_channels)
    assert list(processes) == list(want_processes)
    for totals in (channels, want_channels):
        for c in totals.values():
            assert c["puts"] == c["gets"] + c["depth"] and c["puts"] > 0
    for ch in scenario.channels:
        if ch.maxsize:
            assert channels[ch.name]["depth"] <= ch.maxsize
    for p in processes.values():
        assert p["sent"] + p["received"] > 0 and p["exitcode"] == 0


@pytest.mark.timeout(90)
@pytest.mark.parametrize("name", STUCK)
def test_a_pitfall_preset_stops_itself_and_says_why(name, tmp_path):
    """A preset documented to hang or deadlock: the engine reaches that
    verdict; the script says so at the top, stops itself after the scenario's
    duration, names what it terminated, exits 1, and its channel totals up to
    the hang are the engine's."""
    scenario, script = _export(name, tmp_path, longest=PITFALL_S)
    assert f"documented to end in a {scenario.expect}" in script.read_text(encoding="utf-8")
    ran, report = both(script, name, expect=scenario.expect)
    check_cli_report(report, name)
    assert report["verdict"] == scenario.expect
    assert ran.returncode == 1, ran.stdout + ran.stderr
    channels, _, outcome = script_totals(ran.stdout)
    assert outcome.startswith(f"outcome: did not finish within {scenario.duration:g} s")
    assert f"(this scenario is documented to end in a {scenario.expect})" in ran.stdout
    want_channels, _ = engine_totals(report)
    assert channels == want_channels


@pytest.mark.timeout(90)
@pytest.mark.parametrize("name", CRASHED)
def test_a_crashing_preset_crashes_the_same_process_in_the_script(name, tmp_path):
    """A preset documented to crash (a Pool worker's exception raised at get()):
    the same process fails in the script, which says so and exits 1."""
    scenario, script = _export(name, tmp_path)
    ran, report = both(script, name, expect=scenario.expect)
    check_cli_report(report, name)
    assert report["verdict"] == "crashed"
    assert ran.returncode == 1, ran.stdout + ran.stderr
    failed = [p["name"] for p in report["processes"] if p["exitcode"] not in (0, None)]
    failed = [n for n in failed if "/" not in n]  # pool workers are the pool's business
    _, _, outcome = script_totals(ran.stdout)
    assert outcome == "outcome: crashed: " + ", ".join(failed)
