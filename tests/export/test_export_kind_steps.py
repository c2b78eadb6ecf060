"""A step on a shared kind that exists only as a kinds-table entry is exported
from that entry: a read prints what its `show` shows, and only a Manager's
object says a setitem is a call to its server. The table gets the entry for
each test's duration, as in test_export_kinds.py."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import PRESETS

from ipcplay.export import to_python
from ipcplay.scenario import kinds, load
from ipcplay.scenario.model import Step


def _exported(monkeypatch: pytest.MonkeyPatch, entry: kinds.SharedKind) -> str:
    monkeypatch.setitem(kinds.SHARED_BY_NAME, entry.name, entry)
    scenario = load(PRESETS / "seed003-manager-list.toml")
    shared = replace(scenario.shared[0], kind=entry.name)
    steps = (
        Step(op="setitem", target=shared.name, key=0, item="busy"),
        Step(op="read", target=shared.name),
    )
    processes = tuple(replace(p, steps=steps) for p in scenario.processes)
    source = to_python(replace(scenario, shared=(shared,), processes=processes))
    compile(source, "exported.py", "exec")
    return source


def test_a_read_prints_what_the_kind_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = kinds.SharedKind(
        "FixedList",
        keys=("values",),
        steps=("on", "read"),
        manager_steps=("setitem",),
        make="shared_memory.ShareableList({values})",
        show="list({var})",
    )
    source = _exported(monkeypatch, entry)
    var = load(PRESETS / "seed003-manager-list.toml").shared[0].name
    assert f'print(f"{{me}}: read {{list({var})}} from {var}", flush=True)' in source
    assert f'    {var}[0] = "busy"\n' in source  # in shared memory: no server to call


def test_a_setitem_on_a_managers_object_is_a_call_to_its_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = replace(kinds.SHARED_BY_NAME["ManagerList"], name="OtherList")
    source = _exported(monkeypatch, entry)
    var = load(PRESETS / "seed003-manager-list.toml").shared[0].name
    assert f'{var}[0] = "busy"  # one call to the manager\'s server process' in source
