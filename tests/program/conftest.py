"""Program-mode tests: orphans of a killed run come back to the test.

A watched program's processes are not ipcplay's children (only its main
process is). When a test kills ipcplay itself, the guardian and the
program's processes would be reparented to init, out of the shared leftover
guard's sight; as a child subreaper the test process adopts them instead, so
the guard (tests/conftest.py) sees any that is still running, and those that
ended are reaped here. Only tests that kill ipcplay ask for it: an adopted
zombie the test does not reap at once would look to a live ipcplay like a
process still running.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from watched import reap, subreaper


@pytest.fixture
def adopt_orphans() -> Iterator[None]:
    subreaper(True)
    try:
        yield
    finally:
        subreaper(False)
        reap()
