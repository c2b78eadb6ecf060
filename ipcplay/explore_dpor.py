"""The pruning of `ipcplay explore` (explore.py runs the processes): which
steps of a run are dependent, happens-before between them, and where a race
asks for one more branch. Plain data and arithmetic, no process, so the
tests check it against every interleaving on models of processes.

Dynamic partial-order reduction (Flanagan and Godefroid, POPL 2005) with
sleep sets (Godefroid 1996), and source-DPOR's choice of the branch
(Abdulla, Aronis, Jonsson and Sagonas, POPL 2014): see explore.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_READS = frozenset({"read"})


@dataclass(frozen=True)
class Move:
    """One step of a run: `name` did `op` on the object with code `target`."""

    name: str
    op: str
    target: int


def dependent(a: Move, b: Move) -> bool:
    """Can swapping these two steps change what happens? Yes on one object,
    unless both only read it; a join of a process, always."""
    if a.op == "join process" or b.op == "join process":
        return True
    return a.target == b.target and not (a.op in _READS and b.op in _READS)


@dataclass
class Node:
    """A choice point: who was held there, what each would do, which
    branches a race asked for (backtrack) and which were taken (done)."""

    held: dict[str, tuple[str, int]]
    backtrack: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)
    asleep: set[str] = field(default_factory=set)  # sleep set: explored from an equivalent order
    chosen: str = ""

    def move(self, name: str) -> Move:
        return Move(name, *self.held[name])

    def untried(self) -> list[str]:
        return [
            name
            for name in self.held
            if name in self.backtrack and name not in self.done and name not in self.asleep
        ]

    def child_asleep(self) -> set[str]:
        """Sleep sets (Godefroid 1996): a process whose step was explored
        here before this branch, and is independent of the step taken,
        needs no branch after it either: that order was run already."""
        chosen = self.move(self.chosen)
        return {
            name
            for name in (self.asleep | self.done) - {self.chosen}
            if name in self.held and not dependent(self.move(name), chosen)
        }


class Clocks:
    """Happens-before over a run's steps, as vector clocks: for each step
    and each process, the latest step of every process known to come first."""

    def __init__(self) -> None:
        self.moves: list[Move] = []
        self.of_step: list[dict[str, int]] = []
        self.of_proc: dict[str, dict[str, int]] = {}

    def add(self, move: Move, woke: set[str]) -> None:
        index = len(self.moves)
        clock = dict(self.of_proc.get(move.name, {}))
        for j, earlier in enumerate(self.moves):
            if earlier.name != move.name and dependent(earlier, move):
                _merge(clock, self.of_step[j])
        clock[move.name] = index
        self.moves.append(move)
        self.of_step.append(clock)
        self.of_proc[move.name] = clock
        for name in woke:  # what it does next comes after this step
            _merge(self.of_proc.setdefault(name, {}), clock)

    def before(self, index: int, name: str) -> bool:
        """Does step `index` happen before whatever `name` does next?"""
        return self.of_proc.get(name, {}).get(self.moves[index].name, -1) >= index

    def ordered(self, first: int, then: int) -> bool:
        """Does step `first` happen before step `then`?"""
        return self.of_step[then].get(self.moves[first].name, -1) >= first

    def ordered_before(self, first: int, nxt: Move) -> bool:
        """Does step `first` happen before `nxt`, a step not taken yet?"""
        if self.before(first, nxt.name):
            return True
        return any(
            (k == first or self.ordered(first, k)) and dependent(self.moves[k], nxt)
            for k in range(first, len(self.moves))
        )


def _merge(into: dict[str, int], other: dict[str, int]) -> None:
    for name, index in other.items():
        if into.get(name, -1) < index:
            into[name] = index


def races(nodes: list[Node], clocks: Clocks, held: dict[str, tuple[str, int]]) -> None:
    """For each held process's next step, the last earlier step it races
    with (dependent, not already ordered before it) gets a branch before it
    (Flanagan and Godefroid). The branch is a process that can start the
    reversed order: one whose first step in what came after the racing step
    and does not depend on it, then the next step, depends on nothing
    before it there (an initial, as source-DPOR, Abdulla et al. 2014, picks
    it). With sleep sets, taking the racing process itself there could be
    asleep while the order it stands for was never run."""
    for name, (op, target) in held.items():
        nxt = Move(name, op, target)
        for index in range(len(clocks.moves) - 1, -1, -1):
            earlier = clocks.moves[index]
            if earlier.name == name or not dependent(earlier, nxt):
                continue
            if clocks.before(index, name):
                continue  # ordered already: no race with this one
            _branch(nodes[index], _initials(clocks, index, nxt))
            break


def _branch(node: Node, initials: list[str]) -> None:
    """Ask for one of `initials` at `node`, unless one is there already
    (taken, asked for, or asleep: its order was run); every held process
    when none of them could be let go there."""
    if any(n in node.backtrack or n in node.done or n in node.asleep for n in initials):
        return
    for name in initials:
        if name in node.held:
            node.backtrack.add(name)
            return
    node.backtrack.update(node.held)


def _initials(clocks: Clocks, index: int, nxt: Move) -> list[str]:
    """The processes that can go first in v: the steps after `index` that
    do not happen after it, then `nxt`; the racing process first."""
    after = [k for k in range(index + 1, len(clocks.moves)) if not clocks.ordered(index, k)]
    events: list[Move | int] = [*after, nxt]
    seen: set[str] = set()
    out: list[str] = []
    for pos, event in enumerate(events):
        name = nxt.name if isinstance(event, Move) else clocks.moves[event].name
        if name in seen:
            continue
        seen.add(name)
        earlier = [k for k in events[:pos] if isinstance(k, int)]
        if isinstance(event, Move):
            first = not any(clocks.ordered_before(k, nxt) for k in earlier)
        else:
            first = not any(clocks.ordered(k, event) for k in earlier)
        if first:
            out.append(name)
    out.sort(key=lambda n: n != nxt.name)
    return out
