"""The Manager server processes, one block each: the real process (pid, cpu,
memory, threads: one per connection) and every call made to it, by method."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from ipcplay.engine.snapshot import ManagerSample, Snapshot
from ipcplay.tui import format as F
from ipcplay.tui.widgets.text import TextView


def manager_text(manager: ManagerSample, width: int) -> Text:
    """Two lines: the process as the OS knows it, then the calls the callers counted."""
    text = Text()
    text.append(f"{manager.name} ", style="bold")
    text.append(f"({manager.kind}) ", style="cyan")
    if manager.pid is None:
        text.append("starting")
    elif not manager.alive:
        text.append(f"pid {manager.pid} exited {manager.exitcode}", style="dim")
    else:
        text.append(
            f"pid {manager.pid}  cpu {manager.cpu_percent:4.1f}%  rss {F.size(manager.rss)}  "
        )
        text.append(f"threads {manager.threads}", style="bold")
    text.append(
        f"  at {manager.address}", style="dim" if manager.address.startswith("/") else "#5fd75f"
    )
    text.append("\n  calls: ")
    if manager.calls:
        for key, (method, count) in enumerate(manager.calls):
            text.append(", " if key else "")
            text.append(method, style="cyan")
            text.append(f" {count}", style="bold")
    else:
        text.append("none yet", style="dim")
    if manager.observer_reads:
        text.append(f"  (+ {manager.observer_reads} reads by ipcplay)", style="dim")
    text.append(f"  serves {', '.join(manager.objects)}", style="dim")
    text.truncate(width * 2 + 1)
    return text


class ManagerPanel(Vertical):
    """Shown only for scenarios with Manager objects; redrawn line by line."""

    def compose(self) -> ComposeResult:
        yield TextView(id="manager-text")

    def update_snapshot(self, snap: Snapshot) -> None:
        width = max(40, self.size.width - 2)
        text = Text("\n").join(manager_text(manager, width) for manager in snap.managers)
        self.query_one("#manager-text", TextView).set(text)
