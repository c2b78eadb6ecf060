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
from ipcplay.export.topology import Template, Topology
from ipcplay.export.totals import report_shared
from ipcplay.scenario.kinds import CHANNEL_BY_NAME, SHARED_BY_NAME
from ipcplay.scenario.model import Scenario

GRACE = 5  # seconds a process gets to notice `stop` before it is terminated


def remote_manager(scenario: Scenario) -> bool:
    """Whether main() starts a BaseManager of its own: a remote Manager queue."""
    return any(
        CHANNEL_BY_NAME[channel.kind].manager and channel.remote for channel in scenario.channels
    )


def sync_manager(scenario: Scenario) -> bool:
    """Whether main() needs a SyncManager: a Manager list, dict, Namespace or queue."""
    return any(SHARED_BY_NAME[obj.kind].manager for obj in scenario.shared) or any(
        CHANNEL_BY_NAME[channel.kind].manager and not channel.remote
        for channel in scenario.channels
    )


def main_function(scenario: Scenario, topo: Topology, emitter: Emitter) -> str:
    """The whole `def main():` of the script."""
    code = Code()
    with code.block("def main():"):
        code("ctx = multiprocessing.get_context(START_METHOD)")
        if topo.channels or scenario.shared:  # a demo role may have neither to make
            code()
        _start_managers(code, scenario)
        make_channels(code, topo)
        make_shared(code, scenario, topo)
        _make_events(code, scenario, topo, emitter)
        code()
        code("# One process per replica; each counts what it does in its own Tally.")
        code("processes = []")
        code("tallies = {}")
        for template in topo.templates:
            make_processes(code, template, topo, emitter)
        _start_processes(code, scenario, topo)
        _close_parent_ends(code, topo)
        _watch_exits(code, topo, emitter)
        _terminations(code, topo)
        _late_joins(code, topo)
        code()
        _wait(code, scenario)
        code()
        _drain(code, scenario, topo, emitter)
        code("report(processes, tallies, left)")
        report_shared(code, scenario, topo)
        if _demo_globals(scenario):
            code('print(f"parent: global COUNTER={COUNTER}")')
        if remote_manager(scenario):
            code("server.shutdown()  # stops the remote manager's server process")
        if sync_manager(scenario):
            code("man.shutdown()  # stops the manager's server process")
        _outcome(code, scenario)
    return code.text()


def _start_managers(code: Code, scenario: Scenario) -> None:
    """The SyncManager for Manager objects; the remote manager for remote queues."""
    if sync_manager(scenario):
        code("# The manager's server process holds the shared objects; processes get proxies.")
        code("# (The same as `with ctx.Manager() as man:` around the rest of main().)")
        code("man = ctx.Manager()")
    if remote_manager(scenario):
        code("# A remote manager: 127.0.0.1 keeps it on this machine, port 0 takes any free")
        code("# port, and only a process given the random authkey can connect.")
        code("authkey = os.urandom(16)")
        code('server = QueueManager(address=("127.0.0.1", 0), authkey=authkey, ctx=ctx)')
        code("server.start()")
        code('print(f"remote manager at {server.address[0]}:{server.address[1]}")')


def _make_events(code: Code, scenario: Scenario, topo: Topology, emitter: Emitter) -> None:
    """The list of pipe ends a forked child closes, `stop`, and the exit Events."""
    if emitter.fork_closes:
        ends = ", ".join(end for channel in topo.channels.values() for end in channel.ends)
        code.many(assign_wrapped("pipe_ends", f"[{ends}]", "[", "]"))
        code("# (every forked child gets a copy of all of them, and closes the others')")
    if scenario.endless:
        code("stop = ctx.Event()  # the parent sets it when the run's time is up")
    for name, var in topo.exited.items():
        code(f"{var} = ctx.Event()  # set by the parent once {name} has exited")


def _demo_globals(scenario: Scenario) -> bool:
    """Seed 003's globals demo: the parent changes its COUNTER around the start."""
    return any(process.role == "globals" for process in scenario.processes)


def _start_processes(code: Code, scenario: Scenario, topo: Topology) -> None:
    if any(
        template.spec.terminate_after or template.spec.joined_after for template in topo.templates
    ):
        code("started = time.monotonic()")
    if _demo_globals(scenario):
        code("global COUNTER")
        code(f"COUNTER = {PARENT_BEFORE}  # the parent sets its global before the children start")
    with code.block("for p in processes:"):
        code("p.start()")
    if _demo_globals(scenario):
        code(f"COUNTER = {PARENT_AFTER}  # and changes it once they run: no child sees this")


def _drain(code: Code, scenario: Scenario, topo: Topology, emitter: Emitter) -> None:
    """`left`: what each queue still holds, drained; a queue whose writer was
    cut off mid-message is not drained (see the comment it writes)."""
    queues = [channel for channel in topo.channels.values() if channel.timeouts]
    if not queues:
        code("left = {}  # no Queue to drain")
        return
    emitter.needs.add("drain")
    if scenario.endless or scenario.expect != "completed":
        code("# A writer terminated in the middle of a message may have left half of it")
        code("# in a queue's pipe; reading that would block for ever. Such a queue is")
        code("# not drained: its depth is what was put and not taken.")
        code("cut = {p.name for p in stuck}")
        code("left = {}")
        for channel in queues:
            writers = [
                name
                for template in topo.templates
                if channel.spec.name in template.spec.outputs
                for name in template.names
            ]
            with code.block(f"if not cut & {{{', '.join(quoted(n) for n in writers)}}}:"):
                code(f"left[{quoted(channel.spec.name)}] = drain({channel.var})")
        return
    entries = [
        f"{quoted(channel.spec.name)}: drain("
        + (f"server.get_queue({quoted(channel.spec.name)})" if channel.spec.remote else channel.var)
        + ")"
        for channel in queues
    ]
    code.many(_dict_lines("left", entries))


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
    return f"{name} = {open_}\n" + "".join(f"    {item},\n" for item in items) + close


