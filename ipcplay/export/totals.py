"""main()'s last lines about the shared objects: what each holds at the end,
and for a Value only added to (or a Manager list only appended to) what it
should hold and how many updates were lost.
"""

from __future__ import annotations

from ipcplay.export.code import INDENT, LIMIT, Code
from ipcplay.export.topology import Topology
from ipcplay.scenario.model import Scenario


def report_shared(c: Code, s: Scenario, topo: Topology) -> None:
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
