"""What each program in examples/ does, counted by reading its code.

`ipcplay run examples/NAME --json` must report these figures exactly (issue
17: "check its exact counts"); they were also checked by counting the calls in
a plain run. Per example:

- "processes": every process the program starts, by the name multiprocessing
  gives it (`name=`, else `Process-1`, `Process-2`...; a Process subclass
  `Consumer-1`; a spawn context's `SpawnProcess-1`; a Pool's workers
  `ForkPoolWorker-N`; a Manager's server `SyncManager-1`, which takes a number
  from the same counter, so the children after it start at `Process-2`), the
  main process first as "main".
- "channels": every Queue, JoinableQueue and Pipe the program itself creates
  (none of a Pool's or a Manager's own), by the variable it is bound to; a
  Pipe by its two ends' names joined by "/" in the order Pipe() returns them.
  "puts"/"gets" are sends/recvs for a Pipe (the report's own convention);
  "line" is the line that creates it (the name to show when no variable can be
  seen: `Kind@NAME:LINE`). "writers"/"readers" are given only where who they
  are does not depend on the scheduler.
- "shared": Value, Array, Lock, Event, Barrier by variable, with the calls the
  program makes on them where they are exact (`with lock:` is one acquire).
- "pools": by variable: how many processes, the method the program calls and
  how many calls of its function that makes.
- "managers": by variable: its proxies and the calls the program's own code
  makes on them (print(proxy) is one `__repr__`).
- "exitcodes": the processes that end with a status other than 0 (not given
  for seed004_pool_map.py: leaving `with Pool(...)` calls terminate(), so a
  worker ends with 0 or -15 depending on whether it had already left).
"""

from __future__ import annotations

from typing import Any


def _names(prefix: str, first: int, last: int) -> list[str]:
    return [f"{prefix}-{n}" for n in range(first, last + 1)]


