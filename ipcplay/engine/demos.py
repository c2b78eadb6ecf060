"""Two roles that show what is *not* shared between processes, for contrast.

`globals`: a module-level global, changed by the parent and by each child.
Each process has its own copy of the module: under fork a child starts with
a copy of the parent's memory as it was at fork time; under spawn (and
forkserver) the child imports the module afresh and sees its initial value.
Whatever a child then does to its copy, the parent's value does not move.
Seed 003, examples 1-3: a global made at module level is a different object in
every spawned child.

`coroutines`: seed 003's yield-based producer/consumer, run as generator
coroutines in ONE process: the producer send()s 1..count into the consumer,
which answers "200 OK". One PID does both jobs, by switching, not in parallel.

Both report a few exact numbers as the process's *notes*: header slots of the
board (P_NOTE + i) that only this process writes, each flagged in P_NOTE_SET
once written, so the observer never shows a number that was not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine import tempo

# The module's own value: what a freshly imported module holds.
COUNTER = 0
# What the parent (the observer) sets before it starts the children, and
# then after they have all started.
PARENT_BEFORE = 100
PARENT_AFTER = 200

# The label of each note slot, by role. The observer adds "parent's global"
# to a globals process's notes: its own value, read live.
NOTE_LABELS: dict[str, tuple[str, ...]] = {
    "globals": ("global at start", "global now"),
    "coroutines": ("sent", "received", "replies", "switches", "greenlet switches"),
}
COROUTINE_ITEM_S = 0.05  # the consumer's work per item (seed 003 sleeps 1 s)


def parent_before_start(scenario: Any) -> None:
    """The parent sets its global; a forked child copies this value."""
    global COUNTER
    if any(proc.role == "globals" for proc in scenario.processes):
        COUNTER = PARENT_BEFORE


def parent_after_start(scenario: Any) -> None:
    """The parent changes its global again: no child ever sees this one."""
    global COUNTER
    if any(proc.role == "globals" for proc in scenario.processes):
        COUNTER = PARENT_AFTER


def parent_value() -> int:
    return COUNTER


class _Notes:
    """This process's note slots on the board."""

    def __init__(self, ctx: Any) -> None:
        self.mv = ctx.mv
        self.base = ctx.base

    def put(self, note: int, value: int) -> None:
        self.mv[self.base + B.P_NOTE + note] = value
        self.mv[self.base + B.P_NOTE_SET] |= 1 << note


def globals_role(ctx: Any) -> str | None:
    """Read the module's global as this process finds it, then add 1 to this
    process's own copy `count` times."""
    global COUNTER
    notes = _Notes(ctx)
    notes.put(0, COUNTER)
    for i in range(ctx.spec.count):
        COUNTER += 1
        notes.put(1, COUNTER)
        ctx.done(i + 1)
    return None


# The coroutine and greenlet demos keep the seed's own names (c, n, r, g1,
# g2), as the exported script does (export/snippets.py): the two read alike.
def _consumer(notes: _Notes, counts: list[int]) -> Any:
    """Seed 003's consumer(): take n from send(), answer '200 OK'; stop on a falsy n."""
    r = ""
    while True:
        n = yield r
        if not n:
            return
        counts[1] += 1  # [CONSUMER] consuming n
        notes.put(1, counts[1])
        tempo.sleep(notes.mv, COROUTINE_ITEM_S)  # the role's own time: slow motion stretches it
        r = "200 OK"


def coroutines_role(ctx: Any) -> str | None:
    """Seed 003's produce(c): next(c), then c.send(1..count), then c.close().

    A switch is one transfer of control between the two coroutines; each
    next(), send() and close() is two (into the consumer and back), counted
    here, where the producer makes them."""
    notes = _Notes(ctx)
    counts = [0, 0, 0, 0]  # sent, received, replies, switches
    for i in range(4):
        notes.put(i, 0)
    c = _consumer(notes, counts)
    next(c)  # start the generator: it runs to its first yield
    counts[3] += 2
    notes.put(3, counts[3])
    n = 0
    while n < ctx.spec.count:
        n += 1
        counts[0] += 1  # [PRODUCER] producing n
        notes.put(0, counts[0])
        reply = c.send(n)
        counts[3] += 2
        notes.put(3, counts[3])
        if reply == "200 OK":  # [PRODUCER] consumer return: 200 OK
            counts[2] += 1
            notes.put(2, counts[2])
        ctx.done(n)
    c.close()
    counts[3] += 2
    notes.put(3, counts[3])
    _greenlets(notes)
    return None


def _greenlets(notes: _Notes) -> None:
    """Seed 003's greenlet example, where greenlet is installed (the optional
    extra `ipcplay[greenlet]`): foo and bar hand control to each other with
    explicit switch() calls, ok1 to ok4, still in this one process. Each
    switch() is counted; without greenlet the note is simply not written."""
    try:
        from greenlet import greenlet
    except ImportError:
        return
    switches = [0]

    def switch(g: Any) -> None:
        switches[0] += 1
        notes.put(4, switches[0])
        g.switch()

    def foo() -> None:  # prints ok1, ok3 in the seed
        switch(g2)
        switch(g2)

    def bar() -> None:  # prints ok2, ok4 in the seed
        switch(g1)

    g1, g2 = greenlet(foo), greenlet(bar)
    switch(g1)  # ok1 -> ok2 -> ok3 -> ok4: four switches in all


DEMO_ROLES: dict[str, Callable[[Any], str | None]] = {
    "globals": globals_role,
    "coroutines": coroutines_role,
}
