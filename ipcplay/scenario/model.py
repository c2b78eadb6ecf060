"""What a playground *is*: plain, frozen data with no behaviour.

A `Scenario` is built only by the loader (which validates every field), so the
engine can trust it and never re-check. Everything here is immutable and
picklable because it crosses into child processes under every start method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ipcplay.scenario import kinds

# Kind names, in the order the kinds table (scenario/kinds.py) describes them.
CHANNEL_KINDS = kinds.CHANNEL_NAMES
ROLES = (
    "producer",
    "consumer",
    "worker",
    "pinger",
    "ponger",
    "steps",
    "globals",
    "coroutines",
    "pool",
)
# Roles that touch no channel and no shared object: each shows something
# about processes themselves (engine/demos.py) and takes only `count`.
DEMO_ROLES = ("globals", "coroutines")
# Shared state and synchronisation primitives, declared as [shared.NAME].
SHARED_KINDS = kinds.SHARED_NAMES
# Objects that live in a Manager's server process; the processes hold proxies.
MANAGER_KINDS = kinds.shared_names(manager=True)
# A Condition is also a lock: acquire/release steps take its underlying RLock.
LOCK_KINDS = kinds.shared_names(lock=True)
DATA_KINDS = kinds.shared_names(data=True)
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
    "notify",
    "notify_all",
    "wait_for",
    "write",
    "fill",
    "read",
    "append",
    "setitem",
    "setattr",
    "put",
    "get",
)
# Channel steps: `put` an item on a channel, `get` one from it (send / recv on a
# Pipe end), so one steps process can both hold a lock and use a queue.
CHANNEL_OPS = ("put", "get")
# Manager steps: `l.append(item)`, `obj[key] = item`, `setattr(ns, key, item)`.
MANAGER_OPS = ("append", "setitem", "setattr")
# Strings that stand for the process's index i (replica - 1), as in the seeds'
# `for i in range(5): Process(target=f, args=(ml, i))`.
INDEX_FORMS = ("{i}", "{i*i}", "{i**i}")
START_METHODS = ("fork", "spawn", "forkserver")
PAYLOAD_KINDS = ("bytes", "text", "int", "value", "lambda", "function")
WORK_KINDS = ("none", "sleep", "cpu")
COMPUTES = ("none", "square", "echo")
ENDINGS = ("poison-pill", "join", "close")
VERDICTS = ("completed", "timeout", "deadlock", "hang", "crashed")
PITFALLS = ("broken", "fixed")
# What a preset teaches, for finding a lesson: the home list groups presets by
# their first topic and its filter and the palette search all of them. The
# pitfall topics name what goes wrong, as the broken preset's verdict says.
SUBJECT_TOPICS = (
    "queues",
    "pipes",
    "shared-memory",
    "locks-and-events",
    "managers",
    "pools",
    "start-methods",
)
PITFALL_TOPICS = ("deadlock", "hang", "lost-update", "crash", "zombie")
TOPICS = (*SUBJECT_TOPICS, *PITFALL_TOPICS)
TOPIC_LABELS = {
    "queues": "Queues",
    "pipes": "Pipes",
    "shared-memory": "Shared memory",
    "locks-and-events": "Locks and events",
    "managers": "Managers",
    "pools": "Pools",
    "start-methods": "Start methods",
    "deadlock": "Pitfalls: deadlocks",
    "hang": "Pitfalls: hangs",
    "lost-update": "Pitfalls: lost updates",
    "crash": "Pitfalls: crashes",
    "zombie": "Pitfalls: zombies",
}
TOUR_WHEN = ("full", "depth", "blocked", "exited", "deadlock", "hang", "stuck")
TOUR_DO = ("pause", "resume", "terminate", "kill", "pill", "rate", "pause-all", "resume-all")
# A tour step's `mode`: step mode on (every process stops at its next gate) or
# off (everything runs freely, the `g` key).
TOUR_MODES = ("step", "go")
MAX_TOUR_STEP_OPS = 200  # operations one tour step may let processes do
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
MAX_BLOCK = 1 << 16  # bytes in a SharedMemory block
MAX_PARTIES = 128  # a Barrier cannot need more parties than there can be processes

# multiprocessing.Pool (role = "pool"): the methods a pool process may run and
# the fixed library of task functions (engine/pool.py); presets never bring code.
POOL_METHODS = (
    "apply",
    "apply_async",
    "map",
    "map_async",
    "imap",
    "imap_unordered",
    "starmap",
    "starmap_async",
)
POOL_FUNCTIONS = ("sum_range", "square", "sleep_ms", "add", "action")
POOL_ENDINGS = ("close", "terminate", "join")
MAX_POOL_WORKERS = 16
MAX_POOL_TASKS = 64


@dataclass(frozen=True)
class ChannelSpec:
    """One `multiprocessing` channel.

    `maxsize` applies to Queue, JoinableQueue and ManagerQueue (0 = unbounded);
    `duplex` to Pipe; `remote` to ManagerQueue (served by a BaseManager that
    processes connect() to by address and authkey, not a SyncManager's proxy).
    `reader_keeps_write_end` (a one-way Pipe only) reproduces a classic mistake:
    the reading process also holds the write end and never closes it, so its
    recv() can never raise EOFError.
    """

    name: str
    kind: str
    maxsize: int = 0
    duplex: bool = True
    reader_keeps_write_end: bool = False
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
    size: int = 0  # SharedMemory: bytes
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
    `locked`. On a Condition (held): wait; notify (`amount` waiters, 1 by
    default); notify_all; wait_for, which waits until the Value named `other`
    is at least `amount` (a predicate checked under the lock, so a notify
    sent before the wait is not lost). On a SharedMemory block: write
    `amount` as an 8-byte little-endian integer at `offset`; fill every byte
    with `amount`; read (sum its bytes).    append / setitem / setattr on a Manager list, dict or
    Namespace: `target.append(item)`, `target[key] = item`,
    `setattr(target, key, item)`, through the process's proxy. An append with
    a `key` appends to the list held at `target[key]`: the proxy hands back a
    copy, so the change is lost (the docs' pitfall) unless `assign` puts the
    copy back, `row = target[key]; row.append(item); target[key] = row`.
    On a channel (`target` names it): put `item` (one of INDEX_FORMS too), or
    get one item (send / recv on a Pipe end); the steps process's `inputs` and
    `outputs` are the channels its get and put steps name.
    """

    op: str
    target: str = ""
    amount: int | float = 0
    ms: float = 0.0
    locked: bool = False
    other: str = ""  # wait_for: the Value its predicate reads
    offset: int = 0  # write: where in a SharedMemory block the 8-byte number goes
    key: Any = None  # setitem: the index or key; setattr: the attribute name; append: see above
    item: Any = None  # append / setitem / setattr: the value (or one of INDEX_FORMS)
    assign: bool = False  # append with a key: put the changed inner list back


@dataclass(frozen=True)
class PoolCall:
    """One task: the positional arguments and the keywords of one call of the
    pool's function (a tuple of pairs, so the spec stays hashable)."""

    args: tuple[Any, ...] = ()
    kwds: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class PoolSpec:
    """What a `pool` process does: `with Pool(processes, maxtasksperchild=...)`
    it runs `method` with `function` over `calls`, then the `ending` steps.

    `maxtasksperchild` 0 means None (workers live as long as the pool);
    `chunksize` 0 means the method's default. `callback` / `error_callback` pass
    callbacks to the *_async methods. `fail_on` / `die_on` name first
    arguments whose task raises ValueError / whose worker SIGKILLs itself (the
    first time it runs it, as the OOM killer would). `timeout` > 0 makes the
    owner fetch each apply_async result with get(timeout) and, with
    `resubmit`, submit a task again whose result did not come in time.
    `on_error` "raise" lets a worker's exception propagate out of get();
    "report" catches it there and goes on.
    """

    processes: int = 2
    maxtasksperchild: int = 0
    method: str = "map"
    function: str = "sum_range"
    calls: tuple[PoolCall, ...] = ()
    chunksize: int = 0
    callback: bool = False
    error_callback: bool = False
    fail_on: tuple[int | str, ...] = ()
    die_on: tuple[int | str, ...] = ()
    timeout: float = 0.0
    resubmit: bool = False
    on_error: str = "raise"
    ending: tuple[str, ...] = ("close", "join")


@dataclass(frozen=True)
class Payload:
    """What a producer puts in each message.

    bytes: `size` bytes; text: `text` (repeated to `size` chars when size > 0);
    int: the item's sequence number; value: the TOML `value` as it is;
    lambda: `lambda x: x * x`, which pickle cannot send (the pitfall);
    function: the same as a module-level function, which it can.
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
    `terminate_after` (seconds) has the parent call `terminate()` on every
    replica that long after the start, whatever it is doing or holding.
    `join_first` / `join_last` name process templates this process waits for,
    as `p.join()` does, before its first item / after its last one: the
    process stands for the parent that joins its children. `joined_after`
    (seconds) has the parent join it that late: if it ends sooner, it is a
    zombie until then.
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
    terminate_after: float = 0.0  # > 0: the parent calls terminate() this many s after start
    join_first: tuple[str, ...] = ()  # process templates to join() before doing anything
    join_last: tuple[str, ...] = ()  # ... and after the last item
    joined_after: float = 0.0  # > 0: the parent first join()s it this many s after its start
    pool: PoolSpec | None = None  # role "pool" only

    @property
    def shared_used(self) -> tuple[str, ...]:
        """The shared objects the steps touch, each once, in first-use order
        (a put or get step names a channel, not a shared object)."""
        return tuple(
            dict.fromkeys(
                n for s in self.steps if s.op not in CHANNEL_OPS for n in (s.target, s.other) if n
            )
        )


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
    pause-all / resume-all. `mode` turns step mode on ("step") or off ("go"),
    and `step` names processes that, in step mode (turned on if it is off),
    each do one operation in that order, as a schedule replays
    (schedule.py); the next tour step waits until they are done. With
    `hold`, the tour then waits for the teacher (`n` on the run screen)
    before the next step begins to wait.

    `after` and `timeout` are the scenario's time: slow motion stretches
    them like everything else the scenario does.
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
    hold: bool = False
    mode: str = ""
    step: tuple[str, ...] = ()


@dataclass(frozen=True)
class Challenge:
    """A goal the student reaches by stepping the processes (step mode): one
    of the goals of scenario/goals.py, about the object `on` where the goal
    has one, with `say`, the line that sets the task. Checked from the
    snapshot only (ipcplay/challenge.py)."""

    goal: str
    on: str = ""
    say: str = ""


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
    pitfall: str = ""  # "broken" or "fixed": one half of a pitfall pair
    pair: str = ""  # the preset that is the other half
    topics: tuple[str, ...] = ()  # from TOPICS; the first is where the home list shows it
    challenge: Challenge | None = None  # a goal to reach by stepping ([challenge])

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
