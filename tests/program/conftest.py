"""Program-mode tests: orphans of a run come back to the test.

A watched program's processes are not ipcplay's children (only its main
process is); if one outlived the run it would be reparented to init, out of
the shared leftover guard's sight. As a child subreaper, the test process
adopts them instead, so the guard (tests/conftest.py) sees any that is still
running; those that ended are reaped here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from watched import reap, subreaper


@pytest.fixture(autouse=True)
def adopt_orphans() -> Iterator[None]:
    subreaper(True)
    try:
        yield
    finally:
        subreaper(False)
        reap()
