"""`to_python(scenario)`: the whole standalone script, as text.

Layout of a script, top to bottom: a note when the scenario is not meant to
complete; the docstring (preset name, title, explanation); imports; constants;
the `Tally` that counts; the helpers the processes use; one function per
`[[process]]` table; `report()`; `main()`. Only what is used is written.

This module is pure (scenario in, text out) and imports neither Textual nor
anything that starts a process, so a UI can show the code as it is edited.
"""

from __future__ import annotations

import textwrap

from ipcplay.engine.demos import PARENT_AFTER, PARENT_BEFORE
from ipcplay.export import literals
from ipcplay.export.code import INDENT, LIMIT, Code, call, items, number, quoted
from ipcplay.export.names import script_names
from ipcplay.export.roles import Emitter, emit, py_literal, uses_index
from ipcplay.export.topology import Template, Topology, build
from ipcplay.scenario.model import Scenario

VERDICT_WORDS = {
    "timeout": "a timeout: it does not finish within its duration",
    "deadlock": "a deadlock: processes wait for each other, forever",
    "hang": "a hang: a process waits for something that will never come",
    "crashed": "a crash: a process exits with an error",
}

TALLY = '''
class Tally:
    """What one process did on each channel: its put, get and task_done calls.

    The numbers live in shared memory (a RawArray of integers). Only the
    process itself writes them, so they need no lock, and the parent reads
    them at the end -- even those of a process it had to stop.
    """

    OPS = ("put", "get", "task_done")

    def __init__(self):
        self.numbers = multiprocessing.RawArray("q", len(self.OPS) * len(CHANNELS))

    def add(self, op, channel):
        self.numbers[self._slot(op, channel)] += 1

    def count(self, op, channel):
        return self.numbers[self._slot(op, channel)]

    def _slot(self, op, channel):
        return self.OPS.index(op) * len(CHANNELS) + list(CHANNELS).index(channel)
'''

HELPERS = {
    "coroutines": '''
def consumer(taken):
    """Seed 003's consumer, a generator: take n from yield, answer '200 OK'.
    Each n it takes is appended to `taken`, so the producer can count them."""
    r = ""
    while True:
        n = yield r
        if not n:
            return
        print(f"[CONSUMER] consuming {n}...", flush=True)
        taken.append(n)
        time.sleep(0.05)  # its work (seed 003 sleeps 1 s)
        r = "200 OK"


def produce(c, count):
    """Seed 003's producer: start the generator, send 1..count, close it.
    Returns (sent, replies, switches): each next(), send() and close() is two
    switches, into the consumer and back."""
    next(c)  # runs the consumer to its first yield
    sent = replies = 0
    switches = 2
    n = 0
    while n < count:
        n += 1
        print(f"[PRODUCER] producing {n}...", flush=True)
        cr = c.send(n)
        sent += 1
        switches += 2
        print(f"[PRODUCER] consumer return: {cr}", flush=True)
        replies += cr == "200 OK"
    c.close()
    return sent, replies, switches + 2
''',
    "square": '''
def square(x):
    """compute = "square": the seed's task, as text: "i * i = i²"."""
    if isinstance(x, int) and not isinstance(x, bool):
        return f"{x} * {x} = {x * x}"
    return f"{x!r} * {x!r}"
''',
    "burn_cpu": '''
def burn_cpu(seconds):
    """work = cpu: keep one core busy for `seconds` (a loop, not a sleep)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
''',
    "take": '''
def take(q, stop):
    """get() that gives up once `stop` is set. A blocked get() would never
    notice it, so wait in slices of 0.1 s."""
    while not stop.is_set():
        try:
            return q.get(timeout=0.1)
        except Empty:
            continue
    return STOPPED
''',
    "take_simple": '''
def take_simple(q, stop):
    """SimpleQueue.get() has no timeout: look with empty() every 0.01 s instead."""
    while not stop.is_set():
        if not q.empty():
            return q.get()
        time.sleep(0.01)
    return STOPPED
''',
    "receive": '''
def receive(conn, stop):
    """recv() that gives up once `stop` is set: poll() waits 0.1 s at a time.
    (poll() is also true at EOF; recv() then raises EOFError as usual.)"""
    while not stop.is_set():
        if conn.poll(0.1):
            return conn.recv()
    return STOPPED
''',
    "put_or_stop": '''
def put_or_stop(q, item, stop):
    """put() on a bounded queue that gives up once `stop` is set (0.1 s at a time)."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
        except Full:
            continue
        return True
    return False
''',
    "square_function": '''
def square_function(x):
    """The function payload: defined at module level, so pickle can send it."""
    return x * x
''',
    "set_when_exited": '''
def set_when_exited(processes, exited):
    """Set `exited` once every one of `processes` has ended: the parent's join(),
    passed on to a process that waits for it. It waits on each one's sentinel,
    which is ready when the process ends, so the parent's own join() still reaps it."""
    for p in processes:
        multiprocessing.connection.wait([p.sentinel])
    exited.set()
''',
    "drain": '''
def drain(q):
    """Take what is left in a queue once every process has ended: its real depth.
    (A writer that exits first pushes everything it put into the queue's pipe.)"""
    left = 0
    while True:
        try:
            q.get(timeout=0.1)
        except Empty:
            return left
        left += 1
''',
}

