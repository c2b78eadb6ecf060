"""Every program in examples/ runs on its own and prints what its article says.

These are the programs a student runs under ipcplay after reading a seed
article (issue 17), so they must first be right as plain Python: each ends by
itself with status 0 and prints the text kept here. Where the order of the
lines depends on the scheduler (several processes printing, a Manager's list
filled in whatever order the children ran), a property of the text is
checked instead: the same check a run under ipcplay must pass.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from expected_counts import EXPECTED_COUNTS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# The five seed articles (the project's shared seeds/NNN_*.txt), by title:
# an example's first line names its seed by number and by this title.
SEED_TITLES = {
    "000": "Python class library 32 [multi-process communication queue + pipe + value + array]",
    "001": "Multiprocessing process-based 'line program' interface python",
    "002": "【python学习】基础篇-常用模块-multiprocessing模块:多种进程间通信",
    "003": (
        "Python Development Foundation---interprocess communication,"
        " process pooling, and co-process"
    ),
    "004": "python并行计算进程池通信_Python使用进程池管理进程和进程间通信",
}
FIRST_LINE = re.compile(r'# Seed (\d{3}) \("(.+?)"\): \S.*')


def _lines(*lines: str) -> str:
    return "".join(line + "\n" for line in lines)


def _process_ids(out: str) -> None:
    """The child reports the main process as its parent, and a pid of its own."""
    pattern = _lines(
        "main line",
        "module name: __main__",
        r"parent process: (\d+)",
        r"process id: (\d+)",
        "function f",
        "module name: __main__",  # fork: the child runs in the same module
        r"parent process: (\d+)",
        r"process id: (\d+)",
        "hello bob",
    )
    match = re.fullmatch(pattern, out)
    assert match, out
    _, main_pid, parent_of_child, child_pid = match.groups()
    assert parent_of_child == main_pid
    assert child_pid != main_pid


def _bounded_queue(out: str) -> None:
    """Each of the ten readers printed one item, and each writer's item was read once."""
    line = re.compile(r"Process-(\d+) \(get\): Process-(\d+) \(put\)")
    pairs = [line.fullmatch(x) for x in out.splitlines()]
    assert all(pairs) and len(pairs) == 10, out
    readers = sorted(int(m.group(1)) for m in pairs if m)
    writers = sorted(int(m.group(2)) for m in pairs if m)
    assert readers == list(range(11, 21))
    assert writers == list(range(1, 11))


def _manager_list(out: str) -> None:
    """The list starts as made; the five appends come in whatever order the children ran."""
    value = ast.literal_eval(out)
    assert value[:3] == [11, 22, 33]
    assert sorted(value[3:]) == [1, 1, 4, 27, 256]  # i**i for i in 0..4


def _manager_dict(out: str) -> None:
    """Every child's key is there (a dict's order is the order they ran in)."""
    assert ast.literal_eval(out) == {"name": "Bob", 0: "a", 1: "a", 2: "a", 3: "a", 4: "a"}


def _apply_async(out: str) -> None:
    """Three calls, each in a pool worker, with its own argument."""
    line = re.compile(r"\((\w+PoolWorker-\d+)\) process running, argument: (.+)")
    found = [line.fullmatch(x) for x in out.splitlines()]
    assert all(found) and len(found) == 3, out
    arguments = {m.group(2) for m in found if m}
    assert arguments == {"default", "positional argument", "keyword argument"}


def _then_last(first_two: set[str], last: str) -> Callable[[str], None]:
    """The parent's and the child's lines in either order, then what the child sent."""

    def check(out: str) -> None:
        lines = out.splitlines()
        assert len(lines) == 3 and set(lines[:2]) == first_two and lines[2] == last, out

    return check


