"""The moments that matter in a run, found as its snapshots arrive.

Why debounced: in a flowing pipeline a consumer blocks on an empty queue and
is let go dozens of times a second, and a queue's depth flickers between 0
and 1; a moment for each would bury the ones worth jumping to. So a state
(blocked, a queue full or empty) counts only once it has held for HOLD_S,
and the moment is dated at the first snapshot that showed it. Starts, exits,
a deadlock or a hang, and the end of the run are moments at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from ipcplay.engine.snapshot import Snapshot, exit_words

HOLD_S = 0.5


@dataclass(frozen=True)
class Moment:
    """A moment: when (`t` in the run's elapsed seconds), which snapshot
    (`index` in the history), what kind and a few words."""

    t: float
    index: int
    kind: str  # started, ended, blocked, unblocked, full, empty, deadlock, hang, finished, tour
    words: str


@dataclass
class _Debounced:
    """A state that changes only once a new value has held for HOLD_S."""

    stable: str
    candidate: str | None = None
    since_t: float = 0.0
    since_index: int = 0
    since_words: str = ""


class MomentFinder:
    """Compares each snapshot with the one before and says what happened."""

    def __init__(self, hold_s: float = HOLD_S) -> None:
        self.hold_s = hold_s
        self._prev: Snapshot | None = None
        self._states: dict[tuple[str, object], _Debounced] = {}

    def feed(self, index: int, snap: Snapshot) -> list[Moment]:
        """The moments this snapshot completes (some dated earlier: a block
        becomes a moment once it has lasted), in no particular order."""
        prev = self._prev
        self._prev = snap
        at = snap.elapsed_s
        found: list[Moment] = []
        before = {p.index: p for p in prev.processes} if prev is not None else {}
        for proc in snap.processes:
            old = before.get(proc.index)
            if proc.pid is not None and (old is None or old.pid is None):
                found.append(Moment(at, index, "started", f"{proc.name} started (pid {proc.pid})"))
            if proc.exitcode is not None and (old is None or old.exitcode is None):
                found.append(Moment(at, index, "ended", f"{proc.name} {exit_words(proc.exitcode)}"))
            blocked = proc.blocked
            state, words = "running", f"{proc.name} unblocked"
            if proc.exitcode is not None:
                state = "gone"  # its exit is the moment, not the end of its wait
            elif blocked is not None:
                state = f"{blocked.op} {blocked.channel}"
                words = f"{proc.name} blocked: {blocked.op} '{blocked.channel}'"
                if blocked.reason:
                    words += f" ({blocked.reason})"
            found += self._settle(("p", proc.index), "running", state, words, index, at, snap)
        for chan in snap.channels:
            if chan.maxsize > 0 and chan.depth >= chan.maxsize:
                state, words = "full", f"{chan.name} full ({chan.depth}/{chan.maxsize})"
            elif chan.depth == 0:
                state, words = "empty", f"{chan.name} empty"
            else:
                state, words = "some", ""
            found += self._settle(("c", chan.index), "empty", state, words, index, at, snap)
        stuck = snap.stuck
        if stuck is not None and (prev is None or prev.stuck is None):
            words = stuck.description
            if not words.startswith(stuck.kind):
                words = f"{stuck.kind}: {words}"
            found.append(Moment(at, index, stuck.kind, words))
        if snap.finished and (prev is None or not prev.finished):
            found.append(Moment(at, index, "finished", "every process has ended"))
        return found

    def _settle(
        self,
        key: tuple[str, object],
        initial: str,
        state: str,
        words: str,
        index: int,
        at: float,
        snap: Snapshot,
    ) -> list[Moment]:
        deb = self._states.get(key)
        if deb is None:
            deb = self._states[key] = _Debounced(initial)
        if state == deb.stable:
            deb.candidate = None
            return []
        if deb.candidate != state:
            deb.candidate, deb.since_t, deb.since_index, deb.since_words = state, at, index, words
        if at - deb.since_t < self.hold_s and not snap.finished and snap.stuck is None:
            return []
        old, deb.stable, deb.candidate = deb.stable, state, None
        if state in ("some", "gone"):
            return []  # a queue with items in it, neither full nor empty; a process gone
        if key[0] == "p":
            kind = "unblocked" if state == "running" else "blocked"
        else:
            kind = state
            if state == "empty" and old == "empty":
                return []
        return [Moment(deb.since_t, deb.since_index, kind, deb.since_words)]
