"""The observer's side of the Managers: start their servers, read the live
value of a list, dict or Namespace, and show each server as its own panel.

The live value is read by the observer through its own connection, at a low
rate and never for long (see `ObserverReader`). What runs in the children and
the servers is in manager.py.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from dataclasses import replace
from multiprocessing.connection import Client
from multiprocessing.managers import SyncManager
from typing import Any

import psutil

from ipcplay.engine import board as B
from ipcplay.engine.manager import (
    CALL_NS,
    CALL_SLOTS,
    METHODS,
    RemoteQueueManager,
    RemoteQueueRef,
    connect_queue,
    serve_init,
)
from ipcplay.engine.snapshot import ManagerSample, SharedSample
from ipcplay.scenario.model import MANAGER_KINDS, Scenario, SharedSpec

READ_EVERY_S = 0.5  # the observer's reads of live values: twice a second at most
READ_TIMEOUT_S = 0.1  # and never waiting longer than this in the sampler thread
FINAL_READ_TIMEOUT_S = 1.0  # once every process has exited: the final value


class ObserverReader:
    """The observer's own connection to a SyncManager, to read live values.

    The sampler thread must never block for long, and a proxy call has no
    timeout. So the observer speaks the managers' request protocol itself on a
    connection of its own: it sends `(id, "#GETVALUE", (), {})` and waits for
    the reply with `poll(timeout)`. A server that is slow or paused only makes
    the shown value older (its read time is in the sample); a reply that comes
    late is taken before the next request, so replies never mix. Requests are
    tiny, so `send` cannot block on a full socket.
    """

    def __init__(self, address: Any, authkey: bytes) -> None:
        self._conn = Client(address, authkey=authkey)
        self._conn.send((None, "accept_connection", ("ipcplay-observer",), {}))
        if not self._conn.poll(5.0):
            raise RuntimeError("the manager did not accept the observer's connection")
        self._conn.recv()
        self._pending = 0
        self.reads = 0

    def read(self, ident: str, timeout: float) -> tuple[bool, Any]:
        conn = self._conn
        try:
            while self._pending:
                if not conn.poll(timeout):
                    return False, None
                conn.recv()
                self._pending -= 1
            conn.send((ident, "#GETVALUE", (), {}))
            self._pending = 1
            self.reads += 1
            if not conn.poll(timeout):
                return False, None
            kind, result = conn.recv()
            self._pending = 0
        except (OSError, EOFError):
            return False, None
        return kind == "#RETURN", result

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.close()


def _address_text(address: Any) -> str:
    if isinstance(address, tuple):
        return f"{address[0]}:{address[1]}"
    return str(address)


def _thawed(value: Any) -> Any:
    """An inner list as the program makes it (the scenario keeps it as a tuple)."""
    return list(value) if isinstance(value, tuple) else value


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _live(value: Any, kind: str) -> Any:
    """A frozen copy of a read value: a list's items, a dict's or Namespace's
    pairs (an inner list as a tuple: a snapshot crosses threads)."""
    if kind == "ManagerList":
        return tuple(_frozen(item) for item in value)
    if kind == "ManagerNamespace":
        value = vars(value)
    return tuple((key, _frozen(item)) for key, item in value.items())


def _nested_appends(scenario: Scenario) -> dict[str, Any]:
    """Objects whose every step appends to the list at one key: name -> key. For
    those, expected = the inner list's initial length + one item per __getitem__."""
    out = {}
    for obj in scenario.shared:
        if obj.kind not in ("ManagerList", "ManagerDict"):
            continue
        steps = [
            step for proc in scenario.processes for step in proc.steps if step.target == obj.name
        ]
        keys = {step.key for step in steps}
        if (
            steps
            and all(step.op == "append" and step.key is not None for step in steps)
            and len(keys) == 1
        ):
            out[obj.name] = next(iter(keys))
    return out


