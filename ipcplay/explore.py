"""Explore every schedule: run a scenario's real processes under every
interleaving of their gated operations that can change what happens, and
say each distinct outcome with the shortest schedule that reaches it.

A run is a fresh Engine in step mode (engine/stepper.py): every process
stops at its gate before each operation on a channel or shared object. The
explorer waits until every process is at rest (held at its gate, blocked
inside an operation, or ended), picks one held process and lets it do one
operation, and so on until none is held; then the engine's own end of a run
(Engine.run) gives the verdict (completed, deadlock, hang, crashed) and the
final values. A run is replayed from its first step, so each choice point
is reached again by playing the steps that led to it.

Running every interleaving is wasteful: two operations on different objects
(or two reads of one Value) give the same state in either order, so orders
that differ only by swapping such neighbours are one behaviour (one
Mazurkiewicz trace). Dynamic partial-order reduction (Flanagan and
Godefroid, POPL 2005; loom and CHESS prune the same way) explores one order
first, then looks at each operation a process was about to do: if an
earlier step of another process touched the same object and does not
already happen before it, the other order is a different behaviour, and the
choice point before that earlier step gets one more branch: a process
that can start the reversed order (its "initial", as source-DPOR, Abdulla
et al. 2014, chooses it), or every held process there when none can. Sleep
sets (Godefroid 1996) skip a branch whose order was already run from an
equivalent one. Branches no race asks for are never run: "left out" in the
report. A held process whose next operation would only wait (an acquire of
a held lock, a get on an empty queue, a wait for an unset Event, as the
engine forecasts it) is not let go while another can act: blocking it now
or letting it go once it can is the same run, and when every held process
would wait, each is let go, so the deadlock detector sees them wait.

Two steps are dependent when they act on the same object (the gate's target
code, Stepper.next_of) unless both are reads; a "join process" waits for a
process to end and is taken as dependent with everything. A process woken by
a step (a release lets a blocked acquire finish) happens after that step.
Where unsure the explorer keeps a branch: soundness before speed. What it
cannot see: operations the gate does not stop (a Pool's internals), and
which of several processes blocked on one object the kernel wakes; with
those, the outcomes are the ones these runs met.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ipcplay import schedule as S
from ipcplay.engine.snapshot import Snapshot
from ipcplay.engine.stepper import Stepper
from ipcplay.engine.supervisor import Engine
from ipcplay.explore_dpor import Clocks, Move, Node, races
from ipcplay.scenario.model import Scenario

# A small hang_after: in step mode nothing moves once no process is held,
# so a wait that has not moved for this long never will.
HANG_AFTER_S = 0.3
SAMPLE_HZ = 50.0
# A process that neither reaches a gate, blocks nor ends in this long (a
# sleep step longer than this, a loop with no operation) makes the run a timeout.
REST_TIMEOUT_S = 15.0
# ... and to start: a spawned process imports ipcplay first, seconds on a loaded machine.
START_TIMEOUT_S = 60.0
# How long the engine may take, once no process is held, to say how the run ended.
END_TIMEOUT_S = 15.0
# A blocked mark must stay for this long to count: an acquire that waits a
# moment for a lock being let go is not at rest.
STEADY_S = 0.002
# Operations that, when they block, only wait: nothing changes until another
# process frees them, so letting one go later is the same as letting it block
# now (a Barrier's or a Condition's wait is not one: it counts, or it lets
# the lock go, as it starts to wait).
WAIT_ONLY = frozenset({"acquire", "get", "recv", "put", "join", "join process", "wait"})
_MANAGER_DATA = ("ManagerList", "ManagerDict", "ManagerNamespace")
_PIDS = re.compile(r" \(pid \d+\)")


@dataclass(frozen=True)
class Result:
    """How one run ended, as far as telling outcomes apart goes: `key` is
    the same for two runs that ended the same way."""

    verdict: str
    words: str  # "counter = 3 (expected 4, lost 1)", "left → right → left wait ..."
    values: tuple[tuple[str, Any, int | None], ...] = ()  # (Value or Array, value, lost)

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.verdict, self.words, self.values)


@dataclass(frozen=True)
class Found:
    """One distinct outcome: how many schedules reached it, and the shortest."""

    result: Result
    schedules: int
    shortest: tuple[str, ...]


@dataclass(frozen=True)
class Exploration:
    scenario: str
    overrides: tuple[str, ...]
    found: tuple[Found, ...]
    runs: int  # schedules run
    pruned: int  # branches left out: each stands for one schedule or more
    seconds: float
    complete: bool  # False: stopped at max_schedules (or asked to stop)
    diverged: int = 0  # replays that did not meet the same held processes again
    cut: int = 0  # runs stopped part way: every order on from there was equivalent to one run


class Runner(Protocol):
    """What the explorer drives: one run, one step at a time. A state list
    says each process's held / blocked / ended / running, in process order."""

    def rest(self, timeout: float = REST_TIMEOUT_S) -> list[str] | None: ...
    def held(self, states: list[str]) -> dict[str, tuple[str, int]]: ...
    def would_wait(self, held: dict[str, tuple[str, int]]) -> set[str]: ...
    def step(self, name: str, before: list[str]) -> tuple[list[str] | None, set[str]]: ...
    def linger(self) -> list[str] | None: ...
    def finish(self, timed_out: bool) -> Result: ...
    def close(self) -> None: ...


