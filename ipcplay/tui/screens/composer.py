"""The composer: build a scenario from templates, check it as you type, run it, save it.

Data flows one way: widgets post edits, the screen makes a new immutable
`Draft`, runs it through the loader (`draft.check`) and pushes what follows
from it (the problem, the list, the diagram, the TOML) back to the widgets.
A draft is run or saved only as the `Scenario` the loader built from it.
"""

from __future__ import annotations

import contextlib
import os
import textwrap
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import tomli_w
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, TabbedContent, TabPane, TextArea

from ipcplay.safetext import neutralise
from ipcplay.scenario import kinds, list_presets, user_dir
from ipcplay.scenario.draft import (
    CHANNEL_TEMPLATES,
    PROCESS_TEMPLATES,
    SCENARIO_DEFAULTS,
    SHARED_TEMPLATES,
    Draft,
    Entry,
    Problem,
    Template,
    add,
    check,
    delete,
    duplicate,
    edit,
    free_name,
    to_doc,
)
from ipcplay.scenario.loader import dumps, loads
from ipcplay.scenario.model import Scenario
from ipcplay.tui.screens.choice import Choice, ChoiceScreen, ask_to_replace
from ipcplay.tui.screens.save_as import SaveAsScreen, slug
from ipcplay.tui.widgets.composer_diagram import channel_kind_label, steps_targets, topology
from ipcplay.tui.widgets.composer_diagram import shared_kind as _shared_kind
from ipcplay.tui.widgets.composer_form import EntryForm
from ipcplay.tui.widgets.rows import RowView
from ipcplay.tui.widgets.text import TextView

HELP_INTRO = (
    "Build a scenario from templates. The list on the left holds the scenario itself, its "
    "channels, its shared objects and its processes; the form shows the selected one. "
    "Every change is checked by the same loader that reads preset files, and its message "
    "appears next to the field it is about. Only a valid scenario runs or saves.\n\n"
    "Enter (or Tab) goes into the form; Escape comes back to the list, where the keys "
    "below work. The part that has the keys is framed in the accent colour, and its "
    "frame says what Escape does there. Leaving with unsaved changes (Escape on the "
    "list, or q) asks first."
)


def _wrapped(key: str, text: str) -> list[tuple[str, str]]:
    """One key's help over as many lines as the hand-written ones take (78
    columns): a list read from the kinds table names every kind it has."""
    first, *rest = textwrap.wrap(text, 78)
    return [(key, first), *(("", line) for line in rest)]


HELP_KEYS = [
    ("↑ ↓", "select the scenario, a channel or a process"),
    ("enter  tab", "edit the selected entry in the form (tab / shift+tab: next / previous field)"),
    ("a", "add a process: producer, consumer, worker (pipeline stage), pinger, ponger,"),
    ("", "or a steps process: counter incrementer (locked or racy), lock holder, event"),
    ("", "setter or waiter, barrier party, list appender, dict setter, notifier,"),
    ("", "condition waiter; or the globals or coroutines demo, or a Pool"),
    ("c", "add a channel: Queue, bounded Queue, JoinableQueue, SimpleQueue, Pipe,"),
    ("", "Manager Queue (local or remote)"),
    *_wrapped("o", "add a shared object: " + ", ".join(kinds.SHARED_NAMES)),
    ("", "a new process is wired to the selected channel (or the last one); a steps"),
    ("", "process works on the selected shared object (or the last, or a new one)"),
    ("", "steps, one per line: acquire NAME, release NAME, wait NAME, set NAME,"),
    ("", "clear NAME, sleep MS, add / multiply / value NAME N [locked]; on a"),
    ("", "Condition notify NAME [N], notify_all NAME, wait_for NAME VALUE N; on a"),
    ("", "SharedMemory write NAME OFFSET NUMBER, fill NAME BYTE, read NAME; on a"),
    ("", "Manager object append NAME ITEM [at KEY [assign]], setitem NAME KEY ITEM,"),
    ("", "setattr NAME ATTR ITEM; on a channel put CHANNEL ITEM, get CHANNEL"),
    ("", "({i} is the process's index)"),
    ("space", "in a 'reads' / 'writes' / 'finally' list: tick [x] or untick [ ] the item"),
    ("n", "rename the selected entry (wires follow a renamed channel)"),
    ("d", "duplicate the selected entry, same wiring"),
    ("x  delete", "delete the selected entry (a channel is unplugged everywhere)"),
    ("v", "show the diagram or the TOML that will be saved"),
    ("r", "run it: the run screen; escape there comes back here"),
    ("s", "save it as TOML in your presets folder: asks for the name, and before"),
    ("", "replacing a file"),
    ("escape", "from the form: back to the list; from the list: back to the presets"),
    ("", "(asks first when there are unsaved changes)"),
    ("ctrl+p", "command palette: every action by name"),
    ("?", "this help"),
    ("q  ctrl+c", "quit"),
]

