"""`--set PROCESS.KEY=VALUE`: change a few numbers of a preset for one run.

Exploring every schedule needs small runs (two adders adding twice, not four
adding 20,000 times), and a schedule file must say which run it belongs to
(its `set = [...]`). Rather than trust a changed copy, an override writes the
scenario back as TOML (scenario/dump.py), changes the one key in that
document and loads it again: the result is checked by the same loader, with
the same rules and caps, as if the file had said so. A problem is one line
naming where the option came from, the option and what was expected.

What can be set, by the kind of thing NAME is:

* a process template: replicas, count, rate;
* a channel: maxsize;
* a shared object: value (a Value's first value), parties (a Barrier).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from typing import Any

import tomli_w

from ipcplay.scenario.checks import ScenarioError, described, show, suggest
from ipcplay.scenario.dump import dumps
from ipcplay.scenario.loader import loads
from ipcplay.scenario.model import Scenario

PROCESS_KEYS = ("replicas", "count", "rate")
CHANNEL_KEYS = ("maxsize",)
SHARED_KEYS = ("value", "parties")
FORM = "PROCESS.KEY=VALUE"


class OverrideError(ScenarioError):
    """An override that cannot be applied: `where: option: what was expected`."""


def apply(scenario: Scenario, options: Iterable[str], where: str = "--set") -> Scenario:
    """The scenario with every option applied in order, checked as the loader
    checks a file; OverrideError (one line) for the first bad one."""
    options = list(options)
    if not options:
        return scenario
    doc = tomllib.loads(dumps(scenario))
    for option in options:
        _apply_one(doc, scenario, option, where)
    try:
        return loads(tomli_w.dumps(doc), source=scenario.source or where, name=scenario.name)
    except ScenarioError as exc:
        option = _blame(options, exc.key) or ", ".join(options)
        raise OverrideError(where, option, _reworded(exc)) from None


def _apply_one(doc: dict[str, Any], scenario: Scenario, option: str, where: str) -> None:
    target, sep, raw = option.partition("=")
    name, dot, key = target.strip().partition(".")
    if not sep or not dot or not name or not key:
        raise OverrideError(where, option, f"expected {FORM}, e.g. adder.replicas=2")
    name, key = name.strip(), key.strip()
    value = _value(raw.strip(), where, option)
    for index, process in enumerate(scenario.processes):
        if process.name == name:
            _check_key(key, PROCESS_KEYS, "a process", where, option)
            doc["process"][index][key] = value
            return
    if any(channel.name == name for channel in scenario.channels):
        _check_key(key, CHANNEL_KEYS, "a channel", where, option)
        doc["channels"][name][key] = value
        return
    if any(obj.name == name for obj in scenario.shared):
        _check_key(key, SHARED_KEYS, "a shared object", where, option)
        doc["shared"][name][key] = value
        return
    names = [
        *(p.name for p in scenario.processes),
        *(c.name for c in scenario.channels),
        *(s.name for s in scenario.shared),
    ]
    hint = suggest(name, names) or f"; expected one of {', '.join(names)}"
    raise OverrideError(
        where,
        option,
        f"{scenario.name} has no process, channel or shared object named {show(name)}{hint}",
    )


def _check_key(key: str, allowed: tuple[str, ...], what: str, where: str, option: str) -> None:
    if key not in allowed:
        hint = suggest(key, allowed) or f"; expected one of {', '.join(allowed)}"
        raise OverrideError(where, option, f"cannot set {show(key)} of {what}{hint}")


def _value(raw: str, where: str, option: str) -> Any:
    """A TOML value (2, 0.5, true, "x"); a bare word is taken as a string
    (replicas=cpu_count)."""
    if not raw:
        raise OverrideError(where, option, "expected a value after '='")
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        if raw.replace("_", "").replace("-", "").isalnum():
            return raw
        raise OverrideError(
            where, option, f"expected a number or a word after '=', got {described(raw)}"
        ) from None


def _blame(options: list[str], key: str) -> str | None:
    """The option the loader's complaint is about, when its key says so
    (`process[0].count` for `adder.count=...`): the last one setting that key."""
    field = key.rsplit(".", 1)[-1]
    for option in reversed(options):
        if option.partition("=")[0].strip().endswith("." + field):
            return option
    return None


def _reworded(exc: ScenarioError) -> str:
    """The loader's message, with its key when it is not the option's own."""
    return exc.message if not exc.key else f"{exc.key}: {exc.message}"
