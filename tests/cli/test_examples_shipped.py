"""The example programs ship with ipcplay and run by their file name alone.

A student installs ipcplay (not from a checkout), reads seed 001 and types
`ipcplay seed001_bounded_queue.py` in whatever folder they are in: the
examples must be inside the installed package, listed by `ipcplay list`, and
found by name when no file of that name is in the current folder (a file
that is there always wins: it is the student's own).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(path.name for path in (REPO / "examples").glob("*.py"))


def ipcplay(*args: str, cwd: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ipcplay", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def test_there_are_examples_to_ship() -> None:
    assert len(EXAMPLES) >= 20 and "seed001_bounded_queue.py" in EXAMPLES


@pytest.mark.timeout(120)
def test_the_built_package_holds_every_example_and_runs_them_counted(tmp_path: Path) -> None:
    """setuptools' build of the package (what a wheel is made of), from a
    copy of the sources: every example is in it, beside ipcplay, and the
    ipcplay of that build finds one by its name alone and counts what it
    makes (under ipcplay/ it would be taken for ipcplay's own code)."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("ipcplay", "presets", "examples"):
        shutil.copytree(REPO / folder, source / folder, ignore=skip)
    lib = tmp_path / "lib"
    setup = "from setuptools import setup; setup()"
    build = subprocess.run(
        [sys.executable, "-c", setup, "-q", "build_py", "--build-lib", str(lib)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert build.returncode == 0, build.stderr
    package = lib / "ipcplay_examples"
    assert sorted(path.name for path in package.glob("*.py")) == EXAMPLES
    assert not (lib / "examples").exists() and not (lib / "ipcplay" / "examples").exists()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(lib)}
    run = subprocess.run(
        [sys.executable, "-m", "ipcplay", "run", "seed001_queue.py", "--json"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert Path(report["scenario"]) == package / "seed001_queue.py"
    queues = [(c["name"], c["puts"], c["gets"]) for c in report["channels"]]
    assert queues == [("q", 1, 1)]
    listing = subprocess.run(
        [sys.executable, "-m", "ipcplay", "list"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listing.returncode == 0, listing.stderr
    assert "seed001_bounded_queue.py " in listing.stdout


def test_list_shows_the_programs_after_the_presets(tmp_path: Path) -> None:
    r = ipcplay("list", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    heading = next(i for i, line in enumerate(lines) if line.startswith("Programs"))
    assert all("[built-in]" not in line for line in lines[heading:])
    programs = [line.split()[0] for line in lines[heading + 1 :]]
    assert programs == EXAMPLES
    bounded = next(line for line in lines if line.startswith("seed001_bounded_queue.py "))
    assert "[seed 001]" in bounded and "Queue of at most 3 items" in bounded


@pytest.mark.timeout(120)
def test_a_bare_example_name_runs_the_shipped_example_from_any_folder(tmp_path: Path) -> None:
    r = ipcplay("run", "seed001_hello_process.py", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert Path(report["scenario"]).name == "seed001_hello_process.py"
    assert Path(report["scenario"]).parent != tmp_path
    assert [p["stdout"] for p in report["processes"] if p["name"] == "Process-1"] == ["hello bob\n"]


@pytest.mark.timeout(120)
def test_a_file_of_that_name_in_the_current_folder_wins(tmp_path: Path) -> None:
    (tmp_path / "seed001_hello_process.py").write_text('print("my own")\n', encoding="utf-8")
    r = ipcplay("run", "seed001_hello_process.py", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert [p["stdout"] for p in report["processes"] if p["name"] == "main"] == ["my own\n"]


def test_a_path_from_a_checkout_is_a_path(tmp_path: Path) -> None:
    """`examples/seed001_bounded_queue.py` runs from a checkout; elsewhere a
    path with a folder means that file only, so it is missing."""
    r = ipcplay("run", "examples/seed001_bounded_queue.py", "--json", cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["verdict"] == "completed"
    r = ipcplay("run", "examples/seed001_bounded_queue.py", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "ipcplay: examples/seed001_bounded_queue.py: no such file "
        "(expected a Python program, a .py file)"
    ]


def test_a_mistyped_example_name_is_one_line_naming_the_nearest(tmp_path: Path) -> None:
    r = ipcplay("seed001_bounded_queu.py", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.splitlines() == [
        "ipcplay: seed001_bounded_queu.py: no such file (expected a Python program, a .py "
        "file, or a shipped example's file name: ipcplay list; did you mean the example "
        "seed001_bounded_queue.py?)"
    ]
