"""Every kind of channel and of shared object, each described once.

A kind is one entry here: its name, the TOML keys it takes, what it is
(bounded, pipe-like, joinable, a lock, data, served by a Manager), how to label
it, the steps it answers and the composer's templates for it. The loader, the
draft and composer, the TUI, the export and the engine read these tables
instead of keeping their own tuples of kind names, so adding a kind is one
entry here plus the code that is truly new for it (its instrumented wrapper in
the engine, its export emitter), and two places cannot disagree about it.

Flags rather than kind names are what callers test: `kind.bounded`, not
`kind.name in ("Queue", "JoinableQueue", "ManagerQueue")`. A caller that needs
a kind by name uses `channel_kind(name)` / `shared_kind(name)`.

This module is plain data with no behaviour beyond labels: it sits at the
bottom of the layers (scenario) and imports nothing of ipcplay's.
"""

from __future__ import annotations

from typing import Any, Literal

from ipcplay.scenario.kind_types import (
    KEYS,
    ChannelKind,
    Key,
    Section,
    SharedKind,
    Template,
)
from ipcplay.scenario.kind_types import channel_template as _channel_template
from ipcplay.scenario.kind_types import shared_template as _shared_template

__all__ = ["KEYS", "ChannelKind", "Key", "Section", "SharedKind", "Template"]

_QUEUE_OPS = ("put", "get")

CHANNELS: tuple[ChannelKind, ...] = (
    ChannelKind(
        "Queue",
        keys=("maxsize",),
        bounded=True,
        feeder=True,
        make="ctx.Queue({maxsize})  # {queue_note}",
        templates=(
            _channel_template(
                "queue", "Queue", "unbounded: put() never waits", "queue", kind="Queue"
            ),
            _channel_template(
                "bounded",
                "Queue (bounded)",
                "maxsize 8: put() waits while 8 items are queued (back pressure)",
                "queue",
                kind="Queue",
                maxsize="8",
            ),
        ),
    ),
    ChannelKind(
        "JoinableQueue",
        keys=("maxsize",),
        bounded=True,
        joinable=True,
        feeder=True,
        make="ctx.JoinableQueue({maxsize})  # {queue_note}",
        templates=(
            _channel_template(
                "joinable",
                "JoinableQueue",
                "task_done() per item; join() waits until every item is done",
                "tasks",
                kind="JoinableQueue",
            ),
        ),
    ),
    ChannelKind(
        "SimpleQueue",
        make="ctx.SimpleQueue()  # no maxsize, no feeder thread, no timeouts",
        templates=(
            _channel_template(
                "simple",
                "SimpleQueue",
                "no size and no feeder thread: the plainest queue",
                "queue",
                kind="SimpleQueue",
            ),
        ),
    ),
    ChannelKind(
        "Pipe",
        keys=("duplex", "reader_keeps_write_end"),
        pipe_like=True,
        templates=(
            _channel_template(
                "pipe",
                "Pipe (duplex)",
                "two connected ends; each can send and recv (ping-pong)",
                "pipe",
                kind="Pipe",
                duplex=True,
            ),
            _channel_template(
                "oneway",
                "Pipe (one-way)",
                "Pipe(duplex=False): one process sends, one other receives",
                "pipe",
                kind="Pipe",
                duplex=False,
            ),
        ),
    ),
    ChannelKind(
        "ManagerQueue",
        keys=("maxsize", "remote"),
        bounded=True,
        manager=True,
        make="man.Queue({maxsize})",
        make_note="a queue.Queue in the server; this is a proxy",
        templates=(
            _channel_template(
                "manager_queue",
                "Manager Queue",
                "man.Queue(): a queue in the manager's server process, used through proxies",
                "queue",
                kind="ManagerQueue",
            ),
            _channel_template(
                "remote_queue",
                "Manager Queue (remote)",
                "a BaseManager serves it on 127.0.0.1; processes connect() with its authkey",
                "queue",
                kind="ManagerQueue",
                remote=True,
            ),
        ),
    ),
    ChannelKind(
        "Listener",
        pipe_like=True,
        make="(socket_address(), os.urandom(16))",
        make_note="(address, authkey): each process opens its own end",
        opens=(
            "{var} = listen({var})  # Listener(address, authkey).accept(): nothing inherited",
            "{var} = dial({var})  # Client(address, authkey): nothing inherited",
        ),
        helpers=("socket_address", "listen", "dial"),
        imports=(
            "import os",
            "import tempfile",
            "import time",
            "from multiprocessing.connection import Client, Listener",
        ),
        templates=(
            _channel_template(
                "listener",
                "Listener / Client",
                "a socket: the first process listens and accept()s, the other connects with"
                " Client(address, authkey); nothing inherited",
                "link",
                kind="Listener",
            ),
        ),
    ),
)

_LOCK_STEPS = ("acquire", "release")
_DATA_STEPS = ("acquire", "release", "on")

