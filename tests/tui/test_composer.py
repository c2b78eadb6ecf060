"""The composer, driven with the keyboard: compose, run on real processes, save, load.

User presets go to a temporary IPCPLAY_HOME, so nothing is written to the
real home. Runs use real processes and are stopped before each test ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
import pytest
from conftest import until_shown as _until
from frozen import steady_scenario, steady_snapshot
from textual.pilot import Pilot
from textual.widgets import Input, Static

from ipcplay.scenario import ScenarioError, load, loads, model
from ipcplay.scenario.draft import Problem, check
from ipcplay.scenario.model import Scenario, Step
from ipcplay.tui.app import IpcplayApp
from ipcplay.tui.screens.choice import ChoiceScreen
from ipcplay.tui.screens.composer import ComposerScreen
from ipcplay.tui.screens.help import HelpScreen
from ipcplay.tui.screens.home import HomeScreen
from ipcplay.tui.screens.run import RunScreen
from ipcplay.tui.screens.save_as import SaveAsScreen, name_problem, slug
from ipcplay.tui.source import FrozenSource
from ipcplay.tui.widgets.composer_form import TickBox, TickList
from ipcplay.tui.widgets.rows import RowView
from ipcplay.tui.widgets.text import TextView

SnapCompare = Callable[..., bool]
SIZES = [pytest.param((100, 30), id="100x30"), pytest.param((160, 50), id="160x50")]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Saved presets land here, never in the developer's own folder."""
    folder = tmp_path / "ipcplay-home"
    folder.mkdir()
    monkeypatch.setenv("IPCPLAY_HOME", str(folder))
    return folder / "presets"


def _composer(app: IpcplayApp) -> ComposerScreen:
    assert isinstance(app.screen, ComposerScreen), app.screen
    return app.screen


def _same(a: Scenario, b: Scenario) -> bool:
    """Equal as dataclasses; `source` only labels messages."""
    return replace(a, source="") == replace(b, source="")


async def compose_queue_demo(pilot: Pilot[Any], maxsize: str = "3") -> None:
    """From the home screen, keys only: producer -> Queue(maxsize) -> two consumers."""
    await pilot.press("n")  # new scenario
    await pilot.press("home", "enter")  # the scenario entry; into its form (file name)
    await pilot.press(*"queue-demo")  # the field's text is selected on focus: replaced
    await pilot.press("tab", "tab", "tab")  # title, explain, start method
    await pilot.press("enter", "up", "enter")  # spawn -> fork: quicker to start
    await pilot.press("escape")  # back to the list
    await pilot.press("c", "2")  # a bounded Queue (maxsize 8)
    await pilot.press("enter", "tab", "tab")  # name, kind, maxsize
    await pilot.press(*maxsize)
    await pilot.press("escape")
    await pilot.press("a", "1")  # a producer, wired to the selected queue
    await pilot.press("up")  # select the queue again...
    await pilot.press("a", "2")  # ...a consumer reading it
    await pilot.press("d")  # and a second one just like it
    await pilot.pause()


