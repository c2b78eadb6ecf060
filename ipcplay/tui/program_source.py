"""A watched program as the run screen's source: `ipcplay PROGRAM.py`.

`ProgramSource` stands beside `EngineSource` (tui/source.py) with the same
face, so the run screen drives either: it starts and stops a
`ProgramEngine` on the app's one engine thread (the same discipline: the
children's parent-death signal follows that thread), with the program's
output captured and a journal, so the event log and the Output tab work.

A program is not a scenario, and nothing here pretends it is one: the
screen gets a `ProgramHeader` (a title, a few lines of explanation, no
tour, no declared channels or processes), and learns what the program has
from the snapshots as the program makes it.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from ipcplay.engine.program import Program, ProgramEngine, ProgramError
from ipcplay.engine.program_output import OutputLine
from ipcplay.engine.snapshot import Snapshot
from ipcplay.engine.watch_board import CHAN_CAP
from ipcplay.safetext import neutralise
from ipcplay.tui.source import _ENGINE_THREAD, Deliver, FrozenSource, Stepping

EXPLAIN = """\
This is your own program, {title}, run unmodified under ipcplay: the same \
interpreter, arguments and output as a plain run, in real processes.

What is counted: every process it starts (by the name it gives them), and \
every Queue, Pipe, Lock, Value, Pool, Manager... it makes, as it makes them \
(by the variable it binds them to where that can be seen): puts and gets, \
bytes, who blocks where (the line of your code), and who waits for whom.

What it printed is in the Output tab (o), each line under its process's \
name. Keys: p pauses or resumes the selected process (SIGSTOP/SIGCONT), \
space all of them, t and k send SIGTERM and SIGKILL, r runs the program \
again from the start, escape stops it and every process it started.

