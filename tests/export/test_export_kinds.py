"""The export reads the kinds table (scenario/kinds.py), not kind names of its
own: a kind that exists only as a table entry is exported from that entry, with
no edit under export/. Here each test adds one to the table for its duration."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import PRESETS

from ipcplay.export import to_python
from ipcplay.scenario import kinds, load


def test_a_queue_kind_in_the_table_alone_is_made_drained_and_timed_out_as_a_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = kinds.ChannelKind(
        "LifoQueue",
        keys=("maxsize",),
        bounded=True,
        make="ctx.LifoQueue({maxsize})  # {queue_note}",
    )
    monkeypatch.setitem(kinds.CHANNEL_BY_NAME, entry.name, entry)
    scenario = load(PRESETS / "bounded-queue.toml")
    channel = replace(scenario.channels[0], kind="LifoQueue")
    source = to_python(replace(scenario, channels=(channel,)))
    compile(source, "exported.py", "exec")
    assert "queue = ctx.LifoQueue(3)  # bounded: put() blocks while it holds 3 items" in source
    assert "blocks while queue holds 3 items: back pressure" in source  # put() on a bounded kind
    assert '"queue": drain(queue)' in source  # a kind with get(timeout=...) is drained
    assert "from queue import Empty" in source


def test_a_shared_kind_in_the_table_alone_is_made_shown_and_released(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = kinds.SharedKind(
        "ShareableList",
        keys=("values",),
        make="shared_memory.ShareableList({values})",
        show="list({var})",
        release=("{var}.shm.close()", "{var}.shm.unlink()"),
    )
    monkeypatch.setitem(kinds.SHARED_BY_NAME, entry.name, entry)
    scenario = load(PRESETS / "seed003-manager-list.toml")
    shared = replace(scenario.shared[0], kind="ShareableList")
    processes = tuple(replace(p, steps=()) for p in scenario.processes)
    source = to_python(replace(scenario, shared=(shared,), processes=processes))
    compile(source, "exported.py", "exec")
    var = shared.name.replace("-", "_")
    assert "from multiprocessing import shared_memory" in source  # its make uses the module
    assert f"{var} = shared_memory.ShareableList([" in source
    assert f'print(f"shared {shared.name}: value={{list({var})}}")' in source
    assert f"    {var}.shm.close()\n    {var}.shm.unlink()\n" in source
    assert "man = ctx.Manager()" not in source  # not a Manager kind: no server process
