"""The layers hold: the import-linter contracts in pyproject.toml, run as a test.

Why a test and not only a CI step: a new import that crosses a layer (the
engine reaching up into the observer or the TUI, a child-side module importing
the sampler, a cycle hidden in a function body) fails here, where every
change is tested. grimp, under import-linter, reads every import statement,
inside functions and `if TYPE_CHECKING:` blocks too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parent.parent
# `lint-imports`, run by this interpreter: the console script may not be on PATH.
LINT = (
    "import sys; from importlinter.cli import lint_imports_command; "
    "sys.exit(lint_imports_command())"
)


def test_every_import_linter_contract_is_kept():
    r = subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert ", 0 broken." in r.stdout, r.stdout


def _engine_cycles() -> list[tuple[str, str]]:
    graph = grimp.build_graph("ipcplay")
    engine = sorted(m for m in graph.modules if m.startswith("ipcplay.engine."))
    return [
        (a, b)
        for a in engine
        for b in engine
        if a < b and graph.chain_exists(a, b) and graph.chain_exists(b, a)
    ]


def test_no_two_engine_modules_import_each_other_even_inside_functions():
    """The same promise as the acyclic contract, said as pairs a reader can
    follow: before the split, channels, child, manager, plan, pool, primitives
    and roles all reached each other, held apart by imports in function bodies."""
    assert _engine_cycles() == []


def test_the_child_side_never_reaches_the_observer_side():
    """What runs in a scenario's process must not drag in the sampler, psutil's
    users or the scenario loader: a child imports only what it runs."""
    graph = grimp.build_graph("ipcplay")
    for child_side in ("ipcplay.engine.child", "ipcplay.engine.pool_worker"):
        reached = graph.find_upstream_modules(child_side)
        for observer in (
            "ipcplay.engine.supervisor",
            "ipcplay.engine.sampler",
            "ipcplay.engine.pool_watch",
            "ipcplay.engine.manager_watch",
            "ipcplay.engine.snapshot",
            "ipcplay.scenario.loader",
        ):
            assert observer not in reached, f"{child_side} reaches {observer}"
