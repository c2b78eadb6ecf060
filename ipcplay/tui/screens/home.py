"""The home screen: every preset by topic, a filter, and Enter to run one.

A teacher looks for a lesson by subject ("Queues") or by trouble ("deadlock"):
the list is grouped by each preset's first topic, typing filters it over
names, titles and topics, and `t` runs the selected preset with its tour. The
command palette finds the same presets. After the presets, under Programs,
the example programs ipcplay ships (each seed article's code): Enter runs one
as `ipcplay PROGRAM.py` would, and the panel beside shows its source. Every
name, title, path and line of source shown comes from a file and has been
neutralised (see `ipcplay.tui.lessons`).
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from ipcplay.example_programs import ExampleInfo, list_examples
from ipcplay.safetext import neutralise
from ipcplay.scenario import PresetInfo, ScenarioError, kinds, list_presets, load
from ipcplay.scenario.draft import Draft, from_scenario
from ipcplay.scenario.model import TOPIC_LABELS, Scenario
from ipcplay.tui.format import reflow
from ipcplay.tui.lessons import Lesson, grouped, lesson, program_lesson
from ipcplay.tui.screens.composer import ComposerScreen
from ipcplay.tui.widgets.preset_list import BROKEN_BADGE, FIXED_BADGE, TOUR_BADGE, PresetList

FILTER_KEYS = {"up": -1, "down": 1, "pageup": -10, "pagedown": 10}
"""Keys that move the list's cursor while the filter has the focus."""
SOURCE_LIMIT = 64 * 1024
"""Characters of a program's source the detail panel shows: an example is short."""


def primitives(s: Scenario) -> str:
    labels = [kinds.channel_label(c.kind, c.maxsize, c.duplex) for c in s.channels]
    labels += [kinds.shared_label(o.kind, o.value, o.parties) for o in s.shared]
    return ", ".join(dict.fromkeys(labels))


class PresetCommands(Provider):
    """The palette finds presets by name, title or topic, as the list's filter
    does, and runs the one chosen. (The app's own commands add "Tour: NAME"
    for every preset with a tour.)"""

    async def search(self, query: str) -> Hits:
        home = self.screen
        if not isinstance(home, HomeScreen) or not query.strip():
            return
        for _, items in grouped(home.lessons.values(), query):
            for item in items:
                if item.error:
                    continue
                yield Hit(
                    1.0 if query.strip().lower() in item.name.lower() else 0.8,
                    Text.assemble(("Run ", "bold"), item.name, (f" — {item.title}", "dim")),
                    lambda key=item.key: home.open(key),
                    text=f"Run {item.name}",
                    help=" · ".join(TOPIC_LABELS[t] for t in item.topics) or None,
                )


class FilterInput(Input):
    """The filter line: Enter runs the selected preset, and the footer says so."""

    BINDINGS = [Binding("enter", "submit", "Run")]


