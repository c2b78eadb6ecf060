"""The observer tells a pipe by what its maker registered, not by the name
"Pipe": a pipe-like channel (two ends, send/recv) registers itself as one."""

from __future__ import annotations

from ipcplay.engine import Engine
from ipcplay.engine.registry import ObjectInfo, Registry
from ipcplay.scenario import load, resolve


def test_the_pipe_like_flag_reads_back() -> None:
    registry = Registry.create(processes=1, objects=2)
    registry.register_object("channel", 0, "Socket", "link", duplex=True, pipe_like=True)
    registry.register_object("channel", 1, "Queue", "jobs")
    assert registry.read().channels == (
        ObjectInfo("channel", 0, "Socket", "link", duplex=True, pipe_like=True),
        ObjectInfo("channel", 1, "Queue", "jobs"),
    )


def test_a_pipe_run_registers_its_pipe_as_pipe_like() -> None:
    scenario = load(resolve("pipe-ping-pong"))
    engine = Engine(scenario, sample_hz=5)
    try:
        outcome = engine.run(duration=15)
    finally:
        engine.shutdown()
    assert outcome.verdict == "completed"
    assert engine.registry is not None
    (link,) = engine.registry.read().channels
    assert (link.kind, link.duplex, link.pipe_like) == ("Pipe", True, True)
    # What the sampler works out for a pipe-like channel: each direction's traffic.
    ways = {(d.src, d.dst): d.received for d in outcome.snapshot.channels[0].directions}
    assert ways == {("pinger", "ponger"): 20, ("ponger", "pinger"): 20}
