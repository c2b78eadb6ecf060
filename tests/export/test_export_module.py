"""The generator is a pure function a UI can call: no Textual, no processes,
the same text every time, names that never clash."""

from __future__ import annotations

import importlib.util
import keyword
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PRESETS
from export_runs import imported_modules
from hypothesis import HealthCheck, given, settings

from ipcplay.export import to_python
from ipcplay.export.names import SCRIPT_NAMES, Namer
from ipcplay.scenario import load


def test_export_imports_no_textual_and_starts_nothing():
    code = (
        "import sys, multiprocessing\n"
        "from ipcplay.export import to_python\n"
        "from ipcplay.scenario import load\n"
        f"for p in sorted(__import__('pathlib').Path({str(PRESETS)!r}).glob('*.toml')):\n"
        "    to_python(load(p))\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not bad, bad\n"
        "assert not multiprocessing.active_children()\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_the_same_scenario_gives_the_same_text():
    scenario = load(PRESETS / "joinable-queue-consumers.toml")
    assert to_python(scenario) == to_python(scenario)


def test_names_never_clash_with_python_the_script_or_each_other():
    namer = Namer()
    got = [namer.fresh(n) for n in ("for", "print", "main", "tally", "a-b", "a_b", "a_b", "x")]
    assert got == ["for_", "print_", "main_", "tally_", "a_b", "a_b_", "a_b_2", "x"]
    assert len(set(got)) == len(got)
    assert all(g.isidentifier() and not keyword.iskeyword(g) for g in got)
    assert not set(got) & SCRIPT_NAMES


def test_every_pool_task_function_is_a_name_the_script_keeps_for_itself():
    """A process called `add` would otherwise be `def add(tally)` beside the
    pool's task function `def add(a, b)`, and the last one would win."""
    from ipcplay.export.pool import FUNCTIONS

    assert set(FUNCTIONS) <= SCRIPT_NAMES
    assert {"ARGS", "died", "pool_init"} <= SCRIPT_NAMES


def _scenario_strategy():
    """The valid-scenario strategy of the loader's property tests, loaded from
    its file (test folders are not packages)."""
    path = Path(__file__).resolve().parents[1] / "scenario" / "test_properties.py"
    spec = importlib.util.spec_from_file_location("_scenario_properties", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.scenarios()


@pytest.mark.timeout(150)  # up to 60 scenarios, each exported and parsed
@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(scenario=_scenario_strategy())
def test_any_valid_scenario_exports_to_a_stdlib_script_that_compiles(scenario):
    source = to_python(scenario)
    compile(source, "generated.py", "exec")
    assert imported_modules(source) <= set(sys.stdlib_module_names)
    assert all(ch == "\n" or ch.isprintable() for ch in source)