def _named(template: Template) -> str:
    """The tuple of a template's process names, to pick its processes out."""
    return "(" + ", ".join(quoted(name) for name in template.names) + ",)"


def _watch_exits(code: Code, topo: Topology, emitter: Emitter) -> None:
    if not topo.exited:
        return
    emitter.needs.add("set_when_exited")
    code("# A thread per joined template tells its joiner when it has exited.")
    by_name = {template.spec.name: template for template in topo.templates}
    for name, var in topo.exited.items():
        code(f"ends = [p for p in processes if p.name in {_named(by_name[name])}]")
        code(f"threading.Thread(target=set_when_exited, args=(ends, {var}), daemon=True).start()")


def _late_joins(code: Code, topo: Topology) -> None:
    """joined_after: the parent joins the others first, then that one late."""
    late = [template for template in topo.templates if template.spec.joined_after]
    if not late:
        return
    names = ", ".join(quoted(name) for template in late for name in template.names)
    code()
    code("# The parent joins every other process as it ends...")
    with code.block(f"for p in [p for p in processes if p.name not in ({names},)]:"):
        code("p.join()")
    for template in late:
        after, name = number(template.spec.joined_after), template.spec.name
        code(f"# ...but {name} only {after} s after the start. If it ended sooner it is")
        code("# a zombie until then: `ps` shows it as <defunct>, holding its pid and exit")
        code("# status for a parent that has not asked yet. join() reaps it.")
        code(f"time.sleep(max(0.0, started + {after} - time.monotonic()))")


def _terminations(code: Code, topo: Topology) -> None:
    """terminate_after: the parent ends a process on a timer, as ipcplay does."""
    timed = sorted(
        (template for template in topo.templates if template.spec.terminate_after),
        key=lambda template: template.spec.terminate_after,
    )
    for template in timed:
        after = number(template.spec.terminate_after)
        code()
        code(f"# The parent calls terminate() on {template.spec.name} {after} s after the start:")
        code("# SIGTERM, and it dies wherever it is. No finally block, no release():")
        code("# whatever it holds at that moment stays held.")
        code(f"time.sleep(max(0.0, started + {after} - time.monotonic()))")
        with code.block("for p in processes:"), code.block(f"if p.name in {_named(template)}:"):
            code("p.terminate()")


def _close_parent_ends(code: Code, topo: Topology) -> None:
    ends = [emitter for channel in topo.channels.values() for emitter in channel.ends]
    if not ends:
        return
    code("# The parent never uses the pipe ends it made, so it closes its copies now.")
    code("# A reader sees EOFError only once *every* copy of the write end is closed:")
    code("# forget one here and that reader waits forever.")
    for end in ends:
        code(f"{end}.close()")


def _wait(code: Code, scenario: Scenario) -> None:
    if not scenario.endless and scenario.expect == "completed":
        with code.block("for p in processes:"):
            code("p.join()")
        return
    limit = "DURATION" if scenario.endless else "TIMEOUT"
    if scenario.endless:
        code("# Let it run for DURATION s (or until every process has ended), then stop it.")
    else:
        code(f"# Documented to end in a {scenario.expect}: wait TIMEOUT s at most, not forever.")
    code(f"deadline = time.monotonic() + {limit}")
    with code.block("for p in processes:"):
        code("p.join(max(0.0, deadline - time.monotonic()))")
    if scenario.endless:
        code("stop.set()  # every process sees it between two items and returns")
        code(f"deadline = time.monotonic() + {GRACE}")
        with code.block("for p in processes:"):
            code("p.join(max(0.0, deadline - time.monotonic()))")
    code("stuck = [p for p in processes if p.is_alive()]")
    with code.block("for p in stuck:"):
        code("p.terminate()  # SIGTERM: it was not going to finish by itself")
        code("p.join(5)")
        with code.block("if p.is_alive():"):
            code("p.kill()  # terminate() did not end it: SIGKILL")
            code("p.join()")


def _outcome(code: Code, scenario: Scenario) -> None:
    waits = scenario.endless or scenario.expect != "completed"
    code("failed = [p.name for p in processes if p.exitcode != 0]")
    if waits:
        with code.block("if stuck:"):
            code('names = ", ".join(p.name for p in stuck)')
            if scenario.endless:
                code(
                    f'print(f"outcome: still running {GRACE} s after stop, terminated: {{names}}")'
                )
            else:
                code('print(f"outcome: did not finish within {TIMEOUT} s, terminated: {names}")')
            if scenario.expect != "completed":
                code(f'print("(this scenario is documented to end in a {scenario.expect})")')
        with code.block("elif failed:"):
            code('print("outcome: crashed:", ", ".join(failed))')
        with code.block("else:"):
            if scenario.endless:
                code('print(f"outcome: completed (ran for {DURATION} s, then stopped)")')
            else:
                code('print("outcome: completed")')
        code("return 1 if stuck or failed else 0")
    else:
        with code.block("if failed:"):
            code('print("outcome: crashed:", ", ".join(failed))')
            code("return 1")
        code('print("outcome: completed")')
        code("return 0")
