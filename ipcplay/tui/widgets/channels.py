"""One row per channel: depth with its fill and history, totals, rates."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from ipcplay.engine.snapshot import ChannelSample, Snapshot
from ipcplay.scenario import kinds
from ipcplay.tui import format as F
from ipcplay.tui.widgets.rows import Pieces, RowView
from ipcplay.tui.widgets.text import TextView

HISTORY = 60


class ChannelPanel(Vertical):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.depth: dict[str, deque[float]] = {}
        self._last_push = 0.0

    def compose(self) -> ComposeResult:
        yield TextView(id="chan-header", classes="table-header")
        rows = RowView(id="chan-rows")
        rows.show_cursor = False
        rows.can_focus = False
        yield rows

    def reset(self) -> None:
        self.depth.clear()

    def update_snapshot(self, snap: Snapshot) -> None:
        # 2: every column (~130 cells); 1: no kind, bytes or blocked (~92); 0: narrow.
        # "age": how long the item taken last had been in the channel; "blocked":
        # the time its processes spent blocked in put/get on it (the help says so).
        width = self.size.width
        mode = 2 if width >= 132 else (1 if width >= 92 else 0)
        self.query_one("#chan-header", TextView).set(self._header(mode))
        rows = []
        # The history column holds the highest depth of each second: a queue's
        # peaks matter, and a column that moves once a second costs little.
        second = snap.t - self._last_push >= 1.0
        if second:
            self._last_push = snap.t
        for c in snap.channels:
            hist = self.depth.setdefault(c.name, deque(maxlen=HISTORY))
            if second or not hist:
                hist.append(c.depth)
            elif c.depth > hist[-1]:
                hist[-1] = c.depth
            rows.append((c.name, (c, tuple(hist) if mode else (), mode)))
        self.query_one("#chan-rows", RowView).set_rows(rows, self._row)

    def _header(self, mode: int) -> Text:
        if mode:
            kind = f"{'kind':<15} " if mode == 2 else ""
            cols = (
                f"{'channel':<12} {kind}{'depth':<17} {'history':<12} {'max':>5} "
                f"{'puts':>7} {'gets':>7} "
                + (f"{'bytes':>7} " if mode == 2 else "")
                + f"{'put/s':>7} {'get/s':>7} {'age':>7}"
                + (f" {'blocked':>8}" if mode == 2 else "")
            )
        else:
            cols = (
                f"{'channel':<10} {'depth':<17} {'max':>4} {'put/s':>7} {'get/s':>7} {'bytes':>6}"
            )
        return Text(cols, style="bold")

    def _row(self, value: tuple[ChannelSample, tuple[float, ...], int]) -> Pieces:
        c, hist, mode = value
        kind = kinds.channel_label(c.kind, c.maxsize)
        if mode == 2:
            out = [(f"{c.name[:12]:<12} {kind[:15]:<15} ", "")]
        elif mode == 1:
            out = [(f"{c.name[:12]:<12} ", "")]
        else:
            out = [(f"{c.name[:10]:<10} ", "")]
        entry = kinds.channel_kind(c.kind)
        if entry is not None and entry.pipe_like:  # no maxsize: what matters is in flight
            out.append((f"{c.depth:>3} in flight     ", "cyan"))
        else:
            out += F.fill_pieces(c.depth, c.maxsize, 8) if c.maxsize else [(" " * 8, "")]
            out.append(
                (
                    f" {c.depth:>3}/{c.maxsize if c.maxsize else '∞':<4} ",
                    F.fill_style(c.depth, c.maxsize),
                )
            )
        if mode:
            top = float(c.maxsize) if c.maxsize else None
            out.append((F.sparkline(hist, 12, top=top), "cyan"))
            figures = f" {c.max_depth:>5} {c.puts:>7} {c.gets:>7}"
            if mode == 2:
                figures += f" {F.size(c.bytes):>7}"
            figures += f" {F.rate(c.put_rate):>7} {F.rate(c.get_rate):>7} {F.wait(c.wait_s):>7}"
            if mode == 2:
                figures += f" {c.blocked_put_s + c.blocked_get_s:>7.1f}s"
            out.append((figures, ""))
        else:
            out.append(
                (
                    f"{c.max_depth:>4} {F.rate(c.put_rate):>7} {F.rate(c.get_rate):>7} "
                    f"{F.size(c.bytes):>6}",
                    "",
                )
            )
        if c.lost:  # put() returned, but the feeder thread dropped them
            out.append((f"  lost {c.lost} (unpicklable)", "bold red"))
        return out
