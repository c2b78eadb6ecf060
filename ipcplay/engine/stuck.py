"""Hang and deadlock detection over channel and lock waits.

A process blocked in a channel op waits *for* the live processes that could
unblock it: a get on an empty queue waits for the queue's writers, a put on a
full queue for its readers, a recv for the other end, a JoinableQueue.join for
the consumers that call task_done. A process blocked in acquire waits for the
holder of the lock (who says so on the board); at an Event, for the live
processes that can set it; at a Barrier, for the live parties that have not
arrived yet. A process that is not blocked (running,
sleeping, paused) can still act, so anything waiting for it is not stuck.

The stuck set is the greatest set of blocked processes none of which waits for
a free process. If it is non-empty and nothing moves for a while, those waits
can never complete: a cycle among them is a deadlock, anything else a hang
(for example a reader whose every writer has exited).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Wait:
    proc: int
    name: str
    op: str
    channel: str
    reason: str
    waits_for: frozenset[int]
    holds: tuple[str, ...] = ()  # locks and semaphores this process holds
    held_by: str = ""  # acquire: who holds what it wants, in words
    where: str = ""  # a watched program's line it waits at
    # The processes known to be able to end the wait, where `waits_for` is
    # wider (a watched program: anyone alive may still put); None: the same.
    # Only known edges make a deadlock's cycle.
    known: frozenset[int] | None = None


def stuck_set(waits: dict[int, Wait]) -> set[int]:
    stuck = set(waits)
    changed = True
    while changed:
        changed = False
        for p in list(stuck):
            if any(w not in stuck for w in waits[p].waits_for):
                stuck.discard(p)
                changed = True
    return stuck


def has_cycle(nodes: set[int], waits: dict[int, Wait]) -> list[int] | None:
    """A cycle in the wait-for graph restricted to `nodes`, as a list of procs."""
    color: dict[int, int] = {}
    stack: list[int] = []

    def visit(node: int) -> list[int] | None:
        color[node] = 1
        stack.append(node)
        wait = waits[node]
        for other in sorted(wait.waits_for if wait.known is None else wait.known):
            if other not in nodes:
                continue
            if color.get(other) == 1:
                return stack[stack.index(other) :]
            if other not in color:
                found = visit(other)
                if found:
                    return found
        stack.pop()
        color[node] = 2
        return None

    for node in sorted(nodes):
        if node not in color:
            found = visit(node)
            if found:
                return found
    return None


def describe(stuck: set[int], waits: dict[int, Wait], names: dict[int, str]) -> tuple[str, str]:
    """(kind, sentence) in words a student can follow."""
    cycle = has_cycle(stuck, waits)
    parts = []
    for p in sorted(stuck):
        w = waits[p]
        holds = " and ".join(f"'{h}'" for h in w.holds)
        what = f"{w.name} holds {holds} and is" if holds else f"{w.name} is"
        what += f" blocked in {w.op} on '{w.channel}'"
        if w.where:
            what += f" at {w.where}"
        if w.reason:
            what += f" ({w.reason})"
        if w.held_by:
            what += f", held by {w.held_by}"
            if not w.waits_for:
                what += ", so no live process can ever release it"
        elif w.waits_for:
            others = ", ".join(names[o] for o in sorted(w.waits_for))
            what += f", waiting for {others}"
        else:
            what += ", and no live process can ever unblock it"
        parts.append(what)
    if cycle and len(cycle) == 1:
        return "deadlock", f"deadlock: {names[cycle[0]]} waits for itself; " + "; ".join(parts)
    if cycle:
        loop = " → ".join(names[p] for p in [*cycle, cycle[0]])
        return "deadlock", f"deadlock: {loop} wait for each other; " + "; ".join(parts)
    return "hang", "hang: " + "; ".join(parts)
