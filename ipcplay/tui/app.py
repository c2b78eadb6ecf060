"""The ipcplay app: screens on a stack, snapshots in, commands out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ipcplay.engine.program import Program
from ipcplay.engine.tracker import start_tracker
from ipcplay.markers import MarkerOut
from ipcplay.safetext import neutralise
from ipcplay.scenario.model import Scenario
from ipcplay.svgfont import embed_font_in_file
from ipcplay.tui.crash import crash_line, save_crash
from ipcplay.tui.program_source import ProgramSource
from ipcplay.tui.screens.help import HelpScreen
from ipcplay.tui.screens.home import HomeScreen
from ipcplay.tui.screens.run import RunScreen
from ipcplay.tui.source import EngineSource, SnapshotSource

SourceFactory = Callable[[Scenario, float], SnapshotSource]


class IpcplayApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "ipcplay"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+s", "screenshot_svg", "Screenshot", show=False),
    ]

    def __init__(
        self,
        *,
        initial: Scenario | None = None,
        program: Program | None = None,
        extra: list[Path] | None = None,
        hz: float = 10.0,
        source_factory: SourceFactory | None = None,
        tour: bool = False,
        speed: float = 1.0,
        tour_hold_s: float | None = None,
        svg_at: list[float] | None = None,
        svg_stem: str | None = None,
        step: bool = False,
        replay: tuple[str, ...] | None = None,
        overrides: tuple[str, ...] = (),
        saved: SnapshotSource | None = None,
    ) -> None:
        super().__init__()
        start_tracker()  # now, while stderr is real; and immune to a hangup
        self.initial = initial
        self.program = program  # `ipcplay PROGRAM.py`: opened on it, as a preset would be
        self.extra = extra or []
        self.hz = hz
        self.source_factory: SourceFactory = source_factory or (
            lambda scenario, hz: EngineSource(scenario, hz)
        )
        self.sources: list[SnapshotSource] = []
        self._quitting = False
        self.tour = tour
        self.speed = speed  # slow motion for every run opened from here
        self.step = step  # step mode (--step) for every run opened from here
        # --schedule: the steps the first run plays, and the `set` it was made with
        self.replay = replay
        self.overrides = overrides
        self.tour_hold_s = tour_hold_s  # None: a held tour step waits for `n`
        self._toured: list[tuple[str, str, Path]] | None = None  # presets with a tour
        self.markers = MarkerOut()
        self.svg_at = svg_at or []
        self.svg_stem = svg_stem
        self.saved = saved  # `ipcplay replay FILE`: a saved run's source, nothing started
        self.crash_message: str | None = None
        """Set when a bug stopped the app: the one line to leave on the terminal."""

    def on_mount(self) -> None:
        for text in self.svg_at:  # stills for a recording, on the app's own clock
            self.set_timer(text, lambda text=text: self._still(text))
        self.push_screen(HomeScreen(self.extra))
        if self.initial is not None:
            self.open_scenario(self.initial)
        if self.program is not None:
            self.open_program(self.program)
        if self.saved is not None:
            self.sources.append(self.saved)
            self.push_screen(RunScreen(self.saved, markers=self.markers))
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGTERM, lambda: self.call_later(self.quit_now))
            loop.add_signal_handler(signal.SIGHUP, self._hangup)

    def open_scenario(self, scenario: Scenario, tour: bool | None = None) -> None:
        """Run `scenario` on a new run screen; with its tour when `tour` says
        so (None: as the command line said, `--tour`)."""
        source = self.source_factory(scenario, self.hz)
        if self.speed != 1.0:
            source.set_speed(self.speed)
        if self.step and hasattr(source, "step"):
            source.step = True  # every process held at its first gate
        replay, self.replay = self.replay, None  # the schedule is the first run's
        self.sources.append(source)
        self.push_screen(
            RunScreen(
                source,
                tour=self.tour if tour is None else tour,
                markers=self.markers,
                hold_s=self.tour_hold_s,
                replay=replay,
                overrides=self.overrides if replay is not None else (),
            )
        )

    def open_program(self, program: Program) -> None:
        """Run a user's own program on a new run screen, as selecting a preset
        runs a scenario (escape stops it and goes back to the list)."""
        source = ProgramSource(program, self.hz)
        self.sources.append(source)
        self.push_screen(RunScreen(source, markers=self.markers))  # type: ignore[arg-type]

    def _still(self, text: float) -> None:
        stem = Path(self.svg_stem or "ipcplay")
        name = f"{stem.name}-{text:g}s.svg"
        try:
            self.save_screenshot(filename=name, path=str(stem.parent))
        except OSError as exc:
            self.notify(f"screenshot failed: {exc.strerror}", severity="error")

    def action_screenshot_svg(self) -> None:
        """Save what the screen shows as an SVG in the current directory, with
        the font inside, so a slide shows it as the terminal did."""
        try:
            path = self.save_screenshot()
            embed_font_in_file(Path(path))
        except (OSError, ValueError) as exc:
            self.notify(f"screenshot failed: {exc.strerror}", severity="error")
            return
        self.notify(f"screenshot saved: {path}", timeout=4)

    def action_help(self) -> None:
        """The help of the screen in front: each screen's keys differ."""
        if isinstance(self.screen, HelpScreen):
            return
        # Built once per kind of screen and kept: opening it again is only a
        # repaint, not a compose and layout of the whole table of keys.
        name = f"help:{type(self.screen).__name__}"
        if not self.is_screen_installed(name):
            title, intro, keys = getattr(self.screen, "KEYS_HELP", (None, None, None))
            help_screen = HelpScreen() if keys is None else HelpScreen(title, intro, keys)
            self.install_screen(help_screen, name)
        self.push_screen(name)

    async def action_quit(self) -> None:
        """q: a composition with unsaved changes anywhere on the stack (a run
        started from the composer sits above it) is asked about first."""
        for screen in self.screen_stack:
            ask = getattr(screen, "ask_before_quit", None)
            if ask is not None and ask():
                return
        await self.quit_now()

    async def quit_now(self) -> None:
        """Stop every scenario (stop → SIGTERM → SIGKILL, all joined), then exit."""
        if self._quitting:
            return
        self._quitting = True
        self.notify("stopping every process…", timeout=5)
        for source in self.sources:
            with contextlib.suppress(Exception):
                await asyncio.wrap_future(source.stop())
        self.exit(0)

    def _hangup(self) -> None:
        """The terminal is gone (its window closed, its tmux pane killed).
        Nothing can be drawn any more, and Textual's own shutdown would wait
        for ever on a writer thread that died on the closed terminal. So:
        stop and join every process now, and leave."""
        self.stop_all_now()
        os._exit(128 + signal.SIGHUP)

    def _handle_exception(self, error: Exception) -> None:
        """A bug reached the event loop. Textual exits with status 1 and prints
        the traceback, with locals, over the terminal; a class would see that.
        Keep Textual's handling (tests re-raise the error through it), save the
        traceback and any unsaved scenario to files, and leave one line naming
        them instead. Overridden because Textual has no public hook for it; the
        crash tests fail if this stops being called."""
        super()._handle_exception(error)
        extra = self._unsaved()
        path = save_crash(error, extra)
        kept = (
            f"; your unsaved scenario is beside it ({path.stem}.toml)"
            if extra and path is not None
            else ""
        )
        # Printed by the command after the terminal is restored, as plain
        # text: Rich would fold it at the terminal's width or crop it.
        self.crash_message = crash_line(error, path, kept)
        self._exit_renderables.clear()

    def _unsaved(self) -> dict[str, str]:
        """The composer's scenario, if one is open with changes not saved."""
        for screen in self.screen_stack:
            unsaved = getattr(screen, "unsaved_toml", None)
            if callable(unsaved):
                with contextlib.suppress(Exception):
                    text = unsaved()
                    if text:
                        return {".toml": text}
        return {}

    def run_for_status(self) -> int:
        """Run the app to its end and give the command's exit status; every
        process is stopped whatever happened, and a crash is said on stderr
        (Textual returns None for it, which is not a success)."""
        try:
            result = self.run()
        finally:
            self.stop_all_now()
        if self.crash_message:
            print(self.crash_message, file=sys.stderr)
        if self.return_code:
            return self.return_code
        return int(result or 0)

    def stop_all_now(self) -> None:
        """Last resort after the event loop has gone (a crash): stop synchronously."""
        for source in self.sources:
            with contextlib.suppress(Exception):
                source.stop_now()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        # The screen's own keys, and its bases' shown ones (step mode's, run_step)
        extra = [
            binding
            for base in type(screen).__mro__[1:]
            for binding in base.__dict__.get("BINDINGS", ())
            if isinstance(binding, Binding)
            and binding.show
            and base.__module__.startswith("ipcplay")
        ]
        for binding in [*screen.BINDINGS, *extra]:
            if isinstance(binding, Binding) and binding.description:
                action = binding.action
                yield SystemCommand(
                    binding.description,
                    f"key: {binding.key_display or binding.key}",
                    lambda action=action, screen=screen: screen.run_action(action),
                )
        yield SystemCommand("Help", "every key ipcplay understands", self.action_help)
        yield from self._tour_commands(screen)

    def _tour_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every preset with a guided tour as "Tour: NAME", so the palette
        finds them all under "tour"; on a run screen, "Start the tour"."""
        if isinstance(screen, RunScreen) and screen.source.scenario.tour:
            yield SystemCommand(
                "Start the tour",
                "play this scenario again from the start with its guided tour (n, b, holds)",
                screen.action_start_tour,
            )
        if self._toured is None:
            from ipcplay.scenario import ScenarioError, list_presets, load

            self._toured = []
            for info in list_presets():
                if info.error:
                    continue
                try:
                    scenario = load(info.path)
                except ScenarioError:
                    continue
                if scenario.tour:
                    self._toured.append((info.name, scenario.title, info.path))
        for name, title, path in self._toured:
            yield SystemCommand(
                f"Tour: {neutralise(name, multiline=False)}",
                f"play {neutralise(title, multiline=False)} with its guided tour",
                lambda path=path: self._open_tour(path),
            )

    def _open_tour(self, path: Path) -> None:
        from ipcplay.scenario import ScenarioError, load

        try:
            scenario = load(path)
        except ScenarioError as exc:  # changed on disk since it was listed
            self.notify(str(exc), severity="error", timeout=6)
            return
        self.open_scenario(scenario, tour=True)
