"""Every number on the run screen, one line each: the second half of its help (`?`).

Two words are kept apart everywhere: an item's **age** is how long it sat in
a channel; a process's **blocked** time is how long it waited inside a call.
Time a process spent stopped by ipcplay (SIGSTOP) is neither: it is shown as
stopped. Each line fits the help's box at 100 columns: one line each.
"""

from __future__ import annotations

NUMBERS: list[tuple[str, str]] = [
    ("● live · 0.25×", "fresh data (or its age) · slow-motion speed"),
    ("12 s · 10 Hz", "time since the start · screen refreshes a second"),
    ("ipcplay 2% CPU", "what the observer itself costs"),
    ("journal dropped", "events lost because a process's ring was full"),
    ("depth 3/5", "items in the channel now (puts − gets) / maxsize"),
    ("in flight", "a pipe's messages sent, not yet received"),
    ("history · max", "the top depth of each second · the highest seen"),
    ("puts · gets", "calls that returned (send · recv on a pipe)"),
    ("bytes", "pickled bytes delivered to readers"),
    ("put/s · get/s", "calls a second, over the last second"),
    ("age", "how long the item taken last was in the channel"),
    ("blocked (channel)", "its processes' seconds blocked in put/get on it"),
    ("unfinished · lost", "puts without task_done() · items never sent"),
    ("pid · ppid", "the OS's ids: what `ps` and `kill` see"),
    ("cpu · rss · thr", "CPU % (and its last minute) · memory · threads"),
    ("in · out", "messages the process received · sent"),
    ("for 2.3 s", "this call's blocked time (≥: seen, not stamped)"),
    ("ctx switches", "the OS's context switches (main thread; -: ?)"),
    ("items · pills", "items done · poison pills received and sent"),
    ("blocked N s in total", "the process's blocked time, all calls"),
    ("log 1.491", "seconds since start; a get never above its put"),
    ("log #0:13  38 B", "message: writer number:sequence · pickled size"),
    ("log 'hello'", "the message's start; control chars as \\xNN"),
    ("log blocked 2ms", "that call's blocked time (and time stopped)"),
    ("shared: 3/4 lost 1", "a Value · lost updates = expected − actual"),
    ("acq/wait · contended", "acquires or waits · those that found it taken"),
    ("Waits tab 6.0 s", "the same figure as the process's 'for 6.0 s'"),
]