class _Run:
    """One run of the scenario in step mode, driven one step at a time."""

    def __init__(self, scenario: Scenario, stop: threading.Event) -> None:
        self.engine = Engine(scenario, step=True, hang_after=HANG_AFTER_S, sample_hz=SAMPLE_HZ)
        self.stop = stop
        self.engine.start()
        stepper = self.engine.stepper
        assert stepper is not None
        self.stepper: Stepper = stepper
        self.names = [inst.name for inst in self.engine.instances]

    def states(self) -> list[str]:
        """held / blocked / ended / running for each process (Stepper.states)."""
        snap = self.engine.latest.processes
        return self.stepper.states([sample.exitcode is not None for sample in snap])

    def rest(self, timeout: float = REST_TIMEOUT_S) -> list[str] | None:
        """Wait until no process is running (each is held, blocked or ended),
        the same twice STEADY_S apart; None on timeout or stop."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and not self.stop.is_set():
            first = self.states()
            if "running" not in first:
                time.sleep(STEADY_S)
                if self.states() == first:
                    return first
            else:
                time.sleep(0.0005)
        return None

    def held(self, states: list[str]) -> dict[str, tuple[str, int]]:
        out = {}
        for name, state in zip(self.names, states, strict=True):
            nxt = self.stepper.next_of(name) if state == "held" else None
            if nxt is not None:
                out[name] = nxt
        return out

    def would_wait(self, held: dict[str, tuple[str, int]]) -> set[str]:
        """The held processes whose next operation would only wait, changing
        nothing while it waits (an acquire of a held lock, a get on an empty
        channel, a wait for an unset Event: WAIT_ONLY), as the engine
        forecasts it (NextOp.will_block) from a sample taken at rest. Asked
        only when it can matter: two held processes or more, one of them
        before such an operation."""
        if len(held) < 2 or not any(op in WAIT_ONLY for op, _ in held.values()):
            return set()
        snap = self._fresh()
        if snap is None:
            return set()
        gates = {h.name: h.arrived for h in self.stepper.held()}
        out = set()
        for sample in snap.processes:
            nxt = sample.next
            if (
                sample.name in held
                and held[sample.name][0] in WAIT_ONLY
                and nxt is not None
                and nxt.will_block is True
                and nxt.op in WAIT_ONLY
                and not (nxt.op == "wait" and not self._is_event(nxt.target))
                and sample.gates == gates.get(sample.name)
            ):
                out.add(sample.name)
        return out

    def _is_event(self, name: str) -> bool:
        return any(obj.name == name and obj.kind == "Event" for obj in self.engine.scenario.shared)

    def _fresh(self) -> Snapshot | None:
        """A sample begun after now: the second new one (the first may have
        started before the processes came to rest). None on timeout."""
        end = time.monotonic() + REST_TIMEOUT_S
        seen = self.engine.latest
        news = 0
        while time.monotonic() < end and not self.stop.is_set():
            latest = self.engine.latest
            if latest is not seen:
                seen, news = latest, news + 1
                if news == 2:
                    return latest
            time.sleep(0.001)
        return None

    def step(self, name: str, before: list[str]) -> tuple[list[str] | None, set[str]]:
        """Let `name` do one operation; the states once at rest, and who it woke."""
        arrived = self.stepper.step(name)
        if arrived:
            self.stepper.settle(name, arrived, REST_TIMEOUT_S)
        after = self.rest()
        if after is None:
            return None, set()
        woke = {
            other
            for other, was, now in zip(self.names, before, after, strict=True)
            if was == "blocked" and now != "blocked" and other != name
        }
        return after, woke

    def linger(self) -> list[str] | None:
        """No process is held: [] once every process has ended or the engine
        has confirmed a deadlock or hang; the states if one is back at a gate
        (a wake that came late: an item the queue's feeder thread had not
        yet written); None on timeout or stop."""
        end = time.monotonic() + END_TIMEOUT_S
        while time.monotonic() < end and not self.stop.is_set():
            states = self.states()
            if "held" in states or "running" in states:
                return self.rest()
            if all(state == "ended" for state in states) or self.engine.latest.stuck:
                return []
            time.sleep(0.005)
        return None

    def finish(self, timed_out: bool) -> Result:
        """The engine's own end of the run: its verdict and final snapshot."""
        stop = threading.Event()
        if timed_out:
            stop.set()
        timer = threading.Timer(END_TIMEOUT_S, stop.set)
        timer.daemon = True
        timer.start()
        try:
            outcome = self.engine.run(stop=stop)
        finally:
            timer.cancel()
        verdict = "timeout" if outcome.verdict in ("interrupted", "timeout") else outcome.verdict
        return describe(verdict, outcome.snapshot)

    def close(self) -> None:
        self.engine.shutdown()