class Managers:
    """The Manager server processes of one run, their objects, and their panels."""

    def __init__(self, scenario: Scenario, ctx: Any, observer_pid: int, quiet: bool) -> None:
        self.scenario = scenario
        self._ctx = ctx
        self._observer_pid = observer_pid
        self._quiet = quiet
        self.sync: SyncManager | None = None
        self.remote: RemoteQueueManager | None = None
        self._proxies: dict[str, Any] = {}  # shared object or local channel name -> proxy
        self._refs: dict[str, RemoteQueueRef] = {}  # remote channel name -> how to reach it
        self._reader: ObserverReader | None = None
        self._values: dict[str, tuple[Any, float]] = {}  # name -> (value, read at)
        self._last_read = 0.0
        self._read_final = False
        self._cpu: dict[int, tuple[float, float]] = {}
        self._ps: dict[int, psutil.Process] = {}
        self._nested = _nested_appends(scenario)
        self._last_server: Any = None  # the last server process shut down: its exit code
        self._exitcodes: dict[str, int | None] = {}  # panel name -> exit code, once reaped

    @staticmethod
    def needed(scenario: Scenario) -> bool:
        return any(obj.kind in MANAGER_KINDS for obj in scenario.shared) or any(
            channel.kind == "ManagerQueue" for channel in scenario.channels
        )

    def start(self) -> None:
        scenario = self.scenario
        init = (self._observer_pid, self._quiet)
        local = [
            channel
            for channel in scenario.channels
            if channel.kind == "ManagerQueue" and not channel.remote
        ]
        objs = [obj for obj in scenario.shared if obj.kind in MANAGER_KINDS]
        if local or objs:
            self.sync = SyncManager(ctx=self._ctx)
            self.sync.start(serve_init, init)
            for obj in objs:
                self._proxies[obj.name] = self._make(obj)
            for channel in local:
                self._proxies[channel.name] = self.sync.Queue(channel.maxsize)
            if objs:
                # A SyncManager made without an authkey uses this process's own.
                authkey = bytes(multiprocessing.current_process().authkey)
                self._reader = ObserverReader(self.sync.address, authkey)
        remote = [
            channel
            for channel in scenario.channels
            if channel.kind == "ManagerQueue" and channel.remote
        ]
        if remote:
            # Port 0: the OS picks a free port; 127.0.0.1: reachable from this machine only.
            authkey = os.urandom(16)
            self.remote = RemoteQueueManager(
                address=("127.0.0.1", 0), authkey=authkey, ctx=self._ctx
            )
            self.remote.start(serve_init, init)
            for channel in remote:
                self.remote.get_queue(
                    channel.name, channel.maxsize
                )  # made before any process connects
                self._refs[channel.name] = RemoteQueueRef(
                    tuple(self.remote.address), authkey, channel.name, channel.maxsize
                )

    def _make(self, obj: SharedSpec) -> Any:
        assert self.sync is not None
        if obj.kind == "ManagerList":
            return self.sync.list([_thawed(value) for value in obj.values])
        if obj.kind == "ManagerDict":
            return self.sync.dict({key: _thawed(value) for key, value in obj.items})
        return self.sync.Namespace()

    def shared(self, name: str) -> Any:
        return self._proxies[name]

    def channel(self, name: str) -> Any:
        return self._refs.get(name) or self._proxies[name]

    def observer_queue(self, name: str) -> Any:
        """The queue as the observer may use it (to drain what is left at the end)."""
        ref = self._refs.get(name)
        if ref is None:
            return self._proxies[name]
        return connect_queue(ref)[1]

    def resume(self) -> None:
        """SIGCONT every server: a paused one would hang each process that makes a
        call, and every proxy's farewell (decref) as a process exits."""
        for manager in (self.sync, self.remote):
            proc = getattr(manager, "_process", None) if manager is not None else None
            if proc is not None and proc.pid is not None and proc.exitcode is None:
                with contextlib.suppress(OSError):
                    os.kill(proc.pid, signal.SIGCONT)

    def shutdown(self) -> None:
        """Stop every server: ask it (shutdown), then SIGTERM, then SIGKILL, each
        bounded; always reap. A paused server is resumed first, or asking would
        hang; the observer's proxies are dropped only after, when the manager's
        state says SHUTDOWN and they no longer call it to say goodbye."""
        self.resume()
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        for name, manager in (("manager", self.sync), ("remote manager", self.remote)):
            if manager is None:
                continue
            proc = getattr(manager, "_process", None)
            self._last_server = proc
            with contextlib.suppress(Exception):
                manager.shutdown()
            if proc is not None and proc.exitcode is None:
                with contextlib.suppress(OSError):
                    proc.kill()
                proc.join(5)
            if proc is not None:
                self._exitcodes[name] = proc.exitcode
        self._proxies.clear()
        self.sync = None
        self.remote = None

    def ended(self, samples: tuple[ManagerSample, ...]) -> tuple[ManagerSample, ...]:
        """The final panels once the servers are reaped: gone, with their exit codes
        (the final sample itself is taken while they still serve, to read values)."""
        return tuple(
            replace(
                sample,
                alive=False,
                exitcode=self._exitcodes[sample.name],
                cpu_percent=0.0,
                threads=0,
            )
            if sample.name in self._exitcodes
            else sample
            for sample in samples
        )

    # ------------------------------------------------------------ sampling
    def _servers(self) -> list[tuple[str, str, Any, list[str]]]:
        out = []
        scenario = self.scenario
        if self.sync is not None:
            names = [obj.name for obj in scenario.shared if obj.kind in MANAGER_KINDS]
            names += [
                channel.name
                for channel in scenario.channels
                if channel.kind == "ManagerQueue" and not channel.remote
            ]
            out.append(("manager", "SyncManager", self.sync, names))
        if self.remote is not None:
            names = [
                channel.name
                for channel in scenario.channels
                if channel.kind == "ManagerQueue" and channel.remote
            ]
            out.append(("remote manager", "BaseManager", self.remote, names))
        return out

    def read_values(self, now: float, finished: bool) -> None:
        """Read the live list/dict/Namespace values, at most every READ_EVERY_S,
        and once more, with a longer wait, when every process has exited."""
        if self._reader is None:
            return
        final = finished and not self._read_final
        if not final and now - self._last_read < READ_EVERY_S:
            return
        self._last_read = now
        timeout = FINAL_READ_TIMEOUT_S if final else READ_TIMEOUT_S
        for obj in self.scenario.shared:
            if obj.kind not in MANAGER_KINDS:
                continue
            ok, value = self._reader.read(self._proxies[obj.name]._token.id, timeout)
            if not ok:
                return
            self._values[obj.name] = (_live(value, obj.kind), time.monotonic())
        if final:
            self._read_final = True

    def shared_sample(
        self, index: int, name: str, tot: list[int], users: tuple[str, ...]
    ) -> SharedSample:
        """A Manager object's row: its last read value and its calls by method.
        By name: the sampler knows the registry's names, not the scenario."""
        spec = self.scenario.shared_object(name)
        calls = tuple(
            (method, tot[CALL_SLOTS[position]])
            for position, method in enumerate(METHODS[spec.kind])
            if tot[CALL_SLOTS[position]]
        )
        value, at = self._values.get(spec.name, (None, 0.0))
        extra: dict[str, Any] = {}
        if spec.name in self._nested:
            key = self._nested[spec.name]
            start = spec.values if spec.kind == "ManagerList" else dict(spec.items)
            try:
                initial = len(start[key])
            except (IndexError, KeyError, TypeError):
                initial = 0
            expected = initial + dict(calls).get("__getitem__", 0)
            extra["expected"] = expected
            if value is not None:
                inner = value[key] if spec.kind == "ManagerList" else dict(value).get(key, ())
                extra["lost"] = max(0, expected - len(inner))
        return SharedSample(
            **extra,
            index=index,
            name=spec.name,
            kind=spec.kind,
            value=value,
            updates=sum(count for _, count in calls),
            wait_s=tot[CALL_NS] / 1e9,
            users=users,
            calls=calls,
            read_at=at,
        )

    def samples(
        self, shared_tot: dict[str, list[int]], chan_sums: dict[str, list[int]], now: float
    ) -> tuple[ManagerSample, ...]:
        """One panel per server: the OS's view of it and every call made to it."""
        out = []
        for name, kind, manager, objects in self._servers():
            calls: dict[str, int] = {}
            for obj in objects:
                if obj in chan_sums:
                    row = chan_sums[obj]
                    calls["put"] = calls.get("put", 0) + row[B.OUT_N]
                    calls["get"] = calls.get("get", 0) + row[B.IN_N]
                    continue
                kind_o = self.scenario.shared_object(obj).kind
                tot = shared_tot.get(obj, [0] * B.SHARED_SLOTS)
                for position, meth in enumerate(METHODS[kind_o]):
                    calls[meth] = calls.get(meth, 0) + tot[CALL_SLOTS[position]]
            proc = getattr(manager, "_process", None)
            pid = proc.pid if proc is not None else None
            exitcode = proc.exitcode if proc is not None else None
            cpu_pct, cpu_s, rss, threads = self._os(pid, now) if exitcode is None else (0, 0, 0, 0)
            out.append(
                ManagerSample(
                    name=name,
                    kind=kind,
                    pid=pid,
                    alive=pid is not None and exitcode is None,
                    exitcode=exitcode,
                    address=_address_text(manager.address),
                    cpu_percent=cpu_pct,
                    cpu_s=cpu_s,
                    rss=rss,
                    threads=threads,
                    calls=tuple((position, count) for position, count in calls.items() if count),
                    observer_reads=self._reader.reads
                    if self._reader and kind == "SyncManager"
                    else 0,
                    objects=tuple(objects),
                )
            )
        return tuple(out)

    def _os(self, pid: int | None, now: float) -> tuple[float, float, int, int]:
        if pid is None:
            return 0.0, 0.0, 0, 0
        try:
            process = self._ps.get(pid) or self._ps.setdefault(pid, psutil.Process(pid))
            with process.oneshot():
                times = process.cpu_times()
                cpu_s = times.user + times.system
                rss = process.memory_info().rss
                threads = process.num_threads()
        except psutil.Error:
            return 0.0, 0.0, 0, 0
        last = self._cpu.get(pid)
        self._cpu[pid] = (cpu_s, now)
        pct = 0.0
        if last is not None and now > last[1]:
            pct = max(0.0, (cpu_s - last[0]) / (now - last[1]) * 100.0)
        return pct, cpu_s, rss, threads


def start_managers(scenario: Scenario, ctx: Any, observer_pid: int, quiet: bool) -> Managers | None:
    """Start the servers a scenario needs (none: None). On failure nothing is left."""
    if not Managers.needed(scenario):
        return None
    mgrs = Managers(scenario, ctx, observer_pid, quiet)
    try:
        mgrs.start()
    except (EOFError, ConnectionError) as exc:  # the server died before it answered
        mgrs.shutdown()  # reaps it, so its exit code is known
        proc = mgrs._last_server
        code = proc.exitcode if proc is not None else None
        raise RuntimeError(
            f"the Manager's server process ended before it started serving (exit code {code})"
        ) from exc
    except BaseException:
        mgrs.shutdown()
        raise
    return mgrs


__all__ = ["Managers", "ObserverReader", "start_managers"]