@pytest.mark.timeout(120)
async def test_compose_run_save_and_load_with_the_keyboard(home: Path) -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await compose_queue_demo(pilot)
        composer = _composer(app)
        composed = composer.result
        assert isinstance(composed, Scenario), composed
        assert composed.name == "queue-demo" and composed.start_method == "fork"
        assert [(c.name, c.kind, c.maxsize) for c in composed.channels] == [("queue", "Queue", 3)]
        shape = [(p.name, p.role, p.inputs, p.outputs) for p in composed.processes]
        assert shape == [
            ("producer", "producer", (), ("queue",)),
            ("consumer", "consumer", ("queue",), ()),
            ("consumer2", "consumer", ("queue",), ()),
        ]
        assert "✓ valid" in app.screen.query_one("#composer-problem", TextView).plain

        # Run it: the run screen shows the real PIDs of the engine's children.
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, RunScreen))
        run = app.screen
        assert isinstance(run, RunScreen)

        def shown() -> dict[str, int | None]:
            view = run.query_one("#proc-rows", RowView)
            return {k: view._data[k][0].pid for k in view._keys}

        await _until(pilot, lambda: len(shown()) == 3 and all(shown().values()))
        pids = set(shown().values())
        children = {c.pid for c in psutil.Process().children(recursive=True)}
        assert pids <= children
        assert set(shown()) == {"producer", "consumer", "consumer2"}

        # Escape stops it and comes back to the composer, edits kept.
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, ComposerScreen))
        assert app.screen is composer and composer.result == composed
        await _until(pilot, lambda: not any(psutil.pid_exists(p) and _alive(p) for p in pids))

        # Save: asked, the name is the file name typed; the user's presets folder
        # gets queue-demo.toml, and it loads back the same.
        await pilot.press("s", "enter")
        await pilot.pause()
        path = home / "queue-demo.toml"
        assert path.is_file()
        assert _same(load(path), composed)
        assert "unsaved" not in app.screen.query_one("#composer-title", TextView).plain

        # Back home: it is listed, selected, and loads to the same scenario.
        await pilot.press("escape")
        await pilot.pause()
        home_screen = app.screen
        assert isinstance(home_screen, HomeScreen)
        key = home_screen.query_one(RowView).selected_key
        assert key == f"user:{path}"
        listed = home_screen.scenarios[key]
        assert isinstance(listed, Scenario) and _same(listed, composed)

        # e opens it in the composer again: the same scenario, nothing unsaved.
        await pilot.press("e")
        await pilot.pause()
        again = _composer(app)
        assert isinstance(again.result, Scenario) and _same(again.result, composed)
        assert not again.dirty
        await pilot.press("q")
        await _until(pilot, lambda: not app.is_running)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _loader_message(toml: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        loads(toml)
    return info.value


async def compose_racy_counter(pilot: Pilot[Any]) -> None:
    """From the home screen, keys only: a Value counter and two racy incrementers."""
    await pilot.press("n")
    await pilot.press("home", "enter")
    await pilot.press(*"racy-counter")
    await pilot.press("tab", "tab", "tab")  # title, explain, start method
    await pilot.press("enter", "up", "enter")  # spawn -> fork
    await pilot.press("escape")
    await pilot.press("o", "1")  # a Value counter
    await pilot.press("a", "7")  # a racy incrementer, on the selected counter
    await pilot.press("d")  # and a second one
    await pilot.pause()


@pytest.mark.timeout(120)
async def test_compose_a_racy_counter_run_it_and_see_lost_updates(home: Path) -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await compose_racy_counter(pilot)
        composer = _composer(app)
        composed = composer.result
        assert isinstance(composed, Scenario), composed
        assert [(o.name, o.kind, o.typecode, o.value) for o in composed.shared] == [
            ("counter", "Value", "i", 0)
        ]
        assert [(p.name, p.role, p.count) for p in composed.processes] == [
            ("racer", "steps", 200000),
            ("racer2", "steps", 200000),
        ]
        assert all(
            p.steps == (Step(op="add", target="counter", amount=1),) for p in composed.processes
        )
        diagram = composer.query_one("#composer-diagram", TextView).plain
        assert "racer, racer2 ──▶ [counter · Value i = 0]  add" in diagram

        # Run it on real processes: the counter ends short, and the panel says by how much.
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, RunScreen))
        run = app.screen
        assert isinstance(run, RunScreen)
        await _until(pilot, lambda: run.snap is not None and run.snap.finished, timeout=90)
        assert run.snap is not None
        counter = run.snap.shared[0]
        assert counter.expected == 400000
        assert counter.lost is not None and counter.lost > 0
        assert counter.value == 400000 - counter.lost
        await pilot.pause(0.2)
        row = str(run.query_one("#shared-rows", RowView).render_line(0).text)
        assert f"expected 400000  lost {counter.lost}" in row

        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, ComposerScreen))
        await pilot.press("s", "enter")
        await pilot.pause()
        path = home / "racy-counter.toml"
        assert _same(load(path), composed)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("e")  # the saved file, opened again: the same scenario
        await pilot.pause()
        again = _composer(app)
        assert isinstance(again.result, Scenario) and _same(again.result, composed)
        assert not again.dirty


