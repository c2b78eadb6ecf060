"""One row per PID, and a detail panel for the selected one."""

from __future__ import annotations

import re
from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget

from ipcplay.engine.snapshot import ProcessSample, Snapshot
from ipcplay.safetext import neutralise
from ipcplay.tui import format as F
from ipcplay.tui.deferred import after_refresh
from ipcplay.tui.widgets.rows import RowView
from ipcplay.tui.widgets.text import TextView
from ipcplay.tui.widgets.wrap import WrappedView

HIGHLIGHT_S = 3.0  # how long a new or dead process stays highlighted
HISTORY = 60
_PID = re.compile(r" \(pid \d+\)")
SHORT = 40
"""Screens shorter than this (a projector's 30 lines) give the rows priority."""
TINY = 26
"""Screens shorter than this (80×24) also shrink the detail and shared panels."""
DETAIL_SHORT = 3  # the detail's lines on a short screen (app.tcss)
DETAIL_TALL = 5  # ... and when the rows leave room (as on a tall screen)


def state_of(proc: ProcessSample, now: float) -> tuple[str, str]:
    """The row's state in words and its style. Held at its gate (step mode),
    a process says its row key (1-9, run_step) and its next operation, in
    the words of the preset's names, neutralised."""
    if proc.next is None:
        return F.state_words(proc, now)
    key = f"[{proc.index + 1}] " if proc.index < 9 else ""
    return f"{key}held · next: {neutralise(proc.next.words, multiline=False)}", HELD_STYLE


HELD_STYLE = "bold #e6c07b"


def _cut(name: str, width: int) -> str:
    """The name in its column; one too long for it ends in "…", visibly cut."""
    return f"{name:<{width}}" if len(name) <= width else name[: width - 1] + "…"


