"""The Listener/Client channel: a socket two processes open themselves,
counted as a Pipe end is, with nothing left behind."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from dataclasses import replace
from multiprocessing.connection import Connection

import psutil
import pytest
from conftest import wait_for

from ipcplay.engine import Engine
from ipcplay.engine.channels import SocketEnd, socket_channel
from ipcplay.export import to_python
from ipcplay.scenario import load, loads
from ipcplay.scenario.presets import resolve

PING_PONG = """
[scenario]
title = "ping-pong over a Listener"
start_method = "{method}"
[channels.link]
kind = "Listener"
[[process]]
name = "pinger"
role = "pinger"
out = "link"
in = "link"
count = 12
payload = {{ kind = "bytes", size = 100 }}
finally = "close"
[[process]]
name = "ponger"
role = "ponger"
in = "link"
out = "link"
"""


def _abstract_sockets(tag: str) -> list[str]:
    """Abstract Unix sockets whose name holds `tag` (/proc/net/unix shows them with '@')."""
    with open("/proc/net/unix", encoding="utf-8") as table:
        return [line for line in table if f"@{tag}" in line]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_the_preset_counts_every_message_and_ends_on_eof(method: str) -> None:
    scenario = replace(load(resolve("connection-listener")), start_method=method, tour=())
    outcome = Engine(scenario).run()
    assert outcome.verdict == "completed", outcome.snapshot.stuck
    (link,) = outcome.snapshot.channels
    assert (link.kind, link.puts, link.gets, link.depth) == ("Listener", 20, 20, 0)
    # Pickled "hello over a socket" messages, as ipcplay's items carry them.
    assert link.bytes > 20 * len("hello over a socket")
    by_name = {p.name: p for p in outcome.snapshot.processes}
    assert by_name["client"].exitcode == 0 and by_name["server"].exitcode == 0
    assert (by_name["client"].items, by_name["server"].items) == (20, 20)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_ping_pong_over_a_listener_is_counted_both_ways(method: str) -> None:
    outcome = Engine(loads(PING_PONG.format(method=method))).run()
    assert outcome.verdict == "completed", outcome.snapshot.stuck
    (link,) = outcome.snapshot.channels
    assert (link.puts, link.gets, link.depth) == (24, 24, 0)
    ways = {(d.src, d.dst): (d.sent, d.received, d.in_flight) for d in link.directions}
    assert ways == {("pinger", "ponger"): (12, 12, 0), ("ponger", "pinger"): (12, 12, 0)}


def _gone(process: psutil.Process) -> bool:
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ipcplay", "run", "connection-listener", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.timeout(60)
def test_run_json_reports_the_channel_and_its_socket_goes_with_the_run() -> None:
    with _run("--json") as run:
        # While it runs, the connection is an abstract socket named after the
        # observer's pid: no file stands for it.
        wait_for(lambda: _abstract_sockets(f"ipcplay-{run.pid}-"), timeout=20)
        out, err = run.communicate(timeout=50)
    assert run.returncode == 0, err
    report = json.loads(out.splitlines()[0])
    assert report["verdict"] == "completed"
    (link,) = [c for c in report["channels"] if c["name"] == "link"]
    assert (link["kind"], link["puts"], link["gets"], link["depth"]) == ("Listener", 20, 20, 0)
    assert not _abstract_sockets(f"ipcplay-{run.pid}-")


@pytest.mark.timeout(60)
def test_sigkill_of_ipcplay_leaves_no_process_and_no_socket() -> None:
    with _run() as run:
        try:
            wait_for(lambda: _abstract_sockets(f"ipcplay-{run.pid}-"), timeout=20)
            children = psutil.Process(run.pid).children()
            assert len(children) >= 2
        finally:
            run.kill()
            run.communicate(timeout=10)
    # The children die with their observer (PR_SET_PDEATHSIG), and with them
    # the last descriptor of each socket: the kernel frees the address.
    wait_for(lambda: all(_gone(child) for child in children))
    wait_for(lambda: not _abstract_sockets(f"ipcplay-{run.pid}-"))


def _serve(end: SocketEnd, answer: Connection) -> None:
    try:
        end.open()
    except multiprocessing.AuthenticationError as error:
        answer.send(f"AuthenticationError: {error}")
    else:
        answer.send("accepted")


@pytest.mark.timeout(30)
def test_a_client_with_the_wrong_authkey_is_refused() -> None:
    """Real processes, real handshake: the listener refuses a wrong key, and
    the client learns it from Client() itself."""
    channel = socket_channel("link", [0, 1])
    listening, connecting = channel.ends[0], channel.ends[1]
    assert listening.listens and not connecting.listens
    ctx = multiprocessing.get_context("spawn")
    theirs, mine = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(listening, theirs))
    server.start()
    try:
        wrong = SocketEnd(connecting.address, b"not the key", listens=False)
        with pytest.raises(multiprocessing.AuthenticationError):
            wrong.open()
        assert mine.poll(10)
        assert mine.recv().startswith("AuthenticationError")
    finally:
        server.join(10)
        if server.is_alive():
            server.kill()
            server.join(5)
        channel.close()
    assert server.exitcode == 0


def test_each_run_gets_its_own_address_and_key() -> None:
    first, second = socket_channel("link", [0, 1]), socket_channel("link", [0, 1])
    assert first.ends[0].address != second.ends[0].address
    assert first.ends[0].authkey != second.ends[0].authkey
    assert first.ends[0].address == first.ends[1].address
    if sys.platform.startswith("linux"):
        assert first.ends[0].address.startswith(f"\0ipcplay-{os.getpid()}-")


def test_the_export_is_plain_listener_and_client_code() -> None:
    """No Pipe in disguise: main() makes the address and the authkey, the
    server accept()s, the client connects; `ipcplay export`'s run of it is
    compared with the engine's totals with every other preset's."""
    source = to_python(load(resolve("connection-listener")))
    assert "from multiprocessing.connection import Client, Listener" in source
    assert "link = (socket_address(), os.urandom(16))" in source
    assert "link = listen(link)" in source and "link = dial(link)" in source
    assert "return listener.accept()" in source
    assert "Pipe(" not in source