REPORT = '''
def report(processes, tallies, left):
    """Print the totals `ipcplay run --json` reports: per channel puts, gets and
    depth (and task_done on a JoinableQueue); per process messages sent and received."""
    print("totals:")
    for channel, kind in CHANNELS.items():
        puts = sum(t.count("put", channel) for t in tallies.values())
        gets = sum(t.count("get", channel) for t in tallies.values())
        # A Queue's depth was counted by draining it. A pipe's ends are closed by
        # now and SimpleQueue.get() cannot time out, so for those: puts - gets.
        depth = left.get(channel, puts - gets)
        line = f"channel {channel}: puts={puts} gets={gets} depth={depth}"
        if kind == "JoinableQueue":
            done = sum(t.count("task_done", channel) for t in tallies.values())
            line += f" task_done={done}"
        print(line)
    for p in processes:
        sent = sum(tallies[p.name].count("put", c) for c in CHANNELS)
        received = sum(tallies[p.name].count("get", c) for c in CHANNELS)
        print(f"process {p.name}: sent={sent} received={received} exitcode={p.exitcode}")
'''

REMOTE = '''
class QueueManager(BaseManager):
    """A manager of our own: it serves queues by name to whoever connects with
    its address and authkey (the docs' "Using a remote manager")."""


QUEUES = {}


def get_queue(name, maxsize=0):
    """Runs in the server process: the queue `name`. main() makes each one
    before any process connects, so two callers never race to make it."""
    if name not in QUEUES:
        QUEUES[name] = Queue(maxsize)
    return QUEUES[name]


QueueManager.register("get_queue", callable=get_queue)


def connect(where, name):
    """A process's way in: connect() to the server at where = (address, authkey)
    and get a proxy to its queue `name`; every put and get is a round trip."""
    address, authkey = where
    manager = QueueManager(address=address, authkey=authkey)
    manager.connect()
    return manager.get_queue(name)
'''

GRACE = 5  # seconds a process gets to notice `stop` before it is terminated


def to_python(scenario: Scenario) -> str:
    """The standalone script for `scenario`: standard library only, runnable
    with a plain `python3`, printing the totals `ipcplay run --json` reports.

    Made twice: first with every user name a placeholder, to learn every name
    the script itself uses (imports, helpers, constants, locals); then for
    real, with the user's names kept clear of those."""
    own = script_names(_generate(scenario, build(scenario, probe=True)))
    return _generate(scenario, build(scenario, reserved=own))