class HomeScreen(Screen[None]):
    COMMANDS = Screen.COMMANDS | {PresetCommands}
    BINDINGS = [
        Binding("enter", "run", "Run"),
        Binding("t", "tour", "Tour"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("e", "edit", "Edit"),
        Binding("n", "new", "New"),
        Binding("R", "reload", "Reload list", show=False),
        Binding("escape", "clear_filter", "Clear filter"),
    ]
    KEYS_HELP = (
        "ipcplay — help",
        "Every preset is a small TOML file, listed under its topic: the subjects "
        "(Queues, Pipes, …) first, then the pitfalls by what goes wrong. Enter runs "
        "the selected one with real processes; t runs it with its guided tour. Type "
        f"to filter. {TOUR_BADGE} marks a preset with a tour, {BROKEN_BADGE} and "
        f"{FIXED_BADGE} the broken and the fixed half of a pitfall pair. What you "
        "save in the composer goes to your presets folder and is listed here. Under "
        "Programs, after the presets: each seed article's examples as plain Python "
        "programs; Enter runs one under ipcplay (type seed or program to find them).",
        [
            ("↑ ↓  PgUp PgDn", "select a preset or a program"),
            ("enter", "run it"),
            ("t", "run it with its guided tour"),
            ("a letter, /", "filter by name, title or topic (deadlock, pools, …)"),
            ("escape", "clear the filter"),
            ("e", "edit it in the composer (saving makes your own copy)"),
            ("n", "compose a new scenario from templates"),
            ("R", "read the preset folders again"),
            ("ctrl+p", "command palette: presets and every action by name"),
            ("ctrl+s", "save a screenshot (SVG) in the current directory"),
            ("?", "this help"),
            ("q  ctrl+c", "quit"),
        ],
    )

    def __init__(self, extra: list[Path] | None = None) -> None:
        super().__init__()
        self.extra = extra or []
        self.infos: dict[str, PresetInfo] = {}
        self.scenarios: dict[str, Scenario | str] = {}
        self.lessons: dict[str, Lesson] = {}
        self.programs: dict[str, ExampleInfo] = {}  # the Programs section, by key
        self._sources: dict[str, str] = {}  # a program's source, read when first shown
        # Set the moment the filter is started (`/` or a first letter), before
        # the focus has moved: every printable key that reaches this screen
        # meanwhile is the filter's, so a burst ("/queue" typed fast or
        # pasted) never reaches `q`, `e` or `t`. Ended when the list takes
        # the focus back (tab, escape, a click, coming back from a run).
        self._typing = False

    def compose(self) -> ComposeResult:
        title = Text(" ipcplay — pick a lesson", style="bold")
        title.append(
            f"     {TOUR_BADGE} has a tour   {BROKEN_BADGE} broken  {FIXED_BADGE} fixed pitfall",
            style="grey62",
        )
        yield Static(title, id="home-title")
        with Horizontal(id="home-body"):
            with Vertical(id="home-list"):
                yield FilterInput(
                    select_on_focus=False,  # the first letter typed is already in it
                    placeholder="type to filter: name, title, topic…",
                    id="lesson-filter",
                    compact=True,
                )
                yield PresetList(id="preset-rows")
            with VerticalScroll(id="preset-detail-scroll"):
                yield Static(id="preset-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.action_reload()
        self.query_one(PresetList).focus()

    def on_screen_resume(self) -> None:
        """Back from the composer or a run: a saved preset shows up at once,
        and the list starts afresh, with the focus, so the next letters
        start a new filter instead of lengthening the old one (and `q`
        quits instead of being typed)."""
        self._typing = False
        if not self.is_mounted:
            return
        self.query_one("#lesson-filter", Input).value = ""
        self.query_one(PresetList).focus()
        if self.infos:
            self.action_reload()

    # ------------------------------------------------------------------ the list

    def action_reload(self) -> None:
        infos = list_presets()
        for path in self.extra:
            infos.append(PresetInfo(name=path.stem, path=path, title="", origin="file"))
        self.infos, self.scenarios, self.lessons = {}, {}, {}
        for info in infos:
            key = f"{info.origin}:{info.path}"
            self.infos[key] = info
            try:
                scenario: Scenario | str = load(info.path)
            except ScenarioError as exc:
                scenario = str(exc)
            self.scenarios[key] = scenario
            self.lessons[key] = lesson(key, info, scenario)
        self.programs, self._sources = {}, {}
        for example in list_examples():
            key = f"program:{example.path}"
            self.programs[key] = example
            self.lessons[key] = program_lesson(key, example)
        self._show_rows()

    @property
    def query_text(self) -> str:
        return self.query_one("#lesson-filter", Input).value

    def _show_rows(self) -> None:
        """Rows are made when drawn, at the width the list then has."""
        rows = self.query_one(PresetList)
        count = rows.show(list(self.lessons.values()), self.query_text)
        total = len(self.lessons)
        box = self.query_one("#home-list")
        programs = len(self.programs)
        everything = f"{total - programs} presets · {programs} programs" if programs else f"{total}"
        box.border_subtitle = f"{count} of {total}" if self.query_text.strip() else everything
        self._detail()

    def on_input_changed(self, event: Input.Changed) -> None:
        """The best match is the first; a cleared filter keeps the preset found."""
        event.stop()
        self._show_rows()
        if event.value.strip():
            self.query_one(PresetList).cursor = 0  # its first preset, below the heading
        self.refresh_bindings()

    def on_key(self, event: events.Key) -> None:
        """Typing starts the filter; while it has the focus, ↑/↓ still move the list.

        Why here and not only by bindings and focus: keys of a burst are
        handed to the widget focused when each arrives, and a binding (`/`)
        runs only once its key has bubbled up to the app, after the keys
        behind it have already been handed on. So `/` is taken here, in
        order, and sets `_typing` at once; the focus follows later."""
        field = self.query_one("#lesson-filter", Input)
        if event.key in FILTER_KEYS and (field.has_focus or self._typing):
            event.stop()
            event.prevent_default()
            self.query_one(PresetList).action_cursor(FILTER_KEYS[event.key])
            return
        if event.key == "slash" and not field.has_focus and not self._typing:
            event.stop()
            event.prevent_default()
            self.action_filter()
            return
        if field.has_focus and not self._typing:
            return  # the field takes its own keys
        char = event.character
        if char is None or len(char) != 1 or not char.isprintable():
            return
        if event.key == "t" and not self._typing and self.check_action("tour", ()) is None:
            event.stop()  # the greyed-out tour key says why it does nothing
            self.action_tour()
            return
        # A printable key reaching the screen while `_typing` was handed to
        # the list before the focus moved (the field stops the keys it takes):
        # it is the filter's too, even a letter bound on the list or the app.
        starts = (char.isalnum() or char in "-_.") and event.key not in self.app.active_bindings
        if self._typing or starts:
            event.stop()
            event.prevent_default()
            self._typing = True
            field.focus()
            field.value += char
            field.cursor_position = len(field.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The list taking the focus back ends the typing; the field taking
        it does not (keys of the burst may still be on their way to the list)."""
        if event.widget is self.query_one(PresetList):
            self._typing = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape is shown only when there is a filter to clear; t is greyed
        out for a preset without a tour, t and e for a program (it has no
        tour, and it is Python, not a scenario the composer edits)."""
        if not self.is_mounted or action not in ("clear_filter", "tour", "edit"):
            return True
        if action == "clear_filter":
            return bool(self.query_text)
        key = self.query_one(PresetList).selected_key
        if action == "edit":
            return None if key in self.programs else True
        return True if key is not None and self.lessons[key].tour else None

    def action_filter(self) -> None:
        self._typing = True
        self.query_one("#lesson-filter", Input).focus()

    def action_clear_filter(self) -> None:
        self._typing = False
        self.query_one("#lesson-filter", Input).value = ""
        self.query_one(PresetList).focus()

    def on_row_view_selected(self, message: PresetList.Selected) -> None:
        self._detail()
        self.refresh_bindings()

    def _detail(self) -> None:
        key = self.query_one(PresetList).selected_key
        detail = self.query_one("#preset-detail", Static)
        if key is None:
            detail.update("No preset matches." if self.lessons else "No presets found.")
            return
        if key in self.programs:
            detail.update(self._program_detail(key))
            return
        scenario = self.scenarios[key]
        item = self.lessons[key]
        if isinstance(scenario, str):
            detail.update(Text(item.error, style="red"))
            return
        text = Text()
        text.append(item.title + "\n", style="bold")
        count = sum(proc.replicas for proc in scenario.processes)
        facts = [
            item.origin,
            item.file,
            f"start method {scenario.start_method}",
            f"{count} process{'es' if count != 1 else ''}",
            primitives(scenario),
        ]
        text.append(" · ".join(f for f in facts if f) + "\n", style="grey62")
        if item.topics:
            labels = " · ".join(TOPIC_LABELS[topic] for topic in item.topics)
            text.append(labels + "\n", style="#e6b450")
        if item.pitfall == "broken":
            text.append(
                f"{BROKEN_BADGE} pitfall, broken · the fix: {item.pair}\n", style="bold #ff8f40"
            )
        elif item.pitfall == "fixed":
            text.append(
                f"{FIXED_BADGE} pitfall, fixed · the broken one: {item.pair}\n", style="green"
            )
        if item.tour:
            text.append(f"{TOUR_BADGE} a guided tour: t runs it with the tour\n", style="#59c2ff")
        text.append("\n")
        text.append(reflow(scenario.explain))
        detail.update(text)

    def _program_detail(self, key: str) -> Group:
        """What the program shows, where it comes from, and its source."""
        info = self.programs[key]
        text = Text()
        text.append(info.description or info.name, style="bold")
        text.append("\n")
        facts = ["program", info.file, f"seed {info.seed}" if info.seed else ""]
        text.append(" · ".join(fact for fact in facts if fact) + "\n", style="grey62")
        if info.seed_title:
            text.append(f"from the article \u201c{info.seed_title}\u201d\n", style="#e6b450")
        text.append("enter runs it under ipcplay, unmodified\n", style="#59c2ff")
        if key not in self._sources:
            try:
                with open(info.path, encoding="utf-8", errors="replace") as file:
                    source = file.read(SOURCE_LIMIT)
            except OSError as exc:
                source = f"# cannot be read: {exc.strerror or exc}"
            self._sources[key] = neutralise(source.rstrip("\n"))
        source = self._sources[key]
        start = 1
        if info.seed and source.startswith("#"):  # its first line is the text above
            source, start = source.partition("\n")[2], 2
        code = Syntax(
            source, "python", theme="monokai", line_numbers=True, word_wrap=True, start_line=start
        )
        return Group(text, code)

    # ------------------------------------------------------------------ actions

    def _selected_scenario(self) -> tuple[PresetInfo, Scenario] | None:
        key = self.query_one(PresetList).selected_key
        if key is None or key in self.programs:
            return None
        scenario = self.scenarios[key]
        if isinstance(scenario, str):
            self.notify(self.lessons[key].error, severity="error", timeout=5)
            return None
        return self.infos[key], scenario

    def open(self, key: str, tour: bool = False) -> None:
        """Run the preset with this key (the palette's commands end here).

        `tour` is always said: `--tour` on the command line is for the preset
        named there, not for every preset opened from this list after it. A
        program has no tour; it runs as `ipcplay PROGRAM.py` runs it."""
        if key in self.programs:
            self._open_program(key, tour)
            return
        scenario = self.scenarios.get(key)
        if scenario is None or isinstance(scenario, str):
            return
        if tour and not scenario.tour:
            self.notify(f"{self.lessons[key].name} has no guided tour", timeout=3)
            return
        self.app.open_scenario(scenario, tour=tour)  # type: ignore[attr-defined]

    def _open_program(self, key: str, tour: bool) -> None:
        from ipcplay.engine.program import Program

        info = self.programs[key]
        if tour:
            self.notify(f"{info.name} is a program: it has no guided tour", timeout=3)
            return
        if not info.path.is_file():  # gone since the list was read
            self.notify(f"{info.file}: no such file any more", severity="error", timeout=5)
            return
        self.app.open_program(Program(str(info.path)))  # type: ignore[attr-defined]

    def _runnable(self) -> str | None:
        """The selected program's or loadable preset's key (a broken preset says why)."""
        key = self.query_one(PresetList).selected_key
        if key in self.programs or (key is not None and self._selected_scenario() is not None):
            return key
        return None

    def action_run(self) -> None:
        key = self._runnable()
        if key is not None:
            self.open(key, tour=False)

    def action_tour(self) -> None:
        key = self._runnable()
        if key is not None:
            self.open(key, tour=True)

    def action_new(self) -> None:
        self._open_composer(Draft())

    def action_edit(self) -> None:
        """A user preset is edited in place; a built-in becomes the user's own copy."""
        picked = self._selected_scenario()
        if picked is None:
            return
        info, scenario = picked
        file = info.name if info.origin == "user" else f"my-{info.name}"[:32]
        self._open_composer(from_scenario(scenario, file=file))

    def _open_composer(self, draft: Draft) -> None:
        self.app.push_screen(ComposerScreen(draft), self._select_path)

    def _select_path(self, path: Path | None) -> None:
        """After a save, the cursor goes to the preset just written (shown
        whatever the filter says)."""
        if path is not None:
            self.query_one("#lesson-filter", Input).value = ""
        self.action_reload()
        if path is None:
            return
        for key, info in self.infos.items():
            if info.path == path:
                self.query_one(PresetList).select_key(key)
