"""main(): what the script's parent process does, top to bottom.

It makes the channels and shared objects (make.py), starts one process per
replica, closes the pipe ends it does not use, terminates and joins on the
scenario's timers, waits (for ever, or for the documented verdict's time),
drains the queues, prints the totals (snippets.REPORT, totals.py) and says
how it ended.
"""

from __future__ import annotations

from ipcplay.engine.demos import PARENT_AFTER, PARENT_BEFORE
from ipcplay.export.code import Code, number, quoted
from ipcplay.export.emitter import Emitter
from ipcplay.export.make import make_channels, make_processes, make_shared
from ipcplay.export.topology import QUEUES, Template, Topology
from ipcplay.export.totals import report_shared
from ipcplay.scenario.model import Scenario

GRACE = 5  # seconds a process gets to notice `stop` before it is terminated


def remote_manager(s: Scenario) -> bool:
    return any(c.kind == "ManagerQueue" and c.remote for c in s.channels)


def sync_manager(s: Scenario) -> bool:
    """Whether main() needs a SyncManager: a Manager list, dict, Namespace or queue."""
    return any(o.kind.startswith("Manager") for o in s.shared) or any(
        c.kind == "ManagerQueue" and not c.remote for c in s.channels
    )


def main_function(s: Scenario, topo: Topology, e: Emitter) -> str:
    c = Code()
    with c.block("def main():"):
        c("ctx = multiprocessing.get_context(START_METHOD)")
        if topo.channels or s.shared:  # a demo role may have neither to make
            c()
        if sync_manager(s):
            c("# The manager's server process holds the shared objects; processes get proxies.")
            c("# (The same as `with ctx.Manager() as man:` around the rest of main().)")
            c("man = ctx.Manager()")
        if remote_manager(s):
            c("# A remote manager: 127.0.0.1 keeps it on this machine, port 0 takes any free")
            c("# port, and only a process given the random authkey can connect.")
            c("authkey = os.urandom(16)")
            c('server = QueueManager(address=("127.0.0.1", 0), authkey=authkey, ctx=ctx)')
            c("server.start()")
            c('print(f"remote manager at {server.address[0]}:{server.address[1]}")')
        make_channels(c, topo)
        make_shared(c, s, topo)
        if e.fork_closes:
            ends = ", ".join(end for ch in topo.channels.values() for end in ch.ends)
            c.many(assign_wrapped("pipe_ends", f"[{ends}]", "[", "]"))
            c("# (every forked child gets a copy of all of them, and closes the others')")
        if s.endless:
            c("stop = ctx.Event()  # the parent sets it when the run's time is up")
        for name, var in topo.exited.items():
            c(f"{var} = ctx.Event()  # set by the parent once {name} has exited")
        c()
        c("# One process per replica; each counts what it does in its own Tally.")
        c("processes = []")
        c("tallies = {}")
        for t in topo.templates:
            make_processes(c, t, topo, e)
        if any(t.spec.terminate_after or t.spec.joined_after for t in topo.templates):
            c("started = time.monotonic()")
        demo_globals = any(p.role == "globals" for p in s.processes)
        if demo_globals:
            c("global COUNTER")
            c(f"COUNTER = {PARENT_BEFORE}  # the parent sets its global before the children start")
        with c.block("for p in processes:"):
            c("p.start()")
        if demo_globals:
            c(f"COUNTER = {PARENT_AFTER}  # and changes it once they run: no child sees this")
        _close_parent_ends(c, topo)
        _watch_exits(c, topo, e)
        _terminations(c, topo)
        _late_joins(c, topo)
        c()
        _wait(c, s)
        c()
        queues = [ch for ch in topo.channels.values() if ch.kind in QUEUES]
        waits = s.endless or s.expect != "completed"
        if queues and waits:
            e.needs.add("drain")
            c("# A writer terminated in the middle of a message may have left half of it")
            c("# in a queue's pipe; reading that would block for ever. Such a queue is")
            c("# not drained: its depth is what was put and not taken.")
            c("cut = {p.name for p in stuck}")
            c("left = {}")
            for ch in queues:
                names = [
                    n for t in topo.templates if ch.spec.name in t.spec.outputs for n in t.names
                ]
                with c.block(f"if not cut & {{{', '.join(quoted(n) for n in names)}}}:"):
                    c(f"left[{quoted(ch.spec.name)}] = drain({ch.var})")
        elif queues:
            e.needs.add("drain")
            items = [
                f"{quoted(ch.spec.name)}: drain("
                + (f"server.get_queue({quoted(ch.spec.name)})" if ch.spec.remote else ch.var)
                + ")"
                for ch in queues
            ]
            c.many(_dict_lines("left", items))
        else:
            c("left = {}  # no Queue to drain")
        c("report(processes, tallies, left)")
        report_shared(c, s, topo)
        if demo_globals:
            c('print(f"parent: global COUNTER={COUNTER}")')
        if remote_manager(s):
            c("server.shutdown()  # stops the remote manager's server process")
        if sync_manager(s):
            c("man.shutdown()  # stops the manager's server process")
        _outcome(c, s)
    return c.text()


def _dict_lines(name: str, items: list[str]) -> str:
    one = f"{name} = {{{', '.join(items)}}}"
    if len(one) <= 96:
        return one
    return f"{name} = {{\n" + "".join(f"    {i},\n" for i in items) + "}"


