"""`to_python(scenario)`: the whole standalone script, as text.

Layout of a script, top to bottom: a note when the scenario is not meant to
complete; the docstring (preset name, title, explanation); imports; constants;
the `Tally` that counts; the helpers the processes use; one function per
`[[process]]` table; `report()`; `main()`. Only what is used is written.

This module is pure (scenario in, text out) and imports neither Textual nor
anything that starts a process, so a UI can show the code as it is edited.
"""

from __future__ import annotations

import textwrap

from ipcplay.export import literals
from ipcplay.export.code import Code, number, quoted
from ipcplay.export.names import script_names
from ipcplay.export.parent import GRACE, assign_wrapped, main_function, remote_manager
from ipcplay.export.roles import Emitter, emit
from ipcplay.export.snippets import HELPERS, REMOTE, REPORT, TALLY
from ipcplay.export.topology import QUEUES, Topology, build
from ipcplay.scenario.model import Scenario

VERDICT_WORDS = {
    "timeout": "a timeout: it does not finish within its duration",
    "deadlock": "a deadlock: processes wait for each other, forever",
    "hang": "a hang: a process waits for something that will never come",
    "crashed": "a crash: a process exits with an error",
}


def to_python(scenario: Scenario) -> str:
    """The standalone script for `scenario`: standard library only, runnable
    with a plain `python3`, printing the totals `ipcplay run --json` reports.

    Made twice: first with every user name a placeholder, to learn every name
    the script itself uses (imports, helpers, constants, locals); then for
    real, with the user's names kept clear of those."""
    own = script_names(_generate(scenario, build(scenario, probe=True)))
    return _generate(scenario, build(scenario, reserved=own))


def _generate(scenario: Scenario, topo: Topology) -> str:
    e = Emitter(scenario, topo)
    functions = [emit(t, e) for t in topo.templates]
    main = main_function(scenario, topo, e)
    parts = [
        _head(scenario) + "\n\n" + _imports(e) + "\n\n" + _constants(scenario, topo, e),
        TALLY.strip("\n"),
        REMOTE.strip("\n") if remote_manager(scenario) else "",
        *(HELPERS[h].strip("\n") for h in HELPERS if h in e.needs),
        *functions,
        REPORT.strip("\n"),
        main,
        'if __name__ == "__main__":\n    sys.exit(main())',
    ]
    return "\n\n\n".join(p for p in parts if p) + "\n"


# --------------------------------------------------------------------------- head


def _head(s: Scenario) -> str:
    lines = ["#!/usr/bin/env python3"]
    if s.expect != "completed":
        after = (
            f"DURATION ({number(s.duration)} s) and {GRACE} s more after setting `stop`"
            if s.endless
            else f"TIMEOUT ({number(s.duration)} s, the scenario's duration)"
        )
        note = (
            f"NOTE: this scenario is documented to end in {VERDICT_WORDS[s.expect]}. "
            f"So the script does not wait forever: after {after} it terminates whatever "
            "is still running and prints the totals so far."
        )
        lines += ["# " + line for line in textwrap.wrap(note, width=77)]
    text = f"{s.name}: {s.title}"
    explain = literals.prose(s.explain)
    if explain:
        text += "\n\n" + explain
    how = (
        f"Exported from the ipcplay preset {s.name!r} as a standalone script: it uses only "
        "Python's standard library (multiprocessing), so `python3 THIS_FILE` runs it "
        "anywhere. At the end it prints the totals `ipcplay run --json` reports for the "
        "same scenario: puts, gets and depth per channel, messages per process."
    )
    text += "\n\n" + textwrap.fill(how, width=79)
    if s.endless:
        until = (
            "The scenario runs until stopped: the script runs it for DURATION "
            f"({number(s.duration)} s), then sets `stop`, and every process returns "
            "between two items."
        )
        text += "\n\n" + textwrap.fill(until, width=79)
    text += "\n"
    # The first line shares its row with the opening quotes: 3 columns less.
    head, newline, rest = text.partition("\n")
    head = "\n".join(textwrap.wrap(head, width=96, break_on_hyphens=False)) or head
    lines.append(literals.docstring(literals.prose(head + newline + rest, width=99) + "\n"))
    return "\n".join(lines)


def _imports(e: Emitter) -> str:
    plain = {"multiprocessing", "sys"}
    plain |= {
        m for m in ("datetime", "itertools", "os", "random", "signal", "time") if m in e.needs
    }
    needs_time = (
        e.scenario.endless
        or e.scenario.expect != "completed"
        or bool({"burn_cpu", "take_simple"} & e.needs)
    )
    if needs_time:
        plain.add("time")
    if "set_when_exited" in e.needs:
        plain |= {"multiprocessing.connection", "threading"}
    if remote_manager(e.scenario):
        plain.add("os")
    lines = [f"import {m}" for m in sorted(plain)]
    if any(o.kind == "SharedMemory" for o in e.scenario.shared):
        lines.append("from multiprocessing import shared_memory")
    if remote_manager(e.scenario):
        lines.append("from multiprocessing.managers import BaseManager")
    from_queue = []
    if e.needs & {"take", "drain"} or _has_queue(e.topo):
        from_queue.append("Empty")
    if "put_or_stop" in e.needs:
        from_queue.append("Full")
    if remote_manager(e.scenario):
        from_queue.append("Queue")
    if from_queue:
        lines.append(f"from queue import {', '.join(from_queue)}")
    return "\n".join(lines)


def _has_queue(topo: Topology) -> bool:
    return any(c.kind in QUEUES for c in topo.channels.values())


def _constants(s: Scenario, topo: Topology, e: Emitter) -> str:
    c = Code()
    c(f"START_METHOD = {quoted(s.start_method)}  # how children start: fork, spawn or forkserver")
    seeded = any(
        p.payload.kind == "bytes" and p.role in ("producer", "pinger") for p in s.processes
    )
    why = "random payload bytes come from it" if seeded else "nothing here is random"
    c(f"SEED = {s.seed}  # the scenario's seed: {why}")
    if s.endless:
        c(f"DURATION = {number(s.duration)}  # seconds the run lasts; then `stop` ends it")
    if s.expect != "completed" and not s.endless:
        c(f"TIMEOUT = {number(s.duration)}  # seconds before the parent gives up waiting")
    kinds = ", ".join(f"{quoted(ch.spec.name)}: {quoted(ch.kind)}" for ch in topo.channels.values())
    c.many(assign_wrapped("CHANNELS", "{" + kinds + "}", "{", "}"))
    if "PILL" in e.needs:
        c("PILL = None  # the poison pill: a reader that takes one knows no more items will come")
    if s.endless:
        c("STOPPED = object()  # what a wait returns once the run's time is up")
    c.lines += e.constants
    return c.text()
