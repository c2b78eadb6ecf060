"""Who talks to whom: the facts about a scenario the script has to get right.

How many poison pills a writer sends, how many a reader waits for, which end
of a Pipe each process holds: these decide the totals, so they come from the
engine's own plan (`instances`, `writers_of`, `readers_of`) and are computed
exactly as the engine computes them. Pure data in, pure data out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ipcplay.engine.plan import Instance, instances, readers_of, writers_of
from ipcplay.export.names import Namer
from ipcplay.scenario.kinds import CHANNEL_BY_NAME, ChannelKind
from ipcplay.scenario.model import ChannelSpec, ProcessSpec, Scenario


@dataclass(frozen=True)
class Channel:
    """A channel and its names in the script.

    `var` is the parameter a process function takes it by; `ends` are the two
    variables `Pipe()` is unpacked into in main() (empty for queues).
    """

    spec: ChannelSpec
    var: str
    ends: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def entry(self) -> ChannelKind:
        """Its kind's entry in the kinds table: what the export reads, not its name."""
        return CHANNEL_BY_NAME[self.spec.kind]

    @property
    def pipe_like(self) -> bool:
        """Two connected ends: send()/recv(), EOFError once the other end is closed."""
        return self.entry.pipe_like

    @property
    def paired_ends(self) -> bool:
        """Made in main() as two connected ends that the processes inherit
        (ctx.Pipe()): a pipe-like kind without a `make` of its own."""
        return self.entry.pipe_like and not self.entry.make

    @property
    def joinable(self) -> bool:
        return self.entry.joinable

    @property
    def timeouts(self) -> bool:
        """A queue.Queue-like kind (it takes a maxsize): get(timeout=...) raises
        Empty, put(timeout=...) raises Full, so it can be drained at the end."""
        return self.entry.bounded

    @property
    def bounded(self) -> bool:
        """Bounded here: its kind takes a maxsize and this one has one."""
        return self.entry.bounded and self.spec.maxsize > 0


@dataclass(frozen=True)
class Template:
    """A `[[process]]` table: one function in the script, `replicas` processes.

    `pills_to_send[k]` is how many pills a `poison-pill` ending puts on the
    k-th output (one per other reader of it); `pill_writers` is how many other
    processes will send pills on the input, so how many a reader waits for
    before it stops (the engine's `pills_needed`, 0 when nobody sends any).
    `pipe_ends` maps a Pipe's name to the main() variable of this process's
    end. `kept_ends` are the main() variables of write ends this reader is
    also handed and never closes (a Pipe with reader_keeps_write_end).
    """

    spec: ProcessSpec
    func: str
    names: tuple[str, ...]
    pills_to_send: tuple[int, ...]
    pill_writers: int
    pipe_ends: dict[str, str]
    kept_ends: tuple[str, ...] = ()

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels this process uses, inputs first, each once."""
        return tuple(dict.fromkeys((*self.spec.inputs, *self.spec.outputs)))


@dataclass(frozen=True)
class Topology:
    channels: dict[str, Channel]
    templates: tuple[Template, ...]
    shared: dict[str, str] = field(default_factory=dict)  # shared object name -> variable
    # A joined template's name -> the Event the parent sets once it has exited
    exited: dict[str, str] = field(default_factory=dict)


def build(
    scenario: Scenario, reserved: frozenset[str] = frozenset(), probe: bool = False
) -> Topology:
    """The script's variables for `scenario`; none is one of `reserved` (see Namer)."""
    namer = Namer(reserved, probe)
    processes = instances(scenario)
    writers = writers_of(scenario, processes)
    readers = readers_of(scenario, processes)

    # Functions are named first: a template's name is what a reader looks for.
    functions = {spec.name: namer.fresh(spec.name) for spec in scenario.processes}
    channels = {spec.name: _channel(spec, namer) for spec in scenario.channels}
    shared = {obj.name: namer.fresh(obj.name) for obj in scenario.shared}
    end_of = _pipe_ends(channels, processes)
    templates = []
    for spec in scenario.processes:
        mine = [process for process in processes if process.spec is spec]
        first = mine[0].index
        pills_to_send = tuple(
            len([reader for reader in readers[name] if reader != first]) for name in spec.outputs
        )
        pill_writers = 0
        if spec.inputs:
            pill_writers = len(
                [
                    writer
                    for writer in writers[spec.inputs[0]]
                    if writer != first and "poison-pill" in processes[writer].spec.ending
                ]
            )
        pipe_ends = {
            name: end_of[(name, first)]
            for name in dict.fromkeys((*spec.inputs, *spec.outputs))
            if channels[name].paired_ends
        }
        kept = tuple(
            channels[name].ends[1]
            for name in spec.inputs
            if channels[name].paired_ends and channels[name].spec.reader_keeps_write_end
        )
        templates.append(
            Template(
                spec=spec,
                func=functions[spec.name],
                names=tuple(process.name for process in mine),
                pills_to_send=pills_to_send,
                pill_writers=pill_writers,
                pipe_ends=pipe_ends,
                kept_ends=kept,
            )
        )
    joined = dict.fromkeys(
        name for process in scenario.processes for name in (*process.join_first, *process.join_last)
    )
    exited = {name: namer.fresh(name, "_exited") for name in joined}
    return Topology(channels, tuple(templates), shared, exited)


def _channel(spec: ChannelSpec, namer: Namer) -> Channel:
    """A channel's variable, and for a Pipe the two its ends are unpacked into."""
    var = namer.fresh(spec.name)
    ends: tuple[str, ...] = ()
    if CHANNEL_BY_NAME[spec.kind].pipe_like and not CHANNEL_BY_NAME[spec.kind].make:
        if spec.duplex:
            ends = (namer.fresh(spec.name, "_a"), namer.fresh(spec.name, "_b"))
        else:  # Pipe(duplex=False) returns (reader, writer)
            ends = (namer.fresh(spec.name, "_reader"), namer.fresh(spec.name, "_writer"))
    return Channel(spec, var, ends)


def _pipe_ends(
    channels: dict[str, Channel], processes: tuple[Instance, ...]
) -> dict[tuple[str, int], str]:
    """(pipe name, process index) -> the main() variable of the end it gets.

    As the engine hands them out: for a duplex Pipe the first process using
    it (in file order) gets the first end; for a one-way Pipe the writer gets
    the write end."""
    end_of: dict[tuple[str, int], str] = {}
    for channel in channels.values():
        if not channel.paired_ends:
            continue
        name = channel.spec.name
        users = [
            process.index
            for process in processes
            if name in (*process.spec.inputs, *process.spec.outputs)
        ]
        for order, index in enumerate(users):
            if channel.spec.duplex:
                end_of[(name, index)] = channel.ends[min(order, 1)]
            else:
                writes = name in processes[index].spec.outputs
                end_of[(name, index)] = channel.ends[1 if writes else 0]
    return end_of
