"""How one process uses one channel or shared object: plan data, computed
by the observer (plan.py) and read by the child's instrumented wrappers
(channels*.py, primitives.py). A leaf below both sides.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """How one process uses one channel, with the board slots of its peers.

    `peer_out` are the OUT_N slots of the processes that write what we read;
    `peer_in_bytes` the IN_BYTES slots of the processes that read what we
    write. `recv_hint` is true when we are the only reader and those counters
    can prove an item is waiting; `send_hint` when we are the only writer and
    the readers' byte counters can prove a pipe send will not block.
    """

    chan: int
    name: str
    kind: str
    maxsize: int
    reads: bool
    writes: bool
    peer_out: tuple[int, ...]
    peer_in_bytes: tuple[int, ...]
    recv_hint: bool
    send_hint: bool


@dataclass(frozen=True)
class SharedEndpoint:
    """How one process uses one shared object: its index and what it is."""

    index: int  # in scenario.shared
    code: int  # index in the marker and journal: nchan + index
    name: str
    kind: str
