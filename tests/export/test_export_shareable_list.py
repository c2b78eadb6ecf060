"""shareable-list exported: the plain script makes the same ShareableList, its
boss dies of the same ValueError, it prints the items the engine's report
holds, and it unlinks the block itself."""

from __future__ import annotations

import ast

import pytest
from conftest import PRESETS
from export_runs import both

from ipcplay.export import to_python
from ipcplay.scenario import load


@pytest.mark.timeout(90)
def test_the_script_ends_with_the_engines_items_and_crashes_the_same_process(tmp_path):
    script = tmp_path / "shareable_list.py"
    script.write_text(to_python(load(PRESETS / "shareable-list.toml")), encoding="utf-8")
    ran, report = both(script, "shareable-list")
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "ValueError: bytes/str item exceeds available storage" in ran.stderr
    board = next(o for o in report["shared"] if o["name"] == "board")
    printed = next(line for line in ran.stdout.splitlines() if line.startswith("shared board:"))
    assert ast.literal_eval(printed.removeprefix("shared board: value=")) == board["value"]
    assert board["value"] == ["done", "done", "all done", 2]
    assert "boss: read ['done', 'done', 'waiting', 0] from board" in ran.stdout


def test_the_script_makes_and_unlinks_the_list_itself():
    source = to_python(load(PRESETS / "shareable-list.toml"))
    assert 'board = shared_memory.ShareableList(["idle", "idle", "waiting", 0])' in source
    assert "    board.shm.close()\n    board.shm.unlink()" in source
    assert '        board[0] = "busy"\n' in source
