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
    out: list[Instance] = []
    for spec in scenario.processes:
        n = replicas(spec)
        for r in range(1, n + 1):
            name = spec.name if n == 1 else f"{spec.name}-{r}"
            out.append(Instance(len(out), name, spec, r))
    return tuple(out)


def journal_capacity(events: int) -> int:
    """Round up to a power of two (the ring indexes with a mask); 0 stays off."""
    if events <= 0:
        return 0
    cap = 1
    while cap < events:
        cap <<= 1
    return cap


def build(
    scenario: Scenario,
    *,
    journal_events: int = 0,
    quiet: bool = True,
    observer_pid: int | None = None,
    previews: bool = True,
) -> tuple[B.Layout, tuple[Instance, ...], tuple[ChildPlan, ...]]:
    insts = instances(scenario)
    chan_index = {c.name: i for i, c in enumerate(scenario.channels)}
    regions = pool_regions(insts)
    layout = B.Layout(
        len(insts),
        len(scenario.channels),
        journal_capacity(journal_events),
        len(scenario.shared),
        sum(regions.values()),
        previews=previews and journal_events > 0,  # a message's content beside its event
    )
    pool_at: dict[int, int] = {}
    at = layout.pool_base
    for p, size in regions.items():
        pool_at[p], at = at, at + size
    shared_index = {o.name: i for i, o in enumerate(scenario.shared)}
    by_name_w, by_name_r = writers_of(scenario, insts), readers_of(scenario, insts)
    writers = {chan_index[n]: v for n, v in by_name_w.items()}
    readers = {chan_index[n]: v for n, v in by_name_r.items()}

    def pill_writers(c: int, me: int) -> list[int]:
        return [w for w in writers[c] if w != me and "poison-pill" in insts[w].spec.ending]

    plans = []
    for inst in insts:
        spec = inst.spec
        used = list(dict.fromkeys((*spec.inputs, *spec.outputs)))
        endpoints = []
        for name in used:
            c = chan_index[name]
            ch = scenario.channels[c]
            other_w = [w for w in writers[c] if w != inst.index]
            other_r = [r for r in readers[c] if r != inst.index]
            # The counter hints need exactly one peer counter to read: one
            # writer for what we read, one reader for what we write.
            if ch.kind == "Pipe":
                # A pipe end talks to the other end only: its peer is the other process.
                peer_out, peer_in = other_w, other_r
                recv_hint = len(peer_out) == 1
                send_hint = len(peer_in) == 1
            else:
                peer_out, peer_in = writers[c], readers[c]
                recv_hint = len(readers[c]) == 1 and len(writers[c]) == 1
                send_hint = len(writers[c]) == 1 and len(readers[c]) == 1
            endpoints.append(
                Endpoint(
                    chan=c,
                    name=name,
                    kind=ch.kind,
                    maxsize=ch.maxsize,
                    reads=name in spec.inputs,
                    writes=name in spec.outputs,
                    peer_out=tuple(layout.chan(w, c) + B.OUT_N for w in peer_out),
                    peer_in_bytes=tuple(layout.chan(r, c) + B.IN_BYTES for r in peer_in),
                    recv_hint=recv_hint,
                    send_hint=send_hint,
                )
            )
        pos = {name: i for i, name in enumerate(used)}
        outputs = tuple(pos[n] for n in spec.outputs)
        pills_to_send = tuple(
            len([r for r in readers[chan_index[n]] if r != inst.index]) for n in spec.outputs
        )
        needed = 1
        if spec.inputs:
            needed = max(1, len(pill_writers(chan_index[spec.inputs[0]], inst.index)))
        plans.append(
            ChildPlan(
                proc=inst.index,
                name=inst.name,
                spec=spec,
                replica=inst.replica,
                layout=layout,
                endpoints=tuple(endpoints),
                inputs=tuple(pos[n] for n in spec.inputs),
                outputs=outputs,
                pills_to_send=pills_to_send,
                pills_needed=needed,
                observer_pid=observer_pid if observer_pid is not None else os.getpid(),
                seed=scenario.seed * 1_000_003 + inst.index,
                quiet=quiet,
                shared=tuple(
                    SharedEndpoint(
                        index=shared_index[n],
                        code=len(scenario.channels) + shared_index[n],
                        name=n,
                        kind=scenario.shared[shared_index[n]].kind,
                    )
                    for n in spec.shared_used
                ),
                join_first=tuple(i.index for i in insts if i.spec.name in spec.join_first),
                join_last=tuple(i.index for i in insts if i.spec.name in spec.join_last),
                pool_at=pool_at.get(inst.index, -1),
                start_method=scenario.start_method,
            )
        )
    return layout, insts, tuple(plans)


def pool_regions(insts: tuple[Instance, ...]) -> dict[int, int]:
    """Board slots each pool process needs, by instance index (see engine/pool_layout.py)."""
    return {i.index: region_size(i.spec.pool) for i in insts if i.spec.pool is not None}


def _users(scenario: Scenario, insts: tuple[Instance, ...], side: str) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {c.name: [] for c in scenario.channels}
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
    out: dict[str, list[int]] = {o.name: [] for o in scenario.shared}
    for inst in insts:
        for name in inst.spec.shared_used:
            out[name].append(inst.index)
    return out


def step_users(scenario: Scenario, insts: tuple[Instance, ...], op: str) -> dict[str, list[int]]:
    """Instance indices that have a step `op` (say "set" or "wait") on each shared object."""
    out: dict[str, list[int]] = {o.name: [] for o in scenario.shared}
    for inst in insts:
        for name in dict.fromkeys(s.target for s in inst.spec.steps if s.op == op):
            out[name].append(inst.index)
    return out