async def test_invalid_value_shows_the_loaders_words_inline_and_blocks_run_and_save(
    home: Path,
) -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await compose_queue_demo(pilot, maxsize="-3")
        composer = _composer(app)
        expected = _loader_message(
            '[scenario]\ntitle = "t"\n[channels.queue]\nkind = "Queue"\nmaxsize = -3\n'
        )
        problem = composer.problem
        assert problem is not None
        assert (problem.key, problem.message) == (expected.key, expected.message)

        # Shown under the maxsize field itself once the queue is selected.
        await pilot.press("home", "down")
        await pilot.pause()
        error = composer.query_one("#err-channel-maxsize", Static)
        assert error.display
        assert str(error.render()) == f"✗ {expected.message}"
        assert "✗" in str(composer.query_one(RowView).render_line(1).text)

        # Neither run nor save: a notice, the cursor on the field, nothing written.
        await pilot.press("r")
        await pilot.pause()
        assert app.screen is composer and not app.sources
        assert composer.focused is composer.query_one("#w-channel-maxsize", Input)
        await pilot.press("escape", "s")
        await pilot.pause()
        assert not home.exists() or not any(home.iterdir())

        # Fixing it clears the message and allows saving.
        await pilot.press("escape", "enter", "tab", "tab", "5")
        await pilot.pause()
        assert composer.problem is None and not error.display
        await pilot.press("escape", "s", "enter")
        await pilot.pause()
        assert (home / "queue-demo.toml").is_file()


async def test_a_line_that_is_no_step_is_shown_under_the_steps_field() -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("n", "a", "8")  # a lock holder: a Lock named lock comes with it
        await pilot.pause()
        composer = _composer(app)
        assert [o.get("kind") for o in composer.draft.shared] == ["Lock"]
        assert composer.problem is None
        await pilot.press("enter", "tab", "tab", "tab", "tab")  # name, role, replicas, count
        await pilot.pause()
        assert composer.focused is composer.query_one("#w-process-steps")
        await pilot.press("end", "enter", *"aquire lock")  # line 2
        await pilot.pause()
        problem = composer.problem
        assert problem is not None and (problem.field, problem.line) == ("steps", 2)
        error = composer.query_one("#err-process-steps", Static)
        assert error.display
        assert str(error.render()) == "✗ line 2: unknown step 'aquire'; did you mean 'acquire'?"
        # Fixed, the loader has its say: the lock is now taken twice, released once.
        await pilot.press(*["left"] * 10, "c")
        await pilot.pause()
        assert composer.draft.processes[0].get("steps").splitlines()[1] == "acquire lock"
        problem = composer.problem
        assert problem is not None
        expected = _loader_message(
            '[scenario]\ntitle = "t"\n[shared.lock]\nkind = "Lock"\n[[process]]\n'
            'name = "holder"\nrole = "steps"\nsteps = [{ acquire = "lock" }, '
            '{ acquire = "lock" }, { sleep = 200 }, { release = "lock" }]\n'
        )
        assert (problem.key, problem.message) == (expected.key, expected.message)
        assert problem.uid == composer.draft.processes[0].uid and problem.field == "steps"
        assert str(error.render()) == f"✗ {expected.message}"


async def test_rename_duplicate_and_delete() -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await compose_queue_demo(pilot)
        composer = _composer(app)
        rows = composer.query_one(RowView)

        # Rename the queue: n goes to its name; the processes' wires follow.
        await pilot.press("home", "down", "n", *"jobs", "escape")
        await pilot.pause()
        s = composer.result
        assert isinstance(s, Scenario)
        assert [c.name for c in s.channels] == ["jobs"]
        assert all("jobs" in (*p.inputs, *p.outputs) for p in s.processes)

        # Duplicate the producer: same wiring, the next free name, just below it.
        await pilot.press("down", "d")
        await pilot.pause()
        s = composer.result
        assert isinstance(s, Scenario)
        assert [p.name for p in s.processes] == ["producer", "producer2", "consumer", "consumer2"]
        assert s.processes[1].outputs == ("jobs",)
        assert rows.selected_key == str(composer.draft.processes[1].uid)

        # Delete it again, then delete the channel: every wire to it goes too.
        await pilot.press("x")
        await pilot.press("home", "down", "delete")
        await pilot.pause()
        assert [p.name for p in composer.draft.processes] == ["producer", "consumer", "consumer2"]
        assert not composer.draft.channels
        assert all(not p.get("in") and not p.get("out") for p in composer.draft.processes)
        problem = check(composer.draft)
        assert isinstance(problem, Problem)
        assert problem.message == "a producer needs at least one output channel, got none"

        # The scenario entry itself cannot be deleted or duplicated.
        await pilot.press("home", "x", "d")
        await pilot.pause()
        assert len(composer.draft.entries) == 4


