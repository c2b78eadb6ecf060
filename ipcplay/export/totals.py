"""main()'s last lines about the shared objects: what each holds at the end,
and for a Value only added to (or a Manager list only appended to) what it
should hold and how many updates were lost.
"""

from __future__ import annotations

from ipcplay.export.code import INDENT, LIMIT, Code
from ipcplay.export.topology import Topology
from ipcplay.scenario.kinds import SHARED_BY_NAME, SharedKind
from ipcplay.scenario.model import Scenario, SharedSpec


def report_shared(code: Code, scenario: Scenario, topo: Topology) -> None:
    """What each shared object holds at the end (its kind's `show`); for a
    Value only added to, or a Manager list only appended to at one index,
    also what it should hold and how many updates were lost."""
    for obj in scenario.shared:
        var = topo.shared[obj.name]
        kind = SHARED_BY_NAME[obj.kind]
        if kind.block:
            _print(code, f'f"shared {obj.name}: size={obj.size} byte_sum={{sum({var}.buf)}}"')
        if _is_list(kind) and _nested_key(scenario, obj.name) is not None:
            _lost_appends(code, scenario, obj, var)
        elif (
            _is_number(kind)
            and scenario.expect == "completed"
            and _adds_only(scenario, obj.name)
            and not obj.is_float
        ):
            _lost_adds(code, scenario, obj, var)
        elif kind.show:
            _print(code, f'f"shared {obj.name}: value={{{kind.show.format(var=var)}}}"')
        for line in kind.release:
            code(line.format(var=var))


def _is_list(kind: SharedKind) -> bool:
    """A Manager list: the server's copy, appended to through a proxy."""
    return kind.manager and "values" in kind.keys and "append" in kind.manager_steps


def _is_number(kind: SharedKind) -> bool:
    """One number in shared memory (a Value), updated by read-then-write steps."""
    return kind.data and "value" in kind.keys


def _lost_appends(code: Code, scenario: Scenario, obj: SharedSpec, var: str) -> None:
    key = _nested_key(scenario, obj.name)
    assert key is not None
    appends = sum(
        process.replicas * process.count
        for process in scenario.processes
        for step in process.steps
        if step.target == obj.name
    )
    inner0 = obj.values[key] if -len(obj.values) <= key < len(obj.values) else ()
    expected = (len(inner0) if isinstance(inner0, tuple | list) else 0) + appends
    code(f"expected = {expected}  # items the inner list would hold if no append were lost")
    code(f"inner = len({var}[{key}])")
    words = "expected={expected} lost={expected - inner}"
    _print(code, f'f"shared {obj.name}: value={{list({var})}} {words}"')


def _lost_adds(code: Code, scenario: Scenario, obj: SharedSpec, var: str) -> None:
    expected = int(obj.value) + sum(
        process.replicas * process.count * int(step.amount)
        for process in scenario.processes
        for step in process.steps
        if step.target == obj.name
    )
    code(f"expected = {expected}  # the start value plus every add the processes made")
    code(f"value = {var}.value")
    words = "value={value} expected={expected} lost={expected - value}"
    _print(code, f'f"shared {obj.name}: {words}"')


def _print(code: Code, arg: str) -> None:
    """print(arg) on one line if it fits, else as ruff format would wrap it."""
    one = f"print({arg})"
    if len(INDENT) * code.level + len(one) <= LIMIT:
        code(one)
    else:
        code.many(f"print(\n{INDENT}{arg}\n)")


def _nested_key(scenario: Scenario, name: str) -> int | None:
    """The index every step of a Manager list appends at (ml[0].append), if one."""
    steps = [
        step for process in scenario.processes for step in process.steps if step.target == name
    ]
    keys = {step.key for step in steps}
    if steps and all(step.op == "append" for step in steps) and len(keys) == 1:
        key = next(iter(keys))
        return key if isinstance(key, int) else None
    return None


def _adds_only(scenario: Scenario, name: str) -> bool:
    return all(
        step.op == "add"
        for process in scenario.processes
        for step in process.steps
        if step.target == name
    )
