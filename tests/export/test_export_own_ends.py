"""A pipe-like kind that no process inherits, exported from its kinds-table
entry alone: main() makes one value with its `make`, each process opens its
own end with its `opens` line, and no Pipe ends are made or closed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import PRESETS

from ipcplay.export import to_python
from ipcplay.scenario import kinds, load


def test_a_kind_whose_processes_open_their_own_ends_is_handed_one_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = kinds.ChannelKind(
        "Socket",
        pipe_like=True,
        make="(SOCKET_ADDRESS, b'key')",
        make_note="what each process opens its end with",
        opens=("{var} = serve({var})  # listens", "{var} = reach({var})  # connects"),
        helpers=("receive",),
        imports=("import os", "from multiprocessing.connection import Client, Listener"),
    )
    monkeypatch.setitem(kinds.CHANNEL_BY_NAME, entry.name, entry)
    scenario = load(PRESETS / "pipe-ping-pong.toml")
    link = replace(scenario.channels[0], kind="Socket")
    source = to_python(replace(scenario, channels=(link,), start_method="fork"))
    compile(source, "exported.py", "exec")
    assert "link = (SOCKET_ADDRESS, b'key')  # what each process opens its end with" in source
    assert "    link = serve(link)  # listens\n" in source  # the pinger: first in the file
    assert "    link = reach(link)  # connects\n" in source  # the ponger
    assert "args=(link, tallies[name])" in source  # one value for both, not an end each
    assert "ctx.Pipe(" not in source and "pipe_ends" not in source  # nothing inherited to close
    assert "link.send(" in source and "link.recv()" in source  # used as a pipe end
    assert "import os\n" in source
    assert "from multiprocessing.connection import Client, Listener\n" in source
    assert "def receive(" in source  # a helper the kind names
