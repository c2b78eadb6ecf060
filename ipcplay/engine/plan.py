"""The plan: a scenario resolved into numbered process instances and endpoints.

Everything a child needs is computed here, once, in the observer, so a child
only reads its frozen `ChildPlan`: no scenario logic runs on the hot side.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ipcplay.engine import board as B
from ipcplay.engine.endpoints import Endpoint, SharedEndpoint
from ipcplay.engine.pool_layout import region_size
from ipcplay.scenario.kinds import channel_kind
from ipcplay.scenario.model import ProcessSpec, Scenario


@dataclass(frozen=True)
class Instance:
    """One real process: a template's replica."""

    index: int
    name: str
    spec: ProcessSpec
    replica: int  # 1-based


@dataclass(frozen=True)
class ChildPlan:
    """Everything one child needs; frozen and picklable for spawn."""

    proc: int
    name: str
    spec: ProcessSpec
    replica: int
    layout: B.Layout
    endpoints: tuple[Endpoint, ...]
    inputs: tuple[int, ...]  # indices into endpoints, in spec.inputs order
    outputs: tuple[int, ...]
    pills_to_send: tuple[int, ...]  # per output
    pills_needed: int
    observer_pid: int
    seed: int
    quiet: bool
    shared: tuple[SharedEndpoint, ...] = ()  # the shared objects its steps use
    join_first: tuple[int, ...] = ()  # instance indices to wait for before the first item
    join_last: tuple[int, ...] = ()  # ... and after the last
    pool_at: int = -1  # role "pool": where its region begins on the board
    start_method: str = ""  # the scenario's; a pool starts its workers with it


def replicas(spec: ProcessSpec) -> int:
    """The loader has already resolved `cpu_count` for this machine."""
    return spec.replicas


def instances(scenario: Scenario) -> tuple[Instance, ...]:
    """Every process of the scenario, a template's replicas named NAME-1, NAME-2..."""
    out: list[Instance] = []
    for spec in scenario.processes:
        count = replicas(spec)
        for replica in range(1, count + 1):
            name = spec.name if count == 1 else f"{spec.name}-{replica}"
            out.append(Instance(len(out), name, spec, replica))
    return tuple(out)


def journal_capacity(events: int) -> int:
    """Round up to a power of two (the ring indexes with a mask); 0 stays off."""
    if events <= 0:
        return 0
    cap = 1
    while cap < events:
        cap <<= 1
    return cap


@dataclass(frozen=True)
class _Wiring:
    """Who writes and who reads each channel, by channel index, with the board
    slots of a scenario: what every process's endpoints are worked out from."""

    scenario: Scenario
    insts: tuple[Instance, ...]
    layout: B.Layout
    chan_index: dict[str, int]
    writers: dict[int, list[int]]
    readers: dict[int, list[int]]

    @classmethod
    def of(cls, scenario: Scenario, insts: tuple[Instance, ...], layout: B.Layout) -> _Wiring:
        chan_index = {channel.name: position for position, channel in enumerate(scenario.channels)}
        by_name_writers, by_name_readers = writers_of(scenario, insts), readers_of(scenario, insts)
        return cls(
            scenario,
            insts,
            layout,
            chan_index,
            {chan_index[name]: procs for name, procs in by_name_writers.items()},
            {chan_index[name]: procs for name, procs in by_name_readers.items()},
        )

    def endpoint(self, inst: Instance, name: str) -> Endpoint:
        """How `inst` uses channel `name`, with the peer counters it may read."""
        chan = self.chan_index[name]
        channel = self.scenario.channels[chan]
        writers, readers = self.writers[chan], self.readers[chan]
        # The counter hints need exactly one peer counter to read: one
        # writer for what we read, one reader for what we write.
        if channel_kind(channel.kind).pipe_like:
            # A pipe end talks to the other end only: its peer is the other process.
            peer_out = [writer for writer in writers if writer != inst.index]
            peer_in = [reader for reader in readers if reader != inst.index]
            recv_hint = len(peer_out) == 1
            send_hint = len(peer_in) == 1
        else:
            peer_out, peer_in = writers, readers
            recv_hint = send_hint = len(readers) == 1 and len(writers) == 1
        layout = self.layout
        return Endpoint(
            chan=chan,
            name=name,
            kind=channel.kind,
            maxsize=channel.maxsize,
            reads=name in inst.spec.inputs,
            writes=name in inst.spec.outputs,
            peer_out=tuple(layout.chan(writer, chan) + B.OUT_N for writer in peer_out),
            peer_in_bytes=tuple(layout.chan(reader, chan) + B.IN_BYTES for reader in peer_in),
            recv_hint=recv_hint,
            send_hint=send_hint,
        )

    def pills_to_send(self, inst: Instance) -> tuple[int, ...]:
        """Per output, one poison pill for each of its other readers."""
        return tuple(
            len([reader for reader in self.readers[self.chan_index[name]] if reader != inst.index])
            for name in inst.spec.outputs
        )

    def pills_needed(self, inst: Instance) -> int:
        """How many pills end this reader: one from each other writer of its
        first input that sends them, at least one."""
        spec = inst.spec
        if not spec.inputs:
            return 1
        writers = self.writers[self.chan_index[spec.inputs[0]]]
        senders = [
            writer
            for writer in writers
            if writer != inst.index and "poison-pill" in self.insts[writer].spec.ending
        ]
        return max(1, len(senders))

    def shared_endpoints(self, inst: Instance) -> tuple[SharedEndpoint, ...]:
        shared = self.scenario.shared
        index = {obj.name: position for position, obj in enumerate(shared)}
        return tuple(
            SharedEndpoint(
                index=index[name],
                code=len(self.scenario.channels) + index[name],
                name=name,
                kind=shared[index[name]].kind,
            )
            for name in inst.spec.shared_used
        )


