"""One row per shared object: a Value's number and its lost updates, who holds
a lock, how many wait at a Barrier, whether an Event is set."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from ipcplay.engine.snapshot import SharedSample, Snapshot
from ipcplay.tui import format as F
from ipcplay.tui.widgets.rows import Pieces, RowView
from ipcplay.tui.widgets.text import TextView

NAME_W = 12
KIND_W = 18


class SharedPanel(Vertical):
    """Rows are rebuilt from each snapshot, but RowView repaints only those
    whose value changed: a held lock's "for 1.3 s" once a tenth of a second,
    an idle Event never."""

    def compose(self) -> ComposeResult:
        yield TextView(id="shared-header", classes="table-header")
        rows = RowView(id="shared-rows")
        rows.show_cursor = False
        rows.can_focus = False
        yield rows

    def update_snapshot(self, snap: Snapshot, now: float) -> None:
        width = max(40, self.size.width - 2)
        wide = width >= 110
        self.query_one("#shared-header", TextView).set(self._header(wide, _room(width, wide)))
        rows = []
        for obj in snap.shared:
            held = round(now - obj.held_since, 1) if obj.holders and obj.held_since else 0.0
            rows.append((obj.name, (obj, held, width, wide)))
        self.query_one("#shared-rows", RowView).set_rows(rows, self._row)

    def _header(self, wide: bool, room: int) -> Text:
        cols = f"{'shared':<{NAME_W}} {'kind':<{KIND_W}} {'state':<{room}}"
        if wide:
            cols = f"{cols} {'waiting':<24} {'acq/wait':>9} {'contended':>9} {'blocked':>8}"
        return Text(cols, style="bold")

    def _row(self, value: tuple[SharedSample, float, int, bool]) -> Pieces:
        obj, held, width, wide = value
        now = obj.held_since + held
        room = _room(width, wide)
        state = F.shared_state(obj, now, room)
        used = sum(len(t) for t, _ in state)
        out: Pieces = [
            (f"{obj.name[:NAME_W]:<{NAME_W}} ", "bold"),
            (f"{F.shared_kind(obj)[:KIND_W]:<{KIND_W}} ", "cyan"),
        ]
        if used > room:  # cut the last pieces, never the name
            cut: Pieces = []
            left = room
            for text, style in state:
                cut.append((text[:left], style))
                left -= len(text[:left])
            state = cut
            used = room
        out += state
        waiting = ", ".join(obj.waiting)
        if wide:
            out.append((" " * (room - used + 1), ""))
            out.append((f"{waiting[:24]:<24} ", "#ffb454" if waiting else ""))
            ops = obj.updates if obj.calls else obj.acquires  # a Manager object: its proxy calls
            out.append((f"{ops:>9} {obj.contended:>9} {obj.wait_s:>7.1f}s", ""))
        elif waiting:
            out.append((f"  waiting: {waiting}", "#ffb454"))
        return out


def _room(width: int, wide: bool) -> int:
    """Cells for the state column: what the name, kind and (wide) figures leave."""
    right = 24 + 1 + 9 + 1 + 9 + 1 + 8 + 1 if wide else 0
    return max(20, width - NAME_W - KIND_W - 2 - right)