def _generate(scenario: Scenario, topo: Topology) -> str:
    e = Emitter(scenario, topo)
    functions = [emit(t, e) for t in topo.templates]
    main = _main(scenario, topo, e)
    parts = [
        _head(scenario) + "\n\n" + _imports(e) + "\n\n" + _constants(scenario, topo, e),
        TALLY.strip("\n"),
        REMOTE.strip("\n") if _remote(scenario) else "",
        *(HELPERS[h].strip("\n") for h in HELPERS if h in e.needs),
        *functions,
        REPORT.strip("\n"),
        main,
        'if __name__ == "__main__":\n    sys.exit(main())',
    ]
    return "\n\n\n".join(p for p in parts if p) + "\n"


# --------------------------------------------------------------------------- head


def _head(s: Scenario) -> str:
    lines = ["#!/usr/bin/env python3"]
    if s.expect != "completed":
        after = (
            f"DURATION ({number(s.duration)} s) and {GRACE} s more after setting `stop`"
            if s.endless
            else f"TIMEOUT ({number(s.duration)} s, the scenario's duration)"
        )
        note = (
            f"NOTE: this scenario is documented to end in {VERDICT_WORDS[s.expect]}. "
            f"So the script does not wait forever: after {after} it terminates whatever "
            "is still running and prints the totals so far."
        )
        lines += ["# " + line for line in textwrap.wrap(note, width=77)]
    text = f"{s.name}: {s.title}"
    explain = literals.prose(s.explain)
    if explain:
        text += "\n\n" + explain
    how = (
        f"Exported from the ipcplay preset {s.name!r} as a standalone script: it uses only "
        "Python's standard library (multiprocessing), so `python3 THIS_FILE` runs it "
        "anywhere. At the end it prints the totals `ipcplay run --json` reports for the "
        "same scenario: puts, gets and depth per channel, messages per process."
    )
    text += "\n\n" + textwrap.fill(how, width=79)
    if s.endless:
        until = (
            "The scenario runs until stopped: the script runs it for DURATION "
            f"({number(s.duration)} s), then sets `stop`, and every process returns "
            "between two items."
        )
        text += "\n\n" + textwrap.fill(until, width=79)
    text += "\n"
    # The first line shares its row with the opening quotes: 3 columns less.
    head, newline, rest = text.partition("\n")
    head = "\n".join(textwrap.wrap(head, width=96, break_on_hyphens=False)) or head
    lines.append(literals.docstring(literals.prose(head + newline + rest, width=99) + "\n"))
    return "\n".join(lines)


def _imports(e: Emitter) -> str:
    plain = {"multiprocessing", "sys"}
    plain |= {
        m for m in ("datetime", "itertools", "os", "random", "signal", "time") if m in e.needs
    }
    needs_time = (
        e.scenario.endless
        or e.scenario.expect != "completed"
        or bool({"burn_cpu", "take_simple"} & e.needs)
    )
    if needs_time:
        plain.add("time")
    if "set_when_exited" in e.needs:
        plain |= {"multiprocessing.connection", "threading"}
    if _remote(e.scenario):
        plain.add("os")
    lines = [f"import {m}" for m in sorted(plain)]
    if any(o.kind == "SharedMemory" for o in e.scenario.shared):
        lines.append("from multiprocessing import shared_memory")
    if _remote(e.scenario):
        lines.append("from multiprocessing.managers import BaseManager")
    from_queue = []
    if e.needs & {"take", "drain"} or _has_queue(e.topo):
        from_queue.append("Empty")
    if "put_or_stop" in e.needs:
        from_queue.append("Full")
    if _remote(e.scenario):
        from_queue.append("Queue")
    if from_queue:
        lines.append(f"from queue import {', '.join(from_queue)}")
    return "\n".join(lines)


def _has_queue(topo: Topology) -> bool:
    return any(c.kind in _QUEUES for c in topo.channels.values())


_QUEUES = ("Queue", "JoinableQueue", "ManagerQueue")


def _remote(s: Scenario) -> bool:
    return any(c.kind == "ManagerQueue" and c.remote for c in s.channels)


