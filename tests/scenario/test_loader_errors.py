"""Every malformed file gets one exact, one-line message naming the key."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from ipcplay.scenario import ScenarioError, load, loads

HEAD = '[scenario]\ntitle = "t"\n'
QUEUE = '[channels.tasks]\nkind = "Queue"\n'
PRODUCER = '[[process]]\nname = "p"\nrole = "producer"\nout = "tasks"\n'
CONSUMER = '[[process]]\nname = "c"\nrole = "consumer"\nin = "tasks"\n'
VALID = HEAD + QUEUE + PRODUCER + CONSUMER


def proc(name: str, role: str, *lines: str) -> str:
    """One [[process]] table; extra lines are raw TOML."""
    return "\n".join(["[[process]]", f'name = "{name}"', f'role = "{role}"', *lines]) + "\n"


def chan(name: str, kind: str, *lines: str) -> str:
    return "\n".join([f"[channels.{name}]", f'kind = "{kind}"', *lines]) + "\n"


PIPE = chan("link", "Pipe")
ONE_WAY = chan("link", "Pipe", "duplex = false")
JQ = chan("jobs", "JoinableQueue")

CASES: list[tuple[str, str, str]] = [
    # --- syntax and top level
    ("syntax", "title = = 1", "(syntax): invalid TOML: Invalid value (at line 1, column 9)"),
    (
        "syntax-unclosed",
        '[scenario]\ntitle = "t',
        "(syntax): invalid TOML: Unterminated string (at end of document)",
    ),
    (
        "huge-int-literal",
        "x = " + "9" * 5000,
        "(syntax): invalid TOML: an integer has too many digits",
    ),
    ("empty", "", "file is empty; expected a [scenario] table with a title"),
    ("blank", "  \n\t\n", "file is empty; expected a [scenario] table with a title"),
    (
        "comment-only",
        "# nothing\n",
        "scenario: missing [scenario] table; expected one with at least a title",
    ),
    (
        "missing-scenario",
        QUEUE + PRODUCER + CONSUMER,
        "scenario: missing [scenario] table; expected one with at least a title",
    ),
    (
        "scenario-not-table",
        "scenario = 3\n",
        "scenario: expected a [scenario] table, got an integer (3)",
    ),
    ("unknown-top", "processes = 1\n" + VALID, "processes: unknown key; did you mean 'process'?"),
    (
        "no-process",
        HEAD,
        "process: no processes; add at least one [[process]] table",
    ),
    (
        "process-single-table",
        HEAD + '[process]\nname = "p"\n',
        "process: expected an array of tables; write [[process]] with double brackets",
    ),
    (
        "process-not-table",
        "process = [1]\n" + HEAD,
        "process[0]: expected a table, got an integer (1)",
    ),
    # --- [scenario]
    (
        "missing-title",
        '[scenario]\nexplain = "x"\n',
        "scenario.title: missing; expected a non-empty string",
    ),
    (
        "empty-title",
        '[scenario]\ntitle = "  "\n',
        "scenario.title: expected a non-empty string, got an empty one",
    ),
    (
        "title-not-string",
        "[scenario]\ntitle = 5\n",
        "scenario.title: expected a non-empty string, got an integer (5)",
    ),
    (
        "scenario-typo",
        '[scenario]\ntitel = "t"\n',
        "scenario.titel: unknown key; did you mean 'title'?",
    ),
    (
        "bad-start-method",
        HEAD + 'start_method = "spwan"\n' + QUEUE + PRODUCER + CONSUMER,
        "scenario.start_method: expected one of fork, spawn, forkserver, got 'spwan'; "
        "did you mean 'spawn'?",
    ),
    (
        "bad-expect",
        HEAD + 'expect = "done"\n',
        "scenario.expect: expected one of completed, timeout, deadlock, hang, crashed, got 'done'",
    ),
    (
        "duration-zero",
        HEAD + "duration = 0\n",
        "scenario.duration: expected a number greater than 0 and at most 86400, got 0",
    ),
    (
        "duration-bool",
        HEAD + "duration = true\n",
        "scenario.duration: expected a number greater than 0 and at most 86400, "
        "got a boolean (true)",
    ),
    (
        "duration-nan",
        HEAD + "duration = nan\n",
        "scenario.duration: expected a number greater than 0 and at most 86400, got nan",
    ),
    (
        "duration-huge",
        HEAD + "duration = 1e9\n",
        "scenario.duration: expected a number greater than 0 and at most 86400, "
        "got 1000000000 (over the MAX_SECONDS cap)",
    ),
    (
        "seed-float",
        HEAD + "seed = 1.5\n",
        "scenario.seed: expected a whole number from -9223372036854775808 to "
        "9223372036854775807, got a float (1.5)",
    ),
    # --- channels
    (
        "maxsize-float",
        HEAD + chan("tasks", "Queue", "maxsize = 2.5") + PRODUCER + CONSUMER,
        "channels.tasks.maxsize: expected a whole number from 0 to 32767, got a float (2.5)",
    ),
    (
        "maxsize-simplequeue",
        HEAD + chan("tasks", "SimpleQueue", "maxsize = 3") + PRODUCER + CONSUMER,
        "channels.tasks.maxsize: applies to Queue, JoinableQueue and ManagerQueue only, "
        "not SimpleQueue",
    ),
    (
        "maxsize-pipe",
        HEAD + chan("tasks", "Pipe", "maxsize = 3"),
        "channels.tasks.maxsize: applies to Queue, JoinableQueue and ManagerQueue only, not Pipe",
    ),
    (
        "maxsize-over-cap",
        HEAD + chan("tasks", "Queue", "maxsize = 40000"),
        "channels.tasks.maxsize: expected a whole number from 0 to 32767, got 40000 "
        "(over the MAX_MAXSIZE cap)",
    ),
    (
        "duplex-on-queue",
        HEAD + chan("tasks", "Queue", "duplex = false"),
        "channels.tasks.duplex: applies to Pipe only, not Queue",
    ),
    (
        "terminate-after-zero",
        VALID.replace('out = "tasks"', 'out = "tasks"\nterminate_after = 0'),
        "process[0].terminate_after: expected seconds after the start, more than 0",
    ),
    (
        "pitfall-unknown",
        HEAD + 'pitfall = "broke"\n' + QUEUE + PRODUCER + CONSUMER,
        "scenario.pitfall: expected one of broken, fixed, got 'broke'; did you mean 'broken'?",
    ),
    (
        "pair-without-pitfall",
        HEAD + 'pair = "other"\n' + QUEUE + PRODUCER + CONSUMER,
        'scenario.pair: applies to a pitfall preset only (pitfall = "broken" or "fixed")',
    ),
    (
        "keeps-write-end-on-duplex",
        HEAD + chan("link", "Pipe", "reader_keeps_write_end = true"),
        'channels.link.reader_keeps_write_end: applies to a one-way Pipe only (kind = "Pipe", '
        "duplex = false)",
    ),
    (
        "keeps-write-end-not-bool",
        HEAD + chan("link", "Pipe", "duplex = false", "reader_keeps_write_end = 1"),
        "channels.link.reader_keeps_write_end: expected true or false, got an integer (1)",
    ),
    (
        "duplex-not-bool",
        HEAD + chan("link", "Pipe", 'duplex = "no"'),
        "channels.link.duplex: expected true or false, got a string ('no')",
    ),
    (
        "channel-kind-typo",
        HEAD + chan("tasks", "Queu"),
        "channels.tasks.kind: expected one of Queue, JoinableQueue, SimpleQueue, Pipe, "
        "ManagerQueue, Listener, got 'Queu'; did you mean 'Queue'?",
    ),
    (
        "channel-kind-missing",
        HEAD + "[channels.tasks]\nmaxsize = 1\n",
        "channels.tasks.kind: missing; expected one of Queue, JoinableQueue, SimpleQueue, "
        "Pipe, ManagerQueue, Listener",
    ),
    (
        "channel-key-typo",
        HEAD + chan("tasks", "Queue", "maxsise = 1"),
        "channels.tasks.maxsise: unknown key; did you mean 'maxsize'?",
    ),
    (
        "channel-not-table",
        HEAD + '[channels]\ntasks = "Queue"\n',
        "channels.tasks: expected a table ([channels.tasks]) with a kind, got a string ('Queue')",
    ),
    (
        "channel-bad-name",
        HEAD + '[channels."9 lives"]\nkind = "Queue"\n',
        "channels.\"9 lives\": invalid channel name '9 lives'; expected a letter followed by "
        "up to 31 letters, digits, '_' or '-'",
    ),
    (
        "too-many-channels",
        HEAD + "".join(chan(f"c{i}", "Queue") for i in range(65)),
        "channels: 65 channels, over the MAX_CHANNELS cap of 64",
    ),
    (
        "unused-channel",
        VALID + chan("spare", "Queue"),
        "channels.spare: declared but no process reads or writes it",
    ),
    # --- process fields
    (
        "count-string",
        HEAD + QUEUE + PRODUCER.replace('out = "tasks"', 'out = "tasks"\ncount = "ten"') + CONSUMER,
        "process[0].count: expected a whole number from 0 to 10000000, got a string ('ten')",
    ),
    (
        "count-bool",
        HEAD + QUEUE + PRODUCER + "count = true\n" + CONSUMER,
        "process[0].count: expected a whole number from 0 to 10000000, got a boolean (true)",
    ),
    (
        "count-negative",
        HEAD + QUEUE + PRODUCER + "count = -5\n" + CONSUMER,
        "process[0].count: expected a whole number from 0 to 10000000, got -5",
    ),
    (
        "count-huge",
        HEAD + QUEUE + PRODUCER + "count = 99999999999\n" + CONSUMER,
        "process[0].count: expected a whole number from 0 to 10000000, got 99999999999 "
        "(over the MAX_COUNT cap)",
    ),
    (
        "rate-negative",
        HEAD + QUEUE + PRODUCER + "rate = -0.5\n" + CONSUMER,
        "process[0].rate: expected a number from 0 to 1000000, got -0.5",
    ),
    (
        "typo-with-suggestion",
        HEAD + QUEUE + PRODUCER + CONSUMER + "cout = 3\n",
        "process[1].cout: unknown key; did you mean 'count'?",
    ),
    (
        "typo-without-suggestion",
        HEAD + QUEUE + PRODUCER + "zzz = 3\n" + CONSUMER,
        "process[0].zzz: unknown key; expected one of name, role, replicas, in, out, count, "
        "rate, payload, work, compute, reply, finally, task_done, steps, terminate_after, "
        "join_first, join_last, joined_after, pool",
    ),
    (
        "missing-name",
        HEAD + QUEUE + '[[process]]\nrole = "producer"\n',
        "process[0].name: missing; every [[process]] needs a name and a role",
    ),
    (
        "bad-process-name",
        HEAD + QUEUE + proc("has space", "producer", 'out = "tasks"'),
        "process[0].name: invalid process name 'has space'; expected a letter followed by up "
        "to 31 letters, digits, '_' or '-'",
    ),
    (
        "unknown-role",
        HEAD + QUEUE + proc("p", "prodcer"),
        "process[0].role: expected one of producer, consumer, worker, pinger, ponger, "
        "steps, globals, coroutines, pool, got 'prodcer'; did you mean 'producer'?",
    ),
    (
        "missing-channel",
        HEAD + QUEUE + proc("p", "producer", 'out = "taks"') + CONSUMER,
        "process[0].out: no channel named 'taks'; did you mean 'tasks'?",
    ),
    (
        "missing-channel-no-hint",
        HEAD + QUEUE + proc("p", "producer", 'out = "zzz"') + CONSUMER,
        "process[0].out: no channel named 'zzz'; declared channels: tasks",
    ),
    (
        "missing-channel-none-declared",
        HEAD + proc("p", "producer", 'out = "zzz"'),
        "process[0].out: no channel named 'zzz'; declare it as a [channels.zzz] table",
    ),
    (
        "channel-listed-twice",
        HEAD + QUEUE + proc("p", "producer", 'out = ["tasks", "tasks"]') + CONSUMER,
        "process[0].out: 'tasks' is listed twice",
    ),
    (
        "channel-ref-not-string",
        HEAD + QUEUE + proc("p", "producer", "out = [1]") + CONSUMER,
        "process[0].out[0]: expected a channel name (a string), got an integer (1)",
    ),
    (
        "duplicate-names",
        VALID + proc("p", "consumer", 'in = "tasks"'),
        "process[2].name: 'p' is already used by process[0]",
    ),
    (
        "replica-collision",
        HEAD
        + QUEUE
        + PRODUCER.replace('name = "p"', 'name = "w"\nreplicas = 3')
        + proc("w-2", "consumer", 'in = "tasks"'),
        "process[1].name: 'w-2' collides with a replica name of process[0] "
        "('w' runs as w-1, w-2, ...)",
    ),
    (
        "cpu-count-collision",
        HEAD
        + QUEUE
        + PRODUCER.replace('name = "p"', 'name = "w"\nreplicas = "cpu_count"')
        + proc("w-60", "consumer", 'in = "tasks"'),
        "process[1].name: 'w-60' collides with a replica name of process[0] "
        "('w' runs as w-1, w-2, ...)",
    ),
    (
        "replicas-typo",
        HEAD + QUEUE + PRODUCER + 'replicas = "cpucount"\n' + CONSUMER,
        'process[0].replicas: expected a whole number from 1 to 64 or "cpu_count", '
        "got 'cpucount'; did you mean 'cpu_count'?",
    ),
    (
        "replicas-zero",
        HEAD + QUEUE + PRODUCER + "replicas = 0\n" + CONSUMER,
        "process[0].replicas: expected a whole number from 1 to 64, got 0",
    ),
    (
        "too-many-processes",
        HEAD
        + QUEUE
        + PRODUCER
        + "replicas = 64\n"
        + CONSUMER
        + "replicas = 64\n"
        + proc("d", "consumer", 'in = "tasks"'),
        "process: 129 processes after replicas, over the MAX_PROCESSES cap of 128",
    ),
    (
        "too-many-process-tables",
        HEAD + QUEUE + "".join(proc(f"c{i}", "consumer", 'in = "tasks"') for i in range(129)),
        "process: 129 processes, over the MAX_PROCESSES cap of 128",
    ),
    (
        "payload-too-big",
        HEAD + QUEUE + PRODUCER + "payload = { size = 2000000 }\n" + CONSUMER,
        "process[0].payload.size: expected a whole number from 0 to 1048576, got 2000000 "
        "(over the MAX_PAYLOAD_BYTES cap)",
    ),
    (
        "payload-kind-typo",
        HEAD + QUEUE + PRODUCER + 'payload = { kind = "byte" }\n' + CONSUMER,
        "process[0].payload.kind: expected one of bytes, text, int, value, lambda, function, "
        "got 'byte'; did you mean 'bytes'?",
    ),
    (
        "payload-text-on-bytes",
        HEAD + QUEUE + PRODUCER + 'payload = { text = "hi" }\n' + CONSUMER,
        'process[0].payload.text: applies to kind "text" only, not bytes',
    ),
    (
        "payload-size-on-int",
        HEAD + QUEUE + PRODUCER + 'payload = { kind = "int", size = 3 }\n' + CONSUMER,
        "process[0].payload.size: applies to payload kinds bytes and text only, not int",
    ),
    (
        "payload-value-missing",
        HEAD + QUEUE + PRODUCER + 'payload = { kind = "value" }\n' + CONSUMER,
        'process[0].payload.value: missing; kind "value" sends this TOML value as is',
    ),
    (
        "payload-empty-text-sized",
        HEAD + QUEUE + PRODUCER + 'payload = { kind = "text", text = "", size = 4 }\n' + CONSUMER,
        "process[0].payload.text: cannot repeat an empty text to size 4",
    ),
    (
        "payload-not-table",
        HEAD + QUEUE + PRODUCER + "payload = 64\n" + CONSUMER,
        'process[0].payload: expected a table such as { kind = "bytes", size = 64 }, '
        "got an integer (64)",
    ),
    (
        "work-missing-kind",
        HEAD + QUEUE + PRODUCER + "work = { ms = 10 }\n" + CONSUMER,
        "process[0].work.kind: missing; expected one of none, sleep, cpu",
    ),
    (
        "work-ms-on-none",
        HEAD + QUEUE + PRODUCER + 'work = { kind = "none", ms = 10 }\n' + CONSUMER,
        'process[0].work.ms: applies to work kinds sleep and cpu only, not "none"',
    ),
    (
        "work-ms-too-long",
        HEAD + QUEUE + PRODUCER + 'work = { kind = "sleep", ms = 1e6 }\n' + CONSUMER,
        "process[0].work.ms: expected a number from 0 to 60000, got 1000000 "
        "(over the MAX_WORK_MS cap)",
    ),
    (
        "compute-on-producer",
        HEAD + QUEUE + PRODUCER + 'compute = "square"\n' + CONSUMER,
        "process[0].compute: applies to worker and consumer only, not producer",
    ),
    (
        "compute-typo",
        HEAD + QUEUE + PRODUCER + CONSUMER + 'compute = "sqaure"\n',
        "process[1].compute: expected one of none, square, echo, got 'sqaure'; "
        "did you mean 'square'?",
    ),
    (
        "reply-on-consumer",
        HEAD + QUEUE + PRODUCER + CONSUMER + 'reply = { kind = "text" }\n',
        "process[1].reply: applies to ponger only, not consumer",
    ),
    (
        "task-done-not-bool",
        HEAD + QUEUE + PRODUCER + CONSUMER + "task_done = 1\n",
        "process[1].task_done: expected true or false, got an integer (1)",
    ),
    # --- role shapes
    (
        "producer-with-in",
        HEAD + QUEUE + proc("p", "producer", 'in = "tasks"', 'out = "tasks"'),
        "process[0].in: a producer has no input channel; remove 'in'",
    ),
    (
        "producer-without-out",
        HEAD + QUEUE + proc("p", "producer") + CONSUMER,
        "process[0].out: a producer needs at least one output channel, got none",
    ),
    (
        "consumer-without-in",
        HEAD + QUEUE + PRODUCER + proc("c", "consumer"),
        "process[1].in: a consumer needs exactly one input channel, got none",
    ),
    (
        "consumer-two-ins",
        HEAD
        + QUEUE
        + chan("more", "Queue")
        + PRODUCER
        + proc("c", "consumer", 'in = ["tasks", "more"]'),
        "process[1].in: a consumer needs exactly one input channel, got tasks, more",
    ),
    (
        "worker-without-out",
        HEAD + QUEUE + PRODUCER + proc("w", "worker", 'in = "tasks"'),
        "process[1].out: a worker needs at least one output channel, got none",
    ),
    (
        "pinger-two-outs",
        HEAD
        + QUEUE
        + chan("more", "Queue")
        + proc("ping", "pinger", 'in = "tasks"', 'out = ["tasks", "more"]'),
        "process[0].out: a pinger needs exactly one output channel, got tasks, more",
    ),
    # --- pipes
    (
        "pipe-replicas",
        HEAD
        + PIPE
        + proc("a", "pinger", 'in = "link"', 'out = "link"', "replicas = 2")
        + proc("b", "ponger", 'in = "link"', 'out = "link"'),
        "process[0].replicas: must be 1 because the process uses Pipe 'link' "
        "(a Pipe end belongs to one process), got 2",
    ),
    (
        "pipe-cpu-count",
        HEAD
        + ONE_WAY
        + proc("a", "producer", 'out = "link"', 'replicas = "cpu_count"')
        + proc("b", "consumer", 'in = "link"'),
        "process[0].replicas: must be 1 because the process uses Pipe 'link' "
        '(a Pipe end belongs to one process), got "cpu_count"',
    ),
    (
        "duplex-three-users",
        HEAD
        + PIPE
        + proc("a", "pinger", 'in = "link"', 'out = "link"')
        + proc("b", "ponger", 'in = "link"', 'out = "link"')
        + proc("c", "consumer", 'in = "link"'),
        "channels.link: a duplex Pipe joins at most 2 processes, one per end; used by a, b, c",
    ),
    (
        "one-way-two-writers",
        HEAD
        + ONE_WAY
        + proc("a", "producer", 'out = "link"')
        + proc("b", "producer", 'out = "link"')
        + proc("c", "consumer", 'in = "link"'),
        "channels.link: a one-way Pipe needs exactly one writer ('out'), found 2 (a, b)",
    ),
    (
        "one-way-no-reader",
        HEAD + ONE_WAY + proc("a", "producer", 'out = "link"'),
        "channels.link: a one-way Pipe needs exactly one reader ('in'), found none",
    ),
    (
        "one-way-both-ends",
        HEAD + ONE_WAY + proc("a", "pinger", 'in = "link"', 'out = "link"'),
        "process[0].in: uses both ends of one-way Pipe 'link'; one process writes it ('out') "
        "and another reads it ('in')",
    ),
    # --- finally
    (
        "pill-without-out",
        HEAD + QUEUE + PRODUCER + CONSUMER + 'finally = "poison-pill"\n',
        "process[1].finally: 'poison-pill' needs an output channel ('out') to send the pill on",
    ),
    (
        "join-on-queue",
        HEAD + QUEUE + PRODUCER + 'finally = "join"\n' + CONSUMER,
        "process[0].finally: 'join' needs an output channel ('out') that is a JoinableQueue",
    ),
    (
        "close-without-pipe",
        HEAD + QUEUE + PRODUCER + 'finally = ["poison-pill", "close"]\n' + CONSUMER,
        "process[0].finally: 'close' needs a Pipe among the process's 'in' or 'out' channels",
    ),
    (
        "finally-twice",
        HEAD
        + JQ
        + proc("p", "producer", 'out = "jobs"', 'finally = ["join", "join"]')
        + proc("c", "consumer", 'in = "jobs"'),
        "process[0].finally: 'join' is listed twice",
    ),
    (
        "finally-typo",
        HEAD + QUEUE + PRODUCER + 'finally = ["poison"]\n' + CONSUMER,
        "process[0].finally[0]: expected one of poison-pill, join, close, got 'poison'; "
        "did you mean 'poison-pill'?",
    ),
    (
        "finally-not-string",
        HEAD + QUEUE + PRODUCER + "finally = 1\n" + CONSUMER,
        "process[0].finally: expected one of poison-pill, join, close or a list of them, "
        "got an integer (1)",
    ),
    # --- code
    ("code-top", 'code = "import os"\n' + VALID, "code: presets cannot run code of their own"),
    (
        "code-scenario",
        '[scenario]\ntitle = "t"\nscript = "x.py"\n',
        "scenario.script: presets cannot run code of their own",
    ),
    (
        "code-process",
        HEAD + QUEUE + PRODUCER + 'python = "print(1)"\n' + CONSUMER,
        "process[0].python: presets cannot run code of their own",
    ),
    (
        "code-payload",
        HEAD + QUEUE + PRODUCER + 'payload = { exec = "x" }\n' + CONSUMER,
        "process[0].payload.exec: presets cannot run code of their own",
    ),
    (
        "code-channel",
        HEAD + chan("tasks", "Queue", 'Code = "x"'),
        "channels.tasks.Code: presets cannot run code of their own",
    ),
    # --- text that could reach a terminal
    (
        "escape-in-key",
        '[scenario]\ntitle = "t"\n"\\u001b[2J" = 1\n',
        'scenario."\\x1b[2J": unknown key; expected one of title, explain, start_method, '
        "seed, expect, duration, pitfall, pair, topics",
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_text(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as info:
        loads(text)
    message = str(info.value)
    assert message == f"<string>: {expected}"
    assert "\n" not in message
    assert "\x1b" not in message
    assert info.value.file == "<string>"


def test_valid_base_is_valid() -> None:
    """The cases above only mean something if the text they vary is itself valid."""
    assert [p.name for p in loads(VALID).processes] == ["p", "c"]


def test_parts_are_kept() -> None:
    with pytest.raises(ScenarioError) as info:
        loads(HEAD + QUEUE + PRODUCER + "count = -5\n" + CONSUMER, source="x.toml")
    err = info.value
    assert (err.file, err.key) == ("x.toml", "process[0].count")
    assert err.message == "expected a whole number from 0 to 10000000, got -5"


def test_message_is_one_line_even_when_built_with_newlines() -> None:
    err = ScenarioError("f.toml", "a.b", "first\n  second\r\nthird\x1b[2J")
    assert str(err) == "f.toml: a.b: first second third\\x1b[2J"
    assert str(ScenarioError("f.toml", "", "no\nkey")) == "f.toml: no key"


def test_error_pickles() -> None:
    """The engine may raise it in a child process and send it back."""
    err = pickle.loads(pickle.dumps(ScenarioError("f", "k", "m")))
    assert (str(err), err.key) == ("f: k: m", "k")


# --------------------------------------------------------------------------- files


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError) as info:
        load(path)
    assert str(info.value) == f"{path}: no such file"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load(tmp_path)
    assert str(info.value) == f"{tmp_path}: is a directory, expected a .toml scenario file"


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_bytes(b"")
    with pytest.raises(ScenarioError) as info:
        load(path)
    assert str(info.value) == f"{path}: file is empty; expected a [scenario] table with a title"


def test_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[scenario]\ntitle = "caf\xe9"\n')
    with pytest.raises(ScenarioError) as info:
        load(path)
    assert str(info.value) == f"{path}: not UTF-8 text: invalid byte 0xe9 at offset 23 (line 2)"


def test_non_utf8_after_bom_counts_the_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf\xff")
    with pytest.raises(ScenarioError, match=r"invalid byte 0xff at offset 3 \(line 1\)$"):
        load(path)


def test_not_a_regular_file() -> None:
    devnull = Path("/dev/null")
    if not devnull.exists():
        pytest.skip("no /dev/null here")
    with pytest.raises(ScenarioError, match="is not a regular file"):
        load(devnull)


def test_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ipcplay.scenario import loader

    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 10)
    path = tmp_path / "big.toml"
    path.write_text(VALID)
    with pytest.raises(ScenarioError, match="file is larger than 10 bytes"):
        load(path)


def test_file_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(HEAD + QUEUE + PRODUCER + "count = -5\n" + CONSUMER)
    with pytest.raises(ScenarioError) as info:
        load(path)
    assert str(info.value).startswith(f"{path}: process[0].count: ")
