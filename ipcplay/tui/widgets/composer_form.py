"""The composer's form: the fields of one entry, and the loader's word on them.

The form holds no state of its own beyond which entry it shows: it posts
`Edited` for every change, the screen makes a new draft, runs it through the
loader and hands back the problem to show. Fields that do not apply to an
entry's role or kind are hidden (and left out of the document), unless they
hold something, so a problem can always be shown next to its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import (
    Checkbox,
    Input,
    Label,
    OptionList,
    Select,
    SelectionList,
    Static,
    TextArea,
)
from textual.widgets.option_list import OptionDoesNotExist
from textual.widgets.selection_list import Selection

from ipcplay.scenario import kinds, model
from ipcplay.scenario.draft import PROCESS_DEFAULTS, Draft, Entry, Problem, Section

Kind = Literal["input", "select", "check", "refs", "endings", "area", "steps"]


@dataclass(frozen=True)
class FieldSpec:
    section: Section
    key: str
    label: str
    kind: Kind = "input"
    choices: tuple[str, ...] = ()
    placeholder: str = ""

    @property
    def slug(self) -> str:
        return f"{self.section}-{self.key.replace('.', '-')}"


FIELDS = (
    FieldSpec("scenario", "file", "file name", placeholder="saved as NAME.toml in your presets"),
    FieldSpec("scenario", "title", "title"),
    FieldSpec("scenario", "explain", "explain", "area"),
    FieldSpec("scenario", "start_method", "start method", "select", model.START_METHODS),
    FieldSpec("scenario", "expect", "expect", "select", model.VERDICTS),
    FieldSpec("scenario", "duration", "duration s", placeholder="seconds (default 30)"),
    FieldSpec("scenario", "seed", "seed", placeholder="any integer (default 0)"),
    FieldSpec("channel", "name", "name"),
    FieldSpec("channel", "kind", "kind", "select", model.CHANNEL_KINDS),
    FieldSpec("channel", "maxsize", "maxsize", placeholder="0 = unbounded"),
    FieldSpec("channel", "duplex", "duplex", "check"),
    FieldSpec("channel", "reader_keeps_write_end", "pitfall", "check"),
    FieldSpec("channel", "remote", "remote", "check"),
    FieldSpec("shared", "name", "name"),
    FieldSpec("shared", "kind", "kind", "select", model.SHARED_KINDS),
    FieldSpec("shared", "typecode", "typecode", "select", model.TYPECODES),
    FieldSpec("shared", "value", "value", placeholder="initial value (Value) or count (Semaphore)"),
    FieldSpec("shared", "values", "values", placeholder="initial elements: 0, 0, 0"),
    FieldSpec("shared", "parties", "parties", placeholder="processes wait() lets through together"),
    FieldSpec("shared", "size", "size", placeholder="bytes in the block (SharedMemory)"),
    FieldSpec("shared", "items", "items", placeholder='initial keys: name = "bob", n = 1'),
    FieldSpec("process", "name", "name"),
    FieldSpec("process", "role", "role", "select", model.ROLES),
    FieldSpec("process", "replicas", "replicas", placeholder="1 to 64, or cpu_count"),
    FieldSpec("process", "in", "reads (in)", "refs"),
    FieldSpec("process", "out", "writes (out)", "refs"),
    FieldSpec("process", "count", "count", placeholder="items; 0 = until a pill or EOF"),
    FieldSpec("process", "rate", "rate /s", placeholder="0 = as fast as possible"),
    FieldSpec("process", "payload.kind", "payload", "select", model.PAYLOAD_KINDS),
    FieldSpec("process", "payload.size", "  size", placeholder="bytes or characters"),
    FieldSpec("process", "payload.text", "  text"),
    FieldSpec("process", "payload.value", "  value", placeholder='a TOML value: 42, "hi", [1, 2]'),
    FieldSpec("process", "work.kind", "work", "select", model.WORK_KINDS),
    FieldSpec("process", "work.ms", "  ms", placeholder="per item, 0 to 60000"),
    FieldSpec("process", "compute", "compute", "select", model.COMPUTES),
    FieldSpec("process", "reply.kind", "reply", "select", model.PAYLOAD_KINDS),
    FieldSpec("process", "reply.size", "  size"),
    FieldSpec("process", "reply.text", "  text"),
    FieldSpec("process", "reply.value", "  value", placeholder="a TOML value"),
    FieldSpec("process", "finally", "finally", "endings"),
    FieldSpec("process", "task_done", "task_done", "check"),
    FieldSpec("process", "steps", "steps", "steps"),
    FieldSpec(
        "process", "terminate_after", "terminate at", placeholder="s: the parent terminate()s it"
    ),
    FieldSpec("process", "joined_after", "joined at", placeholder="s: the parent join()s it late"),
    FieldSpec("process", "join_first", "join first", placeholder="processes to join() first"),
    FieldSpec("process", "join_last", "join last", placeholder="processes to join() at the end"),
    FieldSpec("process", "pool", "pool", "area"),
)

STEPS_HELP = (
    "one per line: acquire NAME · release NAME · wait NAME · set NAME · clear NAME · "
    "sleep MS · add NAME N · multiply NAME N · value NAME N (add 'locked' to update "
    "inside NAME.get_lock()) · notify NAME [N] · notify_all NAME · wait_for NAME VALUE N · "
    "write NAME OFFSET NUMBER · fill NAME BYTE · read NAME · append NAME ITEM [at KEY "
    "[assign]] · setitem NAME KEY ITEM · setattr NAME ATTR ITEM · put CHANNEL ITEM · "
    "get CHANNEL ({i} is the process's index)"
)

ENDING_HELP = {
    "poison-pill": "poison-pill: send None to every reader",
    "join": "join: wait until every item is task_done()",
    "close": "close: close the Pipe end (the reader gets EOF)",
}
NO_CHANNELS = "(no channels yet: c on the list adds one)"
CHECK_LABELS = {
    "duplex": "both ends send and receive",
    "reader_keeps_write_end": "the reader keeps the write end open (no EOFError)",
    "remote": "served on 127.0.0.1; processes connect() with the authkey",
    "task_done": "call task_done() per item (JoinableQueue)",
}


def _payload_shown(entry: Entry, prefix: str, key: str) -> bool:
    kind = entry.get(f"{prefix}.kind")
    part = key.split(".", 1)[1]
    return part == "kind" or (part == "size" and kind in ("bytes", "text")) or part == kind


def visible(entry: Entry, key: str) -> bool:
    """Does this field show for this entry? What applies, plus anything set."""
    if entry.section == "channel":
        channel = kinds.channel_kind(entry.get("kind"))
        takes = key in channel.keys if channel is not None else False
        if key == "reader_keeps_write_end":  # a one-way Pipe's only
            return (takes and not entry.get("duplex")) or bool(entry.get(key))
        return takes or key not in kinds.KEYS
    if entry.section == "shared":
        shared = kinds.shared_kind(entry.get("kind"))
        return (key in shared.keys if shared is not None else False) or key not in kinds.KEYS
    if entry.section != "process":
        return True
    role = entry.get("role")
    if role in ("steps", *model.DEMO_ROLES):  # no channels and no payload
        keep = ("name", "role", "replicas", "count")
        if role == "steps":
            keep += ("steps", "terminate_after", "joined_after", "join_first", "join_last")
        return key in keep or (key in ("in", "out") and bool(entry.get(key)))
    if role == "pool":  # a pool process: its work per task and its [process.pool] table
        return key in ("name", "role", "work.kind", "work.ms", "pool")
    if key in ("steps", "pool"):
        return bool(str(entry.get(key)).strip())
    if key in ("in", "out"):
        return bool(entry.get(key)) or role != ("producer" if key == "in" else "consumer")
    if key == "rate":
        return role in ("producer", "pinger") or str(entry.get(key)).strip() not in ("", "0")
    if key.startswith("payload."):
        changed = any(
            entry.get(k) != v for k, v in PROCESS_DEFAULTS.items() if k.startswith("payload")
        )
        return (role in ("producer", "pinger") or changed) and _payload_shown(entry, "payload", key)
    if key.startswith("reply."):
        return role == "ponger" and _payload_shown(entry, "reply", key)
    if key == "work.ms":
        return entry.get("work.kind") != "none"
    if key == "compute":
        return role in ("worker", "consumer")
    if key == "task_done":
        return role in ("worker", "consumer") or not entry.get(key)
    return True


TICKED = "[x]"
UNTICKED = "[ ]"
"""Ticked and unticked differ in shape, not only in colour: a projector or a
colour-blind eye tells `[x]` from `[ ]`, where Textual's own ▐X▌ differs in shade only."""


