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


def cut(name: str, width: int) -> str:
    """A name in `width` cells. A program's names made by ipcplay tell
    themselves apart at their end (`Queue@loopq.py:11#7`: the line, the
    repeat), so those keep their end; any other keeps its start."""
    if len(name) <= width:
        return name
    if "@" in name or "#" in name:
        return "…" + name[-(width - 1) :]
    return name[:width]


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
        for channel in snap.channels:
            hist = self.depth.setdefault(channel.name, deque(maxlen=HISTORY))
            if second or not hist:
                hist.append(channel.depth)
            elif channel.depth > hist[-1]:
                hist[-1] = channel.depth
            rows.append((channel.name, (channel, tuple(hist) if mode else (), mode)))
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
        channel, hist, mode = value
        kind = kinds.channel_label(channel.kind, channel.maxsize)
        if mode == 2:
            out = [(f"{cut(channel.name, 12):<12} {kind[:15]:<15} ", "")]
        elif mode == 1:
            out = [(f"{cut(channel.name, 12):<12} ", "")]
        else:
            out = [(f"{cut(channel.name, 10):<10} ", "")]
        if kinds.channel_has(channel.kind, "pipe_like"):  # no maxsize: what matters is in flight
            out.append((f"{channel.depth:>3} in flight     ", "cyan"))
        else:
            out += (
                F.fill_pieces(channel.depth, channel.maxsize, 8)
                if channel.maxsize
                else [(" " * 8, "")]
            )
            out.append(
                (
                    f" {channel.depth:>3}/{channel.maxsize if channel.maxsize else '∞':<4} ",
                    F.fill_style(channel.depth, channel.maxsize),
                )
            )
        if mode:
            top = float(channel.maxsize) if channel.maxsize else None
            out.append((F.sparkline(hist, 12, top=top), "cyan"))
            figures = f" {channel.max_depth:>5} {channel.puts:>7} {channel.gets:>7}"
            if mode == 2:
                figures += f" {F.size(channel.bytes):>7}"
            figures += f" {F.rate(channel.put_rate):>7} {F.rate(channel.get_rate):>7}"
            figures += f" {F.wait(channel.wait_s):>7}"
            if mode == 2:
                figures += f" {channel.blocked_put_s + channel.blocked_get_s:>7.1f}s"
            out.append((figures, ""))
        else:
            out.append(
                (
                    f"{channel.max_depth:>4} {F.rate(channel.put_rate):>7} "
                    f"{F.rate(channel.get_rate):>7} "
                    f"{F.size(channel.bytes):>6}",
                    "",
                )
            )
        if channel.lost:  # put() returned, but the feeder thread dropped them
            out.append((f"  lost {channel.lost} (unpicklable)", "bold red"))
        return out