class ProcessPanel(Vertical):
    """Header, rows and the selected process's details."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.cpu: dict[str, deque[float]] = {}
        self.born: dict[str, tuple[int | None, float]] = {}
        self.died: dict[str, float] = {}
        self.latest: Snapshot | None = None
        self._cols: tuple[str, int] = ("narrow", 14)
        """(layout, name width): the row layout (wide, narrow or tight), part
        of each row's value so a change of it redraws the rows."""
        self._last_push = 0.0
        self._rows_height = 0
        self._indent = 0  # where the state column starts in a row
        self.reserve = 0
        """Lines to leave for a tour's captions below."""
        self._above: list[Widget] | None = None
        self._caption: list[Widget] = []
        self._above_height: tuple[int, ...] = ()  # their heights at the last fit
        self._detail_max: int | None = None  # the detail's own max height, if grown

    def compose(self) -> ComposeResult:
        yield TextView(id="proc-header", classes="table-header")
        rows = RowView(id="proc-rows")
        rows.measure = self._measure
        yield rows
        yield WrappedView(id="proc-detail")

    def on_mount(self) -> None:
        # The frame names the rows shown: keep it true as the cursor scrolls them.
        self.watch(
            self.rows,
            "scroll_y",
            lambda _: self._where(),
            init=False,
        )

    @property
    def rows(self) -> RowView:
        return self.query_one("#proc-rows", RowView)

    def reset(self) -> None:
        self.cpu.clear()
        self.born.clear()
        self.died.clear()

    def _fit(self) -> None:
        """As many rows as there are processes, as long as the event log keeps
        a few lines and the panels above and a tour's captions keep theirs.

        On a tall screen the rows stop at 40 % of it; on a short one (a
        projector's 100×30) they come first: bounded-queue's twenty processes
        matter more in a lesson than a sixth line of the log. What does not
        fit scrolls, and the panel's frame says which rows are shown."""
        screen = self.screen
        if self._above is None:  # found once: a query walks the DOM
            panels = "#status, #timeline, #banner, #top, #shared, #managers"
            self._above = list(screen.query(panels))
            self._caption = list(screen.query("#caption"))
        above = sum(w.outer_size.height for w in self._above if w.display)
        caption = max([self.reserve, *(w.outer_size.height for w in self._caption if w.display)])
        detail = self.query_one("#proc-detail").outer_size.height
        key = (above, caption, detail, screen.size.height)
        if key != self._above_height:
            # The panels around changed height, or are about to (their first
            # rows are in this same update): fit again once the layout has them.
            self._above_height = key
            after_refresh(self, self._fit)
        total = screen.size.height
        short = total < SHORT
        # the footer; the log's tab bar (one line on a short screen) and its
        # fewest lines; this panel's frame, header and detail; the captions
        log = (1 if short else 2) + (3 if short else 6)
        room = total - above - 1 - log - 3 - max(detail, 1) - caption
        cap = room if short else min(int(total * 0.4) - caption, room)
        if short:
            self._grow_detail(room + max(detail, 1) - DETAIL_SHORT - self.rows.line_count)
        height = max(2, min(self.rows.line_count, cap))
        if height != self._rows_height:
            self._rows_height = height
            self.rows.styles.height = height
        self._where()

    def _grow_detail(self, spare: int) -> None:
        """On a projector the detail keeps three lines (name, state, counts)
        so the rows fit; when every row fits with lines to spare (the log
        below keeps its fewest), it takes two more: a pool's results as they
        arrived, the lesson of a pool preset, come after its counts.

        `spare` is counted as if the detail had its three lines, so growing
        it does not undo itself on the next fit."""
        tiny = self.screen.size.height < TINY
        grow = DETAIL_TALL if spare >= DETAIL_TALL - DETAIL_SHORT and not tiny else None
        if grow != self._detail_max:
            self._detail_max = grow
            # None: the stylesheet's (3, or 2 at 80×24)
            self.query_one("#proc-detail").styles.max_height = grow

    def _where(self) -> None:
        """Name the rows shown in the frame when some are scrolled away."""
        rows = self.rows
        where = ""
        if rows.line_count > self._rows_height:
            first, last = rows.shown_rows()
            where = f"{first + 1}–{last + 1} of {rows.row_count} · ↑↓"
        if where != self.border_subtitle:
            self.border_subtitle = where

    def update_snapshot(self, snap: Snapshot, now: float) -> None:
        self.latest = snap
        width = self.size.width
        # Below 90 columns only pid, name, cpu and the state: at 80 a wait
        # ("blocked on put 'queue' — queue full for 2.1 s") still fits a line.
        layout = "wide" if width >= 130 else "narrow" if width >= 90 else "tight"
        longest = max((len(p.name) for p in snap.processes), default=0)
        # The name column is as wide as the longest name (it never changes
        # during a run): at 100 columns the room it leaves is the state's.
        self._cols = (layout, max(7, min(24 if layout == "wide" else 18, longest)))
        tick = snap.t - self._last_push >= 1.0  # cpu % is a per-second figure
        if tick:
            self._last_push = snap.t
        first = not self.born
        for proc in snap.processes:
            hist = self.cpu.setdefault(proc.name, deque(maxlen=HISTORY))
            if tick or not hist:
                hist.append(proc.cpu_percent)
            seen = self.born.get(proc.name)
            if proc.pid and (seen is None or seen[0] != proc.pid):
                # Processes there from the start are not "new"; replacements are.
                self.born[proc.name] = (proc.pid, now - HIGHLIGHT_S if first else now)
                self.died.pop(proc.name, None)
            if not proc.alive and proc.exitcode is not None and proc.name not in self.died:
                self.died[proc.name] = now
        header = self.query_one("#proc-header", TextView)
        columns = self._header()
        header.set(columns)
        # A state too long for the row wraps under the state column.
        self._indent = self.rows.wrap_indent = columns.cell_len - len("state")
        rows = []
        for proc in snap.processes:
            highlight = 0
            born = self.born.get(proc.name)
            if proc.name in self.died and now - self.died[proc.name] < HIGHLIGHT_S:
                highlight = 2
            elif born is not None and now - born[1] < HIGHLIGHT_S:
                highlight = 1
            held = round(now - proc.blocked.since, 1) if proc.blocked is not None else 0.0
            rows.append(
                (proc.name, (proc, tuple(self.cpu.get(proc.name, ())), highlight, held, self._cols))
            )
        self.rows.set_rows(rows, self._row)
        self._fit()
        self.show_detail(now)

    def _header(self) -> Text:
        layout, name_w = self._cols
        if layout == "wide":
            cols = (
                f"{'pid':>7} {'ppid':>7} {'process':<{name_w}} {'role':<9} {'cpu':<14} "
                f"{'rss':>7} {'thr':>3} {'in':>7} {'out':>7}  state"
            )
        elif layout == "tight":
            cols = f"{'pid':>7} {'process':<{name_w}} {'cpu':>5}  state"
        else:
            cols = f"{'pid':>7} {'process':<{name_w}} {'cpu':<11} {'in':>6} {'out':>6}  state"
        return Text(cols, style="bold")

    def _measure(
        self, value: tuple[ProcessSample, tuple[float, ...], int, float, tuple[str, int]]
    ) -> int:
        """The row's length, or 0 for a state that always fits (most of them:
        only a wait or a note can be long). Counted, not drawn: every blocked
        row is measured on every snapshot, drawn only when on screen."""
        proc, _, _, held, (layout, _) = value
        if proc.blocked is None and not proc.notes and proc.next is None:
            return 0
        words, _ = state_of(proc, proc.blocked.since + held if proc.blocked is not None else 0.0)
        if layout != "wide":
            words = _PID.sub("", words)
        notes = len(F.notes_text(proc.notes)) + 2 if proc.notes else 0
        return self._indent + len(words) + notes

    def _row(
        self, value: tuple[ProcessSample, tuple[float, ...], int, float, tuple[str, int]]
    ) -> list[tuple[str, str]]:
        """The row as (text, style) pieces: RowView turns them into segments
        directly, several times cheaper than laying out a Rich Text."""
        proc, cpu, highlight, held, (layout, name_w) = value
        now = proc.blocked.since + held if proc.blocked is not None else 0.0
        words, style = state_of(proc, now)
        if layout != "wide":  # the holder's pid is on its own row: room for the rest
            words = _PID.sub("", words)
        notes = [(f"  {F.notes_text(proc.notes)}", "cyan")] if proc.notes else []
        spark = F.sparkline(cpu, 8, top=100.0)
        name_style = ("", "bold black on green", "bold white on dark_red")[highlight]
        pid = str(proc.pid or "-")
        if layout == "tight":
            return [
                (f"{pid:>7} ", ""),
                (_cut(proc.name, name_w), name_style),
                (f" {proc.cpu_percent:>4.0f}%  ", ""),
                (words, style),
                *notes,
            ]
        if layout == "wide":
            rss = F.size(proc.rss) if proc.rss else "-"
            return [
                (f"{pid:>7} {proc.ppid or '-':>7} ", ""),
                (_cut(proc.name, name_w), name_style),
                (f" {proc.role:<9} ", ""),
                (spark, "green"),
                (
                    f"{proc.cpu_percent:>5.0f}% {rss:>7} {proc.threads or '-':>3} "
                    f"{proc.received:>7} {proc.sent:>7}  ",
                    "",
                ),
                (words, style),
                *notes,
            ]
        return [
            (f"{pid:>7} ", ""),
            (_cut(proc.name, name_w), name_style),
            (" ", ""),
            (spark[-6:], "green"),
            (f"{proc.cpu_percent:>4.0f}% {proc.received:>6} {proc.sent:>6}  ", ""),
            (words, style),
            *notes,
        ]

    def show_detail(self, now: float) -> None:
        snap = self.latest
        key = self.rows.selected_key
        detail = self.query_one("#proc-detail", WrappedView)
        self._where()
        if snap is None or key is None:
            detail.set_lines([])
            return
        proc = next((x for x in snap.processes if x.name == key), None)
        if proc is None:
            detail.set_lines([])
            return
        words, style = state_of(proc, now)
        who = Text()
        who.append(f" {proc.name}", style="bold")
        who.append(
            f"  {proc.role}  pid {proc.pid or '-'}  ppid {proc.ppid or '-'}  "
            f"threads {proc.threads}  "
            f"rss {F.size(proc.rss)}  cpu {proc.cpu_percent:.0f}% ({proc.cpu_s:.2f} s)  "
            f"ctx switches {proc.ctx_switches or '-'}"
        )
        # The state, and why a process ended next to its exit, wrapped rather
        # than cut ("held by …, which was killed …" is read in full at 100
        # columns); then the counts; then a demo's own numbers or a pool's
        # results, which a short screen's three lines may leave out (the row
        # shows a demo's numbers too).
        state = Text(" ")
        state.append(words, style=style)
        if proc.error:
            state.append(f"  error: {proc.error}", style="red")
        extra = Text(" ")
        if proc.notes:
            extra.append(F.notes_text(proc.notes), style="cyan")
        pool = next((obj for obj in snap.pools if obj.name == proc.name), None)
        if pool is not None:
            head, _, results = F.pool_text(pool).partition("\n")
            counts = Text(head)
            extra.append(f"{'  ' if proc.notes else ''}{results.strip()}", style="cyan")
        else:
            counts = Text(
                f" in {proc.received}  out {proc.sent}  items {proc.items}  "
                f"pills in {proc.pills_received} out {proc.pills_sent}  "
                f"blocked {proc.blocked_s:.2f} s in total"
            )
            if proc.role == "pool-worker" and proc.activity:
                counts.append(f"  {proc.activity}")
        lines = [(who, 1, True), (state, 1, False), (counts, 1, True)]
        if extra.plain.strip():
            lines.append((extra, 1, False))
        detail.set_lines(lines)