async def test_wiring_a_process_added_before_its_channel() -> None:
    """A channel added while a producer is selected plugs its missing 'out'; space in
    the 'writes' list unticks and ticks it again."""
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("n", "a", "1")  # a producer, nothing to wire it to yet
        await pilot.pause()
        composer = _composer(app)
        assert composer.problem is not None and composer.problem.field == "out"
        await pilot.press("c", "1")  # with the producer selected
        await pilot.pause()
        queue = composer.draft.channels[0].uid
        assert composer.draft.processes[0].get("out") == (queue,)
        assert composer.problem is None
        await pilot.press("down", "enter", "tab", "tab", "tab")  # name, role, replicas, writes
        await pilot.pause()
        assert composer.focused is composer.query_one("#w-process-out")
        await pilot.press("space")
        await pilot.pause()
        assert composer.draft.processes[0].get("out") == ()
        assert composer.problem is not None and composer.problem.field == "out"
        await pilot.press("space")
        await pilot.pause()
        assert composer.draft.processes[0].get("out") == (queue,)
        assert composer.problem is None


async def test_saving_never_replaces_a_file_without_asking(home: Path) -> None:
    home.mkdir(parents=True)
    existing = home / "queue-demo.toml"
    existing.write_text("# mine\n", encoding="utf-8")
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await compose_queue_demo(pilot)
        await pilot.press("s", "enter")  # the name it has: queue-demo
        await pilot.pause()
        assert existing.read_text(encoding="utf-8") == "# mine\n"  # asked, not written
        await pilot.press("escape")  # cancel
        await pilot.pause()
        assert _composer(app) and sorted(p.name for p in home.iterdir()) == ["queue-demo.toml"]
        await pilot.press("s", "enter", "1")  # "another name…": asked again, queue-demo2
        await pilot.pause()
        assert app.screen.query_one("#save-name", Input).value == "queue-demo2"
        assert sorted(p.name for p in home.iterdir()) == ["queue-demo.toml"]  # not yet
        await pilot.press("enter")
        await pilot.pause()
        assert existing.read_text(encoding="utf-8") == "# mine\n"
        saved = load(home / "queue-demo2.toml")
        assert saved.name == "queue-demo2"
        assert _composer(app).draft.file == "queue-demo2"
        await pilot.press("s", "backspace", *"queue-demo", "enter", "2")  # overwrite, as asked
        await pilot.pause()
        assert load(existing).name == "queue-demo"
        assert sorted(p.name for p in home.iterdir()) == ["queue-demo.toml", "queue-demo2.toml"]


async def _select(pilot: Pilot, app: IpcplayApp, preset: str) -> str:
    """Move the home list's cursor to a built-in preset; its row key."""
    rows = app.screen.query_one(RowView)
    for _ in range(100):
        key = rows.selected_key
        if key is not None and key.endswith(f"/{preset}.toml"):
            return key
        await pilot.press("down")
    raise AssertionError(f"{preset} is not in the list")


async def _type_steps(pilot: Pilot[Any], lines: list[str]) -> None:
    """Replace the selected steps process's steps (the form's 5th field)."""
    await pilot.press("enter", "tab", "tab", "tab", "tab", "f7")  # name, role, replicas, count
    for i, line in enumerate(lines):
        await pilot.press(*(["enter"] if i else []), *line)
    await pilot.press("escape")


