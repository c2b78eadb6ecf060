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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Section = Literal["channel", "shared", "process"]


@dataclass(frozen=True)
class Template:
    """A starting point offered by the composer; `values` override the defaults."""

    key: str
    section: Section
    label: str
    about: str
    base: str  # the first name tried for a new entry
    values: Mapping[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    """A steps template: the kinds of shared object its steps work on; `{target}`
    in its steps is the selected (or last) such object, or a new one made from
    the shared template `makes`."""
    makes: str = ""


@dataclass(frozen=True)
class Key:
    """A TOML key a kind may take besides `kind`: its meaning, shared by every
    kind that takes it (a key means one thing wherever it appears)."""

    name: str
    type: str  # "int", "bool", "number", "typecode", "list", "table"
    default: Any
    about: str
    low: int = 0  # an "int" key: the least it may be
    cap: str = ""  # an "int" key: the model's constant that caps it (MAX_MAXSIZE...)
    missing: str = ""
    """What the loader says when a kind that requires the key lacks it, after
    "missing; ": `{kind}` is the kind's name, `{a_kind}` the same with "a"/"an"."""


# Every key a channel or shared object may take. A kind lists which it takes.
KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key(
            "maxsize",
            "int",
            0,
            "items it holds before put() waits; 0 = unbounded",
            cap="MAX_MAXSIZE",
        ),
        Key("duplex", "bool", True, "both ends send and receive; false = one-way"),
        Key(
            "reader_keeps_write_end",
            "bool",
            False,
            "a one-way Pipe's reader also holds the write end (a classic mistake)",
        ),
        Key("remote", "bool", False, "served by a BaseManager that processes connect() to"),
        Key("typecode", "typecode", "i", "the ctypes typecode of the numbers"),
        Key("value", "number", 0, "the initial value (a Semaphore: its permits, 1)"),
        Key(
            "values",
            "list",
            (),
            "the initial items",
            missing="{a_kind} needs its initial values, e.g. [0, 0, 0]",
        ),
        Key(
            "parties",
            "int",
            0,
            "how many processes the Barrier waits for",
            low=1,
            cap="MAX_PARTIES",
            missing="how many processes the {kind} waits for",
        ),
        Key(
            "size",
            "int",
            0,
            "how many bytes the block holds",
            low=1,
            cap="MAX_BLOCK",
            missing="how many bytes the block holds, e.g. 64",
        ),
        Key("items", "table", (), "the initial keys and values"),
    )
}


@dataclass(frozen=True)
class ChannelKind:
    """A kind of channel: how processes pass messages."""

    name: str
    keys: tuple[str, ...] = ()  # TOML keys it takes besides `kind` (see KEYS)
    bounded: bool = False  # takes a maxsize: put() waits while it is full
    pipe_like: bool = False  # two connected ends; send()/recv(), no depth of its own
    joinable: bool = False  # task_done() and join()
    feeder: bool = False  # a feeder thread sends what put() queued (close/join_thread)
    manager: bool = False  # lives in a Manager's server process; processes hold proxies
    templates: tuple[Template, ...] = ()
    make: str = ""
    """How an exported script makes it in main(): the expression after `var = `.
    `{maxsize}` is its bound ("" for none) and `{queue_note}` the export's words
    on that bound; a `  # comment` in it stays on its line. Empty for a
    pipe-like kind: the export writes its two ends itself."""
    make_note: str = ""
    """The export's comment on `make`: beside it if it fits, else above it."""

    def label(self, maxsize: int | str = 0, duplex: bool = True) -> str:
        """'Queue(3)', 'Queue', 'Pipe', 'Pipe(one-way)': the kind and its bound.

        `maxsize` may be the text a composer field holds, shown as typed."""
        if self.pipe_like:
            return self.name if duplex else f"{self.name}(one-way)"
        bound = str(maxsize).strip()
        return f"{self.name}({bound})" if self.bounded and bound not in ("", "0") else self.name


@dataclass(frozen=True)
class SharedKind:
    """A kind of shared object: state or a synchronisation primitive."""

    name: str
    keys: tuple[str, ...] = ()
    required: tuple[str, ...] = ()  # keys it cannot do without
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Its keys' values when the file leaves them out, where they differ from
    KEYS' (a Semaphore's `value` is 1, as in Python)."""
    lock: bool = False  # acquire()/release(); the holders are counted
    permits: bool = False  # its `value` is a count of permits (a semaphore)
    data: bool = False  # numbers in shared memory with a lock (Value, Array)
    manager: bool = False  # lives in a Manager's server process; processes hold proxies
    block: bool = False  # plain bytes in a named shared-memory segment
    steps: tuple[str, ...] = ()  # the step actions that may name it
    manager_steps: tuple[str, ...] = ()  # a Manager object's own steps (append, setitem...)
    templates: tuple[Template, ...] = ()
    make: str = ""
    """How an exported script makes it in main(): the expression after `var = `,
    with `{typecode}`, `{value}`, `{values}`, `{items}`, `{parties}` and `{size}`
    written as Python. Empty: `ctx.<name>()`."""
    make_note: str = ""
    """The export's comment on `make` (the same fields): beside it if it fits,
    else above it. Without one, a long `make` is wrapped as ruff format would."""
    show: str = ""
    """The export's expression for what it holds when the run is over, printed
    as `value=...`; `{var}` is its variable. Empty: nothing printed."""
    release: tuple[str, ...] = ()
    """Lines the export's main() writes for it once its value is printed, `{var}`
    its variable: a block of shared memory is closed, then unlinked by its creator."""

    def label(self, value: float = 0, parties: int = 0) -> str:
        """'Semaphore(2)', 'Barrier(3)', 'Lock': the kind and the number it starts with."""
        if self.permits:
            return f"{self.name}({value:g})"
        if "parties" in self.keys:
            return f"{self.name}({parties})"
        return self.name


def _channel_template(key: str, label: str, about: str, base: str, **values: Any) -> Template:
    return Template(key, "channel", label, about, base, values)


def _shared_template(key: str, label: str, about: str, base: str, **values: Any) -> Template:
    return Template(key, "shared", label, about, base, values)


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
