"""The composer's starting points: a template per role, channel kind and shared kind.

A process template is written here; a channel's or a shared object's comes
with its kind in the kinds table, so a new kind brings its own.
"""

from __future__ import annotations

from ipcplay.scenario import kinds, model
from ipcplay.scenario.kinds import Template

__all__ = [
    "CHANNEL_TEMPLATES",
    "PROCESS_TEMPLATES",
    "SHARED_TEMPLATES",
    "STEPS_TEMPLATES",
    "Template",
]


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

# A channel's or a shared object's templates are its kind's, in the kinds table.
SHARED_TEMPLATES = tuple(template for kind in kinds.SHARED for template in kind.templates)
CHANNEL_TEMPLATES = tuple(template for kind in kinds.CHANNELS for template in kind.templates)

# Every role, every channel kind and every kind of shared object has a template;
# and each steps template can make what it works on.
assert {template.values["role"] for template in PROCESS_TEMPLATES} == set(model.ROLES)
assert {template.values["kind"] for template in CHANNEL_TEMPLATES} == set(model.CHANNEL_KINDS)
assert {template.values["kind"] for template in SHARED_TEMPLATES} == set(model.SHARED_KINDS)
assert all(
    any(made.key == steps.makes and made.values["kind"] in steps.needs for made in SHARED_TEMPLATES)
    for steps in STEPS_TEMPLATES
)