SHARED: tuple[SharedKind, ...] = (
    SharedKind(
        "Value",
        keys=("typecode", "value"),
        data=True,
        steps=_DATA_STEPS,
        make="ctx.Value({typecode}, {value})",
        make_note="with a lock: see get_lock()",
        show="{var}.value",
        templates=(
            _shared_template(
                "value",
                "Value (counter)",
                "Value('i', 0): one number in shared memory, with a lock",
                "counter",
                kind="Value",
                typecode="i",
                value="0",
            ),
        ),
    ),
    SharedKind(
        "Array",
        keys=("typecode", "values"),
        required=("values",),
        data=True,
        steps=_DATA_STEPS,
        make="ctx.Array({typecode}, {values})",
        show="list({var})",
        templates=(
            _shared_template(
                "array",
                "Array",
                "Array('i', [0, 0, 0, 0]): numbers in shared memory, with a lock",
                "array",
                kind="Array",
                typecode="i",
                values="0, 0, 0, 0",
            ),
        ),
    ),
    SharedKind(
        "Lock",
        lock=True,
        steps=_LOCK_STEPS,
        templates=(_shared_template("lock", "Lock", "one holder at a time", "lock", kind="Lock"),),
    ),
    SharedKind(
        "RLock",
        lock=True,
        steps=_LOCK_STEPS,
        templates=(
            _shared_template(
                "rlock", "RLock", "a Lock its holder may take again", "rlock", kind="RLock"
            ),
        ),
    ),
    SharedKind(
        "Semaphore",
        keys=("value",),
        defaults={"value": 1},
        lock=True,
        permits=True,
        steps=_LOCK_STEPS,
        make="ctx.Semaphore({value})",
        make_note="{value} permits",
        templates=(
            _shared_template(
                "semaphore",
                "Semaphore",
                "Semaphore(2): at most two holders at a time",
                "slots",
                kind="Semaphore",
                value="2",
            ),
        ),
    ),
    SharedKind(
        "BoundedSemaphore",
        keys=("value",),
        defaults={"value": 1},
        lock=True,
        permits=True,
        steps=_LOCK_STEPS,
        make="ctx.BoundedSemaphore({value})",
        make_note="{value} permits",
        templates=(
            _shared_template(
                "bounded_semaphore",
                "BoundedSemaphore",
                "BoundedSemaphore(2): a release too many is an error",
                "slots",
                kind="BoundedSemaphore",
                value="2",
            ),
        ),
    ),
    SharedKind(
        "Event",
        steps=("wait", "set", "clear"),
        templates=(
            _shared_template("event", "Event", "a flag: wait() until set()", "go", kind="Event"),
        ),
    ),
    SharedKind(
        "Barrier",
        keys=("parties",),
        required=("parties",),
        steps=("wait",),
        make="ctx.Barrier({parties})",
        make_note="lets {parties} waiters through together",
        templates=(
            _shared_template(
                "barrier",
                "Barrier",
                "Barrier(2): wait() returns when two processes are waiting",
                "barrier",
                kind="Barrier",
                parties="2",
            ),
        ),
    ),
    SharedKind(
        "Condition",
        lock=True,
        steps=("acquire", "release", "wait", "notify", "notify_all", "wait_for"),
        templates=(
            _shared_template(
                "condition",
                "Condition",
                "a lock to wait() on until another process notify()s",
                "cond",
                kind="Condition",
            ),
        ),
    ),
    SharedKind(
        "SharedMemory",
        keys=("size",),
        required=("size",),
        block=True,
        steps=("write", "fill", "read"),
        make="shared_memory.SharedMemory(create=True, size={size})",
        make_note="in /dev/shm",
        release=("{var}.close()", "{var}.unlink()  # once, by the process that created it"),
        templates=(
            _shared_template(
                "shared_memory",
                "SharedMemory",
                "SharedMemory(size=64): a named block of plain bytes in /dev/shm",
                "block",
                kind="SharedMemory",
                size="64",
            ),
        ),
    ),
    SharedKind(
        "ShareableList",
        keys=("values",),
        required=("values",),
        steps=("on", "read"),
        manager_steps=("setitem",),
        make="shared_memory.ShareableList({values})",
        make_note="fixed size, no lock",
        show="list({var})",
        release=("{var}.shm.close()", "{var}.shm.unlink()  # once, by the process that created it"),
        templates=(
            _shared_template(
                "shareable_list",
                "ShareableList",
                "ShareableList([0, 'idle']): fixed-length items in one named block, no lock",
                "board",
                kind="ShareableList",
                values='0, "idle"',
            ),
        ),
    ),
    SharedKind(
        "ManagerList",
        keys=("values",),
        manager=True,
        steps=("on",),
        manager_steps=("append", "setitem"),
        make="man.list({values})",
        show="list({var})",
        templates=(
            _shared_template(
                "manager_list",
                "Manager list",
                "man.list([11, 22, 33]): a list in the manager's server process",
                "ml",
                kind="ManagerList",
                values="11, 22, 33",
            ),
        ),
    ),
    SharedKind(
        "ManagerDict",
        keys=("items",),
        manager=True,
        steps=("on",),
        manager_steps=("setitem", "append"),
        make="man.dict({items})",
        show="dict({var})",
        templates=(
            _shared_template(
                "manager_dict",
                "Manager dict",
                "man.dict({'name': 'bob'}): a dict in the manager's server process",
                "md",
                kind="ManagerDict",
                items='name = "bob"',
            ),
        ),
    ),
    SharedKind(
        "ManagerNamespace",
        manager=True,
        steps=("on",),
        manager_steps=("setattr",),
        make="man.Namespace()",
        make_note="attributes only; each one set is a call to the server",
        show="{var}",
        templates=(
            _shared_template(
                "manager_namespace",
                "Manager Namespace",
                "man.Namespace(): attributes in the manager's server process",
                "ns",
                kind="ManagerNamespace",
            ),
        ),
    ),
)