def _sync(s: Scenario) -> bool:
    """Whether main() needs a SyncManager: a Manager list, dict, Namespace or queue."""
    return any(o.kind.startswith("Manager") for o in s.shared) or any(
        c.kind == "ManagerQueue" and not c.remote for c in s.channels
    )


def _constants(s: Scenario, topo: Topology, e: Emitter) -> str:
    c = Code()
    c(f"START_METHOD = {quoted(s.start_method)}  # how children start: fork, spawn or forkserver")
    seeded = any(
        p.payload.kind == "bytes" and p.role in ("producer", "pinger") for p in s.processes
    )
    why = "random payload bytes come from it" if seeded else "nothing here is random"
    c(f"SEED = {s.seed}  # the scenario's seed: {why}")
    if s.endless:
        c(f"DURATION = {number(s.duration)}  # seconds the run lasts; then `stop` ends it")
    if s.expect != "completed" and not s.endless:
        c(f"TIMEOUT = {number(s.duration)}  # seconds before the parent gives up waiting")
    kinds = ", ".join(f"{quoted(ch.spec.name)}: {quoted(ch.kind)}" for ch in topo.channels.values())
    c.many(_assign("CHANNELS", "{" + kinds + "}", "{", "}"))
    if "PILL" in e.needs:
        c("PILL = None  # the poison pill: a reader that takes one knows no more items will come")
    if s.endless:
        c("STOPPED = object()  # what a wait returns once the run's time is up")
    c.lines += e.constants
    return c.text()


def _assign(name: str, expr: str, open_: str, close: str) -> str:
    one = f"{name} = {expr}"
    if len(one) <= 100:
        return one
    items = expr[1:-1].split(", ")
    return f"{name} = {open_}\n" + "".join(f"    {i},\n" for i in items) + close


# --------------------------------------------------------------------------- main


def _main(s: Scenario, topo: Topology, e: Emitter) -> str:
    c = Code()
    with c.block("def main():"):
        c("ctx = multiprocessing.get_context(START_METHOD)")
        if topo.channels or s.shared:  # a demo role may have neither to make
            c()
        if _sync(s):
            c("# The manager's server process holds the shared objects; processes get proxies.")
            c("# (The same as `with ctx.Manager() as man:` around the rest of main().)")
            c("man = ctx.Manager()")
        if _remote(s):
            c("# A remote manager: 127.0.0.1 keeps it on this machine, port 0 takes any free")
            c("# port, and only a process given the random authkey can connect.")
            c("authkey = os.urandom(16)")
            c('server = QueueManager(address=("127.0.0.1", 0), authkey=authkey, ctx=ctx)')
            c("server.start()")
            c('print(f"remote manager at {server.address[0]}:{server.address[1]}")')
        _make_channels(c, topo)
        _make_shared(c, s, topo)
        if e.fork_closes:
            ends = ", ".join(end for ch in topo.channels.values() for end in ch.ends)
            c.many(_assign("pipe_ends", f"[{ends}]", "[", "]"))
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
            _make_processes(c, t, topo, e)
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
        queues = [ch for ch in topo.channels.values() if ch.kind in _QUEUES]
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
        _report_shared(c, s, topo)
        if demo_globals:
            c('print(f"parent: global COUNTER={COUNTER}")')
        if _remote(s):
            c("server.shutdown()  # stops the remote manager's server process")
        if _sync(s):
            c("man.shutdown()  # stops the manager's server process")
        _outcome(c, s)
    return c.text()


def _dict_lines(name: str, items: list[str]) -> str:
    one = f"{name} = {{{', '.join(items)}}}"
    if len(one) <= 96:
        return one
    return f"{name} = {{\n" + "".join(f"    {i},\n" for i in items) + "}"