# Single-letter keys type into a text field; there they are hidden and off.
LIST_ACTIONS = frozenset(
    {"add_process", "add_channel", "add_shared", "edit", "rename", "duplicate", "delete"}
    | {"run", "save", "view"}
)
# Fields whose value changes which other fields are shown.
SHAPING_KEYS = frozenset({"role", "kind", "payload.kind", "reply.kind", "work.kind", "in", "out"})


def _count(count: int, what: str) -> str:
    return (
        f"{count} {what}" if count == 1 else f"{count} {what}{'es' if what.endswith('s') else 's'}"
    )


def _row(entry: Entry, draft: Draft, bad: bool) -> Text:
    text = Text()
    text.append("✗ " if bad else "  ", style="bold red")
    if entry.section == "scenario":
        text.append(f"{entry.name}.toml", style="bold")
        text.append(f"  {entry.get('title')}", style="grey62")
        return text
    names = {channel.uid: channel.name for channel in draft.channels}
    text.append(f"{entry.name or '(unnamed)':<12} ", style="bold")
    if entry.section == "channel":
        text.append(channel_kind_label(entry), style="cyan")
        return text
    if entry.section == "shared":
        text.append(_shared_kind(entry), style="cyan")
        return text
    text.append(entry.get("role"), style="green")
    if entry.get("role") == "steps":
        used = ", ".join(dict.fromkeys(steps_targets(entry)))
        text.append(f" · {used}" if used else "", style="grey62")
        return text
    ins = ", ".join(names.get(u, "?") for u in entry.get("in"))
    outs = ", ".join(names.get(u, "?") for u in entry.get("out"))
    if ins and ins == outs:  # both ends of one duplex Pipe
        text.append(f" ⇄ {ins}", style="grey62")
        return text
    if ins:
        text.append(f" ← {ins}", style="grey62")
    if outs:
        text.append(f" → {outs}", style="grey62")
    return text


