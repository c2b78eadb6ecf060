"""Every number on the run screen, one line each: the second half of its help (`?`).

Two words are kept apart everywhere: an item's **age** is how long it sat in
a channel; a process's **blocked** time is how long it waited inside a call.
Time a process spent stopped by ipcplay (SIGSTOP) is neither: it is shown as
stopped.
"""

from __future__ import annotations

NUMBERS: list[tuple[str, str]] = [
    (
        "status line",
        "live (or how old the data is) · speed · seconds since start · refresh Hz · "
        "ipcplay's own CPU % · journal events dropped (a ring was full)",
    ),
    ("depth  3/5", "items in the channel now (puts − gets), of its maxsize; ∞: unbounded"),
    ("in flight", "a pipe's messages sent and not yet received"),
    ("history", "the highest depth of each of the last seconds"),
    ("max", "the highest depth seen (a put that found the queue full counts as full)"),
    ("puts  gets", "calls that returned, counted by the processes (send / recv on a pipe)"),
    ("bytes", "pickled bytes delivered to readers"),
    ("put/s  get/s", "calls per second over the last second (msg/s, B/s per pipe direction)"),
    (
        "age",
        "how long the item taken last had been in the channel, from put() to get() "
        "(from getting room, for a put that waited for it)",
    ),
    ("blocked (channel)", "seconds its processes spent blocked in put/get on it, all together"),
    ("unfinished", "JoinableQueue: puts not yet matched by task_done()"),
    ("lost", "items put() accepted that the feeder thread could not pickle: never sent"),
    ("pid  ppid", "the OS's process ids: `ps` and `kill` see the same"),
    ("cpu", "CPU % over the last second, and its last minute as a sparkline"),
    ("rss  thr", "resident memory, and the OS's thread count"),
    ("in  out", "messages the process received / sent on all its channels"),
    (
        "blocked … for 2.3 s",
        "how long this call has been blocked so far (≥: seen by the "
        "observer, not stamped by the process); time stopped by ipcplay not included",
    ),
    ("ctx switches", "the OS's count of the main thread's context switches (- : unknown)"),
    ("items  pills", "items the role finished; poison pills received / sent"),
    ("blocked N s in total", "all the time the process spent blocked in calls, stops excluded"),
    ("log  1.491", "seconds since the start, in time order; a get never above its put"),
    ("log  #0:13", "the message: its writer's number and its sequence number"),
    ("log  38 B", "the message's pickled size"),
    ("log  'hello'", "the start of the message's content, control characters shown as \\xNN"),
    ("log  blocked 2ms", "how long that call was blocked (and, if so, how long it was stopped)"),
    (
        "shared",
        "a Value's number (expected − actual = lost updates), who holds a lock, "
        "acquires/waits, how many found it taken, seconds blocked on it",
    ),
    ("Waits tab  6.0 s", "how long that process has been blocked so far: the panel's figure"),
]
