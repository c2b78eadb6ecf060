"""Where a command writes: its error line, its output files, standard output.

A bad output path costs nothing: it is refused before anything starts. An
output that fails while written (a full disk, a closed pipe) is one line and
a non-zero status, never a traceback.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from ipcplay.safetext import neutralise
from ipcplay.sink import Sink


def say_error(message: str) -> int:
    """One line on stderr; names in it came from the user, and are neutralised."""
    if sys.stderr is not None:  # None when started with fd 2 closed
        line = neutralise(message.replace("\n", " "), multiline=False)
        sys.stderr.write(f"ipcplay: {line}\n")
    return 2


def close_outputs(status: int, journal: Sink | None, trace: Sink | None, out: Sink) -> int:
    """Close the outputs; one line for each that could not be written, and a
    non-zero status (1, unless the run already has one). The trace is built
    from the journal: a journal that failed leaves the trace unwritten."""
    if trace is not None and journal is not None and journal.error and not trace.error:
        journal.flush()
        trace.error = f"not built: {journal.name} could not be written"
    failed = []
    for sink in (journal, trace, out):
        if sink is None:
            continue
        if sink is out:
            sink.flush()
            if sink is sys.stdout:
                continue  # main() says it, once
        else:
            sink.close()
        if sink.error:
            failed.append(sink)
    for sink in failed:
        say_error(sink.message())
    return (status or 1) if failed else status


def open_output(name: str, option: str, mode: str) -> Sink:
    """An output file opened before anything starts, so a bad path costs nothing."""
    path = Path(name)
    problem = output_problem(path)
    if problem:
        raise ValueError(f"{name}: {option}: {problem}")
    try:
        return Sink(path.open(mode, encoding="utf-8"), name, option)
    except OSError as exc:
        raise ValueError(f"{name}: {option}: cannot write ({exc.strerror or exc})") from None


def open_journal_and_trace(
    files: ExitStack, journal: str | None, trace: str | None
) -> tuple[Sink | None, Sink | None]:
    """`--journal` and `--trace`, opened in `files` (ValueError: one line
    naming the option). A trace is built from the journal after the run, so
    without --journal a temporary one is kept for it."""
    journal_out = files.enter_context(open_output(journal, "--journal", "w+")) if journal else None
    trace_out = files.enter_context(open_output(trace, "--trace", "w")) if trace else None
    if trace_out is not None and journal_out is None:
        journal_out = files.enter_context(
            Sink(tempfile.TemporaryFile("w+", encoding="utf-8"), "a temporary journal")  # noqa: SIM115
        )
    return journal_out, trace_out


def output_problem(path: Path) -> str | None:
    """Why `path` cannot be an output file, or None. A FIFO or a socket would
    block the run (opening a FIFO waits for a reader) or could not be read
    back; a device such as /dev/null is fine."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # not there yet (or unreadable): opening it says why
    if stat.S_ISDIR(mode):
        return "is a directory, expected a file to write"
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return "is a FIFO or a socket, expected a regular file to write"
    return None


def write_stdout(text: str) -> int:
    """Python source is UTF-8 whatever the terminal's encoding; a reader that
    stops early (`| head`) is not an error."""
    out = sys.stdout if isinstance(sys.stdout, Sink) else Sink(sys.stdout, "standard output")
    try:
        if hasattr(out.file, "buffer"):
            out.file.buffer.write(text.encode("utf-8"))
        else:
            out.write(text)
    except OSError as exc:
        out.fail(exc)
    out.flush()
    if out.error and out is not sys.stdout:
        say_error(out.message())
        return 1
    return 0