def _pool_offsets(layout: B.Layout, regions: dict[int, int]) -> dict[int, int]:
    """Where each pool process's region begins on the board, by instance index."""
    pool_at: dict[int, int] = {}
    at = layout.pool_base
    for proc, size in regions.items():
        pool_at[proc], at = at, at + size
    return pool_at


def build(
    scenario: Scenario,
    *,
    journal_events: int = 0,
    quiet: bool = True,
    observer_pid: int | None = None,
    previews: bool = True,
) -> tuple[B.Layout, tuple[Instance, ...], tuple[ChildPlan, ...]]:
    """The board's layout, every process instance, and each one's ChildPlan."""
    insts = instances(scenario)
    regions = pool_regions(insts)
    layout = B.Layout(
        len(insts),
        len(scenario.channels),
        journal_capacity(journal_events),
        len(scenario.shared),
        sum(regions.values()),
        previews=previews and journal_events > 0,  # a message's content beside its event
    )
    pool_at = _pool_offsets(layout, regions)
    wiring = _Wiring.of(scenario, insts, layout)
    observer = observer_pid if observer_pid is not None else os.getpid()
    plans = []
    for inst in insts:
        spec = inst.spec
        used = list(dict.fromkeys((*spec.inputs, *spec.outputs)))
        position = {name: other for other, name in enumerate(used)}
        plans.append(
            ChildPlan(
                proc=inst.index,
                name=inst.name,
                spec=spec,
                replica=inst.replica,
                layout=layout,
                endpoints=tuple(wiring.endpoint(inst, name) for name in used),
                inputs=tuple(position[name] for name in spec.inputs),
                outputs=tuple(position[name] for name in spec.outputs),
                pills_to_send=wiring.pills_to_send(inst),
                pills_needed=wiring.pills_needed(inst),
                observer_pid=observer,
                seed=scenario.seed * 1_000_003 + inst.index,
                quiet=quiet,
                shared=wiring.shared_endpoints(inst),
                join_first=tuple(
                    other.index for other in insts if other.spec.name in spec.join_first
                ),
                join_last=tuple(
                    other.index for other in insts if other.spec.name in spec.join_last
                ),
                pool_at=pool_at.get(inst.index, -1),
                start_method=scenario.start_method,
            )
        )
    return layout, insts, tuple(plans)


def pool_regions(insts: tuple[Instance, ...]) -> dict[int, int]:
    """Board slots each pool process needs, by instance index (see engine/pool_layout.py)."""
    return {inst.index: region_size(inst.spec.pool) for inst in insts if inst.spec.pool is not None}


def _users(scenario: Scenario, insts: tuple[Instance, ...], side: str) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {channel.name: [] for channel in scenario.channels}
    for inst in insts:
        for name in getattr(inst.spec, side):
            out[name].append(inst.index)
    return out


def writers_of(scenario: Scenario, insts: tuple[Instance, ...]) -> dict[str, list[int]]:
    """Instance indices that write each channel, by channel name."""
    return _users(scenario, insts, "outputs")


def readers_of(scenario: Scenario, insts: tuple[Instance, ...]) -> dict[str, list[int]]:
    """Instance indices that read each channel, by channel name."""
    return _users(scenario, insts, "inputs")


def shared_users(scenario: Scenario, insts: tuple[Instance, ...]) -> dict[str, list[int]]:
    """Instance indices whose steps use each shared object, by name."""
    out: dict[str, list[int]] = {obj.name: [] for obj in scenario.shared}
    for inst in insts:
        for name in inst.spec.shared_used:
            out[name].append(inst.index)
    return out


def step_users(scenario: Scenario, insts: tuple[Instance, ...], op: str) -> dict[str, list[int]]:
    """Instance indices that have a step `op` (say "set" or "wait") on each shared object."""
    out: dict[str, list[int]] = {obj.name: [] for obj in scenario.shared}
    for inst in insts:
        for name in dict.fromkeys(step.target for step in inst.spec.steps if step.op == op):
            out[name].append(inst.index)
    return out