@pytest.mark.timeout(120)
async def test_a_steps_process_puts_and_gets_on_a_queue_for_real(home: Path) -> None:
    """Keys only: a lock holder that puts on a bounded queue under its lock, and a
    steps process that gets from it; run on real processes, every item counted."""
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("n", "home", "enter", *"handoff", "tab", "tab", "tab")
        await pilot.press("enter", "up", "enter", "escape")  # spawn -> fork
        await pilot.press("c", "2")  # queue, a bounded Queue(8)
        await pilot.press("enter", "tab", "tab", "2", "escape")  # maxsize 2
        await pilot.press("a", "8")  # a lock holder, and the Lock it takes
        await pilot.press("enter", "tab", "tab", "tab", "ctrl+u", "5", "escape")  # count 5
        await _type_steps(pilot, ["acquire lock", "put queue {i}", "release lock"])
        await pilot.press("a", "8")  # a second steps process: it gets instead
        await pilot.press("enter", "tab", "tab", "tab", "ctrl+u", "5", "escape")
        await _type_steps(pilot, ["get queue", "sleep 10"])
        await pilot.pause()
        composer = _composer(app)
        assert composer.problem is None, composer.problem
        s = composer.result
        assert isinstance(s, Scenario)
        holder, taker = s.processes
        assert holder.steps[1] == Step(op="put", target="queue", item="{i}")
        assert (holder.outputs, holder.inputs, holder.count) == (("queue",), (), 5)
        assert (taker.inputs, taker.outputs, taker.steps[0]) == (
            ("queue",),
            (),
            Step(op="get", target="queue"),
        )
        diagram = composer.query_one("#composer-diagram", TextView).plain
        assert f"{holder.name} ──▶ [queue · Queue(2)] ──▶ {taker.name}" in diagram
        row = str(composer.query_one(RowView).render_line(3).text)
        assert "steps · lock, queue" in row

        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, RunScreen))
        run = app.screen
        assert isinstance(run, RunScreen)
        await _until(pilot, lambda: run.snap is not None and run.snap.finished, timeout=60)
        assert run.snap is not None and run.snap.stuck is None
        (queue,) = run.snap.channels
        assert (queue.puts, queue.gets, queue.depth, queue.max_depth) == (5, 5, 0, 2)
        procs = {p.name: p for p in run.snap.processes}
        assert (procs[holder.name].sent, procs[taker.name].received) == (5, 5)
        assert run.snap.shared[0].acquires == 5
        assert all(p.exitcode == 0 for p in run.snap.processes)

        # Back in the composer, renaming the queue renames it in the steps.
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, ComposerScreen))
        await pilot.press("home", "down", "n", *"jobs", "escape")
        await pilot.pause()
        assert composer.problem is None
        lines = [p.get("steps").splitlines() for p in composer.draft.processes]
        assert lines == [["acquire lock", "put jobs {i}", "release lock"], ["get jobs", "sleep 10"]]
        await pilot.press("s", "enter")
        await pilot.pause()
        saved = load(home / "handoff.toml")
        assert saved.processes[0].outputs == ("jobs",) and saved.processes[1].inputs == ("jobs",)
        assert 'put = "jobs"' in (home / "handoff.toml").read_text(encoding="utf-8")


async def test_a_preset_with_shared_objects_and_steps_opens_and_round_trips(home: Path) -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        key = await _select(pilot, app, "lock-order-deadlock")
        original = load(Path(key.split(":", 1)[1]))
        await pilot.press("e")
        await pilot.pause()
        composer = _composer(app)
        assert [o.name for o in composer.draft.shared] == ["lock_a", "lock_b", "a_held", "b_held"]
        lines = composer.draft.processes[0].get("steps").splitlines()
        assert len(lines) == len(original.processes[0].steps)  # one line per step
        assert [lines[0], *lines[-3:]] == [
            "acquire lock_a",
            "acquire lock_b",
            "release lock_b",
            "release lock_a",
        ]
        assert "set a_held" in lines and "wait b_held" in lines
        assert isinstance(composer.result, Scenario)
        assert replace(composer.result, name=original.name, source="") == replace(
            original, source=""
        )
        await pilot.press("s", "enter")
        await pilot.pause()
        saved = load(home / f"my-{original.name}.toml")
        assert _same(saved, replace(original, name=f"my-{original.name}"))


