"""What a watched program's processes print, kept per process.

Each process of the program writes its stdout and stderr into two pipes of
its own (watch_runtime.Runtime.capture_output) and hands their read ends to
the observer over a Unix socket (SCM_RIGHTS): so every line is known to be
that process's, even a line written by C code or a child's traceback, and
nothing a program prints can reach the terminal the TUI draws on. One
thread reads every pipe; a pipe is read until its EOF, so nothing a process
printed before it ended is lost.

Lines are kept in arrival order with a sequence number (at most MAX_LINES;
the oldest go first, and are counted), so a reader asks for the lines after
the last it has.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import threading
import time
from dataclasses import dataclass

MAX_LINES = 20000
MAX_LINE = 4096  # a longer line is cut (and says so)


@dataclass(frozen=True)
class OutputLine:
    seq: int
    proc: int  # the process index
    stream: str  # "stdout" or "stderr"
    text: str  # as printed, without its newline; not yet neutralised
    t: float  # monotonic, when the observer read it


class OutputCollector:
    """The observer's end: a socket to receive pipes on, one reading thread."""

    def __init__(self) -> None:
        self.address = f"\0ipcplay-out-{os.getpid()}-{os.urandom(6).hex()}"
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.address)
        self._listener.listen(128)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, ("accept", 0, ""))
        self._lock = threading.Lock()
        self._lines: list[OutputLine] = []
        self._first = 0  # seq of self._lines[0]
        self._partial: dict[int, bytes] = {}  # fd -> an unfinished line
        self._bytes: dict[tuple[int, str], bytearray] = {}  # (proc, stream) -> everything
        self.dropped = 0
        self._seq = 0
        self._open = 0
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="ipcplay-output", daemon=True)
        self._thread.start()

    def add(self, proc: int, stream: str, fd: int) -> None:
        """A pipe the observer holds itself (the main process's)."""
        os.set_blocking(fd, False)
        with self._lock:
            self._open += 1
        self._selector.register(fd, selectors.EVENT_READ, ("pipe", proc, stream))

    # ------------------------------------------------------------ the thread
    def _loop(self) -> None:
        try:
            self._serve()
        except (OSError, ValueError, KeyError):  # closed under us by close(): the run is over
            return

    def _serve(self) -> None:
        while True:
            for key, _ in self._selector.select(timeout=0.1):
                what, proc, stream = key.data
                if what == "accept":
                    self._accept()
                else:
                    self._read(key.fd, proc, stream)
            with self._lock:
                if self._stop and self._open == 0:
                    return

    def _accept(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(2.0)
            try:
                msg, fds, _, _ = socket.recv_fds(conn, 16, 2)
            except OSError:
                return
            if len(fds) != 2 or len(msg) != 4:
                for fd in fds:
                    os.close(fd)
                return
            proc = int.from_bytes(msg, "little")
            self.add(proc, "stdout", fds[0])
            self.add(proc, "stderr", fds[1])
            with contextlib.suppress(OSError):
                conn.sendall(b"k")

    def _read(self, fd: int, proc: int, stream: str) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._selector.unregister(fd)
            os.close(fd)
            rest = self._partial.pop(fd, b"")
            if rest:
                self._keep(proc, stream, [rest])
            with self._lock:
                self._open -= 1
            return
        self._bytes.setdefault((proc, stream), bytearray()).extend(data)
        data = self._partial.pop(fd, b"") + data
        *lines, rest = data.split(b"\n")
        if rest:
            self._partial[fd] = rest
        if lines:
            self._keep(proc, stream, lines)

    def _keep(self, proc: int, stream: str, lines: list[bytes]) -> None:
        now = time.monotonic()
        with self._lock:
            for raw in lines:
                text = raw[:MAX_LINE].decode("utf-8", "replace").rstrip("\r")
                if len(raw) > MAX_LINE:
                    text += f" … ({len(raw) - MAX_LINE} more bytes)"
                self._lines.append(OutputLine(self._seq, proc, stream, text, now))
                self._seq += 1
            extra = len(self._lines) - MAX_LINES
            if extra > 0:
                del self._lines[:extra]
                self._first += extra
                self.dropped += extra

    # ------------------------------------------------------------ readers
    def since(self, seq: int) -> list[OutputLine]:
        """The lines from sequence number `seq` on (the oldest kept, if
        those are gone)."""
        with self._lock:
            return self._lines[max(0, seq - self._first) :]

    def text(self, proc: int, stream: str) -> str:
        """Everything process `proc` wrote on `stream`, whole."""
        with self._lock:
            data = bytes(self._bytes.get((proc, stream), b""))
        return data.decode("utf-8", "replace")

    def close(self, wait: float = 2.0) -> None:
        """Read every pipe to its EOF (for `wait` seconds at most), then stop."""
        with self._lock:
            self._stop = True
        self._thread.join(wait)
        for key in list(self._selector.get_map().values()):
            self._selector.unregister(key.fileobj)
            if key.data[0] == "pipe":
                os.close(key.fd)
        self._selector.close()
        self._listener.close()
