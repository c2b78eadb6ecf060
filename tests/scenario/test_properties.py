"""Properties: the loader only ever fails with ScenarioError, and dumps/loads agree."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipcplay.safetext import neutralise
from ipcplay.scenario import (
    ChannelSpec,
    Payload,
    ProcessSpec,
    Scenario,
    ScenarioError,
    Work,
    draft,
    dumps,
    load,
    loads,
    model,
)
from ipcplay.scenario.load_processes import cpu_replicas as _cpu_replicas
from ipcplay.scenario.model import SharedSpec, Step

FAST = settings(max_examples=150, deadline=None, database=None)

# --------------------------------------------------------------------------- anything in


def _assert_clean_error(err: ScenarioError) -> None:
    text = str(err)
    assert "\n" not in text and "\r" not in text
    assert len(text.splitlines()) == 1
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)


def _try(text: str) -> None:
    try:
        loads(text)
    except ScenarioError as err:
        _assert_clean_error(err)


@FAST
@given(st.text())
def test_arbitrary_text_only_raises_scenario_error(text: str) -> None:
    _try(text)


SCHEMA_KEYS = [
    "scenario", "channels", "process", "title", "explain", "start_method", "seed", "expect",
    "duration", "kind", "maxsize", "duplex", "name", "role", "replicas", "in", "out", "count",
    "rate", "payload", "work", "compute", "reply", "finally", "task_done", "size", "text",
    "value", "ms", "code", "tasks", "results", "link",
]  # fmt: skip
WORDS = [
    *model.CHANNEL_KINDS, *model.ROLES, *model.START_METHODS, *model.PAYLOAD_KINDS,
    *model.WORK_KINDS, *model.COMPUTES, *model.ENDINGS, *model.VERDICTS,
    "cpu_count", "tasks", "results", "link", "p", "c", "w-1", "\x1b[2J",
]  # fmt: skip

PROCESS_KEYS = [
    "name", "role", "replicas", "in", "out", "count", "rate", "payload", "work", "compute",
    "reply", "finally", "task_done",
]  # fmt: skip
keys = st.one_of(st.sampled_from(SCHEMA_KEYS), st.text(max_size=8))
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(min_value=-3, max_value=200),
    st.floats(),
    st.sampled_from(WORDS),
    st.text(max_size=12),
    st.datetimes(),
    st.dates(),
    st.times(),
)
toml_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


def _table_of(allowed: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Mostly schema keys so generation reaches deep into validation."""
    mostly = st.one_of(st.sampled_from(allowed), keys)
    return st.dictionaries(mostly, toml_values, max_size=len(allowed))


schema_docs = st.fixed_dictionaries(
    {},
    optional={
        "scenario": _table_of(["title", "explain", "start_method", "seed", "expect", "duration"]),
        "channels": st.dictionaries(
            st.sampled_from(["tasks", "results", "link"]) | keys,
            _table_of(["kind", "maxsize", "duplex"]) | toml_values,
            max_size=4,
        ),
        "process": st.lists(_table_of(PROCESS_KEYS), max_size=4),
    },
)


@settings(FAST, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_only_raise_scenario_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(data)
    try:
        load(path)
    except ScenarioError as err:
        _assert_clean_error(err)


# --------------------------------------------------------------------------- valid scenarios

safe_line = st.text(max_size=30).map(lambda t: neutralise(t, multiline=False))
safe_text = st.text(max_size=60).map(lambda t: neutralise(t, multiline=True))
titles = safe_line.filter(lambda t: bool(t.strip()))
nonneg_floats = st.floats(min_value=0, allow_nan=False)
value_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    safe_text,
    st.datetimes(timezones=st.none() | st.just(dt.UTC)),
    st.dates(),
    st.times(),
)
plain_values = st.recursive(
    value_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(safe_line, inner, max_size=3),
    max_leaves=10,
)


@st.composite
def payloads(draw: st.DrawFn, base: Payload) -> Payload:
    """Only payloads the loader can produce: per-kind defaults, neutralised text."""
    kind = draw(st.sampled_from(model.PAYLOAD_KINDS))
    size = draw(st.integers(0, model.MAX_PAYLOAD_BYTES)) if kind in ("bytes", "text") else 0
    text = base.text
    if kind == "text":
        text = draw(safe_text if size == 0 else safe_text.filter(bool))
    value = draw(plain_values) if kind == "value" else None
    return Payload(kind=kind, size=size, text=text, value=value)