class TickBox(Checkbox):
    """A checkbox drawn as `[x]` / `[ ]`, the mark bold and green when ticked."""

    DEFAULT_CSS = """
    TickBox > .toggle--button { color: $text-muted; background: transparent; }
    TickBox.-on > .toggle--button {
        color: $text-success;
        background: transparent;
        text-style: bold;
    }
    """

    def render(self) -> Content:
        mark = self.get_visual_style("toggle--button")
        box = Content.assemble("[", ("x" if self.value else " ", mark), "]")
        label = self.label.pad(1, 1).stylize_before(self.get_visual_style("toggle--label"))
        return Content.assemble(box, label)


class TickList(SelectionList[Any]):
    """A SelectionList whose items read `[x] name` / `[ ] name` (see TICKED)."""

    DEFAULT_CSS = """
    TickList > .selection-list--button,
    TickList > .selection-list--button-highlighted { color: $text-muted; }
    TickList > .selection-list--button-selected,
    TickList > .selection-list--button-selected-highlighted {
        color: $text-success;
        text-style: bold;
    }
    """

    def render_line(self, y: int) -> Strip:
        line = OptionList.render_line(self, y)  # the item's text; the box is ours
        index = self.scroll_offset.y + y
        try:
            option = self.get_option_at_index(index)
        except OptionDoesNotExist:
            return line
        ticked = option.value in self.selected
        component = "selection-list--button" + ("-selected" if ticked else "")
        if self.highlighted == index:
            component += "-highlighted"
        mark = self.get_component_rich_style(component)
        base = next(iter(line)).style or self.rich_style
        meta = Style(meta={"option": index})  # a click on the box ticks it too
        side = base + meta
        inner = base + Style(color=mark.color, bold=mark.bold) + meta
        return Strip(
            [
                Segment("[", side),
                Segment("x" if ticked else " ", inner),
                Segment("] ", side),
                *line,
            ]
        )


