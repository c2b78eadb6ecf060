"""What every role emitter shares while one script is written.

An `Emitter` carries the scenario and its topology into each emitter, and
collects what the emitted code used (`needs`: helpers and imports for the
script to include; `constants`: module-level lines for long payloads), so the
script only writes what it uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ipcplay.export.topology import Channel, Topology
from ipcplay.scenario.model import Scenario


@dataclass
class Emitter:
    """What every role emitter needs, and what the emitted code used (`needs`:
    helpers and imports for the script to include)."""

    scenario: Scenario
    topo: Topology
    needs: set[str] = field(default_factory=set)
    constants: list[str] = field(default_factory=list)  # module-level, for long payloads

    @property
    def endless(self) -> bool:
        return self.scenario.endless

    @property
    def fork_closes(self) -> bool:
        return self.scenario.start_method == "fork" and any(
            channel.paired_ends for channel in self.topo.channels.values()
        )

    def chan(self, name: str) -> Channel:
        return self.topo.channels[name]
