"""Values the loader used to accept and the run then broke on (issue 15, item 7)."""

from __future__ import annotations

import pytest
from conftest import PRESETS

from ipcplay.scenario import ScenarioError, loads

FLOAT_VALUE = """
[scenario]
title = "a float Value"
[shared.v]
kind = "Value"
typecode = "{code}"
value = {value}
[[process]]
name = "p"
role = "steps"
steps = [{{ on = "v", add = 1 }}]
"""


@pytest.mark.parametrize("value", ["1e39", "-1e39", "3.5e38"])
def test_a_float_value_beyond_a_c_float_is_refused(value):
    with pytest.raises(ScenarioError, match=r"shared\.v\.value: .* out of range for typecode 'f'"):
        loads(FLOAT_VALUE.format(code="f", value=value))


@pytest.mark.parametrize(("code", "value"), [("f", "3.4e38"), ("f", "-1.5"), ("d", "1e39")])
def test_a_float_value_a_c_type_holds_is_accepted(code, value):
    s = loads(FLOAT_VALUE.format(code=code, value=value))
    assert s.shared[0].value == float(value)


@pytest.mark.parametrize("attr", ["_token", "__class__", "__dict__", "_private", "__init__"])
def test_a_namespace_setattr_of_a_private_or_dunder_name_is_refused(attr):
    text = (PRESETS / "manager-namespace.toml").read_text(encoding="utf-8")
    hostile = text.replace('key = "config"', f'key = "{attr}"', 1)
    assert hostile != text
    with pytest.raises(ScenarioError, match=rf"key: '{attr}' starts with '_'"):
        loads(hostile)
