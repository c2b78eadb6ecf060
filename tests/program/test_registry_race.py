"""The observer reads the registry while the program's processes register.

A program starts processes whenever it likes; the observer's sampler reads
the registry at the same moment, from another process. A read must give the
processes registered so far, never fail: the sampler is the run's only
clock, and a run whose sampler died never ends.
"""

from __future__ import annotations

import multiprocessing
import time

from ipcplay.engine.watch_board import WatchBoard


def _register_many(board: WatchBoard, count: int) -> None:
    for n in range(count):
        with board.locked():
            index = board.allocate("process")
        if index < 0:
            return
        board.registry.register_process(index, f"p{n}", "process")


def _one_round(ctx: multiprocessing.context.BaseContext) -> list[BaseException]:
    """A writer registers 1,000 processes while this process reads; the reads' errors."""
    board = WatchBoard.create(0, False)
    writer = ctx.Process(target=_register_many, args=(board, 1000))
    errors: list[BaseException] = []
    try:
        writer.start()
        deadline = time.monotonic() + 20
        while writer.is_alive() and time.monotonic() < deadline:
            try:
                board.registry.read()
            except IndexError as exc:
                errors.append(exc)
                break
    finally:
        writer.join(20)
        if writer.is_alive():
            writer.kill()
            writer.join(5)
        board.close()
    assert writer.exitcode == 0
    return errors


def test_reading_while_processes_register_never_fails() -> None:
    """Up to ten rounds (a read falls in the gap in about two rounds of three)."""
    ctx = multiprocessing.get_context("fork")
    for _ in range(10):
        errors = _one_round(ctx)
        assert errors == []
