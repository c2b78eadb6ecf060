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
from ipcplay.scenario.model import Scenario
from ipcplay.tui.format import reflow
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
    return ", ".join(dict.fromkeys(kinds))


class HomeScreen(Screen[None]):
    BINDINGS = [
        Binding("enter", "run", "Run"),
        Binding("R", "reload", "Reload list"),
    ]

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

    def action_reload(self) -> None:
        infos = list_presets()
        for path in self.extra:
            infos.append(PresetInfo(name=path.stem, path=path, title="", origin="file"))
        self.infos = {}
        rows = []
        for info in infos:
            key = f"{info.origin}:{info.path}"
            self.infos[key] = info
            try:
                scenario: Scenario | str = load(info.path)
            except ScenarioError as exc:
                scenario = str(exc)
            self.scenarios[key] = scenario
            rows.append((key, (info, scenario)))
        # Rendered when drawn, at the width the list then has (not at mount, when it is 0).
        self.query_one(RowView).set_rows(rows, lambda value: self._row(*value))
        self._detail()

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
            f"{primitives(scenario)}\n\n",
            style="grey62",
        )
        t.append(reflow(scenario.explain))
        detail.update(t)

    def action_run(self) -> None:
        key = self.query_one(RowView).selected_key
        if key is None:
            return
        scenario = self.scenarios[key]
        if isinstance(scenario, str):
            self.notify(scenario, severity="error", timeout=5)
            return
        self.app.open_scenario(scenario)  # type: ignore[attr-defined]
