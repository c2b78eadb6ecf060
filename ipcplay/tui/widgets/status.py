"""Freshness, cost and verdict: the line that says whether to trust the rest."""

from __future__ import annotations

from rich.text import Text

from ipcplay.engine.snapshot import Snapshot
from ipcplay.tui.widgets.text import TextView


class StatusBar(TextView):
    def render_status(
        self,
        title: str,
        snap: Snapshot | None,
        now: float,
        hz: float,
        paused_all: bool,
        verdict: str | None,
    ) -> None:
        t = Text()
        t.append(f" {title} ", style="bold")
        if snap is None:
            t.append(" starting…")
            self.set(t)
            return
        age = max(0.0, now - snap.t)
        t.append(f"│ {int(snap.elapsed_s)} s ")
        if age < 2.0 / hz + 0.25:
            t.append("│ ")
            t.append("● live", style="green")
        else:
            t.append("│ data ")
            t.append(f"{age:.1f} s old", style="yellow" if age < 3.0 else "bold red")
        t.append(f" │ {hz:g} Hz │ ipcplay {snap.observer_cpu_percent:.0f}% CPU ")
        if snap.events_dropped:
            t.append(f"│ journal dropped {snap.events_dropped} ", style="yellow")
        if paused_all:
            t.append("│ PAUSED ", style="bold magenta")
        if verdict:
            t.append(f"│ {verdict} ", style="bold green" if verdict == "completed" else "bold red")
        self.set(t)


class Banner(TextView):
    """A DEADLOCK or HANG, in words, when the engine finds one."""

    def show_stuck(self, snap: Snapshot | None) -> None:
        stuck = snap.stuck if snap is not None else None
        if self.display != (stuck is not None):
            self.display = stuck is not None
        if stuck is not None:
            self.set(
                Text(f"{stuck.kind.upper()}: {stuck.description.split(': ', 1)[-1]}", style="bold")
            )