works = st.one_of(
    st.just(Work()),
    st.builds(
        Work,
        kind=st.sampled_from(["sleep", "cpu"]),
        ms=st.floats(min_value=0, max_value=model.MAX_WORK_MS),
    ),
)
replica_counts = st.integers(1, 4)


@st.composite
def activity(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "count": draw(st.integers(0, model.MAX_COUNT)),
        "rate": draw(st.floats(min_value=0, max_value=model.MAX_RATE)),
        "work": draw(works),
    }


def _endings(draw: st.DrawFn, allowed: list[str]) -> tuple[str, ...]:
    chosen = draw(st.lists(st.sampled_from(allowed), unique=True)) if allowed else []
    return tuple(chosen)


@st.composite
def queue_pipeline(draw: st.DrawFn, i: int, cpu_count_ok: bool) -> tuple[list[Any], list[Any]]:
    """producer -> queue [-> worker -> queue] -> consumer."""
    kind = draw(st.sampled_from(["Queue", "JoinableQueue", "SimpleQueue", "ManagerQueue"]))
    maxsize = draw(st.integers(0, model.MAX_MAXSIZE)) if kind != "SimpleQueue" else 0
    remote = kind == "ManagerQueue" and draw(st.booleans())
    q = ChannelSpec(name=f"q{i}", kind=kind, maxsize=maxsize, remote=remote)
    channels: list[ChannelSpec] = [q]
    allowed = ["poison-pill"] + (["join"] if kind == "JoinableQueue" else [])
    processes = [
        ProcessSpec(
            name=f"p{i}",
            role="producer",
            replicas=draw(replica_counts),
            outputs=(q.name,),
            payload=draw(payloads(Payload())),
            ending=_endings(draw, allowed),
            **draw(activity()),
        )
    ]
    last = q.name
    if draw(st.booleans()):
        r = ChannelSpec(name=f"r{i}", kind="Queue")
        channels.append(r)
        processes.append(
            ProcessSpec(
                name=f"w{i}",
                role="worker",
                replicas=draw(replica_counts),
                inputs=(q.name,),
                outputs=(r.name,),
                compute=draw(st.sampled_from(model.COMPUTES)),
                task_done=draw(st.booleans()),
                ending=_endings(draw, ["poison-pill"]),
                **draw(activity()),
            )
        )
        last = r.name
    cpu = cpu_count_ok and draw(st.booleans())
    processes.append(
        ProcessSpec(
            name=f"c{i}",
            role="consumer",
            replicas=_cpu_replicas() if cpu else draw(replica_counts),
            replicas_cpu_count=cpu,
            inputs=(last,),
            compute=draw(st.sampled_from(model.COMPUTES)),
            task_done=draw(st.booleans()),
            **draw(activity()),
        )
    )
    return channels, processes


@st.composite
def pipe_pair(draw: st.DrawFn, i: int) -> tuple[list[Any], list[Any]]:
    """Duplex: pinger and ponger on one Pipe. One-way: a writer and a reader."""
    duplex = draw(st.booleans())
    pipe = ChannelSpec(name=f"pipe{i}", kind="Pipe", duplex=duplex)
    both = (pipe.name,)
    if duplex:
        pair = [
            ProcessSpec(
                name=f"ping{i}",
                role="pinger",
                inputs=both,
                outputs=both,
                payload=draw(payloads(Payload())),
                ending=_endings(draw, ["poison-pill", "close"]),
                **draw(activity()),
            ),
            ProcessSpec(
                name=f"pong{i}",
                role="ponger",
                inputs=both,
                outputs=both,
                reply=draw(payloads(ProcessSpec(name="x", role="ponger").reply)),
                ending=_endings(draw, ["poison-pill", "close"]),
            ),
        ]
    else:
        pair = [
            ProcessSpec(name=f"tx{i}", role="producer", outputs=both, ending=("close",)),
            ProcessSpec(name=f"rx{i}", role="consumer", inputs=both, ending=("close",)),
        ]
    return [pipe], pair


def _numbers(typecode: str) -> st.SearchStrategy[int | float]:
    """What the loader makes of a number for this typecode: in range, or a float."""
    if typecode in model.INT_TYPECODES:
        lo, hi = model.INT_TYPECODES[typecode]
        return st.integers(lo, hi)
    # typecode f is a C float: the loader refuses what would overflow it to inf
    width = 32 if typecode == "f" else 64
    return st.floats(allow_nan=False, width=width).map(lambda x: x + 0.0)


_items = st.one_of(
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.text(alphabet="ab {}i*", max_size=6).filter(lambda t: t not in model.INDEX_FORMS),
)
_step_items = st.one_of(_items, st.sampled_from(model.INDEX_FORMS))


