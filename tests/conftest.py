"""Shared test guards: nothing a test starts may outlive it.

Every test is checked for leftover child processes and new shared-memory
segments; multiprocessing's own long-lived helpers (the resource tracker and
the forkserver) are the only children allowed to stay.

A child left running fails its test at teardown. A segment cannot be told
apart from one another worker's run has just made (nothing in /dev/shm says
who made it), and telling takes waiting until the other run is over: each
test only notes the segments that appeared while it ran, and the worker
checks them all once, after its last test, naming the test each came from.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

HELPERS = ("resource_tracker", "forkserver")


def _shm() -> set[str]:
    try:
        return set(os.listdir("/dev/shm"))
    except FileNotFoundError:
        return set()


def _in_use(names: set[str]) -> set[str]:
    """The segments some live process still maps or holds open.

    Tests run in parallel workers (and other programs use /dev/shm too), so a
    segment that appeared during this test may belong to someone else's run
    that is still going. A leak is a segment no other process uses any more.
    """
    used: set[str] = set()
    me = str(os.getpid())  # what this test process still holds is its own leak
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or pid == me:
            continue
        try:
            with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as f:
                text = f.read()
            fds = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        for name in names:
            path = f"/dev/shm/{name}"
            if path in text or any(fd.startswith(path) for fd in fds):
                used.add(name)
    return used


def _our_children() -> list[psutil.Process]:
    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            cmd = " ".join(child.cmdline())
            if any(h in cmd for h in HELPERS) or child.status() == psutil.STATUS_ZOMBIE:
                continue
        except psutil.Error:
            continue
        out.append(child)
    return out


# In parallel workers a segment may belong to another worker's exported script,
# which can leave one unmapped (but registered, and unlinked at its exit) for as
# long as it still runs: up to its TIMEOUT and a kill.
PATIENCE_S = 20 if os.environ.get("PYTEST_XDIST_WORKER") else 5

# Segments that appeared during a test and were still there at its end, with
# the test: a leak stays for good, another run's segment goes when that run ends.
_suspects: dict[str, str] = {}


def _leaks(suspects: dict[str, str]) -> dict[str, str]:
    """The suspects still there that no live process uses."""
    gc.collect()  # what this process dropped is closed (and a spawn lock unlinked) now
    now = _shm()
    left = {name: test for name, test in suspects.items() if name in now}
    if left:
        for name in _in_use(set(left)):
            del left[name]
    return left


@pytest.fixture(autouse=True, scope="session")
def no_segment_left_behind() -> Iterator[None]:
    """After the worker's last test: every segment a test left is gone, or used
    by some other live process (another run's), within PATIENCE_S."""
    yield
    deadline = time.monotonic() + PATIENCE_S
    leaked = _leaks(_suspects)
    while leaked and time.monotonic() < deadline:
        time.sleep(0.2)
        leaked = _leaks(leaked)
    assert not leaked, "shared-memory segments left: " + ", ".join(
        f"{name} (from {test})" for name, test in sorted(leaked.items())
    )


@pytest.fixture(autouse=True)
def nothing_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    shm_before = _shm()
    yield
    deadline = time.monotonic() + PATIENCE_S
    while True:
        kids = _our_children()
        if not kids or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for k in kids:  # do not poison later tests, but fail this one
        k.kill()
    now = _shm()
    for name in now - shm_before:
        _suspects.setdefault(name, request.node.nodeid)
    for name in [n for n in _suspects if n not in now]:  # gone: keep the list short
        del _suspects[name]
    assert not kids, f"child processes left running: {[k.pid for k in kids]}"


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, every: float = 0.02) -> object:
    """Poll `predicate` until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(every)


async def until_shown(pilot: Any, predicate: Callable[[], object], timeout: float = 20.0) -> Any:
    """`wait_for` for an app under Pilot: poll between frames, so the app keeps
    drawing while the test waits; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met on screen in time")
        await pilot.pause(0.05)


@pytest.fixture
def waiter() -> Callable[..., object]:
    return wait_for


PRESETS = Path(__file__).resolve().parent.parent / "presets"
