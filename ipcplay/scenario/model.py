"""What a playground *is*: plain, frozen data with no behaviour.

A `Scenario` is built only by the loader (which validates every field), so the
engine can trust it and never re-check. Everything here is immutable and
picklable because it crosses into child processes under every start method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CHANNEL_KINDS = ("Queue", "JoinableQueue", "SimpleQueue", "Pipe", "ManagerQueue")
ROLES = ("producer", "consumer", "worker", "pinger", "ponger", "steps")
# Shared state and synchronisation primitives, declared as [shared.NAME].
SHARED_KINDS = (
    "Value",
    "Array",
    "Lock",
    "RLock",
    "Semaphore",
    "BoundedSemaphore",
    "Event",
    "Barrier",
    "ManagerList",
    "ManagerDict",
    "ManagerNamespace",
)
# Objects that live in a Manager's server process; the processes hold proxies.
MANAGER_KINDS = ("ManagerList", "ManagerDict", "ManagerNamespace")
LOCK_KINDS = ("Lock", "RLock", "Semaphore", "BoundedSemaphore")
DATA_KINDS = ("Value", "Array")
# ctypes typecodes a Value or Array may hold, with the range of each integer code.
INT_TYPECODES: dict[str, tuple[int, int]] = {
    "b": (-(1 << 7), (1 << 7) - 1),
    "B": (0, (1 << 8) - 1),
    "h": (-(1 << 15), (1 << 15) - 1),
    "H": (0, (1 << 16) - 1),
    "i": (-(1 << 31), (1 << 31) - 1),
    "I": (0, (1 << 32) - 1),
    "l": (-(1 << 63), (1 << 63) - 1),
    "L": (0, (1 << 64) - 1),
    "q": (-(1 << 63), (1 << 63) - 1),
    "Q": (0, (1 << 64) - 1),
}
FLOAT_TYPECODES = ("f", "d")
TYPECODES = (*INT_TYPECODES, *FLOAT_TYPECODES)
# What a `steps` process can do, one step at a time; the loader maps each TOML
# step table to one of these.
STEP_OPS = (
    "acquire",
    "release",
    "wait",
    "set",
    "clear",
    "sleep",
    "add",
    "multiply",
    "value",
    "append",
    "setitem",
    "setattr",
)
# Manager steps: `l.append(item)`, `obj[key] = item`, `setattr(ns, key, item)`.
MANAGER_OPS = ("append", "setitem", "setattr")
# Strings that stand for the process's index i (replica - 1), as in the seeds'
# `for i in range(5): Process(target=f, args=(ml, i))`.
INDEX_FORMS = ("{i}", "{i*i}", "{i**i}")
START_METHODS = ("fork", "spawn", "forkserver")
PAYLOAD_KINDS = ("bytes", "text", "int", "value")
WORK_KINDS = ("none", "sleep", "cpu")
COMPUTES = ("none", "square", "echo")
ENDINGS = ("poison-pill", "join", "close")
VERDICTS = ("completed", "timeout", "deadlock", "hang", "crashed")
TOUR_WHEN = ("full", "depth", "blocked", "exited", "deadlock", "hang", "stuck")
TOUR_DO = ("pause", "resume", "terminate", "kill", "pill", "rate", "pause-all", "resume-all")
MAX_TOUR_STEPS = 100

# Caps keep a typo from forking a thousand processes or filling memory; each
# one is named in the loader's error message so the user knows the limit.
MAX_PROCESSES = 128
MAX_CHANNELS = 64
MAX_REPLICAS = 64
MAX_PAYLOAD_BYTES = 1 << 20
MAX_RATE = 1_000_000.0
MAX_COUNT = 10_000_000
MAX_WORK_MS = 60_000.0
MAX_MAXSIZE = 32_767  # SEM_VALUE_MAX on macOS; the portable bound for a Queue
MAX_SECONDS = 86_400.0
MAX_SHARED = 64
MAX_ARRAY = 1024
MAX_STEPS = 64
MAX_PARTIES = 128  # a Barrier cannot need more parties than there can be processes


@dataclass(frozen=True)
class ChannelSpec:
    """One `multiprocessing` channel.

    `maxsize` applies to Queue, JoinableQueue and ManagerQueue (0 = unbounded);
    `duplex` to Pipe; `remote` to ManagerQueue (served by a BaseManager that
    processes connect() to by address and authkey, not a SyncManager's proxy).
    """

    name: str
    kind: str
    maxsize: int = 0
    duplex: bool = True
    remote: bool = False  # ManagerQueue: served by a BaseManager on 127.0.0.1


@dataclass(frozen=True)
class SharedSpec:
    """One shared object: a Value, Array, lock, Event or Barrier.

    `typecode` and `value` describe a Value (`value` is its initial value);
    `typecode` and `values` an Array; `value` is a Semaphore's initial count;
    `parties` is how many processes a Barrier waits for. A ManagerList starts
    with `values`, a ManagerDict with `items`; a ManagerNamespace empty.
    """

    name: str
    kind: str
    typecode: str = "i"
    value: int | float = 0
    values: tuple[Any, ...] = ()  # Array; a ManagerList's initial items
    parties: int = 0
    items: tuple[tuple[Any, Any], ...] = ()  # a ManagerDict's initial (key, value) pairs

    @property
    def is_float(self) -> bool:
        return self.typecode in FLOAT_TYPECODES


@dataclass(frozen=True)
class Step:
    """One thing a `steps` process does, in order, on a shared object.

    acquire / release: a lock, a semaphore, or a Value's or Array's get_lock();
    wait: an Event or a Barrier; set / clear: an Event; sleep: `ms`;
    add / multiply / value: `target.value += amount`, `*= amount`, `= amount`
    (on an Array, for every element), inside `with target.get_lock():` when
    `locked`. append / setitem / setattr on a Manager list, dict or
    Namespace: `target.append(item)`, `target[key] = item`,
    `setattr(target, key, item)`, through the process's proxy. An append with
    a `key` appends to the list held at `target[key]`: the proxy hands back a
    copy, so the change is lost (the docs' pitfall) unless `assign` puts the
    copy back, `row = target[key]; row.append(item); target[key] = row`.
    """

    op: str
    target: str = ""
    amount: int | float = 0
    ms: float = 0.0
    locked: bool = False
    key: Any = None  # setitem: the index or key; setattr: the attribute name; append: see above
    item: Any = None  # append / setitem / setattr: the value (or one of INDEX_FORMS)
    assign: bool = False  # append with a key: put the changed inner list back


@dataclass(frozen=True)
class Payload:
    """What a producer puts in each message.

    bytes: `size` bytes; text: `text` (repeated to `size` chars when size > 0);
    int: the item's sequence number; value: the TOML `value` as it is.
    """

    kind: str = "bytes"
    size: int = 64
    text: str = "hello"
    value: Any = None


@dataclass(frozen=True)
class Work:
    """Work done per item: sleep (blocks in the kernel) or cpu (a busy loop)."""

    kind: str = "none"
    ms: float = 0.0


@dataclass(frozen=True)
class ProcessSpec:
    """A process template; `replicas` copies of it run.

    `inputs`/`outputs` name channels. `count` is items to send (producer,
    pinger) or to take before stopping (consumer, worker; 0 = until a poison
    pill or EOF). `rate` is items per second (0 = as fast as possible).
    `ending` lists what the process does after its last item, in order.
    """

    name: str
    role: str
    replicas: int = 1
    replicas_cpu_count: bool = False
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    count: int = 0
    rate: float = 0.0
    payload: Payload = field(default_factory=Payload)
    work: Work = field(default_factory=Work)
    compute: str = "none"
    reply: Payload = field(default_factory=lambda: Payload(kind="text", text="hello, too", size=0))
    ending: tuple[str, ...] = ()
    task_done: bool = True
    steps: tuple[Step, ...] = ()

    @property
    def shared_used(self) -> tuple[str, ...]:
        """The shared objects the steps touch, each once, in first-use order."""
        return tuple(dict.fromkeys(s.target for s in self.steps if s.target))


@dataclass(frozen=True)
class TourStep:
    """One step of a guided tour: wait, then say something and maybe act.

    The step waits `after` seconds from the previous step (or the start), or,
    when `when` is set, until the run's state shows it: `full` (channel `on`
    at its maxsize), `depth` (channel `on` holding at least `at_least`),
    `blocked` / `exited` (process `on`: an instance name, or a template
    meaning any / every instance), `deadlock`, `hang` or `stuck` (either).
    A state step that has not happened after `timeout` seconds fires anyway,
    and says so. Then `say` is shown, `highlight` (a channel or process name)
    is marked, and `do` acts on `to` (a template name acts on every instance):
    pause, resume, terminate, kill, pill, rate (to `rate` items/s), or
    pause-all / resume-all.
    """

    say: str = ""
    after: float = 0.0
    when: str = ""
    on: str = ""
    at_least: int = 0
    timeout: float = 30.0
    do: str = ""
    to: str = ""
    rate: float = 0.0
    highlight: str = ""


@dataclass(frozen=True)
class Scenario:
    """A whole playground: metadata, channels and process templates.

    `expect` is the verdict a run is documented to reach; `duration` is how long
    a headless run lasts by default (a finite scenario still ends as soon as
    every process has exited; past `duration` it is a timeout). `source` is the
    file it came from, for messages only.
    """

    name: str
    title: str
    explain: str = ""
    start_method: str = "spawn"
    seed: int = 0
    expect: str = "completed"
    duration: float = 30.0
    channels: tuple[ChannelSpec, ...] = ()
    processes: tuple[ProcessSpec, ...] = ()
    shared: tuple[SharedSpec, ...] = ()
    tour: tuple[TourStep, ...] = ()
    source: str = ""

    @property
    def endless(self) -> bool:
        """True when some producer or pinger runs until stopped (count = 0)."""
        return any(p.role in ("producer", "pinger") and p.count == 0 for p in self.processes)

    def shared_object(self, name: str) -> SharedSpec:
        for s in self.shared:
            if s.name == name:
                return s
        raise KeyError(name)

    def channel(self, name: str) -> ChannelSpec:
        for c in self.channels:
            if c.name == name:
                return c
        raise KeyError(name)