def _manager_steps(draw: st.DrawFn, kind: str, name: str, fields: dict[str, Any]) -> list[Step]:
    """Initial values and one to three proxy steps for a Manager list, dict or Namespace."""
    steps = []
    for _ in range(draw(st.integers(1, 3))):
        item = draw(_step_items)
        if kind == "ManagerNamespace":
            steps.append(
                Step(op="setattr", target=name, key=draw(st.sampled_from("xy")), item=item)
            )
            continue
        op = draw(st.sampled_from(["append", "setitem"]))
        if kind == "ManagerList":
            key = draw(st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["{i}"])))
        else:
            key = draw(st.one_of(st.sampled_from(["a", "{i}"]), st.integers(0, 3)))
        if op == "setitem" and key is None:
            key = 0
        assign = op == "append" and key is not None and draw(st.booleans())
        steps.append(Step(op=op, target=name, key=key, item=item, assign=assign))
    if kind == "ManagerList":
        inner = st.lists(_items, max_size=2).map(tuple)
        fields["values"] = tuple(draw(st.lists(st.one_of(_items, inner), max_size=3)))
    elif kind == "ManagerDict":
        pairs = draw(st.dictionaries(st.sampled_from(["a", "b", "name"]), _items, max_size=2))
        fields["items"] = tuple(pairs.items())
    return steps


@st.composite
def shared_group(draw: st.DrawFn, i: int) -> tuple[SharedSpec, ProcessSpec]:
    """One shared object of any kind and a steps process that uses it."""
    kind = draw(st.sampled_from(model.SHARED_KINDS))
    name = f"s{i}"
    fields: dict[str, Any] = {}
    steps: list[Step] = []
    if kind in model.DATA_KINDS:
        typecode = fields["typecode"] = draw(st.sampled_from(model.TYPECODES))
        if kind == "Value":
            fields["value"] = draw(_numbers(typecode))
        else:
            fields["values"] = tuple(draw(st.lists(_numbers(typecode), min_size=1, max_size=4)))
        for _ in range(draw(st.integers(1, 3))):
            op = draw(st.sampled_from(["add", "multiply", "value"]))
            amount = draw(_numbers(typecode))
            steps.append(Step(op=op, target=name, amount=amount, locked=draw(st.booleans())))
    elif kind in model.LOCK_KINDS:
        if kind in ("Semaphore", "BoundedSemaphore"):
            fields["value"] = draw(st.integers(0, model.MAX_MAXSIZE))
        steps += [Step(op="acquire", target=name), Step(op="release", target=name)]
    elif kind in model.MANAGER_KINDS:
        steps += _manager_steps(draw, kind, name, fields)
    elif kind == "Event":
        ops = draw(st.lists(st.sampled_from(["set", "clear", "wait"]), min_size=1, max_size=3))
        steps += [Step(op=op, target=name) for op in ops]
    elif kind == "SharedMemory":
        size = fields["size"] = draw(st.integers(8, model.MAX_BLOCK))
        steps += [
            Step(op="fill", target=name, amount=draw(st.integers(0, 255))),
            Step(
                op="write",
                target=name,
                amount=draw(st.integers(-(1 << 63), (1 << 63) - 1)),
                offset=draw(st.integers(0, size - 8)),
            ),
            Step(op="read", target=name),
        ]
    elif kind == "ShareableList":
        values = fields["values"] = tuple(draw(st.lists(_items, min_size=1, max_size=4)))
        for _ in range(draw(st.integers(1, 3))):
            index = draw(st.integers(-len(values), len(values) - 1))
            steps.append(Step(op="setitem", target=name, key=index, item=draw(_step_items)))
        steps.append(Step(op="read", target=name))
    else:
        fields["parties"] = draw(st.integers(1, model.MAX_PARTIES))
        steps.append(Step(op="wait", target=name))
    if draw(st.booleans()):
        ms = draw(st.floats(min_value=0, max_value=model.MAX_WORK_MS))
        steps.insert(draw(st.integers(0, len(steps))), Step(op="sleep", ms=ms))
    process = ProcessSpec(
        name=f"st{i}",
        role="steps",
        replicas=draw(replica_counts),
        count=draw(st.integers(1, model.MAX_COUNT)),
        steps=tuple(steps),
    )
    return SharedSpec(name=name, kind=kind, **fields), process


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    channels: list[ChannelSpec] = []
    processes: list[ProcessSpec] = []
    shared: list[SharedSpec] = []
    for i in range(draw(st.integers(1, 3))):
        c, p = draw(queue_pipeline(i, cpu_count_ok=i == 0))
        channels += c
        processes += p
    for i in range(draw(st.integers(0, 2))):
        c, p = draw(pipe_pair(i))
        channels += c
        processes += p
    for i in range(draw(st.integers(0, 2))):
        o, p = draw(shared_group(i))
        shared.append(o)
        processes.append(p)
    return Scenario(
        name="scenario",
        title=draw(titles),
        explain=draw(safe_text),
        start_method=draw(st.sampled_from(model.START_METHODS)),
        seed=draw(st.integers(min_value=-(2**63), max_value=2**63 - 1)),
        expect=draw(st.sampled_from(model.VERDICTS)),
        duration=draw(
            st.floats(min_value=0, max_value=model.MAX_SECONDS, exclude_min=True)
            | st.integers(1, 100).map(float)
        ),
        channels=tuple(channels),
        processes=tuple(processes),
        shared=tuple(shared),
        source="generated",
    )


