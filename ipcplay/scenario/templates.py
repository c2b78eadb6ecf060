"""The composer's starting points: a template per role, channel kind and shared kind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ipcplay.scenario import model
from ipcplay.scenario.entries import Section


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


PROCESS_TEMPLATES = (
    Template(
        "producer",
        "process",
        "producer",
        "puts 20 numbered items on a channel, 10 a second, then a poison pill per reader",
        "producer",
        {"role": "producer", "count": "20", "rate": "10", "payload.kind": "int"}
        | {"payload.size": "0", "finally": ("poison-pill",)},
    ),
    Template(
        "consumer",
        "process",
        "consumer",
        "takes items off one channel until a poison pill (or EOF on a Pipe)",
        "consumer",
        {"role": "consumer"},
    ),
    Template(
        "worker",
        "process",
        "worker (pipeline stage)",
        "takes from one channel, squares the item, puts it on another; pills pass on",
        "worker",
        {"role": "worker", "compute": "square", "finally": ("poison-pill",)},
    ),
    Template(
        "pinger",
        "process",
        "pinger",
        "sends on a Pipe and waits for each reply; closes its end when done",
        "pinger",
        {"role": "pinger", "count": "10", "rate": "5", "payload.kind": "text"}
        | {"payload.size": "0", "finally": ("close",)},
    ),
    Template(
        "ponger",
        "process",
        "ponger",
        "answers every message on a Pipe; ends on EOF or a poison pill",
        "ponger",
        {"role": "ponger"},
    ),
)
STEPS_TEMPLATES = (
    Template(
        "incrementer",
        "process",
        "shared counter incrementer",
        "counter.value += 1, 100000 times, inside with counter.get_lock(): none lost",
        "incrementer",
        {"role": "steps", "count": "100000", "steps": "add {target} 1 locked"},
        ("Value",),
        "value",
    ),
    Template(
        "racy",
        "process",
        "racy incrementer",
        "counter.value += 1, 200000 times, without the lock: two of them lose updates",
        "racer",
        {"role": "steps", "count": "200000", "steps": "add {target} 1"},
        ("Value",),
        "value",
    ),
    Template(
        "holder",
        "process",
        "lock holder",
        "acquire a lock, hold it 200 ms, release it; 5 times",
        "holder",
        {"role": "steps", "count": "5", "steps": "acquire {target}\nsleep 200\nrelease {target}"},
        model.LOCK_KINDS,
        "lock",
    ),
    Template(
        "setter",
        "process",
        "event setter",
        "sleeps 1 s, then sets an Event: every waiter goes on",
        "setter",
        {"role": "steps", "count": "1", "steps": "sleep 1000\nset {target}"},
        ("Event",),
        "event",
    ),
    Template(
        "waiter",
        "process",
        "event waiter",
        "waits until an Event is set",
        "waiter",
        {"role": "steps", "count": "1", "steps": "wait {target}"},
        ("Event",),
        "event",
    ),
    Template(
        "party",
        "process",
        "barrier party",
        "waits at a Barrier until all its parties are there",
        "party",
        {"role": "steps", "count": "1", "steps": "sleep 200\nwait {target}"},
        ("Barrier",),
        "barrier",
    ),
    Template(
        "appender",
        "process",
        "Manager list appender",
        "l.append(i**i), i its index: seed 003 with replicas = 5",
        "p",
        {"role": "steps", "count": "1", "replicas": "5", "steps": "append {target} {i**i}"},
        ("ManagerList",),
        "manager_list",
    ),
    Template(
        "dict_setter",
        "process",
        "Manager dict setter",
        "d[i] = 'a', i its index: seed 003 with replicas = 5",
        "p",
        {"role": "steps", "count": "1", "replicas": "5", "steps": "setitem {target} {i} a"},
        ("ManagerDict",),
        "manager_dict",
    ),
)
STEPS_TEMPLATES += (
    Template(
        "notifier",
        "process",
        "condition notifier",
        "sleeps 500 ms, then notify_all() under the Condition: its waiters go on",
        "notifier",
        {
            "role": "steps",
            "count": "1",
            "steps": "sleep 500\nacquire {target}\nnotify_all {target}\nrelease {target}",
        },
        ("Condition",),
        "condition",
    ),
    Template(
        "cond_waiter",
        "process",
        "condition waiter",
        "takes the Condition and wait()s until notified (a notify before that is lost)",
        "cwaiter",
        {
            "role": "steps",
            "count": "1",
            "steps": "acquire {target}\nwait {target}\nrelease {target}",
        },
        ("Condition",),
        "condition",
    ),
)
PROCESS_TEMPLATES += STEPS_TEMPLATES
PROCESS_TEMPLATES += (
    Template(
        "globals",
        "process",
        "globals demo",
        "reads its own copy of a module-level global, adds 1 3 times (seed 003)",
        "child",
        {"role": "globals", "count": "3"},
    ),
    Template(
        "coroutines",
        "process",
        "coroutines demo",
        "a generator producer sends 1..5 to a generator consumer, in one process (seed 003)",
        "coroutines",
        {"role": "coroutines", "count": "5"},
    ),
    Template(
        "pool",
        "process",
        "multiprocessing.Pool",
        "owns a Pool(4) and runs map(sum_range, [50, 100, 150]): seed 004's sums",
        "pool",
        {
            "role": "pool",
            "pool": 'processes = 4\nmethod = "map"\nfunction = "sum_range"\n'
            "args = [50, 100, 150]\n",
        },
    ),
)
SHARED_TEMPLATES = (
    Template(
        "value",
        "shared",
        "Value (counter)",
        "Value('i', 0): one number in shared memory, with a lock",
        "counter",
        {"kind": "Value", "typecode": "i", "value": "0"},
    ),
    Template(
        "array",
        "shared",
        "Array",
        "Array('i', [0, 0, 0, 0]): numbers in shared memory, with a lock",
        "array",
        {"kind": "Array", "typecode": "i", "values": "0, 0, 0, 0"},
    ),
    Template("lock", "shared", "Lock", "one holder at a time", "lock", {"kind": "Lock"}),
    Template(
        "rlock", "shared", "RLock", "a Lock its holder may take again", "rlock", {"kind": "RLock"}
    ),
    Template(
        "semaphore",
        "shared",
        "Semaphore",
        "Semaphore(2): at most two holders at a time",
        "slots",
        {"kind": "Semaphore", "value": "2"},
    ),
    Template(
        "bounded_semaphore",
        "shared",
        "BoundedSemaphore",
        "BoundedSemaphore(2): a release too many is an error",
        "slots",
        {"kind": "BoundedSemaphore", "value": "2"},
    ),
    Template("event", "shared", "Event", "a flag: wait() until set()", "go", {"kind": "Event"}),
    Template(
        "barrier",
        "shared",
        "Barrier",
        "Barrier(2): wait() returns when two processes are waiting",
        "barrier",
        {"kind": "Barrier", "parties": "2"},
    ),
    Template(
        "condition",
        "shared",
        "Condition",
        "a lock to wait() on until another process notify()s",
        "cond",
        {"kind": "Condition"},
    ),
    Template(
        "shared_memory",
        "shared",
        "SharedMemory",
        "SharedMemory(size=64): a named block of plain bytes in /dev/shm",
        "block",
        {"kind": "SharedMemory", "size": "64"},
    ),
    Template(
        "manager_list",
        "shared",
        "Manager list",
        "man.list([11, 22, 33]): a list in the manager's server process",
        "ml",
        {"kind": "ManagerList", "values": "11, 22, 33"},
    ),
    Template(
        "manager_dict",
        "shared",
        "Manager dict",
        "man.dict({'name': 'bob'}): a dict in the manager's server process",
        "md",
        {"kind": "ManagerDict", "items": 'name = "bob"'},
    ),
    Template(
        "manager_namespace",
        "shared",
        "Manager Namespace",
        "man.Namespace(): attributes in the manager's server process",
        "ns",
        {"kind": "ManagerNamespace"},
    ),
)
CHANNEL_TEMPLATES = (
    Template(
        "queue", "channel", "Queue", "unbounded: put() never waits", "queue", {"kind": "Queue"}
    ),
    Template(
        "bounded",
        "channel",
        "Queue (bounded)",
        "maxsize 8: put() waits while 8 items are queued (back pressure)",
        "queue",
        {"kind": "Queue", "maxsize": "8"},
    ),
    Template(
        "joinable",
        "channel",
        "JoinableQueue",
        "task_done() per item; join() waits until every item is done",
        "tasks",
        {"kind": "JoinableQueue"},
    ),
    Template(
        "simple",
        "channel",
        "SimpleQueue",
        "no size and no feeder thread: the plainest queue",
        "queue",
        {"kind": "SimpleQueue"},
    ),
    Template(
        "pipe",
        "channel",
        "Pipe (duplex)",
        "two connected ends; each can send and recv (ping-pong)",
        "pipe",
        {"kind": "Pipe", "duplex": True},
    ),
    Template(
        "oneway",
        "channel",
        "Pipe (one-way)",
        "Pipe(duplex=False): one process sends, one other receives",
        "pipe",
        {"kind": "Pipe", "duplex": False},
    ),
    Template(
        "manager_queue",
        "channel",
        "Manager Queue",
        "man.Queue(): a queue in the manager's server process, used through proxies",
        "queue",
        {"kind": "ManagerQueue"},
    ),
    Template(
        "remote_queue",
        "channel",
        "Manager Queue (remote)",
        "a BaseManager serves it on 127.0.0.1; processes connect() with its authkey",
        "queue",
        {"kind": "ManagerQueue", "remote": True},
    ),
)
# Every role, every channel kind and every kind of shared object has a template;
# and each steps template can make what it works on.
assert {template.values["role"] for template in PROCESS_TEMPLATES} == set(model.ROLES)
assert {template.values["kind"] for template in CHANNEL_TEMPLATES} == set(model.CHANNEL_KINDS)
assert {template.values["kind"] for template in SHARED_TEMPLATES} == set(model.SHARED_KINDS)
assert all(
    any(made.key == steps.makes and made.values["kind"] in steps.needs for made in SHARED_TEMPLATES)
    for steps in STEPS_TEMPLATES
)
