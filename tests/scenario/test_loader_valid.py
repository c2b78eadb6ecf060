"""What a valid file turns into, and what `dumps` writes back."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from ipcplay.scenario import (
    ChannelSpec,
    Payload,
    ProcessSpec,
    Scenario,
    Work,
    dumps,
    load,
    loads,
)

FULL = '''
[scenario]
title = "Fan-out"
explain = """
Workers share one queue.
Results come back on another."""
start_method = "forkserver"
seed = 7
expect = "deadlock"
duration = 12.5

[channels.tasks]
kind = "JoinableQueue"
maxsize = 8

[channels.results]
kind = "Queue"

[[process]]
name = "producer"
role = "producer"
out = "tasks"
count = 10
rate = 5
payload = { kind = "text", text = "hi", size = 6 }
work = { kind = "sleep", ms = 100 }
finally = ["poison-pill", "join"]

[[process]]
name = "worker"
role = "worker"
replicas = 3
in = "tasks"
out = ["results"]
compute = "square"
work = { kind = "cpu", ms = 2.5 }
task_done = false

[[process]]
name = "sink"
role = "consumer"
in = "results"
'''

PING = """
[scenario]
title = "Ping-pong"

[channels.link]
kind = "Pipe"

[[process]]
name = "ping"
role = "pinger"
in = "link"
out = "link"
count = 3
payload = { kind = "int" }
finally = "close"

[[process]]
name = "pong"
role = "ponger"
in = "link"
out = "link"
reply = { kind = "value", value = { ok = true, n = [1, 2] } }
"""

ONE_WAY = """
[scenario]
title = "One-way"

[channels.wire]
kind = "Pipe"
duplex = false

[[process]]
name = "writer"
role = "producer"
out = "wire"
finally = "close"

[[process]]
name = "reader"
role = "consumer"
in = "wire"
"""

MINIMAL = """[scenario]
title = "Minimal"

[channels.q]
kind = "SimpleQueue"

[[process]]
name = "p"
role = "producer"
out = "q"

