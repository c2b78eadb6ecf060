"""The Manager server processes, one block each: the real process (pid, cpu,
memory, threads: one per connection) and every call made to it, by method."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from ipcplay.engine.snapshot import ManagerSample, Snapshot
from ipcplay.tui import format as F
from ipcplay.tui.widgets.text import TextView


def manager_text(m: ManagerSample, width: int) -> Text:
    """Two lines: the process as the OS knows it, then the calls the callers counted."""
    t = Text()
    t.append(f"{m.name} ", style="bold")
    t.append(f"({m.kind}) ", style="cyan")
    if m.pid is None:
        t.append("starting")
    elif not m.alive:
        t.append(f"pid {m.pid} exited {m.exitcode}", style="dim")
    else:
        t.append(f"pid {m.pid}  cpu {m.cpu_percent:4.1f}%  rss {F.size(m.rss)}  ")
        t.append(f"threads {m.threads}", style="bold")
    t.append(f"  at {m.address}", style="dim" if m.address.startswith("/") else "#5fd75f")
    t.append("\n  calls: ")
    if m.calls:
        for k, (method, n) in enumerate(m.calls):
            t.append(", " if k else "")
            t.append(method, style="cyan")
            t.append(f" {n}", style="bold")
    else:
        t.append("none yet", style="dim")
    if m.observer_reads:
        t.append(f"  (+ {m.observer_reads} reads by ipcplay)", style="dim")
    t.append(f"  serves {', '.join(m.objects)}", style="dim")
    t.truncate(width * 2 + 1)
    return t


class ManagerPanel(Vertical):
    """Shown only for scenarios with Manager objects; redrawn line by line."""

    def compose(self) -> ComposeResult:
        yield TextView(id="manager-text")

    def update_snapshot(self, snap: Snapshot) -> None:
        width = max(40, self.size.width - 2)
        text = Text("\n").join(manager_text(m, width) for m in snap.managers)
        self.query_one("#manager-text", TextView).set(text)
