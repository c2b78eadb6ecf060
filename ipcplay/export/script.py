"""`to_python(scenario)`: the whole standalone script, as text.

Layout of a script, top to bottom: a note when the scenario is not meant to
complete; the docstring (preset name, title, explanation); imports; constants;
the `Tally` that counts; the helpers the processes use; one function per
`[[process]]` table; `report()`; `main()`. Only what is used is written.

Who writes what: this module the head, the imports and the constants;
snippets.py the fixed text (Tally, helpers, report); roles.py one function per
template (steps.py the steps role, calls.py the calls every role makes,
pool.py the pool role); parent.py main() (make.py what it constructs,
totals.py what it prints of the shared objects). What a kind of channel or
shared object is comes from the kinds table (scenario/kinds.py).

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
from ipcplay.export.topology import Topology, build
from ipcplay.scenario.kinds import SHARED_BY_NAME
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
    emitter = Emitter(scenario, topo)
    functions = [emit(template, emitter) for template in topo.templates]
    main = main_function(scenario, topo, emitter)
    parts = [
        _head(scenario) + "\n\n" + _imports(emitter) + "\n\n" + _constants(scenario, topo, emitter),
        TALLY.strip("\n"),
        REMOTE.strip("\n") if remote_manager(scenario) else "",
        *(HELPERS[helper].strip("\n") for helper in HELPERS if helper in emitter.needs),
        *functions,
        REPORT.strip("\n"),
        main,
        'if __name__ == "__main__":\n    sys.exit(main())',
    ]
    return "\n\n\n".join(part for part in parts if part) + "\n"


# --------------------------------------------------------------------------- head


def _head(scenario: Scenario) -> str:
    lines = ["#!/usr/bin/env python3"]
    if scenario.expect != "completed":
        after = (
            f"DURATION ({number(scenario.duration)} s) and {GRACE} s more after setting `stop`"
            if scenario.endless
            else f"TIMEOUT ({number(scenario.duration)} s, the scenario's duration)"
        )
        note = (
            f"NOTE: this scenario is documented to end in {VERDICT_WORDS[scenario.expect]}. "
            f"So the script does not wait forever: after {after} it terminates whatever "
            "is still running and prints the totals so far."
        )
        lines += ["# " + line for line in textwrap.wrap(note, width=77)]
    text = f"{scenario.name}: {scenario.title}"
    explain = literals.prose(scenario.explain)
    if explain:
        text += "\n\n" + explain
    how = (
        f"Exported from the ipcplay preset {scenario.name!r} as a standalone script: it uses only "
        "Python's standard library (multiprocessing), so `python3 THIS_FILE` runs it "
        "anywhere. At the end it prints the totals `ipcplay run --json` reports for the "
        "same scenario: puts, gets and depth per channel, messages per process."
    )
    text += "\n\n" + textwrap.fill(how, width=79)
    if scenario.endless:
        until = (
            "The scenario runs until stopped: the script runs it for DURATION "
            f"({number(scenario.duration)} s), then sets `stop`, and every process returns "
            "between two items."
        )
        text += "\n\n" + textwrap.fill(until, width=79)
    text += "\n"
    # The first line shares its row with the opening quotes: 3 columns less.
    head, newline, rest = text.partition("\n")
    head = "\n".join(textwrap.wrap(head, width=96, break_on_hyphens=False)) or head
    lines.append(literals.docstring(literals.prose(head + newline + rest, width=99) + "\n"))
    return "\n".join(lines)


def _imports(emitter: Emitter) -> str:
    plain = {"multiprocessing", "sys"}
    plain |= {
        module
        for module in ("datetime", "itertools", "os", "random", "signal", "time")
        if module in emitter.needs
    }
    needs_time = (
        emitter.scenario.endless
        or emitter.scenario.expect != "completed"
        or bool({"burn_cpu", "take_simple"} & emitter.needs)
    )
    if needs_time:
        plain.add("time")
    if "set_when_exited" in emitter.needs:
        plain |= {"multiprocessing.connection", "threading"}
    if remote_manager(emitter.scenario):
        plain.add("os")
    extra = dict.fromkeys(
        line for channel in emitter.topo.channels.values() for line in channel.entry.imports
    )  # a kind's own imports: `import X` among the others, `from X import Y` in order
    plain |= {line.removeprefix("import ") for line in extra if line.startswith("import ")}
    lines = [f"import {module}" for module in sorted(plain)]
    if any("shared_memory." in SHARED_BY_NAME[obj.kind].make for obj in emitter.scenario.shared):
        lines.append("from multiprocessing import shared_memory")
    if remote_manager(emitter.scenario):
        lines.append("from multiprocessing.managers import BaseManager")
    from_queue = []
    if emitter.needs & {"take", "drain"} or _has_queue(emitter.topo):
        from_queue.append("Empty")
    if "put_or_stop" in emitter.needs:
        from_queue.append("Full")
    if remote_manager(emitter.scenario):
        from_queue.append("Queue")
    if from_queue:
        lines.append(f"from queue import {', '.join(from_queue)}")
    plain_count = len(plain)
    lines[plain_count:] = sorted(
        [*lines[plain_count:], *(line for line in extra if line.startswith("from "))],
        key=lambda line: line.split()[1],
    )
    return "\n".join(lines)


def _has_queue(topo: Topology) -> bool:
    return any(channel.timeouts for channel in topo.channels.values())


def _constants(scenario: Scenario, topo: Topology, emitter: Emitter) -> str:
    code = Code()
    start_method = quoted(scenario.start_method)
    code(f"START_METHOD = {start_method}  # how children start: fork, spawn or forkserver")
    seeded = any(
        process.payload.kind == "bytes" and process.role in ("producer", "pinger")
        for process in scenario.processes
    )
    why = "random payload bytes come from it" if seeded else "nothing here is random"
    code(f"SEED = {scenario.seed}  # the scenario's seed: {why}")
    if scenario.endless:
        code(
            f"DURATION = {number(scenario.duration)}  # seconds the run lasts; then `stop` ends it"
        )
    if scenario.expect != "completed" and not scenario.endless:
        code(f"TIMEOUT = {number(scenario.duration)}  # seconds before the parent gives up waiting")
    kinds = ", ".join(
        f"{quoted(channel.spec.name)}: {quoted(channel.kind)}" for channel in topo.channels.values()
    )
    code.many(assign_wrapped("CHANNELS", "{" + kinds + "}", "{", "}"))
    if "PILL" in emitter.needs:
        code(
            "PILL = None  # the poison pill: a reader that takes one knows no more items will come"
        )
    if scenario.endless:
        code("STOPPED = object()  # what a wait returns once the run's time is up")
    code.lines += emitter.constants
    return code.text()