A program sets its own pace: the rate keys, poison pills, slow motion and \
tours are for presets."""


PREVIEWS = True
"""Message previews in the event log (`put 'hello'`), as for a scenario."""


@dataclass(frozen=True)
class ProgramHeader:
    """What the run screen reads of a scenario, for a program: its name and
    an explanation, and nothing declared (no tour, channels or processes:
    they come from the snapshots)."""

    title: str
    explain: str
    path: str  # the program's file ("" for `-m`: its file is found when it runs)
    name: str = ""  # what a saved schedule names it (`scenario = "lost.py"`)
    tour: tuple[()] = ()
    challenge: None = None  # a goal to reach by stepping is a preset's
    channels: tuple[()] = ()
    processes: tuple[()] = ()
    shared: tuple[()] = ()

    @classmethod
    def of(cls, program: Program) -> ProgramHeader:
        path = "" if program.module else program.target
        title = neutralise(program.title, multiline=False)  # a file name is the user's text
        return cls(title, EXPLAIN.format(title=title), path, program.title)


_SAFE: set[str] = set()  # names seen to need no neutralising (a program makes few)


def _safe(name: str) -> bool:
    if name in _SAFE:
        return True
    if neutralise(name, multiline=False) != name:
        return False
    if len(_SAFE) < 100_000:
        _SAFE.add(name)
    return True


def _clean(value: Any) -> Any:
    """Every text in a sample, neutralised (dataclasses and tuples, deeply)."""
    if isinstance(value, str):
        return neutralise(value, multiline=False)
    if isinstance(value, tuple):
        return tuple(_clean(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _clean(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if isinstance(getattr(value, f.name), str | tuple)
            or dataclasses.is_dataclass(getattr(value, f.name))
        }
        return dataclasses.replace(value, **changes)
    return value


def _texts(value: Any) -> list[str]:
    """The texts in a sample that come from the program: names, errors,
    notes, lines, reprs (what a program can fill with escapes)."""
    out: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, tuple):
            stack.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
    return out


def _process_texts(proc: Any) -> list[str]:
    """A process's program-made texts, read directly: the generic walk costs
    ten times more, and a program may have hundreds of processes."""
    texts = [proc.name, proc.template, proc.role, proc.state, proc.activity, proc.error]
    texts += [text for text, _ in proc.notes]
    blocked = proc.blocked
    if blocked is not None:
        texts += [blocked.channel, blocked.reason, blocked.holder, blocked.where]
    return texts


def _safe_all(texts: list[str]) -> bool:
    return all(_safe(text) for text in texts)


def safe_snapshot(snap: Snapshot) -> Snapshot:
    """The snapshot with the program's own texts made safe to draw.

    Names of processes and objects, errors, notes, pool calls and results
    are the program's: any text, escapes included. Each is checked (a set
    lookup once seen, on the sampler thread); only a sample holding an
    unsafe one is rebuilt, with every text in it neutralised."""
    changes: dict[str, Any] = {}
    procs = snap.processes
    if not all(_safe_all(_process_texts(p)) for p in procs):
        changes["processes"] = tuple(
            p if _safe_all(_process_texts(p)) else _clean(p) for p in procs
        )
    # A channel's or shared object's own text is its name (who writes, reads
    # or holds it are process names, checked above).
    for field in ("channels", "shared"):
        samples = getattr(snap, field)
        if not all(_safe(x.name) for x in samples):
            changes[field] = tuple(x if _safe(x.name) else _clean(x) for x in samples)
    for field in ("waits", "pools", "managers"):
        samples = getattr(snap, field)
        if samples and not all(_safe_all(_texts(x)) for x in samples):
            changes[field] = tuple(x if _safe_all(_texts(x)) else _clean(x) for x in samples)
    if snap.stuck is not None and not _safe_all(_texts(snap.stuck)):
        changes["stuck"] = _clean(snap.stuck)
    return dataclasses.replace(snap, **changes) if changes else snap


def module_file(program: Program) -> str:
    """The file `python -m MODULE` would run, found without importing
    anything (a package's `__init__` is the user's code: it runs in the
    program, not here): MODULE.py, or a package's __main__.py, on the path
    the program gets (the current folder first)."""
    if not program.module:
        return ""
    parts = program.target.split(".")
    for entry in [os.getcwd(), *sys.path[1:]]:
        base = os.path.join(entry or os.getcwd(), *parts)
        for path in (base + ".py", os.path.join(base, "__main__.py")):
            if os.path.isfile(path):
                return path
    return ""


class ProgramSource(Stepping):
    """A real program: a ProgramEngine started and stopped on the engine thread."""

    nchan = CHAN_CAP
    """Journal code of shared object s: nchan + s (the board's channel cap)."""

    def __init__(self, program: Program, hz: float = 10.0, journal_events: int = 4096) -> None:
        self.program = program
        self.scenario = ProgramHeader.of(program)
        self.hz = hz
        self._journal_events = journal_events
        self._engine: ProgramEngine | None = None
        self._last: ProgramEngine | None = None  # kept after a stop: its output stays readable
        self._deliver: Deliver | None = None
        self.generation = 0
        self.step = program.step
        """Start (and restart) in step mode, every process held at its first gate."""

    def start(self, deliver: Deliver) -> Future[None]:
        self._deliver = deliver
        return _ENGINE_THREAD.submit(self._start)

    def _start(self) -> None:
        self.generation += 1
        gen = self.generation
        deliver = self._deliver

        def on_snapshot(snap: Snapshot) -> None:
            if deliver is not None:
                deliver(safe_snapshot(snap), gen)

        engine = ProgramEngine(
            self.program,
            journal_events=self._journal_events,
            sample_hz=self.hz,
            capture=True,
            on_snapshot=on_snapshot,
            hang_after=1.0,
            previews=PREVIEWS,
            step=self.step,
        )
        self._engine = self._last = engine
        engine.start()

    def _stop(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            try:
                final = engine.shutdown()
            finally:
                engine.close()
            if self._deliver is not None:
                self._deliver(safe_snapshot(final), self.generation)

    def restart(self) -> Future[None]:
        def again() -> None:
            self._stop()
            self._start()

        return _ENGINE_THREAD.submit(again)

    def stop(self) -> Future[None]:
        return _ENGINE_THREAD.submit(self._stop)

    def stop_now(self) -> None:
        """Synchronous stop, for exit paths where the event loop is gone (as
        EngineSource.stop_now)."""
        try:
            self.stop().result(timeout=30)
        except TimeoutError:
            self._stop()

    @property
    def running(self) -> bool:
        return self._engine is not None

    def now(self) -> float:
        return time.monotonic()

    def _e(self) -> ProgramEngine:
        if self._engine is None:
            raise ProgramError("the program is not running")
        return self._engine

    def output_since(self, seq: int) -> list[OutputLine]:
        """What the program printed from line `seq` on (of the last run, even stopped)."""
        engine = self._last
        return engine.output_since(seq) if engine is not None else []

    @property
    def output_dropped(self) -> int:
        """Lines the collector itself let go (it keeps the newest 20,000)."""
        engine = self._last
        return engine.output.dropped if engine is not None and engine.output else 0

    def source_text(self) -> str:
        """The program's own source, for the Code tab ("" when it cannot be read)."""
        path = self.scenario.path or module_file(self.program)
        if not path:
            return ""
        try:
            with open(path, encoding="utf-8", errors="replace") as file:
                return file.read()
        except OSError:
            return ""

    def pause(self, name: str) -> None:
        self._e().pause(name)

    def resume(self, name: str) -> None:
        self._e().resume(name)

    def terminate(self, name: str) -> None:
        self._e().terminate(name)

    def kill(self, name: str) -> None:
        self._e().kill(name)

    def pause_all(self) -> None:
        self._e().pause_all()

    def pause_many(self, names: list[str]) -> list[str]:
        return self._e().pause_many(names)

    def resume_all(self) -> None:
        self._e().resume_all()

    def set_rate(self, name: str, rate: float) -> None:
        self._e().set_rate(name, rate)  # raises: a program sets its own pace

    def rate_of(self, name: str) -> float:
        return 0.0

    def poison_pill(self, name: str) -> str:
        return self._e().poison_pill(name)  # raises: a program sends what it sends

    def set_hz(self, hz: float) -> None:
        self.hz = hz
        if self._engine is not None:
            self._engine.set_sample_rate(hz)

    @property
    def speed(self) -> float:
        return 1.0

    def set_speed(self, speed: float) -> None:
        """A program runs at its own speed: nothing to slow."""


class FrozenProgramSource(FrozenSource):
    """A program's run as a fixed picture (tests, screenshots): a snapshot,
    what it printed and its source; controls recorded, not performed."""

    nchan = CHAN_CAP

    def __init__(
        self,
        program: Program,
        snapshot: Snapshot,
        printed: tuple[OutputLine, ...] = (),
        text: str = "",
        hz: float = 10.0,
    ) -> None:
        super().__init__(ProgramHeader.of(program), snapshot, hz)  # type: ignore[arg-type]
        self.program = program
        self.printed = printed
        self.text = text

    def output_since(self, seq: int) -> list[OutputLine]:
        return [line for line in self.printed if line.seq >= seq]

    def source_text(self) -> str:
        return self.text
