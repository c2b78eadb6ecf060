"""An output that cannot fail the run: the first write error is kept, not raised.

Why: a full disk (or /dev/full) under `--journal`, `--trace` or standard
output used to end `ipcplay run` with a traceback after the processes had
run, and lost the report; raised in the sampling thread, it would stop the
sampling too. A Sink swallows the error, drops what follows, and the command
says once, in one line, which file could not be written and why.
"""

from __future__ import annotations

import os
from typing import IO, Any


class Sink:
    """A text file (or standard output) whose write errors are kept in `error`."""

    def __init__(self, file: IO[str] | None, name: str, option: str | None = None) -> None:
        self.file = file
        self.name = name
        self.option = option
        # Python makes sys.stdout None when the program starts with fd 1 closed (`>&-`).
        self.error: str | None = None if file is not None else "it is closed"
        self.closed = False
        self.gone = False  # the reader went away (`| head`): not an error, nothing more to say

    def write(self, text: str) -> int:
        if self.error is None and not self.gone:
            try:
                return self.file.write(text)
            except OSError as exc:
                self.fail(exc)
        return len(text)

    def flush(self) -> None:
        if self.error is None and not self.gone:
            try:
                self.file.flush()
            except OSError as exc:
                self.fail(exc)

    def close(self) -> None:
        """Flush and close, once; a file that failed is closed without its buffer."""
        if self.closed:
            return
        self.closed = True
        self.flush()
        if self.error is not None or self.gone:
            self._discard()
        try:
            if self.file is not None:
                self.file.close()
        except OSError as exc:  # pragma: no cover - flushed above
            self.fail(exc)

    def __iter__(self) -> Any:
        return iter(self.file)

    def __getattr__(self, name: str) -> Any:  # seek, isatty, fileno, encoding...
        return getattr(self.file, name)

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def message(self) -> str:
        """The one line: the file, the option it came from, the reason."""
        where = f"{self.name}: {self.option}" if self.option else self.name
        return f"{where}: cannot write ({self.error})"

    def fail(self, exc: OSError) -> None:
        """Keep `exc` as this output's error (a broken pipe is no error) and stop writing."""
        if isinstance(exc, BrokenPipeError):
            self.gone = True
        else:
            self.error = exc.strerror or str(exc)
        self._discard()

    def _discard(self) -> None:
        """Point the file's descriptor at /dev/null, so that the text still in
        its buffer (flushed again at close and at exit) goes nowhere quietly."""
        try:
            fd = self.file.fileno()
        except (OSError, ValueError, AttributeError):
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)