def describe(verdict: str, snap: Snapshot) -> Result:
    """The outcome of a run in words that are the same for the same ending
    (pids, times and counts of waits left out)."""
    values = tuple(
        (obj.name, _plain(obj.kind, obj.value), obj.lost)
        for obj in snap.shared
        if (obj.kind in ("Value", "Array") or obj.kind in _MANAGER_DATA) and obj.value is not None
    )
    parts = []
    for name, value, lost in values:
        shown = list(value) if isinstance(value, tuple) else value
        extra = f" (lost {lost})" if lost is not None else ""
        parts.append(f"{name} = {shown}{extra}")
    if snap.stuck is not None and verdict in ("deadlock", "hang"):
        words = _PIDS.sub("", snap.stuck.description)
        parts.insert(0, words.removeprefix(f"{verdict}: "))
    if verdict == "crashed":
        parts.insert(
            0,
            ", ".join(
                f"{p.name} exited with {p.exitcode}"
                for p in snap.processes
                if p.exitcode not in (0, None) and not p.stopped_by_engine
            ),
        )
    if verdict == "timeout":
        parts.insert(0, "a process did not reach its next operation in time")
    if verdict == "completed" and not parts:
        parts.append("every process ended")
    return Result(verdict, "; ".join(part for part in parts if part), values)


def _plain(kind: str, value: Any) -> Any:
    """A Value's number or an Array's tuple as they are; a Manager's list,
    dict or Namespace as its repr (it may nest lists, which do not hash)."""
    if kind not in _MANAGER_DATA:
        return value
    if kind == "ManagerList":
        return repr(_lists(value))
    # a dict's order is not its outcome: the same items in any order are one
    return repr(dict(sorted(_lists(value), key=lambda item: repr(item[0]))))


def _lists(value: Any) -> Any:
    """A sample's tuples back to the lists they were (a sample is frozen)."""
    if isinstance(value, tuple | list):
        return [_lists(item) for item in value]
    return value


Progress = Callable[[int, int, float], None]  # (schedules run, outcomes, seconds)


def explore(
    scenario: Scenario,
    *,
    overrides: tuple[str, ...] = (),
    max_schedules: int = 0,
    prune: bool = True,
    on_progress: Progress | None = None,
    stop: threading.Event | None = None,
    runner: Callable[[], Runner] | None = None,
) -> Exploration:
    """Run every schedule that can change the outcome (every schedule with
    `prune` False), at most `max_schedules` (0: no cap). `runner` makes one
    run (a model of processes, for testing the pruning against every order)."""
    halt = stop or threading.Event()
    start = runner or (lambda: _Run(scenario, halt))
    t0 = time.monotonic()
    nodes: list[Node] = []
    found: dict[tuple[Any, ...], Found] = {}
    runs = cut = pruned = diverged = 0
    complete = True
    while True:
        if (max_schedules and runs + cut >= max_schedules) or halt.is_set():
            complete = False
            break
        result, steps, same = _one_run(start, nodes, prune)
        if halt.is_set():  # the run was stopped part way: it says nothing
            complete = False
            break
        diverged += not same
        if result is None:
            cut += 1
        else:
            runs += 1
            old = found.get(result.key)
            if old is None:
                found[result.key] = Found(result, 1, steps)
            else:
                shortest = steps if len(steps) < len(old.shortest) else old.shortest
                found[result.key] = Found(result, old.schedules + 1, shortest)
        if on_progress is not None:
            on_progress(runs, len(found), time.monotonic() - t0)
        while nodes and not nodes[-1].untried():
            node = nodes.pop()
            pruned += len(node.held) - len(node.done)
        if not nodes:
            break
        top = nodes[-1]
        top.chosen = top.untried()[0]
        top.done.add(top.chosen)
    order = {"completed": 0, "deadlock": 1, "hang": 2, "crashed": 3, "timeout": 4}
    ranked = sorted(found.values(), key=lambda f: (order.get(f.result.verdict, 9), f.result.values))
    return Exploration(
        scenario.name,
        overrides,
        tuple(ranked),
        runs,
        pruned,
        time.monotonic() - t0,
        complete and not halt.is_set(),
        diverged,
        cut,
    )