# Each example's stdout: the exact text, or a check of what may vary.
EXPECTED: dict[str, str | Callable[[str], None]] = {
    "seed000_joinable_queue.py": _lines(
        "Creating 2 consumers", *(f"Result: {i} * {i} = {i * i}" for i in range(10))
    ),
    "seed000_pipe.py": _lines("[42, None, 'hello']"),
    "seed000_value_array.py": _lines(
        "2",
        "[0, 10, 20, 30, 40, 50, 60, 70, 80, 90]",
        "3",
        "[0, 100, 200, 300, 400, 500, 600, 700, 800, 900]",
    ),
    "seed001_hello_process.py": _lines("hello bob"),
    "seed001_process_ids.py": _process_ids,
    "seed001_one_way_pipe.py": _lines("[42, None, 'hello']"),
    "seed001_two_way_pipe.py": _lines("proc2 rec: hello", "proc1 rec: hello, too"),
    "seed001_queue.py": _lines("[42, None, 'hello']"),
    "seed001_bounded_queue.py": _bounded_queue,
    "seed002_queue.py": _lines("hello"),
    "seed002_pipe.py": _lines("hello"),
    "seed002_value_array.py": _lines("3.1415926", "[-1.0, -2.0, -3.0]"),
    "seed002_lock.py": _lines("3"),
    "seed002_event_barrier.py": _lines(*["Worker"] * 3, *["Barrier"] * 3),
    "seed003_queue_argument.py": _lines("1", "[11, 'hello', True]"),
    "seed003_global_queue_spawn.py": _lines(
        "child exit code: 1", "nothing arrived: the child had no q to put into"
    ),
    "seed003_two_way_pipe.py": _lines("hello world", "hi son"),
    "seed003_pipe_eof.py": _lines(*(f"c1 received bun: {i}" for i in range(10)), "main process"),
    "seed003_manager_list.py": _manager_list,
    "seed003_manager_dict.py": _manager_dict,
    "seed003_pool_apply.py": _lines(*(str(i) for i in range(10)), "ending"),
    "seed004_pool_apply_async.py": _apply_async,
    "seed004_pool_map.py": _lines("--------------", "1225", "4950", "11175"),
    "seed004_queue.py": _then_last(
        {"(MainProcess) starts getting data...", "(Process-1) starts putting data..."}, "Python"
    ),
    "seed004_pipe.py": _then_last(
        {"(MainProcess) starts receiving data...", "(Process-1) starts sending data..."},
        "Python",
    ),
}

# The one example whose child fails on purpose: its traceback is on stderr.
STDERR = {"seed003_global_queue_spawn.py": "NameError: name 'q' is not defined"}


def _examples() -> list[str]:
    return sorted(path.name for path in EXAMPLES.glob("*.py"))


def test_every_example_has_an_expected_output_and_counts() -> None:
    assert _examples() == sorted(EXPECTED)
    assert _examples() == sorted(EXPECTED_COUNTS)


@pytest.mark.parametrize("name", _examples())
def test_first_line_names_its_seed(name: str) -> None:
    first = (EXAMPLES / name).read_text(encoding="utf-8").splitlines()[0]
    match = FIRST_LINE.fullmatch(first)
    assert match, f"{name}: first line {first!r} is not '# Seed NNN (\"title\"): what it shows'"
    seed, title = match.groups()
    assert seed in SEED_TITLES, f"{name}: no seed {seed}"
    assert title == SEED_TITLES[seed]
    assert name.startswith(f"seed{seed}_")


def plain_env() -> dict[str, str]:
    """The environment of a plain `python example.py` with its output to a pipe.

    PYTHONUNBUFFERED would make print() write its text and its newline in two
    writes, so two processes printing at the same instant could mix their
    lines; block-buffered, print(..., flush=True) writes a whole line at once,
    as the examples expect."""
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    return env


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_and_prints_its_results(name: str) -> None:
    run = subprocess.run(
        [sys.executable, name],
        cwd=EXAMPLES,
        env=plain_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    expected = EXPECTED[name]
    if isinstance(expected, str):
        assert run.stdout == expected
    else:
        expected(run.stdout)
    if name in STDERR:
        assert STDERR[name] in run.stderr
    else:
        assert run.stderr == ""


@pytest.mark.parametrize("name", _examples())
def test_expected_counts_name_what_the_code_binds(name: str) -> None:
    """The figures a run under ipcplay is checked against (expected_counts.py)
    still name the example's own variables, at the lines that create them."""
    counts = EXPECTED_COUNTS[name]
    lines = (EXAMPLES / name).read_text(encoding="utf-8").splitlines()
    assert counts["processes"][0] == "main"
    for variable, channel in counts["channels"].items():
        code = lines[channel["line"] - 1].strip()
        assert code.startswith(variable.replace("/", ", ") + " = "), (name, variable, code)
        assert f"{channel['kind']}(" in code, (name, variable, code)
    for kind in ("shared", "pools", "managers"):
        for variable in counts.get(kind, {}):
            source = "\n".join(lines)
            assert re.search(rf"\b{variable} = |as {variable}:", source), (name, variable)
