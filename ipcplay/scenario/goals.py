"""Every goal a challenge may set ([challenge] goal = ...), each described once.

A goal is one entry here: its name, what its `on` must name, the task in
words and how the snapshot tells it is reached, in words. The loader
validates a preset's [challenge] against this table, the TUI and the help
say the task from it, and ipcplay/challenge.py checks it: that module is
above the engine (it reads snapshots), this one is at the bottom of the
layers (the loader reads it), so the one piece of code a goal brings, its
check, lives there under the same name, and tests/challenges asserts the two
tables name the same goals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# What a goal's `on` names: nothing; a shared Value (an update can only be
# lost on a number); a bounded queue (maxsize > 0: an unbounded one is never
# full); a Pipe; or, optionally, any channel or shared object the wait is on.
On = Literal["", "value", "bounded", "pipe", "object"]


@dataclass(frozen=True)
class Goal:
    name: str
    task: str  # what the student is to do; `{on}` is the object's name
    checked: str  # how the snapshot tells it is reached
    on: On = ""

    @property
    def needs_on(self) -> bool:
        """Must the [challenge] name an object? ("object" is optional)."""
        return self.on in ("value", "bounded", "pipe")

    def task_words(self, on: str) -> str:
        """The task for this object: "lose an update on 'counter'"."""
        if not on:
            return self.task.replace(" on '{on}'", "").replace(" '{on}'", "")
        return self.task.format(on=on)


GOALS: dict[str, Goal] = {
    g.name: g
    for g in (
        Goal(
            "lost-update",
            "lose an update on '{on}'",
            "the Value holds less than every counted add made it (lost > 0)",
            on="value",
        ),
        Goal(
            "deadlock",
            "reach a deadlock on '{on}'",
            "the wait-for graph has a cycle: each waits for another of them",
            on="object",
        ),
        Goal(
            "no-deadlock",
            "finish without deadlock",
            "every process ended by itself with status 0, and nothing is stuck",
        ),
        Goal(
            "queue-full",
            "fill '{on}'",
            "the queue holds maxsize items (depth >= maxsize)",
            on="bounded",
        ),
        Goal(
            "hang",
            "make a wait on '{on}' that nothing can end",
            "a process waits and no live process can ever let it go",
            on="object",
        ),
        Goal(
            "both-wait",
            "make both ends of '{on}' wait",
            "every process at an end of the Pipe is blocked, one of them on the Pipe",
            on="pipe",
        ),
    )
}
GOAL_NAMES = tuple(GOALS)