class ComposerScreen(Screen[Path | None]):
    """Dismissed with the path it last saved to, so the home screen can select it."""

    BINDINGS = [
        Binding("a", "add_process", "+Process"),
        Binding("c", "add_channel", "+Channel"),
        Binding("o", "add_shared", "+Shared"),
        Binding("enter", "edit", "Edit", show=False),  # room for ? Help at 100 columns
        Binding("n", "rename", "Rename"),
        Binding("d", "duplicate", "Dup"),
        Binding("x,delete", "delete", "Del", key_display="x"),
        Binding("v", "view", "View"),
        Binding("r", "run", "Run"),
        Binding("s", "save", "Save"),
        Binding("escape", "back", "Back"),
    ]
    KEYS_HELP = ("ipcplay — composer", HELP_INTRO, HELP_KEYS)

    def __init__(self, draft: Draft | None = None) -> None:
        super().__init__()
        self.draft = draft or Draft()
        self.clean = self.draft  # what is saved (or what we started from)
        self.result: Scenario | Problem = check(self.draft)
        self.selected = self.draft.scenario.uid
        self.saved_path: Path | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield TextView(id="composer-title")
        with Horizontal(id="composer-body"):
            yield RowView(id="composer-rows")
            with Vertical(id="composer-right"):
                yield EntryForm(id="composer-form")
                with TabbedContent(id="composer-views"):
                    with TabPane("Diagram", id="tab-diagram"):
                        yield TextView(id="composer-diagram")
                    with TabPane("TOML", id="tab-toml"), VerticalScroll():
                        yield TextView(id="composer-toml")
                    # The exporter's "Code" tab (the same scenario as plain
                    # multiprocessing Python) belongs here, fed from self.result.
        yield TextView(id="composer-problem")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        rows = self.query_one(RowView)
        rows.border_title = "parts"
        self.query_one("#composer-views").border_title = "live"
        self._refresh()
        self._show_entry()
        rows.focus()

    def on_resize(self) -> None:
        """Wide terminals: the diagram gets a column of its own beside the form."""
        self.set_class(self.size.width >= 150, "-wide")

    def on_descendant_focus(self) -> None:
        """The focused part's frame says what Escape does from there."""
        rows = self.query_one(RowView)
        on_list = self.focused is rows
        rows.border_subtitle = "esc: leave · enter: edit" if on_list else ""
        in_form = self.focused is not None and self.focused in self.form.query("*")
        self.form.border_subtitle = "esc: back to the list" if in_form else ""
        self.form.set_class(in_form, "-keys-here")  # only when it changes

    @property
    def form(self) -> EntryForm:
        return self.query_one(EntryForm)

    @property
    def problem(self) -> Problem | None:
        return self.result if isinstance(self.result, Problem) else None

    @property
    def dirty(self) -> bool:
        return self.draft != self.clean

    def unsaved_toml(self) -> str:
        """The draft as TOML if it has changes not saved, else "": what a
        crash keeps beside its traceback, so a lesson being built is not lost."""
        if not self.dirty:
            return ""
        return tomli_w.dumps(to_doc(self.draft), multiline_strings=True)

    # ------------------------------------------------------------------ one way: draft -> widgets
    def _refresh(self) -> None:
        """Everything that follows from the draft, after any change."""
        self.result = check(self.draft)
        problem = self.problem
        bad = problem.uid if problem else None
        self.query_one(RowView).set_rows(
            [
                (str(entry.uid), _row(entry, self.draft, entry.uid == bad))
                for entry in self.draft.entries
            ]
        )
        self.query_one("#composer-diagram", TextView).set(topology(self.draft))
        if self.query_one(TabbedContent).active == "tab-toml":  # drawn only when seen
            self.query_one("#composer-toml", TextView).set(self._toml())
        self._title()
        line = self.query_one("#composer-problem", TextView)
        if problem is not None:
            line.set(Text(f" ✗ {problem}", style="bold red"))
        else:
            line.set(
                Text(f" ✓ valid — r runs it, s saves it as {self.draft.file}.toml", style="green")
            )
        self.form.show_problem(problem)

    def _toml(self) -> Text:
        if isinstance(self.result, Scenario):
            return Text(dumps(self.result))
        head = Text(f"# not valid yet: {self.result}\n\n", style="red")
        with contextlib.suppress(TypeError, ValueError):
            head.append(tomli_w.dumps(to_doc(self.draft), multiline_strings=True))
        return head

    def _title(self) -> None:
        draft = self.draft
        text = Text(" composer — ", style="bold")
        text.append(f"{draft.file}.toml", style="bold")
        shared = f" · {len(draft.shared)} shared" if draft.shared else ""
        text.append(
            f" · {_count(len(draft.channels), 'channel')}{shared}"
            f" · {_count(len(draft.processes), 'process')}",
            style="grey62",
        )
        if self.dirty:
            text.append(" · unsaved", style="yellow")
        self.query_one("#composer-title", TextView).set(text)

    def _show_entry(self) -> None:
        try:
            entry = self.draft.entry(self.selected)
        except KeyError:
            entry = self.draft.scenario
            self.selected = entry.uid
        self.form.show(entry, self.draft)
        self.form.show_problem(self.problem)

    def _select(self, uid: int) -> None:
        self.selected = uid
        rows = self.query_one(RowView)
        keys = [str(entry.uid) for entry in self.draft.entries]
        if str(uid) in keys:
            rows.cursor = keys.index(str(uid))
        self._show_entry()

    # ------------------------------------------------------------------ events
    def on_row_view_selected(self, message: RowView.Selected) -> None:
        if message.key is not None and int(message.key) != self.selected:
            self.selected = int(message.key)
            self._show_entry()

    def on_entry_form_edited(self, message: EntryForm.Edited) -> None:
        draft = edit(self.draft, message.uid, message.key, message.value)
        if draft == self.draft:
            return
        self.draft = draft
        if message.uid == self.selected and message.key in SHAPING_KEYS:
            self.form.update_visibility(draft.entry(message.uid))
        elif message.uid == self.selected:
            self.form.entry = draft.entry(message.uid)
        if message.key == "name" or message.key == "file":
            self.form.border_title = self.form.border_title.rsplit(" ", 1)[0] + f" {message.value}"
        self._refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in LIST_ACTIONS and isinstance(self.focused, Input | TextArea):
            return False
        if action == "edit" and self.focused is not self.query_one(RowView):
            return False
        if action in ("duplicate", "delete") and self.selected == self.draft.scenario.uid:
            return None
        return True

    # ------------------------------------------------------------------ actions
    def _wire_to(self) -> int | None:
        """Where a new entry is wired: the selected channel, or the selected process."""
        entry = self.draft.entry(self.selected)
        return entry.uid if entry.section != "scenario" else None

    def _pick(self, title: str, templates: tuple[Template, ...]) -> None:
        choices = [Choice(template.key, template.label, template.about) for template in templates]
        by_key = {t.key: t for t in templates}

        def chosen(key: str | None) -> None:
            if key is None:
                return
            self.draft, uid = add(self.draft, by_key[key], self._wire_to())
            self._refresh()
            self._select(uid)
            self.query_one(RowView).focus()  # so a, c, o can add the next one at once

        self.app.push_screen(ChoiceScreen(title, choices), chosen)

    def action_add_process(self) -> None:
        self._pick("Add a process", PROCESS_TEMPLATES)

    def action_add_channel(self) -> None:
        self._pick("Add a channel", CHANNEL_TEMPLATES)

    def action_add_shared(self) -> None:
        self._pick("Add a shared object", SHARED_TEMPLATES)

    def action_edit(self) -> None:
        self.form.focus_field()

    def action_rename(self) -> None:
        entry = self.draft.entry(self.selected)
        self.form.focus_field("file" if entry.section == "scenario" else "name")

    def action_duplicate(self) -> None:
        if self.selected == self.draft.scenario.uid:
            return
        self.draft, uid = duplicate(self.draft, self.selected)
        self._refresh()
        self._select(uid)

    def action_delete(self) -> None:
        if self.selected == self.draft.scenario.uid:
            return
        entries = [entry.uid for entry in self.draft.entries]
        i = entries.index(self.selected)
        self.draft = delete(self.draft, self.selected)
        self._refresh()
        self._select(entries[i - 1])

    def action_view(self) -> None:
        views = self.query_one(TabbedContent)
        views.active = "tab-toml" if views.active == "tab-diagram" else "tab-diagram"

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-toml":
            self.query_one("#composer-toml", TextView).set(self._toml())

    def _refuse(self, what: str) -> None:
        """Say why, and take the user to the field that needs fixing."""
        problem = self.problem
        if problem is None:
            return
        self.notify(f"{what}: {problem}", severity="error", timeout=6)
        if problem.uid is not None:
            self._select(problem.uid)
            self.form.focus_field(problem.field)

    def action_run(self) -> None:
        self.result = check(self.draft)
        if isinstance(self.result, Scenario):
            self.app.open_scenario(self.result)  # type: ignore[attr-defined]
        else:
            self._refuse("cannot run yet")

    def action_save(self) -> None:
        """Ask for the name (never a name the user did not see), then write."""
        self.result = check(self.draft)
        if not isinstance(self.result, Scenario):
            self._refuse("not saved")
            return
        self._ask_name(self._suggested_name())

    def _suggested_name(self) -> str:
        """The file it was saved as, or its file name, or one made from its title."""
        if self.saved_path is not None:
            return self.saved_path.stem
        if self.draft.file != SCENARIO_DEFAULTS["file"]:
            return self.draft.file
        return slug(str(self.draft.scenario.get("title"))) or self.draft.file

    def _ask_name(self, suggestion: str) -> None:
        def named(name: str | None) -> None:
            if name is not None and self.is_attached:
                self._save_as(name)

        self.app.push_screen(SaveAsScreen(suggestion, str(user_dir())), named)

    def _save_as(self, name: str) -> None:
        """Write NAME.toml; a file that is there (unless this composer wrote it) or
        a built-in preset's name is replaced only when the user says so."""
        path = user_dir() / f"{name}.toml"
        builtin = {i.name for i in list_presets() if i.origin == "built-in"}
        ours = path == self.saved_path
        if ours or (not path.exists() and name not in builtin):
            self._write_as(name, path, overwrite=ours)
            return
        taken = builtin | {path.stem for path in user_dir().glob("*.toml")}
        other = free_name(name, taken)
        if path.exists():
            title = f"{path.name} already exists in your presets."
            replace_it = Choice("overwrite", f"Overwrite {path.name}", "the old file is replaced")
        else:
            title = f"'{name}' is the name of a built-in preset."
            replace_it = Choice(
                "overwrite", f"Save as {path.name}", "listed, but the built-in wins by name"
            )
        ask_to_replace(
            self,
            title,
            other,
            replace_it,
            lambda: self._write_as(name, path, overwrite=True),
            self._ask_name,
        )

    def _write_as(self, name: str, path: Path, *, overwrite: bool) -> None:
        """The draft takes the name it is saved under, then is written."""
        self.draft = edit(self.draft, self.draft.scenario.uid, "file", name)
        self._refresh()
        self._show_entry()
        if isinstance(self.result, Scenario):
            self._write(self.result, path, overwrite=overwrite)
        else:
            self._refuse("not saved")

    def _write(self, scenario: Scenario, path: Path, *, overwrite: bool) -> None:
        """Only text that loads back to this very scenario is written; a file is
        replaced only when the user said so, and never half-written."""
        text = dumps(scenario)
        again = loads(text, source=str(path), name=path.stem)
        if again != replace(scenario, source=str(path)):
            self.notify("not saved: the file would not load back the same", severity="error")
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if overwrite:
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, path)
            else:
                with path.open("x", encoding="utf-8") as handle:
                    handle.write(text)
        except FileExistsError:
            self.notify(
                f"not saved: {path.name} appeared meanwhile; press s again", severity="error"
            )
            return
        except OSError as exc:
            self.notify(f"not saved: {exc.strerror or exc}", severity="error", timeout=6)
            return
        self.clean = self.draft
        self.saved_path = path
        self._title()
        self.notify(f"saved {neutralise(str(path), multiline=False)}", timeout=5)

    def action_back(self) -> None:
        """One step out: from anywhere but the list, to the list; from the list,
        back to the presets, asking first when the changes are not saved."""
        rows = self.query_one(RowView)
        if self.focused is not rows:
            rows.focus()
            return
        self._leave(lambda: self.dismiss(self.saved_path), "Back to the presets")

    def ask_before_quit(self) -> bool:
        """The app's q asks each screen on the stack: with unsaved changes, ask
        (over whatever is in front, such as a run started from here), and say so."""
        if not self.dirty:
            return False
        quit_now = self.app.quit_now  # type: ignore[attr-defined]
        self._leave(lambda: self.app.call_later(quit_now), "Quit ipcplay")
        return True

    def _leave(self, leave: Callable[[], object], label: str) -> None:
        if not self.dirty:
            leave()
            return
        if self.app.screen is self:
            title = "Leave the composer? Your changes are not saved."
            stay = Choice("stay", "Stay in the composer", "keep editing; s saves")
        else:  # q on a run started from here: the composition below is at stake
            title = "Quit ipcplay? The scenario in the composer is not saved."
            stay = Choice("stay", "Cancel", "escape goes back to the composer; s saves there")
        choices = [stay, Choice("leave", f"{label} without saving", "the changes are lost")]

        def chosen(answer: str | None) -> None:
            if answer == "leave" and self.is_attached:
                leave()

        self.app.push_screen(ChoiceScreen(title, choices), chosen)
