"""The export keeps the user's names and its own apart, for every name.

Renaming a process or channel of a built-in preset to one of the script's
own identifiers (`os`, `threading`, `QUEUES`, `COUNTER`, `produce`...) gave
a script that failed (issue 15, item 3). The property: for every preset and
every identifier its script defines, imports or uses, a scenario whose
process (or channel, or shared object) is called that still exports to a
script that compiles and in which the user's name did not become it. A few
of them are run, and print the same totals as the unrenamed script.
"""

from __future__ import annotations

import ast
import re
import tomllib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import PRESETS
from export_runs import run_script, script_totals

from ipcplay.export import to_python
from ipcplay.scenario import load, loads
from ipcplay.scenario.loader import dumps

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")
PRESET_FILES = sorted(PRESETS.glob("*.toml"))


NOT_NAMES = {"role", "kind", "title", "explain", "method", "function", "payload", "typecode"}


def _renamed(doc: Any, old: str, new: str, named: bool = False) -> Any:
    """Every string that is exactly `old` becomes `new`, and so does a key of
    the channels or shared tables; but not a role, a kind, prose... (a process
    may be called after its role)."""
    if isinstance(doc, dict):
        return {
            (new if named and k == old else k): (
                v if k in NOT_NAMES else _renamed(v, old, new, k in ("channels", "shared"))
            )
            for k, v in doc.items()
        }
    if isinstance(doc, list):
        return [_renamed(v, old, new) for v in doc]
    return new if doc == old else doc


def _rename(text: str, old: str, new: str) -> str:
    import tomli_w

    doc = tomllib.loads(text)
    doc.pop("tour", None)  # a tour names processes in prose; not what is tested here
    return tomli_w.dumps(_renamed(doc, old, new))


def _targets(scenario: Any) -> list[str]:
    """One process, one channel and one shared object of the scenario, if it has them."""
    out = [scenario.processes[0].name]
    out += [c.name for c in scenario.channels[:1]]
    out += [o.name for o in scenario.shared[:1]]
    return out


def _user_names(scenario: Any) -> set[str]:
    names = {p.name for p in scenario.processes} | {c.name for c in scenario.channels}
    return names | {o.name for o in scenario.shared}


def _defined(source: str) -> set[str]:
    """What the script binds, imports or reads, found independently of the exporter."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            out.add(node.name)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.alias):
            out.add(node.asname or node.name.split(".")[0])
    return out


PLACEHOLDER = "zqx-user"  # a name no script uses; its identifiers start with zqx_user


@pytest.mark.timeout(600)
@pytest.mark.parametrize("preset", PRESET_FILES, ids=[p.stem for p in PRESET_FILES])
def test_any_user_name_that_is_one_of_the_scripts_own_still_exports(preset):
    scenario = load(preset)
    base = dumps(scenario)  # the preset as the loader writes it
    tried = 0
    for target in _targets(scenario):
        probe = _defined(to_python(loads(_rename(base, target, PLACEHOLDER))))
        theirs = {n for n in probe if n.startswith("zqx_user")}
        own = probe - theirs  # the script's names, and the other user names'
        for ident in sorted(own):
            if not NAME.fullmatch(ident) or ident in _user_names(scenario):
                continue
            try:
                renamed = loads(_rename(base, target, ident), source=str(preset))
            except Exception:  # a name the loader refuses (a keyword...) is fine
                continue
            source = to_python(renamed)
            compile(source, f"{preset.stem}-{target}-as-{ident}.py", "exec")
            names = _defined(source)
            # Every name of the script is still there, and the renamed one got
            # as many identifiers of its own as the placeholder did: none of
            # them is one of the script's.
            assert own <= names, (preset.stem, target, ident)
            assert len(names - own) == len(theirs), (preset.stem, target, ident, names - own)
            tried += 1
    assert tried


# The cases: (preset, what to rename, to what).
CASES = [
    ("pool-killed-worker-fixed", "os"),
    ("join-before-drain", "threading"),
    ("join-before-drain", "set_when_exited"),
    ("remote-manager-queue", "QueueManager"),
    ("remote-manager-queue", "BaseManager"),
    ("remote-manager-queue", "QUEUES"),
    ("start-method-globals", "COUNTER"),
    ("shared-memory-block", "shared_memory"),
    ("seed003-coroutines", "produce"),
]


def _by_group(processes: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Totals per process group: `consumer-1` and `consumer-2` are `consumer`."""
    groups: dict[str, dict[str, int]] = {}
    for name, fields in processes.items():
        group = groups.setdefault(re.sub(r"-\d+$", "", name), {})
        for key, value in fields.items():
            group[key] = group.get(key, 0) + value
    return groups


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("preset", "ident"), CASES, ids=[f"{p}-{i}" for p, i in CASES])
def test_renamed_to_the_scripts_own_name_the_script_prints_the_same_totals(tmp_path, preset, ident):
    scenario = load(PRESETS / f"{preset}.toml")
    target = scenario.processes[0].name
    renamed = loads(_rename(dumps(scenario), target, ident))
    plain = tmp_path / "plain.py"
    plain.write_text(to_python(scenario), encoding="utf-8")
    hostile = tmp_path / "hostile.py"
    hostile.write_text(to_python(renamed), encoding="utf-8")
    with ThreadPoolExecutor(2) as pool:  # side by side: a pitfall's script waits out its duration
        a, b = pool.map(run_script, (plain, hostile))
    assert b.returncode == a.returncode, b.stderr
    ch_a, pr_a, out_a = script_totals(a.stdout)
    ch_b, pr_b, out_b = script_totals(b.stdout)
    assert ch_b == ch_a
    back = {(target + k[len(ident) :] if k.startswith(ident) else k): v for k, v in pr_b.items()}
    # Replicas reading one queue share its items as the scheduler deals them
    # (11 and 11 in one run, 12 and 10 in the next): compare each group's sum.
    assert _by_group(back) == _by_group(pr_a)
    assert re.sub(rf"\b{ident}\b", target, out_b) == out_a  # it names processes
