"""What a crash leaves: one line on the terminal, the traceback in a file.

A class must never be left looking at a screenful of traceback with locals,
and a crash must not pass for a normal exit (status 0) either. The full
traceback goes to a file whose path the one line names, so it can be reported.
"""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from pathlib import Path

from ipcplay.safetext import neutralise


def crash_dir() -> Path:
    """`$IPCPLAY_HOME/crashes`, else `$XDG_STATE_HOME/ipcplay`, else
    `~/.local/state/ipcplay`: the XDG place for logs a user may want later."""
    home = os.environ.get("IPCPLAY_HOME")
    if home:
        return Path(home) / "crashes"
    state = os.environ.get("XDG_STATE_HOME")
    if state and Path(state).is_absolute():
        return Path(state) / "ipcplay"
    return Path.home() / ".local" / "state" / "ipcplay"


def save_crash(error: BaseException, extra: dict[str, str] | None = None) -> Path | None:
    """Write the traceback (and `extra` files beside it, such as an unsaved
    scenario) and return the traceback's path; None if nothing could be
    written anywhere."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = "".join(traceback.format_exception(error))
    for folder in (crash_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"crash-{stamp}-{os.getpid()}.txt"
            path.write_text(text, encoding="utf-8")
            for suffix, content in (extra or {}).items():
                (folder / f"crash-{stamp}-{os.getpid()}{suffix}").write_text(
                    content, encoding="utf-8"
                )
        except OSError:
            continue
        return path
    return None


def crash_line(error: BaseException, path: Path | None, kept: str = "") -> str:
    """The one line the terminal shows after a crash."""
    what = neutralise(f"{type(error).__name__}: {error}", multiline=False)[:200]
    where = (
        f"the traceback is in {neutralise(str(path), multiline=False)}"
        if path is not None
        else "the traceback could not be saved"
    )
    return f"ipcplay crashed ({what}); every process it started was stopped; {where}{kept}"
