"""Pitfalls come in broken/fixed pairs that point at each other."""

from __future__ import annotations

from conftest import PRESETS

from ipcplay.scenario import load

ALL = {p.stem: load(p) for p in sorted(PRESETS.glob("*.toml"))}
PITFALLS = {n: s for n, s in ALL.items() if s.pitfall}
DOCS = "https://docs.python.org/3/"


def test_every_pitfall_names_an_existing_other_half_that_names_it_back():
    for name, s in PITFALLS.items():
        assert s.pair in ALL, f"{name}: pair {s.pair!r} is no built-in preset"
        other = ALL[s.pair]
        assert other.pair == name, f"{s.pair} does not point back at {name}"
        assert {s.pitfall, other.pitfall} == {"broken", "fixed"}, (name, s.pair)


def test_there_are_at_least_twelve_pairs_each_explained_with_the_python_docs():
    broken = [n for n, s in PITFALLS.items() if s.pitfall == "broken"]
    assert len(broken) >= 12
    for name in broken:
        s, fixed = ALL[name], ALL[ALL[name].pair]
        assert DOCS in s.explain, f"{name}: no link to the Python docs"
        assert fixed.expect == "completed", f"{s.pair}: a fix must complete"
        # broken means stuck, crashed, or completed with updates lost (a race
        # on a Value, a change to a Manager proxy's copy), which ipcplay counts
        lossy = any(o.kind in ("Value", "ManagerList") for o in s.shared)
        lingers = any(p.joined_after for p in s.processes)  # a zombie, seen in `ps`
        assert s.expect != "completed" or lossy or lingers, name