def _one_run(
    start: Callable[[], Runner], nodes: list[Node], prune: bool
) -> tuple[Result | None, tuple[str, ...], bool]:
    """Replay the chosen steps of `nodes`, then go on (adding nodes) until no
    process is held: (the outcome, None when the run was cut short as
    redundant; the steps; whether the replay met the same held processes at
    every node)."""
    run = start()
    clocks = Clocks()
    steps: list[str] = []
    same = True
    try:
        states = run.rest(START_TIMEOUT_S)
        while states is not None:
            held = run.held(states)
            if not held:
                states = run.linger()
                if states:
                    continue  # a process woke late and came back to a gate
                break
            depth = len(steps)
            # who may go: a process whose step would only wait is left at its
            # gate while another can act (every held one when none can)
            waits = run.would_wait(held) if prune else set()
            enabled = {n: nxt for n, nxt in held.items() if n not in waits} or held
            if depth < len(nodes):
                node = nodes[depth]
                if set(enabled) != set(node.held) or node.chosen not in enabled:
                    same = False
                if node.chosen not in held:
                    break
            else:
                asleep = nodes[-1].child_asleep() if nodes and prune else set()
                node = Node(enabled, asleep={name for name in asleep if name in enabled})
                races(nodes, clocks, held)
                awake = [name for name in enabled if name not in node.asleep]
                if not awake:
                    return None, tuple(steps), same  # every order on is equivalent to a run
                node.chosen = awake[0]
                node.done.add(node.chosen)
                node.backtrack = set(enabled) if not prune else node.backtrack | {node.chosen}
                nodes.append(node)
            move = Move(node.chosen, *held[node.chosen])
            states, woke = run.step(node.chosen, states)
            clocks.add(move, woke)
            steps.append(node.chosen)
        return run.finish(states is None), tuple(steps), same
    finally:
        run.close()


def free_path(folder: Path, stem: str, suffix: str = ".schedule.toml") -> Path:
    """STEM.schedule.toml, else STEM-2.schedule.toml, …: never an existing file."""
    path = folder / f"{stem}{suffix}"
    number = 2
    while path.exists():
        path = folder / f"{stem}-{number}{suffix}"
        number += 1
    return path


def file_stem(result: Result) -> str:
    """`completed-counter-3`, `deadlock`: what the file's outcome is, in its name."""
    parts = [result.verdict]
    for name, value, _ in result.values:
        if isinstance(value, str):  # a Manager's list or dict: too long for a name
            parts.append(name)
            continue
        if isinstance(value, tuple):
            value = "-".join(str(v) for v in value[:4])
        parts.append(f"{name}-{value}")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(parts))[:100]


def save(exploration: Exploration, folder: Path) -> list[Path]:
    """Each outcome's shortest schedule as a schedule file in `folder`
    (made if missing); an existing file is never replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for found in exploration.found:
        plan = S.Schedule(exploration.scenario, found.shortest, exploration.overrides)
        path = free_path(folder, file_stem(found.result))
        with path.open("x", encoding="utf-8") as stream:
            stream.write(S.dumps(plan))
        paths.append(path)
    return paths


def as_dict(exploration: Exploration, files: list[Path]) -> dict[str, Any]:
    """The `--json` object."""
    outcomes = []
    for index, found in enumerate(exploration.found):
        result = found.result
        outcomes.append(
            {
                "verdict": result.verdict,
                "words": result.words,
                "values": {
                    name: list(value) if isinstance(value, tuple) else value
                    for name, value, _ in result.values
                },
                "lost_updates": {name: lost for name, _, lost in result.values if lost is not None},
                "schedules": found.schedules,
                "shortest": list(found.shortest),
                "file": str(files[index]) if index < len(files) else None,
            }
        )
    return {
        "scenario": exploration.scenario,
        "set": list(exploration.overrides),
        "outcomes": outcomes,
        "schedules_run": exploration.runs,
        "cut_short": exploration.cut,
        "branches_left_out": exploration.pruned,
        "complete": exploration.complete,
        "diverged": exploration.diverged,
        "seconds": round(exploration.seconds, 3),
        "files": [str(path) for path in files],
    }