# --------------------------------------------------------------------------- near misses


def _tables(node: Any) -> list[dict[str, Any]]:
    """Every table reachable in a parsed document, the document itself first."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        children = list(node.values())
    elif isinstance(node, list):
        children = node
    else:
        children = []
    for child in children:
        found += _tables(child)
    return found


@st.composite
def near_misses(draw: st.DrawFn) -> dict[str, Any]:
    """A valid file with one to three keys set, replaced or removed: reaches deep checks."""
    doc = tomllib.loads(dumps(draw(scenarios())))
    for _ in range(draw(st.integers(1, 3))):
        table = draw(st.sampled_from(_tables(doc)))
        if table and draw(st.booleans()):
            del table[draw(st.sampled_from(sorted(table)))]
        else:
            key = draw(st.sampled_from(sorted(table)) | keys) if table else draw(keys)
            table[key] = draw(st.sampled_from(WORDS) | toml_values)
    return doc


@FAST
@given(st.one_of(near_misses(), schema_docs, st.dictionaries(keys, toml_values, max_size=6)))
def test_arbitrary_toml_documents_only_raise_scenario_error(doc: dict[str, Any]) -> None:
    _try(tomli_w.dumps(doc))


@FAST
@given(scenarios())
def test_round_trip(s: Scenario) -> None:
    text = dumps(s)
    again = loads(text, name=s.name)
    assert dataclasses.replace(again, source=s.source) == s
    assert dumps(again) == text


@FAST
@given(scenarios())
def test_dumped_text_never_contains_raw_control_characters(s: Scenario) -> None:
    text = dumps(s)
    assert not any(ord(c) < 0x20 and c not in "\n\t" for c in text)


def test_infinite_value_round_trips() -> None:
    """inf is a legal TOML float, so a value payload may carry it."""
    s = loads(
        '[scenario]\ntitle = "t"\n[channels.q]\nkind = "Queue"\n'
        '[[process]]\nname = "p"\nrole = "producer"\nout = "q"\n'
        'payload = { kind = "value", value = [inf, -inf] }\n'
        '[[process]]\nname = "c"\nrole = "consumer"\nin = "q"\n'
    )
    assert s.processes[0].payload.value == [math.inf, -math.inf]
    assert loads(dumps(s)) == s


def test_empty_model_dumps_to_text_that_loads_refuses() -> None:
    """A model with no processes must not turn into a silently valid file."""
    s = Scenario(name="scenario", title="t", processes=())
    with pytest.raises(ScenarioError, match="no processes"):
        loads(dumps(s))


# --------------------------------------------------------------------------- the composer's drafts


@FAST
@given(scenarios())
def test_a_scenario_opened_in_the_composer_checks_back_to_itself(s: Scenario) -> None:
    """What the composer shows for a scenario (fields as text, wires by id) is the scenario."""
    got = draft.check(draft.from_scenario(s))
    assert isinstance(got, Scenario), got
    assert dataclasses.replace(got, source=s.source) == s


def step_texts(names: list[str]) -> st.SearchStrategy[str]:
    """A steps field as typed: steps on these names, some of them wrong."""
    target = st.sampled_from(names)
    amount = st.sampled_from(["1", "2.5", "x", "-1"])
    line = st.one_of(
        st.tuples(st.sampled_from(["acquire", "release", "wait", "set", "clear"]), target).map(
            " ".join
        ),
        amount.map(lambda a: f"sleep {a}"),
        st.tuples(
            st.sampled_from(["add", "multiply", "value"]),
            target,
            amount,
            st.sampled_from(["", " locked", " lock"]),
        ).map(lambda t: f"{t[0]} {t[1]} {t[2]}{t[3]}"),
        st.sampled_from(["aquire x", "# a note", "", "add c"]),
    )
    return st.lists(line, max_size=4).map("\n".join)


@st.composite
def composed(draw: st.DrawFn) -> draft.Draft:
    """What a user can make with the composer's keys: channels and processes from
    templates (wired near the selection), then duplicates, deletes, renames and
    typed values, some of them wrong."""
    d = draft.Draft()
    templates = {
        t.key: t
        for t in (*draft.CHANNEL_TEMPLATES, *draft.PROCESS_TEMPLATES, *draft.SHARED_TEMPLATES)
    }
    for _ in range(draw(st.integers(1, 3))):  # the way the footer suggests: channel, then ends
        pattern = draw(
            st.sampled_from(
                [
                    ("queue", "producer", "consumer"),
                    ("bounded", "producer", "consumer", "consumer"),
                    ("joinable", "producer", "queue", "worker", "consumer"),
                    ("simple", "producer", "consumer"),
                    ("pipe", "pinger", "ponger"),
                    ("oneway", "producer", "consumer"),
                    ("queue", "pinger", "worker"),  # a misfit, on purpose
                    ("value", "racy", "incrementer"),
                    ("holder", "semaphore", "holder"),
                    ("waiter", "setter", "party", "party"),
                    ("array", "incrementer", "bounded_semaphore"),  # two misfits
                ]
            )
        )
        context = None
        for key in pattern:
            d, uid = draft.add(d, templates[key], context)
            if templates[key].section in ("channel", "shared") and context is None:
                context = uid
            elif key == "worker":  # the consumer reads what the worker writes
                context = d.entry(uid).get("out")[0] if d.entry(uid).get("out") else context
    fields = {
        "channel": ["name", "maxsize", "duplex", "kind"],
        "process": [
            *("name", "count", "rate", "replicas", "in", "out", "finally", "payload.kind"),
            *("role", "steps"),
        ],
        "shared": ["name", "kind", "typecode", "value", "values", "parties"],
    }
    numbers = st.sampled_from(["0", "1", "3", "12"]) | st.sampled_from(
        ["-1", "2.5", "x", "", "cpu_count", "q", "a b"]
    )
    for _ in range(draw(st.integers(0, 3))):
        uids = [e.uid for e in (*d.channels, *d.shared, *d.processes)]
        if not uids:
            break
        op = draw(st.sampled_from(["duplicate", "delete", "edit", "edit"]))
        uid = draw(st.sampled_from(uids))
        if op == "duplicate":
            d, _ = draft.duplicate(d, uid)
            continue
        if op == "delete":
            d = draft.delete(d, uid)
            continue
        entry = d.entry(uid)
        key = draw(st.sampled_from(fields[entry.section]))
        channels = [c.uid for c in d.channels]
        value: Any
        if key in ("in", "out"):
            value = (
                tuple(draw(st.lists(st.sampled_from(channels), unique=True))) if channels else ()
            )
        elif key == "finally":
            value = tuple(draw(st.lists(st.sampled_from(model.ENDINGS), unique=True)))
        elif key == "duplex":
            value = draw(st.booleans())
        elif key == "kind":
            kinds = model.CHANNEL_KINDS if entry.section == "channel" else model.SHARED_KINDS
            value = draw(st.sampled_from(kinds))
        elif key == "typecode":
            value = draw(st.sampled_from(model.TYPECODES))
        elif key == "role":
            value = draw(st.sampled_from(model.ROLES))
        elif key == "values":
            value = draw(st.sampled_from(["1, 2", "[0.5]", "", "x", "1, 2,"]))
        elif key == "steps":
            value = draw(step_texts([o.name for o in d.shared] + ["nope"]))
        elif key == "payload.kind":
            value = draw(st.sampled_from(model.PAYLOAD_KINDS))
        elif key == "name":
            value = draw(st.sampled_from(["q", "w", "a b", "", "producer"]))
        else:
            value = draw(numbers)
        d = draft.edit(d, uid, key, value)
    return d


@FAST
@given(composed())
def test_whatever_the_composer_makes_saves_and_loads_back_or_names_a_field(
    d: draft.Draft,
) -> None:
    got = draft.check(d)
    if isinstance(got, draft.Problem):
        # Every problem points at something the user can see, in the loader's words.
        assert got.message and "\n" not in got.message
        if got.key.startswith(("channels.", "shared.", "process[", "scenario.")):
            assert got.uid is not None
        return
    text = dumps(got)
    again = loads(text, source=got.source, name=got.name)
    assert again == got
    assert draft.check(draft.from_scenario(again)) == got
