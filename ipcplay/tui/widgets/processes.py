"""One row per PID, and a detail panel for the selected one."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget

from ipcplay.engine.snapshot import ProcessSample, Snapshot
from ipcplay.tui import format as F
from ipcplay.tui.deferred import after_refresh
from ipcplay.tui.widgets.rows import RowView
from ipcplay.tui.widgets.text import TextView

HIGHLIGHT_S = 3.0  # how long a new or dead process stays highlighted
HISTORY = 60


class ProcessPanel(Vertical):
    """Header, rows and the selected process's details."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.cpu: dict[str, deque[float]] = {}
        self.born: dict[str, tuple[int | None, float]] = {}
        self.died: dict[str, float] = {}
        self.latest: Snapshot | None = None
        self._wide = False
        self._last_push = 0.0
        self._rows_height = 0
        self.reserve = 0
        """Lines to leave for a tour's captions below."""
        self._above: list[Widget] | None = None
        self._above_height = -1  # their height when the rows were last fitted

    def compose(self) -> ComposeResult:
        yield TextView(id="proc-header", classes="table-header")
        yield RowView(id="proc-rows")
        yield TextView(id="proc-detail")

    @property
    def rows(self) -> RowView:
        return self.query_one("#proc-rows", RowView)

    def reset(self) -> None:
        self.cpu.clear()
        self.born.clear()
        self.died.clear()

    def _fit(self, processes: int) -> None:
        """As many rows as there are processes, up to 40 % of the screen and
        never so many that the panels above and the event log and a tour's
        captions below lose their room."""
        screen = self.screen
        if self._above is None:  # found once: a query walks the DOM
            self._above = list(screen.query("#status, #banner, #top, #shared"))
        above = sum(w.outer_size.height for w in self._above if w.display)
        if above != self._above_height:
            # The panels above changed height, or are about to (their first
            # rows are in this same update): fit again once the layout has them.
            self._above_height = above
            after_refresh(self, self._fit, processes)
        # footer 1, the log's tabs and a few lines 6, this panel's own frame,
        # header and detail 6, and the captions' room
        room = screen.size.height - above - 1 - 6 - 6 - self.reserve
        cap = min(int(screen.size.height * 0.4) - self.reserve, room)
        height = max(2, min(processes, cap))
        if height != self._rows_height:
            self._rows_height = height
            self.rows.styles.height = height

    def update_snapshot(self, snap: Snapshot, now: float) -> None:
        self.latest = snap
        self._fit(len(snap.processes))
        self._wide = self.size.width >= 130
        tick = snap.t - self._last_push >= 1.0  # cpu % is a per-second figure
        if tick:
            self._last_push = snap.t
        first = not self.born
        for p in snap.processes:
            hist = self.cpu.setdefault(p.name, deque(maxlen=HISTORY))
            if tick or not hist:
                hist.append(p.cpu_percent)
            seen = self.born.get(p.name)
            if p.pid and (seen is None or seen[0] != p.pid):
                # Processes there from the start are not "new"; replacements are.
                self.born[p.name] = (p.pid, now - HIGHLIGHT_S if first else now)
                self.died.pop(p.name, None)
            if not p.alive and p.exitcode is not None and p.name not in self.died:
                self.died[p.name] = now
        header = self.query_one("#proc-header", TextView)
        header.set(self._header())
        rows = []
        for p in snap.processes:
            highlight = 0
            born = self.born.get(p.name)
            if p.name in self.died and now - self.died[p.name] < HIGHLIGHT_S:
                highlight = 2
            elif born is not None and now - born[1] < HIGHLIGHT_S:
                highlight = 1
            held = round(now - p.blocked.since, 1) if p.blocked is not None else 0.0
            rows.append((p.name, (p, tuple(self.cpu.get(p.name, ())), highlight, held, self._wide)))
        self.rows.set_rows(rows, self._row)
        self.show_detail(now)

    def _header(self) -> Text:
        if self._wide:
            cols = (
                f"{'pid':>7} {'ppid':>7} {'process':<16} {'role':<9} {'cpu':<14} "
                f"{'rss':>7} {'thr':>3} {'in':>7} {'out':>7}  state"
            )
        else:
            cols = f"{'pid':>7} {'process':<14} {'cpu':<11} {'in':>6} {'out':>6}  state"
        return Text(cols, style="bold")

    def _row(
        self, value: tuple[ProcessSample, tuple[float, ...], int, float, bool]
    ) -> list[tuple[str, str]]:
        """The row as (text, style) pieces: RowView turns them into segments
        directly, several times cheaper than laying out a Rich Text."""
        p, cpu, highlight, held, wide = value
        now = p.blocked.since + held if p.blocked is not None else 0.0
        words, style = F.state_words(p, now)
        notes = [(f"  {F.notes_text(p.notes)}", "cyan")] if p.notes else []
        spark = F.sparkline(cpu, 8, top=100.0)
        name_style = ("", "bold black on green", "bold white on dark_red")[highlight]
        pid = str(p.pid or "-")
        if wide:
            rss = F.size(p.rss) if p.rss else "-"
            return [
                (f"{pid:>7} {p.ppid or '-':>7} ", ""),
                (f"{p.name[:16]:<16}", name_style),
                (f" {p.role:<9} ", ""),
                (spark, "green"),
                (
                    f"{p.cpu_percent:>5.0f}% {rss:>7} {p.threads or '-':>3} "
                    f"{p.received:>7} {p.sent:>7}  ",
                    "",
                ),
                (words, style),
                *notes,
            ]
        return [
            (f"{pid:>7} ", ""),
            (f"{p.name[:14]:<14}", name_style),
            (" ", ""),
            (spark[-6:], "green"),
            (f"{p.cpu_percent:>4.0f}% {p.received:>6} {p.sent:>6}  ", ""),
            (words, style),
            *notes,
        ]

    def show_detail(self, now: float) -> None:
        snap = self.latest
        key = self.rows.selected_key
        detail = self.query_one("#proc-detail", TextView)
        if snap is None or key is None:
            detail.set("")
            return
        p = next((x for x in snap.processes if x.name == key), None)
        if p is None:
            detail.set("")
            return
        words, style = F.state_words(p, now)
        t = Text()
        t.append(f" {p.name}", style="bold")
        t.append(
            f"  {p.role}  pid {p.pid or '-'}  ppid {p.ppid or '-'}  threads {p.threads}  "
            f"rss {F.size(p.rss)}  cpu {p.cpu_percent:.0f}% ({p.cpu_s:.2f} s)  "
            f"ctx switches {p.ctx_switches or '-'}\n "
        )
        t.append(words, style=style)
        # Three lines at most (the panel's height): why a process ended goes next
        # to its exit, where a narrow panel still shows it; a demo's own numbers
        # and a pool's results go on the state line, a pool's task counts on the last.
        if p.error:
            t.append(f"  error: {p.error}", style="red")
        if p.notes:
            t.append(f"  {F.notes_text(p.notes)}", style="cyan")
        pool = next((o for o in snap.pools if o.name == p.name), None)
        if pool is not None:
            head, _, results = F.pool_text(pool).partition("\n")
            t.append(f"  {results.strip()}", style="cyan")
            t.append(f"\n{head}")
        else:
            t.append(
                f"\n in {p.received}  out {p.sent}  items {p.items}  "
                f"pills in {p.pills_received} out {p.pills_sent}  "
                f"blocked {p.blocked_s:.2f} s in total"
            )
            if p.role == "pool-worker" and p.activity:
                t.append(f"  {p.activity}")
        detail.set(t)
