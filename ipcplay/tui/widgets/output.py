"""What a watched program printed: the Output tab.

Every line the program's processes wrote, in the order the observer read
them, each under the name of the process that wrote it (stderr marked).
Nothing the program prints reaches the terminal any other way: here each
line is neutralised (ipcplay/safetext.py) and drawn as one cropped row, so a
line with escapes or carriage returns cannot draw over the screen.

A chatty program must not slow the screen: the view keeps the newest
`KEEP` lines (and says how many it let go), takes only what is new on each
snapshot, and draws only the rows on screen, each rendered once and cached.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ipcplay.engine.program_output import OutputLine
from ipcplay.safetext import neutralise

KEEP = 5000
"""Lines kept for the view (the newest): a screenful is 20, a program may print millions."""

NAME_W = 16
_NAME = Style(bold=True, color="cyan")
_ERR = Style(bold=True, color="red")


def line_text(line: OutputLine) -> str:
    """A printed line as it may reach the terminal: tabs expanded, every
    other control character shown as an escape."""
    return neutralise(line.text.expandtabs(8), multiline=False)


class OutputView(ScrollView, can_focus=True):
    """The lines, one row each; follows the end unless scrolled up."""

    DEFAULT_CSS = """
    OutputView { height: 1fr; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._kept: deque[OutputLine] = deque(maxlen=KEEP)
        self._shown: deque[OutputLine] = deque(maxlen=KEEP)
        self._names: dict[int, str] = {}
        self._strips: dict[int, tuple[str, Strip]] = {}  # seq -> (name drawn, strip)
        self._width = 0
        self._name_w = 4  # the name column: the longest name, at most NAME_W
        self.filter: int | None = None  # a process index: only its lines
        self.next_seq = 0  # the first line not yet taken
        self.total = 0  # lines the program printed so far (as far as the observer read them)
        self.left_out = 0  # of those, lines no longer kept (here or by the collector)

    def reset(self) -> None:
        """A new run (restart): nothing printed yet."""
        self._kept.clear()
        self._shown.clear()
        self._strips.clear()
        self._width = 0
        self.next_seq = self.total = self.left_out = 0
        self.virtual_size = Size(0, 0)
        self.refresh()

    def set_names(self, names: dict[int, str]) -> None:
        """Process index -> name, from the latest snapshot (a process that
        printed before it was sampled gets its name once it is)."""
        if names != self._names:
            self._names = names
            width = min(NAME_W, max((len(name) for name in names.values()), default=4))
            if width != self._name_w:
                self._name_w = width
                self._strips.clear()
            self.refresh()

    def name_of(self, proc: int) -> str:
        return self._names.get(proc, f"process {proc}")

    def feed(self, lines: Iterable[OutputLine]) -> int:
        """Take the lines from `next_seq` on; returns how many were new."""
        lines = list(lines)
        if not lines:
            return 0
        follow = self.is_vertical_scroll_end
        self.total = lines[-1].seq + 1
        self.next_seq = self.total
        if len(lines) > KEEP:  # a flood: only the newest can be kept anyway
            lines = lines[-KEEP:]
        self._kept.extend(lines)
        self.left_out = self.total - len(self._kept)
        fresh = lines if self.filter is None else [x for x in lines if x.proc == self.filter]
        self._shown.extend(fresh)
        if fresh:  # a first guess of the widest line; a wider one drawn widens it
            width = NAME_W + 8 + max(len(x.text) for x in fresh)
            self._width = max(self._width, min(width, 4200))
        self._prune()
        self.virtual_size = Size(self._width, len(self._shown))
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()
        return len(lines)

    def set_filter(self, proc: int | None) -> None:
        """Only process `proc`'s lines (None: everyone's), from what is kept."""
        self.filter = proc
        self._shown = deque((x for x in self._kept if proc is None or x.proc == proc), maxlen=KEEP)
        self._strips.clear()
        self.virtual_size = Size(self._width, len(self._shown))
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    @property
    def lines(self) -> list[str]:
        """The shown lines as plain text (for tests and screen readers)."""
        return [self._plain(x) for x in self._shown]

    def _plain(self, line: OutputLine) -> str:
        return "".join(segment.text for segment in self._segments(line))

    def _segments(self, line: OutputLine) -> list[Segment]:
        width = self._name_w
        name = neutralise(self.name_of(line.proc), multiline=False)
        if len(name) > width:
            name = name[: width - 1] + "…"
        out = [Segment(f"{name:<{width}} ", _NAME)]
        if line.stream == "stderr":
            out.append(Segment("stderr ", _ERR))
        out.append(Segment(line_text(line)))
        return out

    def _prune(self) -> None:
        if len(self._strips) > 400:  # only rows on screen are cached; keep the last ones
            oldest = self._shown[0].seq if self._shown else 0
            keep = max(oldest, self.next_seq - 200)
            self._strips = {k: v for k, v in self._strips.items() if k >= keep}

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        style = self.rich_style
        index = scroll_y + y
        if index >= len(self._shown):
            return Strip.blank(width, style)
        line = self._shown[index]
        name = self.name_of(line.proc)
        cached = self._strips.get(line.seq)
        if cached is None or cached[0] != name:
            strip = Strip(Segment.apply_style(self._segments(line), style))
            cached = (name, strip)
            self._strips[line.seq] = cached
            if len(self._strips) > 800:
                self._prune()
        if cached[1].cell_length > self._width:  # escapes made it wider than its text
            self._width = cached[1].cell_length
            self.virtual_size = Size(self._width, len(self._shown))
        strip = cached[1].crop_extend(scroll_x, scroll_x + width, style)
        return strip.apply_offsets(scroll_x, index)

    def heading(self) -> str:
        """One line above the view: whose lines, how many, how many let go."""
        who = "every process" if self.filter is None else self.name_of(self.filter)
        shown = len(self._shown)
        text = f"{who} · {shown:,} line{'s' * (shown != 1)} shown of {self.total:,} printed"
        if self.left_out:
            text += f" · {self.left_out:,} earlier lines not kept (the newest {KEEP:,} are)"
        if self.total == 0:
            text = f"{who} · nothing printed yet"
        return text + " · f: whose lines"
