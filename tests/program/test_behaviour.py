"""Under ipcplay a program behaves as under `python PROGRAM.py`.

Same standard output byte for byte, same exit status, same traceback, the
same `__name__`, `sys.argv`, imports and pickling: a program that works
plainly must not notice it is watched (issue 17, part 1).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from watched import (
    ipcplay,
    line_of,
    names,
    pids,
    plain,
    plain_env,
    process,
    still_alive,
    watch,
    watch_module,
    write,
)

# Each process prints in a fixed order (the parent waits for the child before
# printing again), so the bytes of a plain run are the bytes of any run.
IN_ORDER = """
import multiprocessing as mp
import sys


def child(word):
    print("child says", word, flush=True)
    sys.stdout.write("no newline at the end of the child's line|")
    sys.stdout.flush()


if __name__ == "__main__":
    print("main starts", __name__, sys.argv[1:], flush=True)
    p = mp.Process(target=child, args=("héllo ✓",))
    p.start()
    p.join(20)
    print("\\tmain ends with", p.exitcode)
"""


def test_headless_output_passes_through_byte_for_byte(tmp_path: Path) -> None:
    """Without --json nothing is captured: the program's bytes are standard
    output, the report goes to standard error."""
    path = write(tmp_path, "in_order.py", IN_ORDER)
    expected = plain(path.name, "a b", "c", cwd=tmp_path)
    assert expected.code == 0, expected.stderr
    run = watch(path.name, args=("a b", "c"), cwd=tmp_path, json_report=False)
    assert run.code == 0, run.stderr
    assert run.out == expected.out
    assert "verdict: completed" in run.stderr
    assert "(the program exited with status 0)" in run.stderr


def test_json_keeps_each_process_bytes_as_a_plain_run_prints_them(tmp_path: Path) -> None:
    path = write(tmp_path, "in_order.py", IN_ORDER)
    expected = plain(path.name, "x", cwd=tmp_path)
    report = watch(path.name, args=("x",), cwd=tmp_path).report
    main = "main starts __main__ ['x']\n", "\tmain ends with 0\n"
    child = "child says héllo ✓\nno newline at the end of the child's line|"
    assert expected.stdout == main[0] + child + main[1]
    assert process(report, "main")["stdout"] == main[0] + main[1]
    assert process(report, "Process-1")["stdout"] == child
    assert still_alive(pids(report)) == []


EXIT_3 = """
import multiprocessing as mp
import sys


def work():
    print("worked", flush=True)


if __name__ == "__main__":
    p = mp.Process(target=work)
    p.start()
    p.join(20)
    sys.exit(3)
"""


def test_sys_exit_status_is_the_programs(tmp_path: Path) -> None:
    path = write(tmp_path, "exit3.py", EXIT_3)
    assert plain(path.name, cwd=tmp_path).code == 3
    report = watch(path.name, cwd=tmp_path).report
    assert report["program"]["exit_status"] == 3
    assert process(report, "main")["exitcode"] == 3
    assert process(report, "Process-1")["exitcode"] == 0
    headless = watch(path.name, cwd=tmp_path, json_report=False)
    assert "(the program exited with status 3)" in headless.stderr


RAISES = """
import multiprocessing as mp


def work(q):
    q.put("done")


def check(n):
    raise ValueError(f"bad value {n}")


if __name__ == "__main__":
    q = mp.Queue()
    p = mp.Process(target=work, args=(q,))
    p.start()
    print(q.get(timeout=20), flush=True)
    p.join(20)
    check(7)
"""


def test_an_uncaught_exception_ends_the_program_with_1_and_its_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "raises.py", RAISES)
    report = watch(path.name, cwd=tmp_path).report
    main = process(report, "main")
    assert report["program"]["exit_status"] == 1
    assert report["verdict"] == "crashed"
    assert main["stdout"] == "done\n"
    assert main["stderr"].startswith("Traceback (most recent call last):\n")
    assert main["stderr"].endswith(
        '    raise ValueError(f"bad value {n}")\nValueError: bad value 7\n'
    )
    line = line_of(RAISES, "    check(7)")
    assert f'raises.py", line {line}, in <module>\n    check(7)\n' in main["stderr"]
    assert process(report, "Process-1")["exitcode"] == 0
    assert still_alive(pids(report)) == []


def test_the_traceback_has_no_frame_of_ipcplay(tmp_path: Path) -> None:
    path = write(tmp_path, "raises.py", RAISES)
    stderr = process(watch(path.name, cwd=tmp_path).report, "main")["stderr"]
    assert "ipcplay" not in stderr, stderr


FILE_AND_PATH = """
import os
import sys

print(__file__)
print(sys.path[0] == os.path.dirname(__file__))
"""


def test_file_is_absolute_as_in_a_plain_run(tmp_path: Path) -> None:
    path = write(tmp_path, "where.py", FILE_AND_PATH)
    expected = plain(path.name, cwd=tmp_path)
    report = watch(path.name, cwd=tmp_path).report
    assert process(report, "main")["stdout"] == expected.stdout


def test_the_traceback_is_exactly_a_plain_runs(tmp_path: Path) -> None:
    """Each line as python prints it: the program's absolute path, no frame of ipcplay."""
    path = write(tmp_path, "raises.py", RAISES)
    expected = plain(path.name, cwd=tmp_path)
    assert expected.code == 1
    report = watch(path.name, cwd=tmp_path).report
    assert process(report, "main")["stderr"] == expected.stderr


