"""Every place that shows a channel's kind shows the kinds table's one label."""

from __future__ import annotations

import pytest

from ipcplay.scenario.entries import Draft, Entry
from ipcplay.tui.screens.composer import _row
from ipcplay.tui.widgets.composer_diagram import topology


@pytest.mark.parametrize(
    ("values", "label"),
    [
        ({"kind": "Queue", "maxsize": "3"}, "Queue(3)"),
        ({"kind": "JoinableQueue", "maxsize": "5"}, "JoinableQueue(5)"),
        ({"kind": "ManagerQueue", "maxsize": "2"}, "ManagerQueue(2)"),  # its list lost the bound
        ({"kind": "SimpleQueue", "maxsize": "4"}, "SimpleQueue"),  # takes no maxsize
        ({"kind": "Pipe", "duplex": False}, "Pipe(one-way)"),
    ],
)
def test_composer_list_and_diagram_say_the_same_label(values: dict, label: str) -> None:
    channel = Entry(1, "channel", {"name": "q", **values})
    draft = Draft(channels=(channel,), next_uid=2)
    row = _row(channel, draft, bad=False).plain
    assert row.split()[-1] == label
    assert f"q · {label}" in topology(draft).plain
