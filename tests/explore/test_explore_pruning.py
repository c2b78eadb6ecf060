"""The pruning never loses an outcome: on small models of processes (reads
and writes of shared counters, locks that block and wake their waiter), the
explorer with pruning finds exactly the outcomes that running every
interleaving finds, with fewer runs. A model, so hundreds of programs take a
second; the real processes are tested in test_explore_cli.py."""

from __future__ import annotations

import random
from math import factorial

import pytest

from ipcplay.explore import Result, explore
from ipcplay.explore_dpor import Move, dependent
from ipcplay.scenario.model import Scenario

SCENARIO = Scenario(name="model", title="model")

Op = tuple[str, str]  # (read | write | acquire | release, object)


class Model:
    """Processes doing `ops` in order: a read copies a counter into the
    process's register, a write stores register + 1 (so two reads then two
    writes lose an update), an acquire of a held lock blocks until its
    release hands the lock over (the first waiter: one kernel choice)."""

    def __init__(self, programs: dict[str, list[Op]]) -> None:
        self.programs = programs
        self.names = list(programs)
        self.pc = dict.fromkeys(self.names, 0)
        self.reg = dict.fromkeys(self.names, 0)
        self.values: dict[str, int] = {}
        self.holder: dict[str, str] = {}
        self.waiting: dict[str, list[str]] = {}
        self.codes: dict[str, int] = {}

    def _state(self, name: str) -> str:
        if self.pc[name] >= len(self.programs[name]):
            return "ended"
        if any(name in queue for queue in self.waiting.values()):
            return "blocked"
        return "held"

    def rest(self, timeout: float = 0) -> list[str]:
        return [self._state(name) for name in self.names]

    def held(self, states: list[str]) -> dict[str, tuple[str, int]]:
        out = {}
        for name, state in zip(self.names, states, strict=True):
            if state == "held":
                op, obj = self.programs[name][self.pc[name]]
                out[name] = (op, self.codes.setdefault(obj, len(self.codes)))
        return out

    def would_wait(self, held: dict[str, tuple[str, int]]) -> set[str]:
        """An acquire of a lock another process holds only waits."""
        return {
            name
            for name in held
            if self.programs[name][self.pc[name]][0] == "acquire"
            and self.holder.get(self.programs[name][self.pc[name]][1], name) != name
        }

    def step(self, name: str, before: list[str]) -> tuple[list[str], set[str]]:
        op, obj = self.programs[name][self.pc[name]]
        woke: set[str] = set()
        if op == "read":
            self.reg[name] = self.values.get(obj, 0)
        elif op == "write":
            self.values[obj] = self.reg[name] + 1
        elif op == "acquire":
            if obj in self.holder:
                self.waiting.setdefault(obj, []).append(name)
                return self.rest(), woke  # blocked: its pc moves when it gets the lock
            self.holder[obj] = name
        elif op == "release":
            del self.holder[obj]
            queue = self.waiting.get(obj, [])
            if queue:
                waiter = queue.pop(0)
                self.holder[obj] = waiter
                self.pc[waiter] += 1
                woke.add(waiter)
        self.pc[name] += 1
        return self.rest(), woke

    def linger(self) -> list[str]:
        return []  # nothing wakes late in a model

    def finish(self, timed_out: bool) -> Result:
        blocked = tuple(n for n, s in zip(self.names, self.rest(), strict=True) if s == "blocked")
        verdict = "deadlock" if blocked else "completed"
        values = tuple((k, v, None) for k, v in sorted(self.values.items()))
        return Result(verdict, " ".join(blocked), values)

    def close(self) -> None:
        pass


def outcomes(programs: dict[str, list[Op]], prune: bool):
    done = explore(SCENARIO, prune=prune, runner=lambda: Model(programs))
    return {found.result.key for found in done.found}, done


def test_two_adders_adding_twice_give_2_3_and_4_in_34_runs_not_70():
    add: list[Op] = [("read", "c"), ("write", "c")] * 2
    pruned, run = outcomes({"a": add, "b": add}, prune=True)
    every, full = outcomes({"a": add, "b": add}, prune=False)
    assert full.runs == factorial(8) // (factorial(4) * factorial(4)) == 70
    assert pruned == every
    assert {found.result.values[0][1] for found in run.found} == {2, 3, 4}
    # 34 orders differ by more than two reads swapped (the Mazurkiewicz traces)
    assert run.runs == 34 and run.complete


def test_lock_order_deadlock_and_its_fix():
    ab: list[Op] = [("acquire", "A"), ("acquire", "B"), ("release", "B"), ("release", "A")]
    ba: list[Op] = [("acquire", "B"), ("acquire", "A"), ("release", "A"), ("release", "B")]
    broken, _ = outcomes({"left": ab, "right": ba}, prune=True)
    assert {key[0] for key in broken} == {"completed", "deadlock"}
    fixed, run = outcomes({"left": ab, "right": ab}, prune=True)
    assert {key[0] for key in fixed} == {"completed"}
    _, full = outcomes({"left": ab, "right": ab}, prune=False)
    assert run.runs < full.runs


def test_a_race_whose_process_is_asleep_still_gets_its_order():
    """Found by the random programs: after p's write of y raced with q's
    later read, the branch asked for was q, asleep there; the order that
    ends at x = 1, y = 1 starts with r, and was never run."""
    programs: dict[str, list[Op]] = {
        "p": [("read", "y"), ("write", "y")],
        "q": [("read", "x"), ("write", "x")] * 2 + [("read", "y"), ("write", "y")],
        "r": [("read", "y"), ("read", "x"), ("write", "x")],
    }
    pruned, run = outcomes(programs, prune=True)
    every, full = outcomes(programs, prune=False)
    assert pruned == every and len(every) == 6
    assert run.runs < full.runs // 50


def _program(rng: random.Random) -> list[Op]:
    ops: list[Op] = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("add", "add", "read", "locked"))
        obj = rng.choice(("x", "y"))
        if kind == "add":
            ops += [("read", obj), ("write", obj)]
        elif kind == "read":
            ops.append(("read", obj))
        else:
            lock = rng.choice(("L", "M"))
            ops += [("acquire", lock), ("read", obj), ("write", obj), ("release", lock)]
    return ops


@pytest.mark.parametrize("seed", range(3))
def test_random_programs_lose_no_outcome(seed):
    """Three processes of random reads, updates and locked updates on two
    counters and two locks: pruning finds every outcome every order finds."""
    rng = random.Random(seed)
    tried = 0
    while tried < 10:
        programs = {name: _program(rng) for name in ("p", "q", "r")}
        if not 6 <= sum(len(ops) for ops in programs.values()) <= 9:
            continue  # keep every-order runs to a few thousand
        tried += 1
        pruned, run = outcomes(programs, prune=True)
        every, full = outcomes(programs, prune=False)
        assert pruned == every, programs
        assert run.runs <= full.runs


def test_two_reads_are_independent_and_a_join_depends_on_everything():
    assert not dependent(Move("a", "read", 3), Move("b", "read", 3))
    assert dependent(Move("a", "read", 3), Move("b", "write", 3))
    assert not dependent(Move("a", "write", 3), Move("b", "write", 4))
    assert dependent(Move("a", "join process", 0), Move("b", "put", 7))
