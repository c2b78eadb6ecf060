"""The observer works from what the run says exists (issue 16, item 2).

The registry is written where objects are made and processes started; the
sampler, the stuck detector, the snapshot and the report read it, never the
scenario. These tests hold both halves: an import graph in which those
modules cannot reach `ipcplay.scenario`, and real runs whose registry says
exactly which processes and objects exist and who uses what.
"""

from __future__ import annotations

import grimp
import pytest

from ipcplay.engine import Engine
from ipcplay.engine.registry import OPS, ObjectInfo, ProcessInfo, Registry
from ipcplay.scenario import load, resolve
from ipcplay.scenario.model import STEP_OPS

OBSERVER_MODULES = (
    "ipcplay.engine.sampler",
    "ipcplay.engine.sampler_channels",
    "ipcplay.engine.sampler_events",
    "ipcplay.engine.sampler_procs",
    "ipcplay.engine.sampler_shared",
    "ipcplay.engine.sampler_tick",
    "ipcplay.engine.registry",
    "ipcplay.engine.stuck",
    "ipcplay.engine.snapshot",
    "ipcplay.report",
)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("ipcplay", cache_dir=None)


@pytest.mark.parametrize("module", OBSERVER_MODULES)
def test_the_observer_never_imports_the_scenario(graph: grimp.ImportGraph, module: str) -> None:
    """Directly or through anything it imports, imports inside functions counted."""
    reached = graph.find_upstream_modules(module)
    scenario = sorted(
        m for m in reached if m == "ipcplay.scenario" or m.startswith("ipcplay.scenario.")
    )
    chain = graph.find_shortest_chain(module, scenario[0]) if scenario else None
    assert not scenario, f"{module} reaches {scenario[0]} through {chain}"


def test_the_check_sees_an_import_of_the_scenario(graph: grimp.ImportGraph) -> None:
    """The same check finds the supervisor's import: it can fail."""
    assert "ipcplay.scenario.model" in graph.find_upstream_modules("ipcplay.engine.supervisor")


def test_every_step_op_has_a_use_bit() -> None:
    assert set(STEP_OPS) <= set(OPS)
    assert len(OPS) <= 63


def test_records_read_back_whole() -> None:
    registry = Registry.create(processes=2, objects=2, notes=1)
    first = registry.read()
    registry.register_object("channel", 0, "Queue", "jobs", maxsize=3)
    registry.register_object("shared", 0, "Value", "total", typecode="Q", initial=(1 << 64) - 1)
    registry.register_process(0, "producer", "producer", template="producer")
    registry.register_process(1, "worker-12", "steps", template="worker", replica=12)
    registry.declare_use(0, "channel", 0, ["writes"])
    registry.declare_use(1, "channel", 0, ["reads"])
    registry.declare_use(1, "shared", 0, ["uses", "add"])
    registry.add_note(1, "shared", 0, "until total >= 3")
    topology = registry.read()
    assert topology.generation > first.generation
    assert registry.read() is topology  # nothing changed: the same object
    assert topology.channels == (ObjectInfo("channel", 0, "Queue", "jobs", maxsize=3),)
    assert topology.shared == (
        ObjectInfo("shared", 0, "Value", "total", typecode="Q", initial=(1 << 64) - 1),
    )
    assert topology.processes == (
        ProcessInfo(0, "producer", "producer", "producer"),
        ProcessInfo(1, "worker-12", "steps", "worker", replica=12),
    )
    assert (topology.writers, topology.readers, topology.users) == (((0,),), ((1,),), ((1,),))
    assert topology.adds_only(0)
    assert topology.note(1, "shared", 0) == "until total >= 3"


def test_a_use_added_later_is_seen_at_the_next_read() -> None:
    """Issue 17's way: a process marks a use itself, and the observer follows."""
    registry = Registry.create(processes=1, objects=1)
    slot = registry.register_object("shared", 0, "Value", "v")
    registry.register_process(0, "p", "steps")
    before = registry.read()
    assert before.users == ((),)
    registry.add_use(0, slot, "uses", "multiply")
    after = registry.read()
    assert after.users == ((0,),)
    assert not after.adds_only(0)


def test_a_long_name_is_cut_at_a_character_boundary() -> None:
    registry = Registry.create(processes=1, objects=1)
    registry.register_object("channel", 0, "Queue", "é" * 40)
    name = registry.read().channels[0].name
    assert name == "é" * 24  # 48 bytes, two a character


def _registry_of(preset: str) -> tuple[object, object]:
    scenario = load(resolve(preset))
    engine = Engine(scenario, sample_hz=5)
    try:
        outcome = engine.run(duration=15)
    finally:
        engine.shutdown()
    assert outcome.verdict == scenario.expect
    assert engine.registry is not None
    return engine.registry.read(), outcome.snapshot


def test_a_pool_run_registers_its_owner() -> None:
    topology, snap = _registry_of("seed004-pool-map")
    assert topology.processes == (ProcessInfo(0, "pool", "pool", "pool", pool=True),)
    assert topology.channels == () and topology.shared == ()
    assert [p.name for p in snap.processes][:1] == ["pool"]


def test_a_manager_run_registers_its_queue_and_who_puts_and_gets() -> None:
    topology, snap = _registry_of("manager-queue")
    assert topology.channels == (ObjectInfo("channel", 0, "ManagerQueue", "tasks"),)
    assert [(p.name, p.template, p.role, p.replica) for p in topology.processes] == [
        ("producer", "producer", "producer", 1),
        ("consumer-1", "consumer", "consumer", 1),
        ("consumer-2", "consumer", "consumer", 2),
    ]
    assert topology.writers == ((0,),)
    assert topology.readers == ((1, 2),)
    assert snap.channels[0].writers == ("producer",)


def test_a_condition_run_registers_steps_and_the_wait_predicate() -> None:
    topology, _ = _registry_of("condition-wait-for")
    assert [(o.kind, o.name) for o in topology.shared] == [
        ("Condition", "cond"),
        ("Value", "ready"),
    ]
    assert topology.shared[1].typecode == "i"
    assert topology.users == ((0, 1), (0, 1))
    assert topology.step_users(0, "notify", "notify_all") == (0,)
    assert topology.step_users(0, "wait_for") == (1,)
    assert topology.step_users(1, "value") == (0,)
    assert topology.note(1, "shared", 0) == "until ready >= 1"
    assert not topology.adds_only(1)  # the producer sets it: not only adds