def assign_wrapped(name: str, expr: str, open_: str, close: str) -> str:
    one = f"{name} = {expr}"
    if len(one) <= 100:
        return one
    items = expr[1:-1].split(", ")
    return f"{name} = {open_}\n" + "".join(f"    {i},\n" for i in items) + close


def _named(t: Template) -> str:
    """The tuple of a template's process names, to pick its processes out."""
    return "(" + ", ".join(quoted(n) for n in t.names) + ",)"


def _watch_exits(c: Code, topo: Topology, e: Emitter) -> None:
    if not topo.exited:
        return
    e.needs.add("set_when_exited")
    c("# A thread per joined template tells its joiner when it has exited.")
    by_name = {t.spec.name: t for t in topo.templates}
    for name, var in topo.exited.items():
        c(f"ends = [p for p in processes if p.name in {_named(by_name[name])}]")
        c(f"threading.Thread(target=set_when_exited, args=(ends, {var}), daemon=True).start()")


def _late_joins(c: Code, topo: Topology) -> None:
    """joined_after: the parent joins the others first, then that one late."""
    late = [t for t in topo.templates if t.spec.joined_after]
    if not late:
        return
    names = ", ".join(quoted(n) for t in late for n in t.names)
    c()
    c("# The parent joins every other process as it ends...")
    with c.block(f"for p in [p for p in processes if p.name not in ({names},)]:"):
        c("p.join()")
    for t in late:
        after = number(t.spec.joined_after)
        c(f"# ...but {t.spec.name} only {after} s after the start. If it ended sooner it is")
        c("# a zombie until then: `ps` shows it as <defunct>, holding its pid and exit")
        c("# status for a parent that has not asked yet. join() reaps it.")
        c(f"time.sleep(max(0.0, started + {after} - time.monotonic()))")


def _terminations(c: Code, topo: Topology) -> None:
    """terminate_after: the parent ends a process on a timer, as ipcplay does."""
    timed = sorted(
        (t for t in topo.templates if t.spec.terminate_after),
        key=lambda t: t.spec.terminate_after,
    )
    for t in timed:
        after = number(t.spec.terminate_after)
        c()
        c(f"# The parent calls terminate() on {t.spec.name} {after} s after the start:")
        c("# SIGTERM, and it dies wherever it is. No finally block, no release():")
        c("# whatever it holds at that moment stays held.")
        c(f"time.sleep(max(0.0, started + {after} - time.monotonic()))")
        with c.block("for p in processes:"), c.block(f"if p.name in {_named(t)}:"):
            c("p.terminate()")


def _close_parent_ends(c: Code, topo: Topology) -> None:
    ends = [e for ch in topo.channels.values() for e in ch.ends]
    if not ends:
        return
    c("# The parent never uses the pipe ends it made, so it closes its copies now.")
    c("# A reader sees EOFError only once *every* copy of the write end is closed:")
    c("# forget one here and that reader waits forever.")
    for end in ends:
        c(f"{end}.close()")


def _wait(c: Code, s: Scenario) -> None:
    if not s.endless and s.expect == "completed":
        with c.block("for p in processes:"):
            c("p.join()")
        return
    limit = "DURATION" if s.endless else "TIMEOUT"
    if s.endless:
        c("# Let it run for DURATION s (or until every process has ended), then stop it.")
    else:
        c(f"# Documented to end in a {s.expect}: wait TIMEOUT s at most, not forever.")
    c(f"deadline = time.monotonic() + {limit}")
    with c.block("for p in processes:"):
        c("p.join(max(0.0, deadline - time.monotonic()))")
    if s.endless:
        c("stop.set()  # every process sees it between two items and returns")
        c(f"deadline = time.monotonic() + {GRACE}")
        with c.block("for p in processes:"):
            c("p.join(max(0.0, deadline - time.monotonic()))")
    c("stuck = [p for p in processes if p.is_alive()]")
    with c.block("for p in stuck:"):
        c("p.terminate()  # SIGTERM: it was not going to finish by itself")
        c("p.join(5)")
        with c.block("if p.is_alive():"):
            c("p.kill()  # terminate() did not end it: SIGKILL")
            c("p.join()")


def _outcome(c: Code, s: Scenario) -> None:
    waits = s.endless or s.expect != "completed"
    c("failed = [p.name for p in processes if p.exitcode != 0]")
    if waits:
        with c.block("if stuck:"):
            c('names = ", ".join(p.name for p in stuck)')
            if s.endless:
                c(f'print(f"outcome: still running {GRACE} s after stop, terminated: {{names}}")')
            else:
                c('print(f"outcome: did not finish within {TIMEOUT} s, terminated: {names}")')
            if s.expect != "completed":
                c(f'print("(this scenario is documented to end in a {s.expect})")')
        with c.block("elif failed:"):
            c('print("outcome: crashed:", ", ".join(failed))')
        with c.block("else:"):
            if s.endless:
                c('print(f"outcome: completed (ran for {DURATION} s, then stopped)")')
            else:
                c('print("outcome: completed")')
        c("return 1 if stuck or failed else 0")
    else:
        with c.block("if failed:"):
            c('print("outcome: crashed:", ", ".join(failed))')
            c("return 1")
        c('print("outcome: completed")')
        c("return 0")
