"""Freshness, cost and verdict: the line that says whether to trust the rest."""

from __future__ import annotations

from rich.text import Text

from ipcplay.engine.snapshot import Snapshot
from ipcplay.tui.widgets.text import TextView
from ipcplay.tui.widgets.wrap import WrappedView


class StatusBar(TextView):
    def render_status(
        self,
        title: str,
        snap: Snapshot | None,
        now: float,
        hz: float,
        paused_all: bool,
        verdict: str | None,
        step: Text | None = None,
        rewound: Text | None = None,
    ) -> None:
        """`step`: step mode's part (run_step), after the run's state; on a
        line of its own when both do not fit on one, so no word is cut.
        `rewound`: where a rewound view is (run_rewind), first: the panels
        show that moment; the verdict after it is the run's, as it is now."""
        text = Text()
        if snap is None:
            text.append(" starting… ")
            text.append(title, style="bold")
            self.set(text)
            return
        age = max(0.0, now - snap.t)
        if rewound is not None:
            text.append_text(rewound)
            text.append("│ the run:" if verdict else "│ the run goes on ", style="grey62")
        if verdict:
            text.append(
                f" {verdict.upper()} ",
                style="bold green" if verdict == "completed" else "bold white on red",
            )
        elif rewound is not None:
            pass
        elif age < 2.0 / hz + 0.25:
            text.append(" ● live ", style="green")
        else:
            text.append(f" data {age:.1f} s old ", style="yellow" if age < 3.0 else "bold red")
        if paused_all:
            text.append("│ PAUSED ", style="bold magenta")
        if snap.speed != 1.0:  # slow motion (`<` / `>`): the scenario's time runs slower
            text.append(f"│ {snap.speed:g}× ", style="bold yellow")
        text.append(
            f"│ {int(snap.elapsed_s)} s │ {hz:g} Hz │ ipcplay {snap.observer_cpu_percent:.0f}% CPU "
        )
        if snap.events_dropped:
            text.append(f"│ journal dropped {snap.events_dropped} ", style="yellow")
        name = Text.assemble("│ ", (title, "bold"))
        line = _lines(text, name, step, self.size.width)
        self.set_class("\n" in line.plain, "-two")
        self.set(line)


def _lines(state: Text, title: Text, step: Text | None, width: int) -> Text:
    """The run's state and title, and step mode's part (which starts with
    "│" or a space): on one line when it all fits; else step mode's part on
    a second line, with the title after it when the first would cut it."""
    if step is None:
        return Text.assemble(state, title)
    bar = step if step.plain.startswith("│") else Text.assemble("│", step)
    if state.cell_len + bar.cell_len + title.cell_len <= width:
        return Text.assemble(state, bar, title)
    if state.cell_len + title.cell_len > width and bar.cell_len + title.cell_len <= width:
        return Text.assemble(state, "\n", bar[1:], title)
    return Text.assemble(state, _words_in(title, width - state.cell_len), "\n", bar[1:])


def _words_in(text: Text, room: int) -> Text:
    """`text` cut after its last whole word that fits in `room` cells, then "…"."""
    if text.cell_len <= room:
        return text
    cut = text.plain.rfind(" ", 0, max(0, room - 1))
    return Text.assemble(text[: max(cut, 0)], "…") if cut > 2 else text


class Banner(WrappedView):
    """A DEADLOCK or HANG, in words, when the engine finds one.

    One line per fact (the cycle, then each waiter), wrapped rather than cut:
    on a projector the names, pids and objects at the end of a line are the
    point of it."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._shown: str | None = None

    def show_stuck(self, snap: Snapshot | None) -> None:
        stuck = snap.stuck if snap is not None else None
        if self.display != (stuck is not None):
            self.display = stuck is not None
        if stuck is None or stuck.description == self._shown:
            return
        self._shown = stuck.description
        body = stuck.description.split(": ", 1)[-1]
        head = f"{stuck.kind.upper()}: "
        lines = [
            (Text(f"{head}{part}", style="bold"), len(head))
            if i == 0
            else (Text(f"  {part}", style="bold"), 4)
            for i, part in enumerate(facts(body))
        ]
        self.set_lines(lines)


def facts(body: str) -> list[str]:
    """The description's facts: split at "; ", but not inside parentheses
    (a lost pool task's reason has its own "; ")."""
    out: list[str] = []
    depth = start = 0
    for i, channel in enumerate(body):
        depth += (channel == "(") - (channel == ")")
        if depth == 0 and body.startswith("; ", i):
            out.append(body[start:i])
            start = i + 2
    out.append(body[start:])
    return out