async def test_editing_a_built_in_preset_round_trips_and_saves_a_copy(home: Path) -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        first = await _select(pilot, app, "bounded-queue")
        assert first.startswith("built-in:")
        original = load(Path(first.split(":", 1)[1]))
        await pilot.press("e")
        await pilot.pause()
        composer = _composer(app)
        assert isinstance(composer.result, Scenario)
        assert replace(composer.result, name=original.name, source="") == replace(
            original, source=""
        )
        assert composer.draft.file == f"my-{original.name}"
        await pilot.press("s", "enter")
        await pilot.pause()
        assert _same(
            load(home / f"my-{original.name}.toml"), replace(original, name=f"my-{original.name}")
        )


async def test_escape_with_unsaved_changes_asks_first() -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("n", "escape")  # nothing changed: straight back
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("n", "c", "1", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, (HomeScreen, ComposerScreen))  # the question
        await pilot.press("1")  # stay
        await pilot.pause()
        assert isinstance(app.screen, ComposerScreen)
        await pilot.press("escape", "2")  # leave without saving
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


@pytest.mark.timeout(120)
async def test_escape_steps_back_to_the_list_from_anywhere_and_q_asks_too() -> None:
    """Escape is one step out: from the form, the tabs or the TOML, to the list; only
    from the list does it leave, and q too asks first about unsaved changes. The
    part that has the keys is framed in the accent colour and says what escape does."""
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("n", "c", "2")  # a bounded Queue: the list keeps the keys
        await pilot.pause()
        composer = _composer(app)
        rows, form = composer.query_one(RowView), composer.form
        accent = app.theme_variables["accent"]
        assert composer.focused is rows
        assert rows.styles.border_top[1].hex == accent
        assert rows.border_subtitle == "esc: leave · enter: edit"

        await pilot.press("enter")  # into the form: the form is framed now
        await pilot.pause()
        assert composer.focused is form.query_one("#w-channel-name")
        assert form.styles.border_top[1].hex == accent
        assert rows.styles.border_top[1].hex != accent
        assert form.border_subtitle == "esc: back to the list"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is composer and composer.focused is rows

        # The tabs under the form (reached with tab or a click): escape, back to the list.
        composer.query_one("#composer-views Tabs").focus()
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is composer and composer.focused is rows

        # From the list, with unsaved changes: escape asks, and so does q.
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert "not saved" in app.screen.title_text
        await pilot.press("1")  # stay
        await pilot.pause()
        assert app.screen is composer and composer.draft.channels
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen) and app.is_running
        await pilot.press("escape")  # escape in the question: stay
        await pilot.pause()
        assert app.screen is composer
        await pilot.press("q", "2")  # quit without saving
        await _until(pilot, lambda: not app.is_running)


@pytest.mark.timeout(120)
async def test_q_on_a_run_started_from_the_composer_asks_about_the_unsaved_scenario() -> None:
    app = IpcplayApp(source_factory=_frozen_factory())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await compose_queue_demo(pilot)
        composer = _composer(app)
        drafted = composer.draft
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, RunScreen))
        run = app.screen
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen) and app.is_running
        assert app.screen.title_text == "Quit ipcplay? The scenario in the composer is not saved."
        await pilot.press("1")  # cancel: the run is still there, and below it the draft
        await pilot.pause()
        assert app.screen is run
        await pilot.press("escape")
        await _until(pilot, lambda: app.screen is composer)
        assert composer.draft == drafted and composer.dirty
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, RunScreen))
        await pilot.press("q", "2")  # quit without saving, as asked
        await _until(pilot, lambda: not app.is_running)