class EntryForm(VerticalScroll):
    """Every field of every section, built once; `show` picks what is seen."""

    class Edited(Message):
        """The user changed `key` of entry `uid` to `value` (draft terms)."""

        def __init__(self, uid: int, key: str, value: Any) -> None:
            super().__init__()
            self.uid = uid
            self.key = key
            self.value = value

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.uid: int | None = None
        self.entry: Entry | None = None
        self._specs = {f.slug: f for f in FIELDS}
        self._shown: tuple[str, str] | None = None  # (error widget id, message) on screen

    def compose(self) -> ComposeResult:
        yield Static("", id="form-problem", classes="field-error")
        for f in FIELDS:
            with Vertical(id=f"row-{f.slug}", classes=f"field {f.section}"):
                with Horizontal(classes="field-line"):
                    yield Label(f.label, classes="field-label")
                    yield self._widget(f)
                yield Static("", id=f"err-{f.slug}", classes="field-error")
                if f.kind == "steps":
                    yield Static(Text(STEPS_HELP), classes="field-hint")

    def _widget(self, f: FieldSpec) -> Widget:
        wid = f"w-{f.slug}"
        if f.kind == "select":
            options = [(c, c) for c in f.choices]
            return Select(options, allow_blank=False, compact=True, id=wid)
        if f.kind == "check":
            return TickBox(CHECK_LABELS.get(f.key, ""), compact=True, id=wid)
        if f.kind == "refs":
            return TickList(compact=True, id=wid)
        if f.kind == "endings":
            options = [(ENDING_HELP[entry], entry) for entry in model.ENDINGS]
            return TickList(*options, compact=True, id=wid)
        if f.kind == "area":
            return TextArea(soft_wrap=True, compact=True, id=wid)
        if f.kind == "steps":
            return TextArea(soft_wrap=False, compact=True, id=wid, classes="steps")
        return Input(placeholder=f.placeholder, compact=True, id=wid)

    def on_mount(self) -> None:
        for widget in self.query(".field, .field-error"):
            widget.display = False

    # ------------------------------------------------------------------ showing
    def show(self, entry: Entry, draft: Draft) -> None:
        """Load an entry's values into the widgets without echoing them back."""
        self.uid = entry.uid
        self.entry = entry
        self.border_title = {
            "scenario": "scenario",
            "channel": f"channel {entry.name}",
            "shared": f"shared {entry.name}",
            "process": f"process {entry.name}",
        }[entry.section]
        with self.prevent(
            Input.Changed,
            Select.Changed,
            Checkbox.Changed,
            SelectionList.SelectedChanged,
            TextArea.Changed,
        ):
            for f in FIELDS:
                if f.section == entry.section:
                    self._load(f, entry, draft)
        self.update_visibility(entry)

    def _load(self, f: FieldSpec, entry: Entry, draft: Draft) -> None:
        widget = self.query_one(f"#w-{f.slug}")
        value = entry.get(f.key)
        if isinstance(widget, Input):
            if widget.value != value:
                widget.value = str(value)
        elif isinstance(widget, Select):
            widget.value = value
        elif isinstance(widget, Checkbox):
            widget.value = bool(value)
        elif isinstance(widget, TextArea):
            if widget.text != value:
                widget.text = str(value)
        elif isinstance(widget, SelectionList):
            if f.kind == "refs":
                widget.clear_options()
                widget.add_options([(c.name or "(unnamed)", c.uid) for c in draft.channels])
                if not draft.channels:
                    widget.add_option(Selection(NO_CHANNELS, -1, disabled=True))
            widget.deselect_all()
            for v in value:  # selection order is the order in the file
                widget.select(v)
            if widget.option_count and widget.highlighted is None:
                widget.highlighted = 0  # space ticks the highlighted item: there must be one

    def update_visibility(self, entry: Entry) -> None:
        self.entry = entry
        for f in FIELDS:
            row = self.query_one(f"#row-{f.slug}")
            row.display = f.section == entry.section and visible(entry, f.key)

    def show_problem(self, problem: Problem | None) -> None:
        """The loader's message under the field its key path names.

        Showing or hiding a line moves the fields below it, so the form is laid
        out again only when the message or its place changes, not per keystroke.
        """
        shown: tuple[str, str] | None = None
        if problem is not None and self.entry is not None and problem.uid == self.uid:
            target = "form-problem"
            if problem.field is not None:
                slug = f"{self.entry.section}-{problem.field.replace('.', '-')}"
                if slug in self._specs and self.query_one(f"#row-{slug}").display:
                    target = f"err-{slug}"
            where = f"line {problem.line}: " if problem.line is not None else ""
            shown = (target, f"✗ {where}{problem.message}")
        if shown == self._shown:
            return
        if self._shown is not None:
            self.query_one(f"#{self._shown[0]}").display = False
        self._shown = shown
        if shown is not None:
            err = self.query_one(f"#{shown[0]}", Static)
            err.update(Text(shown[1]))
            err.display = True

    def focus_field(self, key: str | None = None) -> None:
        """The named field, or the first one shown."""
        if self.entry is None:
            return
        if key is not None:
            slug = f"{self.entry.section}-{key.replace('.', '-')}"
            if slug in self._specs and self.query_one(f"#row-{slug}").display:
                self.query_one(f"#w-{slug}").focus()
                return
        for f in FIELDS:
            if f.section == self.entry.section and self.query_one(f"#row-{f.slug}").display:
                self.query_one(f"#w-{f.slug}").focus()
                return

    # ------------------------------------------------------------------ editing
    def _edited(self, widget: Widget | None, value: Any) -> None:
        if widget is None or self.uid is None or not widget.id:
            return
        f = self._specs.get(widget.id.removeprefix("w-"))
        if f is not None:
            self.post_message(self.Edited(self.uid, f.key, value))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._edited(event.input, event.value)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._edited(event.select, event.value)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._edited(event.checkbox, event.value)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._edited(event.text_area, event.text_area.text)

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        event.stop()
        self._edited(event.selection_list, tuple(event.selection_list.selected))