# How to say which kinds a step action may name (which they are is each kind's
# `steps`, above): a kind that takes an action is named in its words here.
STEP_WORDS: dict[str, str] = {
    "acquire": "a lock, a semaphore, a Value or an Array",
    "release": "a lock, a semaphore, a Value or an Array",
    "wait": "an Event, a Barrier or a Condition",
    "notify": "a Condition",
    "notify_all": "a Condition",
    "wait_for": "a Condition",
    "write": "a SharedMemory block",
    "fill": "a SharedMemory block",
    "read": "a SharedMemory block or a ShareableList",
    "set": "an Event",
    "clear": "an Event",
    "on": "a Value, an Array, a ShareableList, or a Manager list, dict or Namespace",
}

CHANNEL_BY_NAME: dict[str, ChannelKind] = {k.name: k for k in CHANNELS}
SHARED_BY_NAME: dict[str, SharedKind] = {k.name: k for k in SHARED}
CHANNEL_NAMES: tuple[str, ...] = tuple(CHANNEL_BY_NAME)
SHARED_NAMES: tuple[str, ...] = tuple(SHARED_BY_NAME)


def channel_kind(name: object) -> ChannelKind | None:
    """The channel kind called `name`, or None (a composer entry may hold anything)."""
    return CHANNEL_BY_NAME.get(name) if isinstance(name, str) else None


def shared_kind(name: object) -> SharedKind | None:
    """The shared-object kind called `name`, or None."""
    return SHARED_BY_NAME.get(name) if isinstance(name, str) else None


def channel_has(kind: object, flag: str) -> bool:
    """Is channel kind `kind` `flag` (say "pipe_like")? False for an unknown kind,
    which a composer entry or a watched program may hold."""
    entry = channel_kind(kind)
    return entry is not None and bool(getattr(entry, flag))


def shared_has(kind: object, flag: str) -> bool:
    """Is shared kind `kind` `flag` (say "manager")? False for an unknown kind."""
    entry = shared_kind(kind)
    return entry is not None and bool(getattr(entry, flag))


def channel_names(**flags: bool) -> tuple[str, ...]:
    """Names of the channel kinds with these flags, in table order:
    `channel_names(bounded=True)` is ('Queue', 'JoinableQueue', 'ManagerQueue')."""
    return tuple(k.name for k in CHANNELS if all(getattr(k, f) == v for f, v in flags.items()))


def shared_names(**flags: bool) -> tuple[str, ...]:
    """Names of the shared kinds with these flags, in table order."""
    return tuple(k.name for k in SHARED if all(getattr(k, f) == v for f, v in flags.items()))


def taking(key: str, section: Literal["channel", "shared"]) -> tuple[str, ...]:
    """The kinds that take TOML key `key`, in table order: what 'applies to' says."""
    table = CHANNELS if section == "channel" else SHARED
    return tuple(k.name for k in table if key in k.keys)


def steps_on(action: str) -> tuple[str, ...]:
    """The shared kinds a step action may name, in table order."""
    return tuple(k.name for k in SHARED if action in k.steps)


def default_of(kind: SharedKind | ChannelKind, key: str) -> Any:
    """What key `key` of `kind` is when a file leaves it out."""
    defaults = getattr(kind, "defaults", {})
    return defaults[key] if key in defaults else KEYS[key].default


def channel_label(kind: str, maxsize: int | str = 0, duplex: bool = True) -> str:
    """The one label of a channel's kind, wherever it is shown."""
    entry = channel_kind(kind)
    return entry.label(maxsize, duplex) if entry is not None else kind


def shared_label(kind: str, value: float = 0, parties: int = 0) -> str:
    """The one label of a shared object's kind, wherever it is shown."""
    entry = shared_kind(kind)
    return entry.label(value, parties) if entry is not None else kind
