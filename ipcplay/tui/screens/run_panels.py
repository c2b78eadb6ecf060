"""The run screen's panels: which to show for a scenario, and each found once."""

from __future__ import annotations

from dataclasses import dataclass

from textual.screen import Screen
from textual.widgets import TabbedContent

from ipcplay.scenario import kinds
from ipcplay.scenario.model import Scenario
from ipcplay.tui.widgets.channels import ChannelPanel
from ipcplay.tui.widgets.events import EventLog
from ipcplay.tui.widgets.flow import FlowView
from ipcplay.tui.widgets.processes import ProcessPanel
from ipcplay.tui.widgets.shared import SharedPanel
from ipcplay.tui.widgets.status import Banner
from ipcplay.tui.widgets.waits import WaitGraph


@dataclass(frozen=True)
class Shown:
    """What a scenario has, so what the screen shows: a scenario of only shared
    objects has no diagram; one without them, no shared panel."""

    pipes: set[str]  # the event log says send/recv for these, put/get for the rest
    conditions: set[str]  # ... and notify/wait words for these
    diagram: bool
    shared: bool
    managers: bool

    @classmethod
    def of(cls, scenario: Scenario) -> Shown:
        return cls(
            pipes={c.name for c in scenario.channels if kinds.channel_has(c.kind, "pipe_like")},
            conditions={o.name for o in scenario.shared if o.kind == "Condition"},
            diagram=bool(scenario.channels),
            shared=bool(scenario.shared),
            managers=any(kinds.channel_has(c.kind, "manager") for c in scenario.channels)
            or any(kinds.shared_has(o.kind, "manager") for o in scenario.shared),
        )


@dataclass(frozen=True)
class Panels:
    """The panels a snapshot updates, found once: a query walks the DOM, and
    the screen applies a snapshot ten times a second."""

    flow: FlowView
    channels: ChannelPanel
    shared: SharedPanel
    processes: ProcessPanel
    events: EventLog
    waits: WaitGraph
    banner: Banner
    tabs: TabbedContent

    @classmethod
    def find(cls, screen: Screen) -> Panels:
        query = screen.query_one
        return cls(
            query(FlowView),
            query(ChannelPanel),
            query(SharedPanel),
            query(ProcessPanel),
            query(EventLog),
            query(WaitGraph),
            query(Banner),
            query("#bottom", TabbedContent),
        )