def _make_channels(c: Code, topo: Topology) -> None:
    for ch in topo.channels.values():
        spec = ch.spec
        if spec.kind == "Pipe":
            a, b = ch.ends
            if spec.duplex:
                c(f"{a}, {b} = ctx.Pipe()  # duplex: each end can send() and recv()")
            else:
                c(f"{a}, {b} = ctx.Pipe(duplex=False)  # one-way: (reader end, writer end)")
        elif spec.kind == "SimpleQueue":
            c(f"{ch.var} = ctx.SimpleQueue()  # no maxsize, no feeder thread, no timeouts")
        elif spec.kind == "ManagerQueue" and spec.remote:
            name = quoted(spec.name)
            c(f"server.get_queue({name}, {spec.maxsize})", "made now, before anyone connects")
            c(f"{ch.var} = (server.address, authkey)", "what a process needs to connect()")
        elif spec.kind == "ManagerQueue":
            arg = str(spec.maxsize) if spec.maxsize else ""
            c(f"{ch.var} = man.Queue({arg})", "a queue.Queue in the server; this is a proxy")
        else:
            arg = str(spec.maxsize) if spec.maxsize else ""
            if spec.maxsize:
                note = f"bounded: put() blocks while it holds {items(spec.maxsize)}"
            elif spec.kind == "JoinableQueue":
                note = "a Queue with task_done() and join()"
            else:
                note = "unbounded"
            c(f"{ch.var} = ctx.{spec.kind}({arg})  # {note}")


def _make_shared(c: Code, s: Scenario, topo: Topology) -> None:
    for o in s.shared:
        var = topo.shared[o.name]
        if o.kind == "Value":
            init = number(o.value) if o.is_float else str(o.value)
            if o.is_float and "." not in init and "e" not in init:
                init += ".0"
            c(f"{var} = ctx.Value({quoted(o.typecode)}, {init})", "with a lock: see get_lock()")
        elif o.kind == "Array":
            vals = ", ".join(repr(v) for v in o.values)
            c.many(call(f"{var} = ctx.Array", [quoted(o.typecode), f"[{vals}]"]))
        elif o.kind in ("Semaphore", "BoundedSemaphore"):
            c(f"{var} = ctx.{o.kind}({o.value})", f"{o.value} permits")
        elif o.kind == "Barrier":
            c(f"{var} = ctx.Barrier({o.parties})", f"lets {o.parties} waiters through together")
        elif o.kind == "SharedMemory":
            c(f"{var} = shared_memory.SharedMemory(create=True, size={o.size})", "in /dev/shm")
        elif o.kind == "ManagerList":
            items = ", ".join(py_literal(v) for v in o.values)
            c.many(call(f"{var} = man.list", [f"[{items}]"]))
        elif o.kind == "ManagerDict":
            pairs = ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in o.items)
            c.many(call(f"{var} = man.dict", ["{" + pairs + "}"]))
        elif o.kind == "ManagerNamespace":
            c(f"{var} = man.Namespace()", "attributes only; each one set is a call to the server")
        else:
            c(f"{var} = ctx.{o.kind}()")


def _report_shared(c: Code, s: Scenario, topo: Topology) -> None:
    """What the Values and Arrays hold at the end; for a Value that only adds
    touch, also what it should hold and how many updates were lost."""
    for o in s.shared:
        var = topo.shared[o.name]
        if o.kind == "SharedMemory":
            _print(c, f'f"shared {o.name}: size={o.size} byte_sum={{sum({var}.buf)}}"')
            c(f"{var}.close()")
            c(f"{var}.unlink()  # once, by the process that created it")
        if o.kind == "ManagerList" and _nested_key(s, o.name) is not None:
            key = _nested_key(s, o.name)
            appends = sum(
                p.replicas * p.count for p in s.processes for st in p.steps if st.target == o.name
            )
            inner0 = o.values[key] if -len(o.values) <= key < len(o.values) else ()
            expected = (len(inner0) if isinstance(inner0, tuple | list) else 0) + appends
            c(f"expected = {expected}  # items the inner list would hold if no append were lost")
            c(f"inner = len({var}[{key}])")
            words = "expected={expected} lost={expected - inner}"
            _print(c, f'f"shared {o.name}: value={{list({var})}} {words}"')
        elif o.kind == "Array" or o.kind == "ManagerList":
            _print(c, f'f"shared {o.name}: value={{list({var})}}"')
        elif o.kind == "ManagerDict":
            _print(c, f'f"shared {o.name}: value={{dict({var})}}"')
        elif o.kind == "ManagerNamespace":
            _print(c, f'f"shared {o.name}: value={{{var}}}"')
        elif o.kind != "Value":
            continue
        elif s.expect == "completed" and _adds_only(s, o.name) and not o.is_float:
            expected = int(o.value) + sum(
                p.replicas * p.count * int(st.amount)
                for p in s.processes
                for st in p.steps
                if st.target == o.name
            )
            c(f"expected = {expected}  # the start value plus every add the processes made")
            c(f"value = {var}.value")
            words = "value={value} expected={expected} lost={expected - value}"
            _print(c, f'f"shared {o.name}: {words}"')
        else:
            _print(c, f'f"shared {o.name}: value={{{var}.value}}"')