@pytest.mark.timeout(120)
async def test_ticked_and_unticked_look_different_not_only_in_colour() -> None:
    """[x] and [ ]: a projector, or a colour-blind eye, tells them apart."""
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("n", "c", "5", "a", "1")  # a duplex Pipe, a producer on it
        await pilot.pause()
        composer = _composer(app)
        ending = composer.query_one("#w-process-finally", TickList)
        writes = composer.query_one("#w-process-out", TickList)
        assert composer.draft.processes[0].get("finally") == ("poison-pill",)
        lines = [str(ending.render_line(y).text) for y in range(3)]
        assert [line[:4] for line in lines] == ["[x] ", "[ ] ", "[ ] "]
        assert lines[0].startswith("[x] poison-pill")
        assert str(writes.render_line(0).text).startswith("[x] pipe")
        # space on the list unticks: the box empties, the draft follows
        await pilot.press("enter", "tab", "tab", "tab")  # name, role, replicas, writes
        await pilot.press("space")
        await pilot.pause()
        assert composer.draft.processes[0].get("out") == ()
        assert str(writes.render_line(0).text).startswith("[ ] pipe")

        # A checkbox: the Pipe's duplex.
        await pilot.press("escape", "home", "down", "enter", "tab", "tab")  # name, kind, duplex
        await pilot.pause()
        duplex = composer.query_one("#w-channel-duplex", TickBox)
        assert composer.focused is duplex and duplex.value
        assert str(duplex.render()).startswith("[x] both ends")
        await pilot.press("space")
        await pilot.pause()
        assert not duplex.value and str(duplex.render()).startswith("[ ] both ends")
        assert composer.draft.channels[0].get("duplex") is False


@pytest.mark.timeout(120)
async def test_save_asks_for_the_name_and_checks_it(home: Path) -> None:
    """No name the user did not see: a prompt, pre-filled from the title; a name that
    is no preset name is refused in place; saving again to its own file needs no
    question, someone else's file does."""
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("n", "home", "enter", "tab")  # the title
        await pilot.press(*"Class demo: queues!", "escape")  # replaces "My scenario"
        await pilot.press("c", "1", "a", "1", "up", "a", "2")
        await pilot.pause()
        composer = _composer(app)
        assert composer.problem is None and composer.draft.file == "my-scenario"

        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SaveAsScreen)
        name = app.screen.query_one("#save-name", Input)
        assert name.value == "class-demo-queues"  # from the title, as a file name
        await pilot.press("ctrl+u", *"9 lives", "enter")  # not a preset name: stays, says why
        await pilot.pause()
        assert isinstance(app.screen, SaveAsScreen)
        problem = str(app.screen.query_one("#save-problem", Static).render())
        assert problem.startswith("✗ '9 lives' cannot be a preset name: expected a letter")
        assert not home.exists() or not any(home.iterdir())
        await pilot.press("escape")  # cancelled: nothing written, still unsaved
        await pilot.pause()
        assert app.screen is composer and composer.dirty
        assert not home.exists() or not any(home.iterdir())

        await pilot.press("s", "ctrl+u", *"class-demo", "enter")
        await pilot.pause()
        assert app.screen is composer and not composer.dirty
        assert composer.draft.file == "class-demo"
        assert sorted(p.name for p in home.iterdir()) == ["class-demo.toml"]
        assert load(home / "class-demo.toml").title == "Class demo: queues!"

        # An edit, then s, Enter: its own file is replaced without a question.
        await pilot.press("home", "down", "enter", "tab", "tab", "3", "escape")  # maxsize 3
        await pilot.pause()
        assert composer.dirty
        await pilot.press("s")
        await pilot.pause()
        assert app.screen.query_one("#save-name", Input).value == "class-demo"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is composer and not composer.dirty
        assert load(home / "class-demo.toml").channels[0].maxsize == 3
        assert sorted(p.name for p in home.iterdir()) == ["class-demo.toml"]


def test_a_suggested_name_is_a_preset_name_whatever_the_title() -> None:
    assert slug("Bounded queue (3), by \x1b[31mme") == "bounded-queue-3-by-x1b-31mme"
    assert slug("  42 — Lock order!  ") == "lock-order"
    assert slug("été") == "t" and slug("42") == "" and slug("") == ""
    assert len(slug("x" * 80)) == 32
    assert name_problem("class-demo") is None
    assert name_problem("a\x1b[2Jb") == (
        "'a\\x1b[2Jb' cannot be a preset name: expected a letter followed by up to 31 "
        "letters, digits, '_' or '-'"
    )


