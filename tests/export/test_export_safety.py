"""Text from a preset reaches the script only as data.

A title, an explanation or a payload may hold quotes, triple quotes,
backslashes, `#`, newlines, control characters or code; none of it may end a
string early, start a comment or run. Checked on the syntax tree and the
tokens of the generated source, by running the script, and for arbitrary text
with hypothesis.
"""

from __future__ import annotations

import ast
import io
import math
import tokenize
from dataclasses import replace
from pathlib import Path

import pytest
from export_runs import run_script, script_totals
from hypothesis import given, settings
from hypothesis import strategies as st

from ipcplay.export import to_python
from ipcplay.export.literals import docstring, string, value, value_block
from ipcplay.scenario import load
from ipcplay.scenario.model import ChannelSpec, Payload, ProcessSpec, Scenario

HOSTILE = Path(__file__).parent / "data" / "hostile.toml"


def _comments(source: str) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [t.string for t in tokens if t.type == tokenize.COMMENT]


def _names(tree: ast.AST) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
    return out


@pytest.mark.timeout(60)
def test_hostile_preset_text_stays_inside_string_literals(tmp_path):
    scenario = load(HOSTILE)
    source = to_python(scenario)
    tree = ast.parse(source)
    doc = ast.get_docstring(tree, clean=False)
    assert doc is not None
    assert doc.startswith(f"hostile: {scenario.title}\n")
    assert scenario.explain.strip() in doc
    assert "__import__" not in _names(tree) and "system" not in _names(tree)
    assert not any("PWNED" in c or "__import__" in c for c in _comments(source))
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert scenario.processes[0].payload.text in strings
    # the value payload, exactly, as the one literal the function assigns
    v = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "v")
    assigned = [n.value for n in ast.walk(v) if isinstance(n, ast.Assign)]
    assert [ast.literal_eval(a) for a in assigned] == [scenario.processes[1].payload.value]

    script = tmp_path / "hostile.py"
    script.write_text(source, encoding="utf-8")
    r = run_script(script, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (tmp_path / "PWNED").exists()
    channels, _, outcome = script_totals(r.stdout)
    assert channels == {"q": {"puts": 5, "gets": 5, "depth": 0}}
    assert outcome == "outcome: completed"


def test_raw_control_characters_are_escaped_in_the_source():
    """The loader already neutralises control characters, but `to_python` also
    takes scenarios built in code (a composer), so it escapes them itself."""
    raw = "bell\a esc\x1b[2J cr\r nul\x00 del\x7f c1\x9b ls\u2028 end"
    scenario = Scenario(
        name="raw\x1bname",
        title="title " + raw,
        explain="explain " + raw,
        channels=(ChannelSpec("q", "SimpleQueue"),),
        processes=(
            ProcessSpec("p", "producer", outputs=("q",), count=1, payload=Payload("text", 0, raw)),
            ProcessSpec("c", "consumer", inputs=("q",), count=1),
        ),
    )
    source = to_python(scenario)
    assert all(ch == "\n" or ch.isprintable() for ch in source)
    tree = ast.parse(source)
    doc = ast.get_docstring(tree, clean=False)
    assert "".join(("title " + raw).split()) in "".join(doc.split())
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert raw in strings


BASE = Scenario(
    name="prop",
    title="x",
    channels=(ChannelSpec("q", "Queue"),),
    processes=(
        ProcessSpec("p", "producer", outputs=("q",), count=1),
        ProcessSpec("c", "consumer", inputs=("q",), count=1),
    ),
)
MARK = "ZQXMARK"


@settings(max_examples=60, deadline=None)
@given(title=st.text(max_size=40), explain=st.text(max_size=200), text=st.text(max_size=40))
def test_any_text_compiles_as_data_and_reads_back(title, explain, text):
    scenario = replace(
        BASE,
        title=title + MARK,
        explain=explain + MARK,
        processes=(
            replace(BASE.processes[0], payload=Payload("text", 0, text + MARK)),
            BASE.processes[1],
        ),
    )
    source = to_python(scenario)
    tree = ast.parse(source)
    doc = ast.get_docstring(tree, clean=False)
    squeeze = "".join
    assert squeeze((title + MARK).split()) in squeeze(doc.split())
    assert squeeze((explain + MARK).split()) in squeeze(doc.split())
    assert text + MARK in {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert not any(MARK in c for c in _comments(source))
    assert not any(MARK in n for n in _names(tree))


toml_values = st.recursive(
    st.one_of(
        st.text(max_size=30),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(),
        st.booleans(),
    ),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _evaluate(source: str) -> object:
    """The literal back, with float("inf") and float("nan") allowed and nothing else."""
    tree = ast.parse(source, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name) and node.func.id == "float", source
            assert [a.value for a in node.args] in (["inf"], ["nan"]), source
        elif isinstance(node, ast.Name):
            assert node.id == "float", source
    return eval(compile(tree, "<value>", "eval"), {"__builtins__": {"float": float}})


@settings(max_examples=150, deadline=None)
@given(text=st.text())
def test_literals_read_back_exactly(text):
    assert ast.literal_eval(docstring(text)) == text
    assert ast.literal_eval(string(text)) == text


@settings(max_examples=150, deadline=None)
@given(obj=toml_values)
def test_values_read_back_exactly(obj):
    assert _same(_evaluate(value(obj)), obj)
    assert _same(_evaluate(value_block(obj, 60)), obj)
