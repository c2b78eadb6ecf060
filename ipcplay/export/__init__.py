"""Export a scenario as a plain Python script: standard library only.

`to_python(scenario)` is a pure function (scenario in, source text out) so
the CLI writes it to a file and a UI can show it; nothing here imports
Textual or starts a process.
"""

from __future__ import annotations

from ipcplay.export.script import to_python

__all__ = ["to_python"]
