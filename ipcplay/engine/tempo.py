"""Slow motion: the scenario's own time, run slower than the clock.

At speed 0.1 every role's own time is ten times longer: a `work` of 30 ms
takes 300 ms, a `sleep` step of 1 s takes 10 s, a rate of 5 items/s becomes
0.5, and the parent's `terminate_after` and `joined_after`, the tour's
`after` and a scenario's `duration` stretch the same way. The IPC itself is
never slowed: a put, a get, a pickle and a lock are as fast as they are; only
the time between them grows, so a class can watch each step happen.

The speed lives in one board slot (`board.G_SPEED_MICRO`), written by the
observer alone and read by every child between two slices of its waiting, so
a change reaches running processes within one slice (50 ms), the way a rate
change does. A child never converts a whole duration at once: it spends its
scenario time slice by slice, each slice at the speed of the moment, so a
change in the middle of a long sleep takes effect in the middle of it.

The observer keeps a `ScenarioClock`: the scenario time that has passed at
any moment of the real clock, integrated over every speed change, so its
timers (terminate_after, joined_after, duration, tour) agree with the
children's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ipcplay.engine import board as B

MIN_SPEED = 0.05
MAX_SPEED = 1.0
SPEEDS = (0.05, 0.1, 0.25, 0.5, 1.0)
"""The steps of the run screen's `<` / `>` keys."""
SLICE_S = 0.05  # longest real sleep between two looks at the speed (and at commands)


def check_speed(speed: float) -> float:
    """`speed` if it is one ipcplay can play, else ValueError in words."""
    if not (MIN_SPEED <= speed <= MAX_SPEED):
        raise ValueError(f"expected a speed from {MIN_SPEED:g} to {MAX_SPEED:g}, got {speed:g}")
    return speed


def write_speed(mv: memoryview, speed: float) -> None:
    """The observer's side: publish a new speed to every child."""
    mv[B.G_SPEED_MICRO] = round(check_speed(speed) * 1_000_000)


def speed_of(mv: memoryview) -> float:
    """A child's side: the speed now (1.0 on a board that never set one)."""
    micro = mv[B.G_SPEED_MICRO]
    return micro / 1_000_000 if micro > 0 else 1.0


def sleep(mv: memoryview, seconds: float, stop: Callable[[], bool] | None = None) -> bool:
    """Let `seconds` of scenario time pass, at whatever speed each slice finds.

    `stop` is asked after every slice; True from it ends the sleep at once and
    is returned. At speed 1 this is the plain sliced sleep roles always did."""
    left = seconds
    while left > 0:
        speed = speed_of(mv)
        real = min(left / speed, SLICE_S)
        started = time.monotonic()
        time.sleep(real)
        left -= (time.monotonic() - started) * speed
        if stop is not None and stop():
            return True
    return False


def spin(mv: memoryview, seconds: float) -> None:
    """CPU work worth `seconds` of scenario time: the loop runs 1/speed times
    longer, so cpu % looks the same as at full speed, for longer."""
    left = seconds
    while left > 0:
        speed = speed_of(mv)
        start = time.perf_counter()
        end = start + min(left / speed, SLICE_S)
        spins = 0
        while time.perf_counter() < end:
            spins += 1
        left -= (time.perf_counter() - start) * speed


class ScenarioClock:
    """The observer's scenario time: real time integrated over the speeds.

    Kept as the (real, scenario, speed) of the last change, replaced whole on
    a change, so the sampler thread reads it without a lock while the UI
    thread sets the speed.
    """

    def __init__(self, t0: float, speed: float = 1.0) -> None:
        self._mark: tuple[float, float, float] = (t0, 0.0, check_speed(speed))
        self._history: tuple[tuple[float, float, float], ...] = (self._mark,)
        self._lock = threading.Lock()  # writers only

    @property
    def speed(self) -> float:
        return self._mark[2]

    def set_speed(self, speed: float, now: float | None = None) -> None:
        check_speed(speed)
        with self._lock:
            now = time.monotonic() if now is None else now
            scene = self.at(now)
            self._mark = (now, scene, speed)
            self._history = (*self._history, self._mark)

    def at(self, real: float) -> float:
        """Scenario seconds since the start at real monotonic time `real`."""
        marks = self._history
        for mark in reversed(marks):
            if real >= mark[0] or mark is marks[0]:
                real_at, scene, speed = mark
                return scene + (real - real_at) * speed
        return 0.0  # not reached: the first mark always answers

    def since(self, start: float, now: float) -> float:
        """Scenario seconds between two real monotonic times."""
        return self.at(now) - self.at(start)

    def real_after(self, start: float, scene_s: float, now: float) -> float:
        """The real time at which `scene_s` scenario seconds after `start` will
        have passed, at the present speed (a later change moves it)."""
        left = scene_s - self.since(start, now)
        return now + max(0.0, left) / self.speed
