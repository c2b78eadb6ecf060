"""Instrumented channels behave exactly like the objects they wrap.

Same API, same exceptions; only counting is added. These run both ends in
the test process (two board rows), which is enough for semantics; the other
tests cover real processes.
"""

from __future__ import annotations

import errno
import fcntl
import multiprocessing as mp
import os
import queue
import random
import socket
import threading
import time

import pytest

from ipcplay.engine import board as B
from ipcplay.engine.channels import (
    PIPE_SAFE_BYTES,
    SMALL_MESSAGE,
    Endpoint,
    check_internals,
    instrument,
    pipe_room,
)
from ipcplay.engine.journal import JournalWriter, drain

LAYOUT = B.Layout(nproc=2, nchan=1, journal_cap=8)


def _ends(
    kind: str,
    maxsize: int = 0,
    journal: bool = False,
    layout: B.Layout = LAYOUT,
    hints: bool = True,
):
    raw = B.create(layout)
    mv = B.view(raw)
    out_slot = layout.chan(0, 0) + B.OUT_N
    in_bytes = layout.chan(1, 0) + B.IN_BYTES
    w_ep = Endpoint(
        0,
        "c",
        kind,
        maxsize,
        reads=False,
        writes=True,
        peer_out=(out_slot,),
        peer_in_bytes=(in_bytes,),
        recv_hint=hints,
        send_hint=hints,
    )
    r_ep = Endpoint(
        0,
        "c",
        kind,
        maxsize,
        reads=True,
        writes=False,
        peer_out=(out_slot,),
        peer_in_bytes=(in_bytes,),
        recv_hint=hints,
        send_hint=hints,
    )
    if kind == "Pipe":
        r, w = mp.Pipe(duplex=False)
        objs = (w, r)
    else:
        q = {"Queue": mp.Queue, "JoinableQueue": mp.JoinableQueue}.get(kind)
        obj = q(maxsize) if q else mp.SimpleQueue()
        objs = (obj, obj)
    jw = JournalWriter(mv, layout, 0) if journal else None
    jr = JournalWriter(mv, layout, 1) if journal else None
    writer = instrument(kind, objs[0], w_ep, mv, layout, 0, jw)
    reader = instrument(kind, objs[1], r_ep, mv, layout, 1, jr)
    return raw, mv, writer, reader, objs


def _counts(mv):
    w, r = LAYOUT.chan(0, 0), LAYOUT.chan(1, 0)
    return mv[w + B.OUT_N], mv[r + B.IN_N], mv[r + B.IN_BYTES]


def test_the_internals_we_rely_on_exist_on_this_python():
    assert check_internals() == []


@pytest.mark.timeout(10)
@pytest.mark.parametrize("kind", ["Queue", "JoinableQueue"])
def test_queue_full_and_empty_are_the_stdlib_exceptions(kind):
    _, mv, w, r, objs = _ends(kind, maxsize=2)
    w.put((1, "a"))
    w.put_nowait((2, "b"))
    with pytest.raises(queue.Full):
        w.put_nowait((3, "c"))
    with pytest.raises(queue.Full):
        w.put((3, "c"), timeout=0.05)
    assert mv[LAYOUT.chan(0, 0) + B.FULL_HITS] == 1  # the timed put waited; put_nowait never does
    assert mv[LAYOUT.proc(0) + B.P_MARK] == 0  # a failed put leaves no "blocked" marker
    assert r.get(timeout=5) == (1, "a")
    assert r.get(timeout=5) == (2, "b")
    with pytest.raises(queue.Empty):
        r.get_nowait()
    with pytest.raises(queue.Empty):
        r.get(timeout=0.05)
    puts, gets, nbytes = _counts(mv)
    assert (puts, gets) == (2, 2)
    assert nbytes == len(mp.reduction.ForkingPickler.dumps((1, "a"))) * 2
    objs[0].close()
    objs[0].join_thread()


@pytest.mark.timeout(10)
def test_task_done_too_often_raises_value_error_and_join_returns():
    _, mv, w, r, objs = _ends("JoinableQueue")
    w.put((1, "x"))
    r.get(timeout=5)
    r.task_done()
    with pytest.raises(ValueError):
        r.task_done()
    w.join()  # returns: every put is matched by a task_done
    c = LAYOUT.chan(1, 0)
    assert mv[c + B.TASK_DONE] == 1
    assert mv[LAYOUT.chan(0, 0) + B.JOINS] == 1
    objs[0].close()
    objs[0].join_thread()


@pytest.mark.timeout(10)
def test_simple_queue_counts_bytes_on_both_sides():
    _, mv, w, r, objs = _ends("SimpleQueue")
    for i in range(5):
        w.put((i, b"x" * 64))
    assert [r.get()[0] for _ in range(5)] == list(range(5))
    assert r.empty() and w.empty()
    puts, gets, nbytes = _counts(mv)
    assert (puts, gets) == (5, 5)
    assert mv[LAYOUT.chan(0, 0) + B.OUT_BYTES] == nbytes > 5 * 64
    objs[0].close()