EXPECTED_COUNTS: dict[str, dict[str, Any]] = {
    "seed000_joinable_queue.py": {
        "processes": ["main", "Consumer-1", "Consumer-2"],
        "channels": {
            # 10 tasks and one poison pill per consumer, each marked done
            "tasks": {
                "kind": "JoinableQueue",
                "line": 43,
                "puts": 12,
                "gets": 12,
                "task_done": 12,
                "writers": ["main"],
                "readers": ["Consumer-1", "Consumer-2"],  # each takes its own pill
            },
            # which consumer answers how many tasks is up to the scheduler
            "results": {"kind": "Queue", "line": 44, "puts": 10, "gets": 10, "readers": ["main"]},
        },
    },
    "seed000_pipe.py": {
        "processes": ["main", "Process-1"],
        "channels": {
            "parent_conn/child_conn": {
                "kind": "Pipe",
                "line": 11,
                "puts": 1,
                "gets": 1,
                "writers": ["Process-1"],
                "readers": ["main"],
            },
        },
    },
    "seed000_value_array.py": {
        "processes": ["main", "Process-1", "Process-2"],
        "channels": {},
        "shared": {"num": {"kind": "Value"}, "arr": {"kind": "Array"}},
    },
    "seed001_bounded_queue.py": {
        "processes": ["main", *_names("Process", 1, 20)],
        "channels": {
            "queue": {
                "kind": "Queue",
                "line": 22,
                "maxsize": 3,
                "puts": 10,
                "gets": 10,
                "writers": _names("Process", 1, 10),
                "readers": _names("Process", 11, 20),
            },
        },
        "shared": {"lock": {"kind": "Lock", "acquires": 10}},  # once per reader
    },
    "seed001_hello_process.py": {"processes": ["main", "Process-1"], "channels": {}},
    "seed001_one_way_pipe.py": {
        "processes": ["main", "Process-1"],
        "channels": {
            "parent_conn/child_conn": {
                "kind": "Pipe",
                "duplex": False,
                "line": 12,
                "puts": 1,
                "gets": 1,
                "writers": ["Process-1"],
                "readers": ["main"],
            },
        },
    },
    "seed001_process_ids.py": {"processes": ["main", "Process-1"], "channels": {}},
    "seed001_queue.py": {
        "processes": ["main", "Process-1"],
        "channels": {
            "q": {
                "kind": "Queue",
                "line": 10,
                "puts": 1,
                "gets": 1,
                "writers": ["Process-1"],
                "readers": ["main"],
            },
        },
    },
    "seed001_two_way_pipe.py": {
        "processes": ["main", "Process-1", "Process-2"],
        "channels": {
            # "hello" from Process-1 to Process-2, "hello, too" back
            "pipe1/pipe2": {
                "kind": "Pipe",
                "line": 17,
                "puts": 2,
                "gets": 2,
                "writers": ["Process-1", "Process-2"],
                "readers": ["Process-1", "Process-2"],
            },
        },
    },
    "seed002_queue.py": {
        "processes": ["main", "Process-1"],
        "channels": {
            "q": {
                "kind": "Queue",
                "line": 10,
                "puts": 1,
                "gets": 1,
                "writers": ["Process-1"],
                "readers": ["main"],
            },
        },
    },
    "seed002_pipe.py": {
        "processes": ["main", "Process-1"],
        "channels": {
            "parent_conn/child_conn": {
                "kind": "Pipe",
                "line": 11,
                "puts": 1,
                "gets": 1,
                "writers": ["Process-1"],
                "readers": ["main"],
            },
        },
    },
    "seed002_value_array.py": {
        "processes": ["main", "Process-1"],
        "channels": {},
        "shared": {"num": {"kind": "Value"}, "arr": {"kind": "Array"}},
    },
    "seed002_lock.py": {
        "processes": ["main", "Process-1", "Process-2", "Process-3"],
        "channels": {},
        "shared": {"num": {"kind": "Value"}, "lock": {"kind": "Lock", "acquires": 3}},
    },
    "seed002_event_barrier.py": {
        "processes": ["main", "Process-1", "Process-2", "Process-3"],
        "channels": {},
        "shared": {
            "event": {"kind": "Event", "sets": 1, "waits": 3},
            "barrier": {"kind": "Barrier", "parties": 3, "waits": 3},
        },
    },
    "seed003_queue_argument.py": {
        "processes": ["main", "Process-1"],
        "channels": {
            "x": {
                "kind": "Queue",
                "line": 11,
                "puts": 1,
                "gets": 1,
                "writers": ["Process-1"],
                "readers": ["main"],
            },
        },
    },
    "seed003_global_queue_spawn.py": {
        "processes": ["main", "SpawnProcess-1"],
        # the child dies of NameError before its put; the parent's get(timeout=1)
        # raises queue.Empty: nothing is put or got
        "channels": {"q": {"kind": "Queue", "line": 21, "puts": 0, "gets": 0}},
        "exitcodes": {"SpawnProcess-1": 1},
    },
    "seed003_two_way_pipe.py": {
        "processes": ["main", "Process-1"],
        "channels": {
            # "hello world" from the child, "hi son" back
            "conn1/conn2": {
                "kind": "Pipe",
                "line": 11,
                "puts": 2,
                "gets": 2,
                "writers": ["main", "Process-1"],
                "readers": ["main", "Process-1"],
            },
        },
    },
    "seed003_pipe_eof.py": {
        "processes": ["main", "Process-1"],
        "channels": {
            # ten messages; the consumer's eleventh recv() raises EOFError and
            # takes no message
            "left/right": {
                "kind": "Pipe",
                "line": 26,
                "puts": 10,
                "gets": 10,
                "writers": ["main"],
                "readers": ["Process-1"],
            },
        },
    },
    "seed003_manager_list.py": {
        "processes": ["main", "SyncManager-1", *_names("Process", 2, 6)],
        "channels": {},
        "managers": {"man": {"proxies": {"ml": "list"}, "calls": {"append": 5, "__repr__": 1}}},
    },
    "seed003_manager_dict.py": {
        "processes": ["main", "SyncManager-1", *_names("Process", 2, 6)],
        "channels": {},
        "managers": {
            "man": {"proxies": {"md": "dict"}, "calls": {"__setitem__": 5, "__repr__": 1}}
        },
    },
    "seed003_pool_apply.py": {
        "processes": ["main", *_names("ForkPoolWorker", 1, 5)],
        "channels": {},
        "pools": {"pool_obj": {"processes": 5, "method": "apply", "calls": 10}},
    },
    "seed004_pool_apply_async.py": {
        "processes": ["main", *_names("ForkPoolWorker", 1, 4)],
        "channels": {},
        "pools": {"pool": {"processes": 4, "method": "apply_async", "calls": 3}},
    },
    "seed004_pool_map.py": {
        "processes": ["main", *_names("ForkPoolWorker", 1, 4)],
        "channels": {},
        "pools": {"pool": {"processes": 4, "method": "map", "calls": 3}},
    },
    "seed004_queue.py": {
        "processes": ["main", "Process-1"],
        "channels": {
            "q": {
                "kind": "Queue",
                "line": 12,
                "puts": 1,
                "gets": 1,
                "writers": ["Process-1"],
                "readers": ["main"],
            },
        },
    },
    "seed004_pipe.py": {
        "processes": ["main", "Process-1"],
        "channels": {
            "parent_conn/child_conn": {
                "kind": "Pipe",
                "line": 12,
                "puts": 1,
                "gets": 1,
                "writers": ["Process-1"],
                "readers": ["main"],
            },
        },
    },
}
