"""The real objects of one run: made, registered, handed out, drained, closed.

This is where a scenario's channels and shared objects become real
`multiprocessing` objects, and where each one says it exists: one
`Registry.register_object` call per object as it is constructed, and one
`register_process` per process as its parent starts it. The observer learns
the topology from that registry (engine/registry.py), never from the
scenario, which only this side of the engine reads.
"""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Callable
from typing import Any

from ipcplay.engine.channels import OWN_ENDS
from ipcplay.engine.manager_watch import Managers
from ipcplay.engine.plan import ChildPlan, Instance
from ipcplay.engine.primitives import close_shared, create_block
from ipcplay.engine.primitives import make as make_shared
from ipcplay.engine.registry import Registry
from ipcplay.scenario import kinds
from ipcplay.scenario.model import CHANNEL_OPS, MANAGER_KINDS, ChannelSpec, Scenario, SharedSpec


def new_registry(scenario: Scenario, instances: tuple[Instance, ...]) -> Registry:
    """A registry with room for every process, object and wait predicate."""
    notes = sum(len(_wait_predicates(i.spec.steps)) for i in instances)
    return Registry.create(
        len(instances), len(scenario.channels) + len(scenario.shared), notes=notes
    )


# How the observer makes each queue-like channel kind (a Manager's queue comes
# from its server, a pipe-like kind's ends from ctx.Pipe): one entry per kind.
QUEUE_MAKERS: dict[str, Callable[[Any, ChannelSpec], Any]] = {
    "Queue": lambda ctx, spec: ctx.Queue(spec.maxsize),
    "JoinableQueue": lambda ctx, spec: ctx.JoinableQueue(spec.maxsize),
    "SimpleQueue": lambda ctx, spec: ctx.SimpleQueue(),
}


class RunObjects:
    """The channels and shared objects of one run, by their index in the scenario."""

    def __init__(
        self, scenario: Scenario, ctx: Any, registry: Registry, managers: Managers | None
    ) -> None:
        self.scenario = scenario
        self.ctx = ctx
        self.registry = registry
        self.managers = managers
        self.channels: list[Any] = []  # a Queue, or a Pipe's (a, b)
        self.shared: list[Any] = []
        self.pipe_ends: list[Any] = []
        self._ends: dict[tuple[int, int], Any] = {}  # (channel, process) -> its pipe end

    def create(self, instances: tuple[Instance, ...]) -> None:
        """Make every channel and shared object, each registering itself."""
        users: dict[int, list[Instance]] = {c: [] for c in range(len(self.scenario.channels))}
        index = {c.name: i for i, c in enumerate(self.scenario.channels)}
        for inst in instances:
            for name in dict.fromkeys((*inst.spec.inputs, *inst.spec.outputs)):
                users[index[name]].append(inst)
        for c, spec in enumerate(self.scenario.channels):
            self.channels.append(self._channel(c, spec, users[c]))
            self.registry.register_object(
                "channel",
                c,
                spec.kind,
                spec.name,
                maxsize=spec.maxsize,
                duplex=spec.duplex and kinds.channel_has(spec.kind, "pipe_like"),
                remote=spec.remote,
                reader_keeps_write_end=spec.reader_keeps_write_end,
                pipe_like=kinds.channel_has(spec.kind, "pipe_like"),
            )
        for s, spec in enumerate(self.scenario.shared):
            self.shared.append(self._shared(spec))
            self.registry.register_object(
                "shared",
                s,
                spec.kind,
                spec.name,
                remote=spec.kind in MANAGER_KINDS,
                is_float=spec.is_float,
                parties=spec.parties,
                size=spec.size,
                typecode=spec.typecode if spec.kind in ("Value", "Array") else "",
                initial=0 if spec.is_float else int(spec.value),
            )

    def _channel(self, c: int, spec: ChannelSpec, users: list[Instance]) -> Any:
        """A queue from its kind's maker; a Manager's from its server; for a
        kind whose processes open their own ends, what each is handed to open
        it (channels.OWN_ENDS); else a pipe-like kind's two ends, each handed
        to the process that uses it."""
        if kinds.channel_has(spec.kind, "manager"):
            assert self.managers is not None
            return self.managers.channel(spec.name)
        own_ends = OWN_ENDS.get(spec.kind)
        if own_ends is not None:  # each process opens its own end: it is handed how
            made = own_ends(spec.name, [inst.index for inst in users])
            self._ends.update({(c, proc): end for proc, end in made.ends.items()})
            return made
        if not kinds.channel_has(spec.kind, "pipe_like"):
            return QUEUE_MAKERS[spec.kind](self.ctx, spec)
        a, b = self.ctx.Pipe(spec.duplex)
        self.pipe_ends += [a, b]
        if spec.duplex:
            for inst, end in zip(users, (a, b), strict=False):
                self._ends[(c, inst.index)] = end
        else:  # Pipe(False) returns (reader, writer)
            for inst in users:
                self._ends[(c, inst.index)] = b if spec.name in inst.spec.outputs else a
        return (a, b)

    def _shared(self, spec: SharedSpec) -> Any:
        if spec.kind == "SharedMemory":
            return create_block(spec.size)
        if spec.kind in MANAGER_KINDS:
            assert self.managers is not None
            return self.managers.shared(spec.name)
        return make_shared(
            self.ctx, spec.kind, spec.typecode, spec.value, spec.values, spec.parties
        )

    def handed_to(
        self, plan: ChildPlan
    ) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]:
        """(handles, foreign, kept) for one child: its channel objects in its
        endpoints' order; under fork, every other pipe end, which it closes;
        and the write ends a reader marked reader_keeps_write_end keeps."""
        handles = tuple(
            self._ends[(ep.chan, plan.proc)]
            if kinds.channel_has(ep.kind, "pipe_like")
            else self.channels[ep.chan]
            for ep in plan.endpoints
        )
        # The reader of a Pipe marked reader_keeps_write_end also gets the
        # write end, and never closes it: the mistake being shown.
        kept = tuple(
            self.channels[ep.chan][1]
            for ep in plan.endpoints
            if ep.reads and self.scenario.channels[ep.chan].reader_keeps_write_end
        )
        foreign: tuple[Any, ...] = ()
        if self.scenario.start_method == "fork":
            mine = {id(h) for h in (*handles, *kept)}
            foreign = tuple(e for e in self.pipe_ends if id(e) not in mine)
        return handles, foreign, kept

    def close_pipe_ends(self) -> None:
        """The observer never uses a pipe end; holding them open would hide EOF."""
        for end in self.pipe_ends:
            end.close()

    def drain_leftovers(self) -> dict[str, int]:
        """Count what is really left in each queue by taking it out, after every
        child has exited cleanly: an independent check of the counted depth."""
        left: dict[str, int] = {}
        for spec, obj in zip(self.scenario.channels, self.channels, strict=True):
            if kinds.channel_has(spec.kind, "pipe_like"):
                continue
            if kinds.channel_has(spec.kind, "manager") and self.managers is not None:
                obj = self.managers.observer_queue(spec.name)
            left[spec.name] = _drain(obj, simple=spec.kind == "SimpleQueue")
        return left

    def close(self) -> None:
        """Close every channel; unlink shared-memory blocks (named semaphores,
        locks under spawn, are unlinked when collected)."""
        for obj in self.channels:
            if isinstance(obj, tuple):
                for end in obj:
                    end.close()
                continue
            with contextlib.suppress(Exception):
                obj.close()
            if hasattr(obj, "join_thread"):
                with contextlib.suppress(Exception):
                    obj.join_thread()
        self.channels = []
        for spec, obj in zip(self.scenario.shared, self.shared, strict=False):
            close_shared(spec.kind, obj)
        self.shared = []