@pytest.mark.timeout(10)
def test_pipe_send_recv_bytes_and_eof_after_close():
    _, mv, w, r, _ = _ends("Pipe")
    w.send([42, None, "hello"])
    w.send_bytes(b"abcdef", 2, 3)
    assert r.recv() == [42, None, "hello"]
    assert r.recv_bytes() == b"cde"
    assert r.poll(0) is False
    w.close()
    assert w.closed
    with pytest.raises(EOFError):
        r.recv()
    assert mv[LAYOUT.proc(1) + B.P_MARK] == 0  # the EOF cleared the "blocked" marker
    with pytest.raises(OSError):
        w.send("after close")
    puts, gets, _ = _counts(mv)
    assert (puts, gets) == (2, 2)
    assert mv[LAYOUT.chan(0, 0) + B.OUT_BYTES] == mv[LAYOUT.chan(1, 0) + B.IN_BYTES]
    r.close()


linux_pipes = pytest.mark.skipif(
    not hasattr(fcntl, "F_GETPIPE_SZ"), reason="F_GETPIPE_SZ is Linux's"
)


@linux_pipes
def test_the_room_a_pipe_gives_follows_its_real_size():
    page = os.sysconf("SC_PAGE_SIZE")
    r, w = os.pipe()
    try:
        slots = fcntl.fcntl(w, fcntl.F_GETPIPE_SZ) // page
        assert pipe_room(w) == (slots - 2) * (page - SMALL_MESSAGE)
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 4 * page)  # too few slots for any bound
        assert pipe_room(w) == 0
    finally:
        os.close(r)
        os.close(w)
    a, b = socket.socketpair()  # a duplex Pipe: not a pipe, the old 8 KiB
    with a, b:
        assert pipe_room(a.fileno()) == PIPE_SAFE_BYTES


@linux_pipes
@pytest.mark.timeout(30)
def test_a_write_the_small_message_bound_allows_never_blocks():
    """The bound's claim, checked against the kernel: with the writer
    non-blocking, a write of a small framed message while in flight + its size
    is within the bound never fails with EAGAIN, whatever the sizes and
    however the reader has read so far (partly read pages included)."""
    rng = random.Random(7)
    for _ in range(20):
        r, w = os.pipe()
        try:
            os.set_blocking(w, False)
            small = pipe_room(w)
            in_flight = refused = 0
            for _ in range(4000):
                if rng.random() < 0.05 and in_flight:
                    in_flight -= len(os.read(r, rng.randint(1, 3000)))
                    continue
                size = rng.randint(4, SMALL_MESSAGE)
                allowed = in_flight + size <= small
                try:
                    os.write(w, b"x" * size)
                    in_flight += size
                except BlockingIOError:
                    assert not allowed, f"{in_flight} in flight + {size} blocked"
                    refused += 1
            assert refused  # the pipe did fill: the bound was put to the test
        finally:
            os.close(r)
            os.close(w)