async def test_every_role_and_channel_kind_has_a_template_and_keys_hide_while_typing() -> None:
    app = IpcplayApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        for digit in "123456789":
            await pilot.press("c", digit)
        for digit in "12345":
            await pilot.press("a", digit)
        for digit in "123456789":
            await pilot.press("o", digit)
        for downs in range(9, len(model.SHARED_KINDS)):  # past the digits: arrows
            await pilot.press("o", *["down"] * downs, "enter")
        for digit in "6789":
            await pilot.press("a", digit)
        for downs in range(9, 17):  # past the digits: arrows
            await pilot.press("a", *["down"] * downs, "enter")
        await pilot.pause()
        composer = _composer(app)
        kinds = {(c.get("kind"), c.get("duplex")) for c in composer.draft.channels}
        assert {k for k, _ in kinds} == set(model.CHANNEL_KINDS)
        assert ("Pipe", False) in kinds and ("Pipe", True) in kinds
        remote = [
            c.get("remote") for c in composer.draft.channels if c.get("kind") == "ManagerQueue"
        ]
        assert remote == [False, True]
        roles = [p.get("role") for p in composer.draft.processes]
        assert roles == ["producer", "consumer", "worker", "pinger", "ponger"] + ["steps"] * 10 + [
            "globals",
            "coroutines",
        ]
        shared = [o.get("kind") for o in composer.draft.shared]
        assert shared == list(model.SHARED_KINDS)
        # Each steps template works on the last object of its kind: none added.
        steps = [p.get("steps") for p in composer.draft.processes[5:-2]]
        assert steps == [
            "add counter 1 locked",
            "add counter 1",
            "acquire cond\nsleep 200\nrelease cond",  # a Condition is a lock too
            "sleep 1000\nset go",
            "wait go",
            "sleep 200\nwait barrier",
            "append ml {i**i}",
            "setitem md {i} a",
            "sleep 500\nacquire cond\nnotify_all cond\nrelease cond",
            "acquire cond\nwait cond\nrelease cond",
        ]

        def footer_keys() -> set[str]:
            return {b.binding.key for b in app.screen.active_bindings.values() if b.enabled}

        assert {"a", "c", "r", "s", "n", "d"} <= footer_keys()
        await pilot.press("enter")  # into the form: letters type, so they are off
        await pilot.pause()
        assert isinstance(composer.focused, Input)
        assert not {"a", "c", "r", "s", "n", "d"} & footer_keys()
        await pilot.press("question_mark")  # typed into the name, not help
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "composer" in str(app.screen.query_one(Static).render())


# ---------------------------------------------------------------- pictures


def _frozen_factory() -> Callable[[Scenario, float], FrozenSource]:
    def factory(s: Scenario, hz: float) -> FrozenSource:
        return FrozenSource(s, steady_snapshot(steady_scenario()), hz)

    return factory


async def _composed(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await compose_queue_demo(pilot)
    await pilot.pause()


async def _invalid(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await compose_queue_demo(pilot, maxsize="-3")
    await pilot.press("home", "down")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_composer_picture(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app = IpcplayApp(source_factory=_frozen_factory())
    assert snap_compare(app, terminal_size=size, run_before=_composed)


@pytest.mark.parametrize("size", SIZES)
def test_composer_picture_with_a_problem(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app = IpcplayApp(source_factory=_frozen_factory())
    assert snap_compare(app, terminal_size=size, run_before=_invalid)


async def _with_shared(pilot: Pilot[Any]) -> None:
    """A Value, two racy incrementers and a lock holder, the first racer selected."""
    await pilot.pause()
    await compose_racy_counter(pilot)
    await pilot.press("a", "8")  # a lock holder, and the Lock it takes
    await pilot.press("home", "down", "down", "down")
    await pilot.pause()


def test_composer_picture_with_shared_objects(snap_compare: SnapCompare) -> None:
    app = IpcplayApp(source_factory=_frozen_factory())
    assert snap_compare(app, terminal_size=(100, 30), run_before=_with_shared)
