"""What each process prints is kept under that process, neutralised (issue 17, part 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from watched import names, pids, process, still_alive, watch, write

CHATTY = """
import multiprocessing as mp
import os
import sys


def grandchild():
    print("grandchild line")


def child():
    for n in range(3):
        print("child line", n)
    print("child's warning", file=sys.stderr)
    os.write(1, b"written by os.write\\n")
    g = mp.Process(target=grandchild, name="grandchild")
    g.start()
    g.join(20)


def noisy():
    for n in range(5000):
        print("noisy", n)


if __name__ == "__main__":
    c = mp.Process(target=child, name="child")
    c.start()
    c.join(20)
    n = mp.Process(target=noisy, name="noisy")
    n.start()
    n.join(20)
    print("parent line")
"""


def test_each_process_output_is_under_that_process(tmp_path: Path) -> None:
    path = write(tmp_path, "chatty.py", CHATTY)
    run = watch(path.name, cwd=tmp_path)
    report = run.report
    assert run.code == 0, run.stderr
    assert names(report["processes"]) == ["main", "child", "grandchild", "noisy"]
    main, child, grandchild = (process(report, n) for n in ("main", "child", "grandchild"))
    assert (main["stdout"], main["stderr"]) == ("parent line\n", "")
    assert child["stdout"] == ("child line 0\nchild line 1\nchild line 2\nwritten by os.write\n")
    assert child["stderr"] == "child's warning\n"
    assert (grandchild["stdout"], grandchild["stderr"]) == ("grandchild line\n", "")
    noisy = process(report, "noisy")["stdout"]
    assert noisy == "".join(f"noisy {n}\n" for n in range(5000))
    assert still_alive(pids(report)) == []


CONTROL = """
import multiprocessing as mp
import sys


def child():
    print("\\x1b[2Jclear\\x07bell\\u202eevil")
    print("\\x1b]0;title\\x07", file=sys.stderr)


if __name__ == "__main__":
    p = mp.Process(target=child)
    p.start()
    p.join(20)
    print("tab\\tkept, carriage\\rreturn, \\x9b CSI")
"""


def test_control_characters_are_neutralised(tmp_path: Path) -> None:
    path = write(tmp_path, "control.py", CONTROL)
    report = watch(path.name, cwd=tmp_path).report
    child = process(report, "Process-1")
    assert child["stdout"] == "\\x1b[2Jclear\\x07bell\\u202eevil\n"
    assert child["stderr"] == "\\x1b]0;title\\x07\n"
    assert process(report, "main")["stdout"] == "tab\tkept, carriage\\x0dreturn, \\x9b CSI\n"
    for entry in report["processes"]:
        for stream in ("stdout", "stderr"):
            assert not any(
                ch in entry[stream] for ch in ("\x1b", "\x07", "\x9b", "\r", "\u202e")
            ), entry


CHILD_RAISES = """
import multiprocessing as mp


def child():
    print("before the error", flush=True)
    raise KeyError("no such key")


if __name__ == "__main__":
    p = mp.Process(target=child, name="worker")
    p.start()
    p.join(20)
    print("worker ended with", p.exitcode)
"""


def test_a_child_traceback_is_that_child_output(tmp_path: Path) -> None:
    path = write(tmp_path, "child_raises.py", CHILD_RAISES)
    run = watch(path.name, cwd=tmp_path)
    report = run.report
    worker, main = process(report, "worker"), process(report, "main")
    assert worker["exitcode"] == 1
    assert worker["stdout"] == "before the error\n"
    assert worker["stderr"].startswith("Process worker:\nTraceback (most recent call last):\n")
    assert worker["stderr"].endswith("KeyError: 'no such key'\n")
    assert (main["stdout"], main["stderr"]) == ("worker ended with 1\n", "")
    assert report["program"]["exit_status"] == 0
    assert report["verdict"] == "crashed"  # a process of it crashed, as in a scenario


def test_headless_a_child_traceback_passes_through_to_stderr(tmp_path: Path) -> None:
    path = write(tmp_path, "child_raises.py", CHILD_RAISES)
    run = watch(path.name, cwd=tmp_path, json_report=False)
    assert run.stdout == "before the error\nworker ended with 1\n"
    assert "Process worker:\nTraceback (most recent call last):\n" in run.stderr
    assert "KeyError: 'no such key'\n" in run.stderr


MODULE_LEVEL_PRINT = """
import multiprocessing as mp
import sys

print("imported as", __name__)
print("and said so on stderr", file=sys.stderr)


def work():
    print("working")


if __name__ == "__main__":
    mp.set_start_method("spawn")
    p = mp.Process(target=work, name="child")
    p.start()
    p.join(20)
"""


def test_module_level_output_of_a_spawned_child_is_somewhere(tmp_path: Path) -> None:
    """A spawned child imports the main module (as __mp_main__) before it
    runs: what that prints is in the report, once per process."""
    path = write(tmp_path, "module_print.py", MODULE_LEVEL_PRINT)
    report = watch(path.name, cwd=tmp_path).report
    out = "".join(p["stdout"] for p in report["processes"])
    assert sorted(out.splitlines()) == [
        "imported as __main__",
        "imported as __mp_main__",
        "working",
    ]


@pytest.mark.xfail(
    strict=True,
    reason=(
        "What a spawned child prints while it imports the main module (a module-level "
        "print, a warning, the RuntimeError of a program without its __main__ guard) is "
        "under main in --json: the child captures its output in _bootstrap "
        "(Runtime.capture_output), after spawn's prepare() has imported the main module "
        "with the stdout and stderr it inherited from main. Suggested fix: capture from "
        "the spawn command line's first line (BOOT_LINE) with the child's index carried "
        "in the preparation data (a stowaway in get_preparation_data, as coverage.py "
        "does), or hand the pipes over as 'not yet known' and name the process once the "
        "Ticket arrives."
    ),
)
def test_module_level_output_of_a_spawned_child_is_that_childs(tmp_path: Path) -> None:
    path = write(tmp_path, "module_print.py", MODULE_LEVEL_PRINT)
    report = watch(path.name, cwd=tmp_path).report
    main, child = process(report, "main"), process(report, "child")
    assert main["stdout"] == "imported as __main__\n"
    assert main["stderr"] == "and said so on stderr\n"
    assert child["stdout"] == "imported as __mp_main__\nworking\n"
    assert child["stderr"] == "and said so on stderr\n"