@pytest.mark.timeout(20)
def test_a_send_that_could_block_shows_as_blocked_even_for_empty_messages():
    """Empty messages carry no payload but still fill the pipe (a 4-byte
    header each): a writer stuck on them must show as blocked on its send."""
    _, mv, w, r, _ = _ends("Pipe")
    done = threading.Event()

    def flood() -> None:
        for _ in range(40_000):  # 160,000 header bytes: more than any pipe holds
            w.send_bytes(b"")
        done.set()

    t = threading.Thread(target=flood, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    mark = 0
    while time.monotonic() < deadline and not done.is_set():
        mark = mv[LAYOUT.proc(0) + B.P_MARK]
        if mark and B.unmark(mark)[3]:
            break
        time.sleep(0.01)
    _, _, op, timed = B.unmark(mark)
    assert (op, timed) == (B.OP_PUT, True), "the stuck send is not shown as blocked"
    for _ in range(40_000):
        assert r.recv_bytes() == b""
    t.join(10)
    assert done.is_set()
    assert mv[LAYOUT.proc(0) + B.P_MARK] == 0
    assert mv[LAYOUT.chan(0, 0) + B.BLOCK_OUT_NS] > 0


@pytest.mark.timeout(10)
def test_the_journal_ring_wraps_without_losing_or_reordering_events():
    """Raw pipe bytes take the inlined journal path, pickled items the general
    one; both share one ring position that wraps at the end of the ring."""
    _, mv, w, r, objs = _ends("Pipe", journal=True)
    sent = []
    for rnd in range(8):  # 8 x 5 events through a ring of 8: each path at every position
        for k in range(5):
            n = rnd * 5 + k
            if k % 2:
                w.send((n, "x" * n))
                sent.append(("put", n))
            else:
                w.send_bytes(b"y" * (n + 1))
                sent.append(("put", -1))
            r.recv() if k % 2 else r.recv_bytes()
        events = drain(mv, LAYOUT, 0)
        assert [(e.op, e.mid) for e in events] == sent[-5:]
        assert all(e.nbytes > 0 for e in events)
        assert [e.t_ns for e in events] == sorted(e.t_ns for e in events)
        got = drain(mv, LAYOUT, 1)
        assert [e.op for e in got] == ["get"] * 5
    assert mv[LAYOUT.proc(0) + B.J_DROPPED] == mv[LAYOUT.proc(1) + B.J_DROPPED] == 0
    for o in objs:
        o.close()


def test_journal_records_message_ids_and_counts_overflow():
    _, mv, w, _r, objs = _ends("SimpleQueue", journal=True)
    for i in range(12):  # ring of 8: four of the writer's puts are dropped, counted
        w.put((100 + i, "m"))
    assert mv[LAYOUT.proc(0) + B.J_DROPPED] == 4
    events = drain(mv, LAYOUT, 0)
    assert [e.op for e in events] == ["put"] * 8
    assert [e.mid for e in events] == list(range(100, 108))
    assert all(e.nbytes > 0 for e in events)
    w.put(None)  # the room is back after the drain; a pill has id -2
    assert drain(mv, LAYOUT, 0)[0].mid == -2
    objs[0].close()


def _frame(kind: str, payload: bytes) -> int:
    """Bytes one message of `payload` takes in the pipe, header included."""
    from multiprocessing.reduction import ForkingPickler

    return 4 + (len(payload) if kind == "send_bytes" else len(ForkingPickler.dumps(payload)))


@linux_pipes
@pytest.mark.timeout(30)
@pytest.mark.parametrize("how", ["send_bytes", "send", "SimpleQueue"])
def test_a_send_past_the_bound_waits_only_when_the_pipe_is_full(how):
    """Past the bound the counters can prove, the kernel is asked (a
    non-blocking write of the same frame): a pipe one page short of full takes
    every send at once, with no wait logged and no blocked time; only the
    send that finds it full waits, and shows as blocked while it does."""
    layout = B.Layout(nproc=2, nchan=1, journal_cap=1 << 12)
    kind = "SimpleQueue" if how == "SimpleQueue" else "Pipe"
    _, mv, w, r, objs = _ends(kind, journal=True, layout=layout)
    payload = b"x" * 60
    send = w.put if how == "SimpleQueue" else getattr(w, how)
    recv = r.get if how == "SimpleQueue" else r.recv_bytes if how == "send_bytes" else r.recv
    page = os.sysconf("SC_PAGE_SIZE")
    per_page = page // _frame(how, payload)
    fd = objs[0]._writer.fileno() if how == "SimpleQueue" else objs[0].fileno()
    fits = fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ) // page * per_page
    sent = fits - per_page  # one page short: well past the bound, never full
    assert sent * _frame(how, payload) > pipe_room(fd)
    for _ in range(sent):
        send(payload)
    ops = [e.op for e in drain(mv, layout, 0)]
    assert ops == ["put"] * sent, "a send that found room was logged as a wait"
    assert mv[layout.chan(0, 0) + B.BLOCK_OUT_NS] == 0

    def more() -> None:
        for _ in range(2 * per_page):  # fills the pipe, then must wait
            send(payload)

    t = threading.Thread(target=more, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not B.unmark(mv[layout.proc(0) + B.P_MARK])[3]:
        time.sleep(0.01)
    assert B.unmark(mv[layout.proc(0) + B.P_MARK])[2:] == (B.OP_PUT, True)
    for _ in range(sent + 2 * per_page):
        assert recv() == payload
    t.join(10)
    assert not t.is_alive()
    ops = [e.op for e in drain(mv, layout, 0)]
    assert ops.count("put") == 2 * per_page and 1 <= ops.count("wait-put") <= per_page
    assert mv[layout.chan(0, 0) + B.BLOCK_OUT_NS] > 0
    for o in objs:
        o.close()


@linux_pipes
@pytest.mark.timeout(20)
def test_with_many_writers_sends_are_tried_without_waiting_and_errors_stay_the_stdlibs(
    monkeypatch,
):
    """With no counters to prove room (several writers), every send asks the
    kernel first: none is logged as a wait. A reader gone raises what
    Connection raises, and a kernel that refuses RWF_NOWAIT on pipes only
    sends us back to the timed path."""
    _, mv, w, r, objs = _ends("Pipe", journal=True, hints=False)
    for k in range(100):
        w.send_bytes(b"m%d" % k)
    assert [e.op for e in drain(mv, LAYOUT, 0)] == ["put"] * 8  # a ring of 8: the rest dropped
    assert mv[LAYOUT.chan(0, 0) + B.BLOCK_OUT_NS] == 0
    assert [r.recv_bytes() for _ in range(100)] == [b"m%d" % k for k in range(100)]

    def refuse(*args):
        raise OSError(errno.EOPNOTSUPP, "not on this kernel")

    monkeypatch.setattr(os, "pwritev", refuse)
    w.send((1, "x"))
    assert r.recv() == (1, "x")
    assert mv[LAYOUT.chan(0, 0) + B.BLOCK_OUT_NS] > 0  # timed, as before there was a try
    monkeypatch.undo()
    objs[1].close()
    raw_r, raw_w = mp.Pipe(duplex=False)
    raw_r.close()
    with pytest.raises(BrokenPipeError):
        raw_w.send_bytes(b"x")
    with pytest.raises(BrokenPipeError):
        w.send_bytes(b"x")
    raw_w.close()
    objs[0].close()
