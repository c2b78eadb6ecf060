"""The shared-state and pitfall presets' tours, as a user runs them: `ipcplay run NAME
--tour --json` plays every step, and each one saw the state it waits for."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ipcplay.scenario import load, resolve

TOURED = {
    "value-lost-updates": "completed",
    "barrier-one-short": "hang",
    "seed002-event-barrier": "completed",
    "semaphore-pool": "completed",
    "lock-order-deadlock": "deadlock",
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
}


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
