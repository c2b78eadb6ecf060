"""Messages from the engine side to the app."""

from __future__ import annotations

from textual.message import Message

from ipcplay.engine.snapshot import Snapshot


class SnapshotReady(Message):
    """A new snapshot from the sampler thread. Latest wins: a newer one waiting
    in the queue replaces an older one the app has not handled yet."""

    def __init__(self, snapshot: Snapshot, generation: int) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.generation = generation  # which run (restarts make new ones)

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotReady)


class RunFailed(Message):
    """The scenario could not be started."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class ReplayProgress(Message):
    """A schedule being replayed (--schedule) played one more step, or ended
    (`played` set: how it went). Posted from the replay's thread."""

    def __init__(self, done: int, total: int, played: object | None = None) -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.played = played  # schedule.Played once the replay is over
