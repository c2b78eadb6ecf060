"""One wait, one figure: the Waits tab and the process panel agree."""

from __future__ import annotations

from types import SimpleNamespace

from ipcplay.engine.snapshot import BlockedOn, WaitEdge
from ipcplay.tui import format as F
from ipcplay.tui.widgets.waits import WaitGraph


def test_the_waits_tab_shows_the_figure_the_panel_shows_at_the_same_moment() -> None:
    """It was rebuilt once a second: 6.0 s beside the panel's 6.9 s."""
    since = 100.0
    edge = WaitEdge("reader", "get", "q", "queue empty", ("writer",), since)
    snap = SimpleNamespace(waits=(edge,))
    blocked = BlockedOn("get", "q", "queue empty", since, True)
    reader = SimpleNamespace(state="blocked", blocked=blocked)
    graph = WaitGraph()
    for now in (106.02, 106.9, 107.46):
        graph.update_snapshot(snap, now)  # type: ignore[arg-type]
        tab = "\n".join(line.plain for line in graph._lines)
        panel, _ = F.state_words(reader, now)  # type: ignore[arg-type]
        figure = panel.rsplit("for ", 1)[1]
        assert figure in tab, (figure, tab)
