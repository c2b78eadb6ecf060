"""The fixed text of an exported script: the `Tally` that counts, the helpers
the processes call, `report()` and the remote manager's server. The script
includes only the pieces it uses (`Emitter.needs`).
"""

from __future__ import annotations

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
    "socket_address": '''
def socket_address():
    """A fresh address for a Listener. On Linux an abstract one ("\\\\0" first):
    no file stands for it, so nothing is left behind even if every process is
    killed. Elsewhere a socket file in a new private folder."""
    if sys.platform.startswith("linux"):
        return f"\\0listener-{os.getpid()}-{os.urandom(4).hex()}"
    return os.path.join(tempfile.mkdtemp(), "listener.sock")
''',
    "listen": '''
def listen(where):
    """The listening end of a socket: a Listener at where = (address, authkey)
    accept()s one connection and is closed; the connection stays open. No byte
    passes before the other process has proved it holds the authkey."""
    address, authkey = where
    with Listener(address, authkey=authkey) as listener:
        return listener.accept()
''',
    "dial": '''
def dial(where):
    """The connecting end: Client(address, authkey=...). The listening process
    may not be listening yet, so it tries again for up to 10 s. A wrong authkey
    raises AuthenticationError."""
    address, authkey = where
    deadline = time.monotonic() + 10
    while True:
        try:
            return Client(address, authkey=authkey)
        except (ConnectionRefusedError, FileNotFoundError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)
''',
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
