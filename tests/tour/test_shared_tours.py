"""Every preset's tour, as a user runs it: `ipcplay run NAME --tour --json`
plays every step, each one saw the state it waits for, and each caption
stays up long enough to be read aloud (MIN_GAP_S) before the next."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

from ipcplay.scenario import list_presets, load, resolve
from ipcplay.tour import MIN_GAP_S

TOURED = {
    "value-lost-updates": "completed",
    "barrier-one-short": "hang",
    "seed002-event-barrier": "completed",
    "semaphore-pool": "completed",
    "lock-order-deadlock": "deadlock",
    "challenge-lock-order": "deadlock",  # its tour steps it there, one operation at a time
    "pipe-write-end-open": "hang",
    "terminate-holding-lock": "hang",
    "terminate-holding-lock-fixed": "completed",
    "join-before-drain": "deadlock",
    "queue-unpicklable-lambda": "hang",
    "zombie-until-join": "completed",
    "seed004-pool-map": "completed",
    "pool-killed-worker-hang": "hang",
    "manager-nested-lost": "completed",
    "condition-lost-notify": "hang",
    "event-never-set": "hang",
    "lock-reacquire-deadlock": "deadlock",
    "manager-queue-no-pill": "hang",
    "pipe-both-recv-deadlock": "deadlock",
    "pool-error-at-get": "crashed",
    "join-without-task-done": "hang",
    "simplequeue-hello": "completed",
    "seed002-lock": "completed",
    "seed003-manager-dict": "completed",
    "seed004-apply-async": "completed",
    "seed000-value-array": "completed",
    "seed002-value-array": "completed",
    "seed003-manager-list": "completed",
    "seed003-pool-apply": "completed",
    "pool-imap-unordered": "completed",
    "shared-memory-block": "completed",
    "shareable-list": "crashed",
    "connection-listener": "completed",
    "start-method-globals": "completed",
    "joinable-pipeline": "completed",
    "bounded-queue": "completed",
    "joinable-queue-consumers": "completed",
    "pipe-ping-pong": "completed",
    "pipe-stream-eof": "completed",
    "steady-pipeline": "completed",
}
READING_GAP_S = MIN_GAP_S - 0.15  # a sample is 0.1 s: a step fires on the first one after the gap


@pytest.mark.timeout(90)
@pytest.mark.parametrize("name", sorted(TOURED))
def test_every_step_of_the_tour_is_met(name: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "ipcplay", "run", name, "--tour", "--json"],
        capture_output=True,
        text=True,
        timeout=80,
    )
    report = json.loads(r.stdout)
    assert report["verdict"] == TOURED[name], r.stderr
    steps = report["tour"]
    assert [s["step"] for s in steps] == list(range(len(load(resolve(name)).tour)))
    assert all(s["met"] for s in steps), steps
    for step, spec in zip(steps, load(resolve(name)).tour, strict=True):
        if spec.when in ("blocked", "exited"):
            assert spec.on and spec.on in step["seen"], (spec, step)
        if spec.when in ("hang", "deadlock"):
            assert step["seen"].startswith(spec.when), step
    # Readable at 1x: each caption stays up for at least the reading gap
    # (a held step stays up until the teacher presses n: longer still).
    gaps = [round(b["t"] - a["t"], 2) for a, b in itertools.pairwise(steps)]
    assert all(g >= READING_GAP_S for g in gaps), gaps


def test_every_preset_with_a_tour_is_played_here() -> None:
    """The spacing above is measured over every tour a preset ships."""
    toured = {i.name for i in list_presets() if i.origin == "built-in" and load(i.path).tour}
    assert toured == set(TOURED), toured ^ set(TOURED)


def test_every_broken_pitfall_has_a_tour_that_is_played_here() -> None:
    """A teacher opens a broken pitfall to show what goes wrong: each one walks
    to its failure, and each tour is played above."""
    builtins = [i.path for i in list_presets() if i.origin == "built-in"]
    broken = [p.stem for p in builtins if load(p).pitfall == "broken"]
    assert len(broken) >= 17
    missing = [n for n in broken if not load(resolve(n)).tour or n not in TOURED]
    assert not missing, missing
