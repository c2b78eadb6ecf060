"""More waits nobody can end: a hang is named at the program's line, whatever the family."""

from __future__ import annotations

from pathlib import Path

import pytest
from watched import line_of, pids, still_alive, watch, write

SEMAPHORE_NOBODY_RELEASES = """
import multiprocessing as mp


def take(sem):
    sem.acquire()  # nobody will release it


if __name__ == "__main__":
    sem = mp.Semaphore(0)
    p = mp.Process(target=take, args=(sem,), name="taker")
    p.start()
    p.join()
"""

MANAGER_QUEUE_NOBODY_FILLS = """
import multiprocessing as mp

if __name__ == "__main__":
    with mp.Manager() as manager:
        inbox = manager.Queue()
        inbox.get()  # nobody else has the queue
"""


@pytest.mark.parametrize(
    ("source", "line_text"),
    [
        (SEMAPHORE_NOBODY_RELEASES, "sem.acquire()"),
        (MANAGER_QUEUE_NOBODY_FILLS, "inbox.get()"),
    ],
    ids=["semaphore", "manager-queue"],
)
def test_more_waits_nobody_can_end_are_hangs(tmp_path: Path, source: str, line_text: str) -> None:
    path = write(tmp_path, "more_hangs.py", source)
    report = watch(path.name, "--duration", "4", cwd=tmp_path).report
    assert still_alive(pids(report)) == []
    assert report["verdict"] == "hang", report["stuck"]
    assert f"more_hangs.py:{line_of(source, line_text)}" in report["stuck"]["description"]