SPAWN_AND_IMPORT = """
import multiprocessing as mp
import sys

from helper import square  # a module beside the program, found as in a plain run


def work(q, n):
    q.put((__name__, square(n)))


def cube(n):  # pickled by reference to __main__, imported in the child as __mp_main__
    return n**3


def apply(q, f, n):
    q.put(f(n))


if __name__ == "__main__":
    mp.set_start_method("spawn")
    print(__name__, sys.argv)
    q = mp.Queue()
    p = mp.Process(target=work, args=(q, int(sys.argv[1])))
    p.start()
    print(q.get(timeout=20))
    p.join(20)
    r = mp.Queue()
    c = mp.Process(target=apply, args=(r, cube, 3))
    c.start()
    print(r.get(timeout=20))
    c.join(20)
    print("exit codes", p.exitcode, c.exitcode)
"""


def test_argv_imports_and_spawn_pickling_as_in_a_plain_run(tmp_path: Path) -> None:
    write(tmp_path, "helper.py", "def square(x):\n    return x * x\n")
    path = write(tmp_path, "spawner.py", SPAWN_AND_IMPORT)
    expected = plain(path.name, "6", "--flag", cwd=tmp_path)
    assert expected.code == 0, expected.stderr
    assert expected.stdout == (
        "__main__ ['spawner.py', '6', '--flag']\n('__mp_main__', 36)\n27\nexit codes 0 0\n"
    )
    run = watch(path.name, args=("6", "--flag"), cwd=tmp_path)
    report = run.report
    assert run.code == 0, run.stderr
    assert process(report, "main")["stdout"] == expected.stdout
    assert report["program"]["args"] == ["6", "--flag"]
    assert names(report["processes"]) == ["main", "Process-1", "Process-2"]
    assert still_alive(pids(report)) == []


def test_a_program_in_another_folder_imports_beside_itself(tmp_path: Path) -> None:
    """sys.path[0] is the program's folder, not the folder ipcplay runs in."""
    write(tmp_path / "proj", "helper.py", "def square(x):\n    return x * x\n")
    path = write(tmp_path / "proj", "spawner.py", SPAWN_AND_IMPORT)
    run = watch(path, args=("2",), cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert process(run.report, "main")["stdout"].splitlines()[1] == "('__mp_main__', 4)"


PACKAGE_MODULE = """
import multiprocessing as mp
import sys

from . import util


def work(conn):
    conn.send(util.VALUE)
    conn.close()


if __name__ == "__main__":
    print(__name__, __package__, __spec__.name, sys.argv[1:])
    left, right = mp.Pipe()
    p = mp.get_context("spawn").Process(target=work, args=(right,))
    p.start()
    print(left.recv())
    p.join(20)
"""


def test_dash_m_package_module(tmp_path: Path) -> None:
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/util.py", "VALUE = 'from util, by a relative import'\n")
    write(tmp_path, "pkg/mod.py", PACKAGE_MODULE)
    expected = plain("pkg.mod", "x", "y", cwd=tmp_path, module=True)
    assert expected.code == 0, expected.stderr
    assert expected.stdout.startswith("__main__ pkg pkg.mod ['x', 'y']\n")
    run = watch_module("pkg.mod", args=("x", "y"), cwd=tmp_path)
    report = run.report
    assert run.code == 0, run.stderr
    assert process(report, "main")["stdout"] == expected.stdout
    assert report["program"]["module"] is True
    assert report["program"]["target"] == "pkg.mod"
    pipe = report["channels"][0]
    assert (pipe["name"], pipe["puts"], pipe["gets"]) == ("left/right", 1, 1)
    assert (pipe["writers"], pipe["readers"]) == (["SpawnProcess-1"], ["main"])


def test_the_program_reads_no_option_meant_for_ipcplay(tmp_path: Path) -> None:
    """Words after -- are the program's, even those that look like ipcplay's options."""
    path = write(tmp_path, "argv.py", "import sys\nprint(sys.argv[1:])\n")
    run = ipcplay("run", path.name, "--json", "--", "--json", "--duration", "1", cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert process(run.report, "main")["stdout"] == "['--json', '--duration', '1']\n"


READS_STDIN = """
import multiprocessing as mp
import sys


def child(q):
    q.put("child")


if __name__ == "__main__":
    q = mp.Queue()
    p = mp.Process(target=child, args=(q,))
    p.start()
    print("read:", sys.stdin.read().strip(), q.get(timeout=20))
    p.join(20)
"""


def _with_stdin(folder: Path, *options: str) -> str:
    path = write(folder, "reads.py", READS_STDIN)
    done = subprocess.run(
        [sys.executable, "-m", "ipcplay", "run", path.name, *options],
        cwd=folder,
        env=plain_env(),
        input=b"from the pipe\n",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def test_headless_the_program_reads_its_standard_input(tmp_path: Path) -> None:
    assert _with_stdin(tmp_path) == "read: from the pipe child\n"


def test_with_json_the_program_reads_its_standard_input(tmp_path: Path) -> None:
    out = json.loads(_with_stdin(tmp_path, "--json"))
    assert process(out, "main")["stdout"] == "read: from the pipe child\n"
