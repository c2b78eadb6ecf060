"""Python identifiers for the scenario's channel and process names.

Scenario names are already tame (a letter, then letters, digits, `_` or `-`),
but a channel may be called `queue`, `print`, `for` or `tally`, and `a-b` and
`a_b` are different names that would make the same identifier. Every name the
script uses is taken from one pool, so a scenario's names can never shadow a
module, a builtin, a helper of the script or each other.
"""

from __future__ import annotations

import ast
import builtins
import keyword

# Names the generated script uses for itself: modules, helpers, constants and
# the locals of the generated functions.
SCRIPT_NAMES = frozenset(
    {
        # modules and what is imported from them
        "datetime",
        "itertools",
        "multiprocessing",
        "random",
        "sys",
        "time",
        "Empty",
        "Full",
        # module-level constants and helpers
        "CHANNELS",
        "DURATION",
        "PILL",
        "SEED",
        "START_METHOD",
        "STOPPED",
        "TIMEOUT",
        "Tally",
        "burn_cpu",
        "drain",
        "main",
        "put_or_stop",
        "receive",
        "report",
        "square",
        "take",
        "take_simple",
        # the pool role's module-level names: task functions (export/pool.py FUNCTIONS)
        "ARGS",
        "action",
        "add",
        "died",
        "pool_init",
        "sleep_ms",
        "sum_range",
        # parameters and locals of the generated functions
        "body",
        "ctx",
        "deadline",
        "depth",
        "expected",
        "end",
        "i",
        "pipe_ends",
        "mine",
        "item",
        "left",
        "n",
        "name",
        "next_due",
        "p",
        "pills",
        "processes",
        "r",
        "reply",
        "rng",
        "stop",
        "stuck",
        "taken",
        "tallies",
        "tally",
        "value",
    }
)


PROBE = "ipcplay_user_name_"  # what a probing Namer hands out: no script uses it


class Namer:
    """Hands out identifiers that are valid, unique and clash with nothing.

    `reserved` are the names the script at hand uses for itself, as found by
    `script_names` in a first, probing generation (`probe=True`: every user
    name becomes a placeholder). SCRIPT_NAMES alone was a list kept by hand,
    and missed os, threading, QUEUES, COUNTER, produce... (issue 15, item 3).
    """

    def __init__(self, reserved: frozenset[str] = frozenset(), probe: bool = False) -> None:
        self._taken: set[str] = set(SCRIPT_NAMES) | set(dir(builtins)) | set(reserved)
        self._probe = probe

    def fresh(self, name: str, suffix: str = "") -> str:
        if self._probe:
            return f"{PROBE}{len(self._taken)}"  # unique: _taken grows by one each time
        base = name.replace("-", "_") + suffix
        if not base.isidentifier():  # cannot happen for loader-checked names; be safe anyway
            base = "_" + "".join(char if char.isalnum() else "_" for char in base)
        candidate = base
        attempt = 1
        while candidate in self._taken or keyword.iskeyword(candidate):
            # PEP 8's trailing underscore first (print_, for_), then numbers
            candidate = f"{base}_" if attempt == 1 else f"{base}_{attempt}"
            attempt += 1
        self._taken.add(candidate)
        return candidate


def script_names(source: str) -> frozenset[str]:
    """Every identifier `source` binds, imports or reads, but the placeholders
    of a probing Namer: the names a user's name must not become."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.Global | ast.Nonlocal):
            names.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return frozenset(name for name in names if not name.startswith(PROBE))
