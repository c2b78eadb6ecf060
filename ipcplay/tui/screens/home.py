"""The home screen: every preset, what it shows, and Enter to run it."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ipcplay.scenario import PresetInfo, ScenarioError, list_presets, load
from ipcplay.scenario.draft import Draft, from_scenario
from ipcplay.scenario.model import Scenario
from ipcplay.tui.format import reflow
from ipcplay.tui.screens.composer import ComposerScreen
from ipcplay.tui.widgets.rows import RowView


def summary(s: Scenario) -> str:
    """The first sentence of the teaching text, or the title."""
    text = " ".join(s.explain.split())
    if not text:
        return s.title
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def primitives(s: Scenario) -> str:
    kinds = []
    for c in s.channels:
        k = c.kind + (f"({c.maxsize})" if c.maxsize else "")
        if c.kind == "Pipe":
            k = "Pipe" if c.duplex else "Pipe(one-way)"
        kinds.append(k)
    for o in s.shared:
        if o.kind in ("Semaphore", "BoundedSemaphore"):
            kinds.append(f"{o.kind}({o.value:g})")
        elif o.kind == "Barrier":
            kinds.append(f"Barrier({o.parties})")
        else:
            kinds.append(o.kind)
    return ", ".join(dict.fromkeys(kinds))


class HomeScreen(Screen[None]):
    BINDINGS = [
        Binding("enter", "run", "Run"),
        Binding("e", "edit", "Edit"),
        Binding("n", "new", "New"),
        Binding("R", "reload", "Reload list"),
    ]
    KEYS_HELP = (
        "ipcplay — help",
        "Every preset is a small TOML file. Enter runs the selected one with real "
        "processes; e opens it in the composer, n starts one from nothing. What you "
        "save in the composer goes to your presets folder and is listed here.",
        [
            ("↑ ↓  PgUp PgDn", "select a preset"),
            ("enter", "run it"),
            ("e", "edit it in the composer (saving makes your own copy)"),
            ("n", "compose a new scenario from templates"),
            ("R", "read the preset folders again"),
            ("ctrl+p", "command palette: every action by name"),
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

    def compose(self) -> ComposeResult:
        yield Static(
            Text(" ipcplay — pick a scenario and press Enter", style="bold"), id="home-title"
        )
        with Horizontal(id="home-body"):
            yield RowView(id="preset-rows")
            with VerticalScroll(id="preset-detail-scroll"):
                yield Static(id="preset-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.action_reload()
        self.query_one(RowView).focus()

    def on_screen_resume(self) -> None:
        """Back from the composer or a run: a saved preset shows up at once."""
        if self.is_mounted and self.infos:
            self.action_reload()

    def action_reload(self) -> None:
        infos = list_presets()
        for path in self.extra:
            infos.append(PresetInfo(name=path.stem, path=path, title="", origin="file"))
        self.infos = {}
        for info in infos:
            key = f"{info.origin}:{info.path}"
            self.infos[key] = info
            try:
                scenario: Scenario | str = load(info.path)
            except ScenarioError as exc:
                scenario = str(exc)
            self.scenarios[key] = scenario
        self._show_rows()
        self._detail()

    def _show_rows(self) -> None:
        """Rows are made when drawn, at the width the list then has (not at
        mount, when it is 0), and made again when that width changes."""
        rows = [(key, (info, self.scenarios[key])) for key, info in self.infos.items()]
        self.query_one(RowView).set_rows(rows, lambda value: self._row(*value))

    def _row(self, info: PresetInfo, scenario: Scenario | str) -> Text:
        t = Text()
        t.append(f"{info.name[:25]:<25} ", style="bold")
        if isinstance(scenario, str):
            t.append("cannot be loaded — see the error on the right", style="red")
            return t
        if info.origin != "built-in":
            t.append(f"({info.origin}) ", style="grey62")
        t.append(scenario.title)
        room = max(10, self.query_one(RowView).size.width - 1)
        t.truncate(room, overflow="ellipsis")
        return t

    def on_row_view_selected(self, message: RowView.Selected) -> None:
        self._detail()

    def _detail(self) -> None:
        key = self.query_one(RowView).selected_key
        detail = self.query_one("#preset-detail", Static)
        if key is None:
            detail.update("No presets found.")
            return
        scenario = self.scenarios[key]
        info = self.infos[key]
        if isinstance(scenario, str):
            detail.update(Text(scenario, style="red"))
            return
        t = Text()
        t.append(scenario.title + "\n", style="bold")
        t.append(
            f"{info.origin} · {info.path.name} · start method {scenario.start_method}"
            f" · {sum(p.replicas for p in scenario.processes)} processes · "
            f"{primitives(scenario)}\n",
            style="grey62",
        )
        if scenario.pitfall == "broken":
            t.append(f"pitfall, broken · the fix: {scenario.pair}\n", style="bold #ffb454")
        elif scenario.pitfall == "fixed":
            t.append(f"pitfall, fixed · the broken one: {scenario.pair}\n", style="green")
        t.append("\n")
        t.append(reflow(scenario.explain))
        detail.update(t)

    def _selected_scenario(self) -> tuple[PresetInfo, Scenario] | None:
        key = self.query_one(RowView).selected_key
        if key is None:
            return None
        scenario = self.scenarios[key]
        if isinstance(scenario, str):
            self.notify(scenario, severity="error", timeout=5)
            return None
        return self.infos[key], scenario

    def action_run(self) -> None:
        picked = self._selected_scenario()
        if picked is not None:
            self.app.open_scenario(picked[1])  # type: ignore[attr-defined]

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
        """After a save, the cursor goes to the preset just written."""
        self.action_reload()
        if path is None:
            return
        for i, info in enumerate(self.infos.values()):  # in the order of the rows
            if info.path == path:
                self.query_one(RowView).cursor = i