def _print(c: Code, arg: str) -> None:
    """print(arg) on one line if it fits, else as ruff format would wrap it."""
    one = f"print({arg})"
    if len(INDENT) * c.level + len(one) <= LIMIT:
        c(one)
    else:
        c.many(f"print(\n{INDENT}{arg}\n)")


def _nested_key(s: Scenario, name: str) -> int | None:
    """The index every step of a Manager list appends at (ml[0].append), if one."""
    steps = [st for p in s.processes for st in p.steps if st.target == name]
    keys = {st.key for st in steps}
    if steps and all(st.op == "append" for st in steps) and len(keys) == 1:
        key = next(iter(keys))
        return key if isinstance(key, int) else None
    return None


def _adds_only(s: Scenario, name: str) -> bool:
    return all(st.op == "add" for p in s.processes for st in p.steps if st.target == name)


def _make_processes(c: Code, t: Template, topo: Topology, e: Emitter) -> None:
    args = []
    if e.fork_closes:
        args.append("pipe_ends")
    for name in t.channels:
        ch = topo.channels[name]
        args.append(t.pipe_ends[name] if ch.kind == "Pipe" else ch.var)
    args += list(t.kept_ends)
    args += [topo.shared[n] for n in t.spec.shared_used]
    args += [topo.exited[n] for n in dict.fromkeys((*t.spec.join_first, *t.spec.join_last))]
    if uses_index(t.spec):
        args.append("r - 1" if len(t.names) > 1 else "0")  # i: the process's index
    args.append("tallies[name]")
    if e.endless:
        args.append("stop")
    n = len(t.names)
    if n == 1:
        c(f"name = {quoted(t.names[0])}")
        _add_process(c, t, args)
    else:
        with c.block(f"for r in range(1, {n + 1}):  # {t.names[0]} ... {t.names[-1]}"):
            c(f'name = f"{t.spec.name}-{{r}}"')
            _add_process(c, t, args)


def _add_process(c: Code, t: Template, args: list[str]) -> None:
    c("tallies[name] = Tally()")
    tup = "(" + ", ".join(args) + ("," if len(args) == 1 else "") + ")"
    kwargs = [f"target={t.func}", "name=name", f"args={tup}"]
    process = call("ctx.Process", kwargs, indent=c.level + 1)
    one = f"processes.append({process})"
    if "\n" not in process and len(one) + 4 * c.level <= LIMIT:
        c(one)
        return
    if max(len(line) for line in process.split("\n")) + 4 * (c.level + 1) > LIMIT:
        inner = "".join(f"{INDENT}{a},\n" for a in args)
        kwargs[-1] = f"args=(\n{inner})"
        process = (
            "ctx.Process(\n"
            + "".join(f"{INDENT}{k.replace(chr(10), chr(10) + INDENT)},\n" for k in kwargs)
            + ")"
        )
    c.many("processes.append(\n" + INDENT + process.replace("\n", "\n" + INDENT) + "\n)")


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
