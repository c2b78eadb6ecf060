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
        if snap is None:
            t.append(" starting… ")
            t.append(title, style="bold")
            self.set(t)
            return
        age = max(0.0, now - snap.t)
        if verdict:
            t.append(
                f" {verdict.upper()} ",
                style="bold green" if verdict == "completed" else "bold white on red",
            )
        elif age < 2.0 / hz + 0.25:
            t.append(" ● live ", style="green")
        else:
            t.append(f" data {age:.1f} s old ", style="yellow" if age < 3.0 else "bold red")
        if paused_all:
            t.append("│ PAUSED ", style="bold magenta")
        t.append(
            f"│ {int(snap.elapsed_s)} s │ {hz:g} Hz │ ipcplay {snap.observer_cpu_percent:.0f}% CPU "
        )
        if snap.events_dropped:
            t.append(f"│ journal dropped {snap.events_dropped} ", style="yellow")
        t.append("│ ")
        t.append(title, style="bold")
        self.set(t)


class Banner(TextView):
    """A DEADLOCK or HANG, in words, when the engine finds one."""

    def show_stuck(self, snap: Snapshot | None) -> None:
        stuck = snap.stuck if snap is not None else None
        if self.display != (stuck is not None):
            self.display = stuck is not None
        if stuck is not None:
            # One line per fact, so nothing is cut: the cycle, then each waiter.
            body = stuck.description.split(": ", 1)[-1]
            lines = [
                f"{stuck.kind.upper()}: {part}" if i == 0 else f"  {part}"
                for i, part in enumerate(body.split("; "))
            ]
            self.set(Text("\n".join(lines), style="bold"))
