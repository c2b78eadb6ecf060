"""What one sample works with: the tick's figures, and rates over time.

The sampler's parts (sampler_channels, sampler_shared, sampler_procs) each
take the `Tick` being built instead of a dozen parameters: what the board
said this time, what is alive, and what the parts have worked out so far
(depths, the wait-for graph, the time blocked calls have been waiting).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ipcplay.engine import board as B
from ipcplay.engine.stuck import Wait


@dataclass
class Tick:
    """One sample's state: made at the start of `Sampler.sample`, dropped at its end.

    Mutable on purpose, and never shared with another thread: the parts of
    the sampler fill `waits` and the ongoing blocked times as they explain
    each process's wait."""

    now: float  # monotonic seconds
    vals: list[list[int]]  # each process's counter slots, copied once (see Sampler._read)
    alive: list[bool] = field(default_factory=list)
    exitcodes: list[int | None] = field(default_factory=list)
    sums: list[list[int]] = field(default_factory=list)  # per channel, its slots summed
    depths: list[int] = field(default_factory=list)  # per channel, clamped to what it can hold
    ongoing_out: list[float] = field(default_factory=list)  # per channel: s blocked in put now
    ongoing_in: list[float] = field(default_factory=list)  # ... in get now
    waits: dict[int, Wait] = field(default_factory=dict)  # the wait-for graph, by process
    inside: dict[int, list[int]] = field(default_factory=dict)  # shared index -> waiting now
    shifts: dict[int, float] = field(default_factory=dict)  # per process: stopped time (stops.py)

    def since(self, p: int) -> float:
        """When p's current wait began (monotonic s), later by the time ipcplay
        has kept it stopped inside that wait (stops.py)."""
        return self.vals[p][B.P_SINCE] / 1e9 + self.shifts.get(p, 0.0)


class Windowed:
    """Rates over tumbling windows of about a second, per key.

    A rate over one 100 ms sample is mostly noise (cpu time comes in 10 ms
    ticks; messages in bursts) and its digits change every tick; a rate per
    second is what a reader can take in, and it changes once a second.
    """

    def __init__(self, span: float = 1.0) -> None:
        self.span = span
        self._start: dict[object, tuple[float, float]] = {}
        self._rate: dict[object, float] = {}

    def __call__(self, key: object, now: float, value: float) -> float:
        start = self._start.get(key)
        if start is None:
            self._start[key] = (now, value)
            return 0.0
        t0, v0 = start
        dt = now - t0
        if dt >= self.span or (key not in self._rate and dt >= 0.25):
            self._rate[key] = max(0.0, (value - v0) / dt)
            if dt >= self.span:
                self._start[key] = (now, value)
        return self._rate.get(key, 0.0)