def _drain(obj: Any, simple: bool) -> int:
    taken = 0
    if simple:
        while not obj.empty():
            obj.get()
            taken += 1
        return taken
    while True:
        try:
            obj.get(timeout=0.2)
        except queue.Empty:
            return taken
        taken += 1


def register_process(registry: Registry, plan: ChildPlan) -> None:
    """Say that a process exists and what it will do with each object, as
    its parent starts it: the facts the observer's wait-for graph needs."""
    spec = plan.spec
    registry.register_process(
        plan.proc,
        plan.name,
        spec.role,
        template=spec.name,
        replica=plan.replica,
        joined_after=spec.joined_after,
        pool=spec.pool is not None,
    )
    for ep in plan.endpoints:
        ops = (*(("reads",) if ep.reads else ()), *(("writes",) if ep.writes else ()))
        registry.declare_use(plan.proc, "channel", ep.chan, ops)
    index = {ep.name: ep.index for ep in plan.shared}
    ops_by_name: dict[str, set[str]] = {name: {"uses"} for name in index}
    for step in spec.steps:
        if step.op not in CHANNEL_OPS and step.target in ops_by_name:
            ops_by_name[step.target].add(step.op)
    for name, ops in ops_by_name.items():
        registry.declare_use(plan.proc, "shared", index[name], sorted(ops))
    for target, text in _wait_predicates(spec.steps).items():
        registry.add_note(plan.proc, "shared", index[target], text)


def _wait_predicates(steps: tuple[Any, ...]) -> dict[str, str]:
    """The predicate of each Condition's first wait_for step, in words."""
    out: dict[str, str] = {}
    for step in steps:
        if step.op == "wait_for" and step.target not in out:
            out[step.target] = f"until {step.other} >= {step.amount:g}"
    return out
