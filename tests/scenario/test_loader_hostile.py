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


POOL = """
[[process]]
name = "pool{i}"
role = "pool"
replicas = {replicas}
[process.pool]
processes = 16
args = [1]
"""

MANAGED = """
[channels.local]
kind = "ManagerQueue"
[channels.remote]
kind = "ManagerQueue"
remote = true
[[process]]
name = "writer"
role = "producer"
out = "remote"
count = 1
replicas = 63
[[process]]
name = "more"
role = "producer"
out = "local"
count = 1
replicas = {writers}
[[process]]
name = "reader"
role = "consumer"
in = "remote"
[[process]]
name = "local-reader"
role = "consumer"
in = "local"
"""


@pytest.mark.parametrize(("pools", "replicas", "total"), [(9, 1, 153), (1, 8, 136), (8, 1, 136)])
def test_the_process_cap_counts_pool_workers(pools, replicas, total):
    text = '[scenario]\ntitle = "pools"\n' + "".join(
        POOL.format(i=i, replicas=replicas) for i in range(pools)
    )
    with pytest.raises(ScenarioError, match=rf"process: {total} processes \(.*pool workers"):
        loads(text)


def test_seven_pools_of_sixteen_are_within_the_cap():
    loads('[scenario]\ntitle = "pools"\n' + POOL.format(i=0, replicas=7))  # 7 + 112 = 119


def test_the_process_cap_counts_manager_servers():
    head = '[scenario]\ntitle = "managed"\n'
    loads(head + MANAGED.format(writers=61))  # 63 + 61 + 2 readers + 2 servers = 128
    with pytest.raises(ScenarioError, match=r"129 processes \(127 after .*2 Manager servers\)"):
        loads(head + MANAGED.format(writers=62))