[[process]]
name = "c"
role = "consumer"
in = "q"
"""


def test_full_file_builds_the_model() -> None:
    s = loads(FULL, source="dir/fan-out.toml")
    assert s.name == "fan-out"
    assert s.source == "dir/fan-out.toml"
    assert (s.title, s.start_method, s.seed, s.expect, s.duration) == (
        "Fan-out",
        "forkserver",
        7,
        "deadlock",
        12.5,
    )
    assert s.explain == "Workers share one queue.\nResults come back on another."
    assert s.channels == (
        ChannelSpec(name="tasks", kind="JoinableQueue", maxsize=8),
        ChannelSpec(name="results", kind="Queue"),
    )
    producer, worker, sink = s.processes
    assert producer == ProcessSpec(
        name="producer",
        role="producer",
        outputs=("tasks",),
        count=10,
        rate=5.0,
        payload=Payload(kind="text", size=6, text="hi"),
        work=Work(kind="sleep", ms=100.0),
        ending=("poison-pill", "join"),
    )
    assert isinstance(producer.rate, float)
    assert isinstance(producer.work.ms, float)
    assert worker.replicas == 3
    assert worker.inputs == ("tasks",)
    assert worker.outputs == ("results",)
    assert (worker.compute, worker.task_done, worker.work) == ("square", False, Work("cpu", 2.5))
    assert sink == ProcessSpec(name="sink", role="consumer", inputs=("results",))


def test_minimal_file_takes_the_model_defaults() -> None:
    s = loads(MINIMAL)
    assert s == Scenario(
        name="scenario",
        title="Minimal",
        channels=(ChannelSpec(name="q", kind="SimpleQueue"),),
        processes=(
            ProcessSpec(name="p", role="producer", outputs=("q",)),
            ProcessSpec(name="c", role="consumer", inputs=("q",)),
        ),
        source="<string>",
    )
    assert isinstance(s.duration, float)


def test_pinger_and_ponger_may_share_one_duplex_pipe() -> None:
    s = loads(PING)
    ping, pong = s.processes
    assert ping.inputs == ping.outputs == ("link",)
    assert ping.payload == Payload(kind="int", size=0)
    assert ping.ending == ("close",)
    assert pong.reply == Payload(
        kind="value", size=0, text="hello, too", value={"ok": True, "n": [1, 2]}
    )


def test_one_way_pipe_with_one_writer_and_one_reader() -> None:
    s = loads(ONE_WAY)
    assert s.channel("wire").duplex is False


def test_payload_defaults_per_kind() -> None:
    """Text is sent as written unless sized; only bytes default to 64."""
    base = MINIMAL.replace('out = "q"', 'out = "q"\npayload = {}')
    assert loads(base).processes[0].payload == Payload()
    text = MINIMAL.replace('out = "q"', 'out = "q"\npayload = { kind = "text" }')
    assert loads(text).processes[0].payload == Payload(kind="text", size=0, text="hello")


def test_reply_defaults_to_text() -> None:
    s = loads(
        PING.replace(
            'reply = { kind = "value", value = { ok = true, n = [1, 2] } }',
            'reply = { text = "pong" }',
        )
    )
    assert s.processes[1].reply == Payload(kind="text", size=0, text="pong")


@pytest.mark.parametrize(("cpus", "expected"), [(4, 4), (None, 1), (1, 1), (500, 64)])
def test_cpu_count_is_resolved_and_capped(
    monkeypatch: pytest.MonkeyPatch, cpus: int | None, expected: int
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    s = loads(MINIMAL.replace('role = "consumer"', 'role = "consumer"\nreplicas = "cpu_count"'))
    consumer = s.processes[1]
    assert (consumer.replicas, consumer.replicas_cpu_count) == (expected, True)


def test_names() -> None:
    assert loads(MINIMAL).name == "scenario"
    assert loads(MINIMAL, source="a/b/my-preset.toml").name == "my-preset"
    assert loads(MINIMAL, source="x.toml", name="given").name == "given"


def test_load_reads_a_file_and_accepts_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "with-bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    s = load(path)
    assert (s.name, s.source, s.title) == ("with-bom", str(path), "Minimal")


# --------------------------------------------------------------------------- neutralising


def test_title_escape_is_neutralised() -> None:
    s = loads(MINIMAL.replace('title = "Minimal"', 'title = "Clear\\u001b[2J me\\nnow"'))
    assert "\x1b" not in s.title
    assert "\n" not in s.title
    assert s.title == "Clear\\x1b[2J me\\x0anow"


def test_explain_keeps_newlines_but_not_escapes() -> None:
    text = MINIMAL.replace(
        'title = "Minimal"', 'title = "t"\nexplain = "a\\nb\\u001b]0;pwned\\u0007"'
    )
    assert loads(text).explain == "a\nb\\x1b]0;pwned\\x07"


def test_payload_and_reply_text_are_neutralised() -> None:
    text = PING.replace(
        'payload = { kind = "int" }', 'payload = { kind = "text", text = "\\u009b2J" }'
    )
    text = text.replace(
        'reply = { kind = "value", value = { ok = true, n = [1, 2] } }',
        'reply = { kind = "value", value = { "\\u001bk" = ["\\u001b"] } }',
    )
    ping, pong = loads(text).processes
    assert ping.payload.text == "\\x9b2J"
    assert pong.reply.value == {"\\x1bk": ["\\x1b"]}


def test_scenario_name_from_file_stem_is_neutralised() -> None:
    assert loads(MINIMAL, source="odd\x1bname.toml").name == "odd\\x1bname"


# --------------------------------------------------------------------------- dumps


def test_dumps_minimal_omits_defaults() -> None:
    assert dumps(loads(MINIMAL)) == MINIMAL


@pytest.mark.parametrize(
    "text", [FULL, PING, ONE_WAY, MINIMAL], ids=["full", "ping", "one-way", "min"]
)
def test_round_trip(text: str) -> None:
    s = loads(text, source="orig.toml")
    again = loads(dumps(s), source="orig.toml", name=s.name)
    assert again == s


def test_dumps_writes_cpu_count_as_the_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    s = loads(MINIMAL.replace('role = "consumer"', 'role = "consumer"\nreplicas = "cpu_count"'))
    written = dumps(s)
    assert 'replicas = "cpu_count"' in written
    assert loads(written) == dataclasses.replace(s, source="<string>")


def test_dumps_writes_whole_floats_as_integers() -> None:
    s = loads(FULL)
    written = dumps(s)
    assert "rate = 5\n" in written
    assert "duration = 12.5\n" in written


def test_examples_in_the_format_reference_load() -> None:
    """The reference must not drift from the loader."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "scenario-format.md"
    if not doc.exists():
        pytest.skip("docs/scenario-format.md is not in this tree")
    blocks = doc.read_text(encoding="utf-8").split("```toml\n")[1:]
    assert len(blocks) >= 2
    for block in blocks:
        loads(block.split("```")[0])
