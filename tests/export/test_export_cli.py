"""`ipcplay export` as a user meets it: to stdout, to a file, and bad input
answered with one line and exit status 2, leaving -o FILE untouched."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

BAD = """[scenario]
title = "a typo"
[channels.q]
kind = "Queue"
[[process]]
name = "p"
role = "producer"
out = "q"
cout = 3
"""


def ipcplay(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ipcplay", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


@pytest.mark.timeout(60)
def test_export_to_stdout(tmp_path):
    r = ipcplay("export", "bounded-queue", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    tree = ast.parse(r.stdout)
    assert ast.get_docstring(tree).startswith(
        "bounded-queue: A bounded Queue(3) between ten writers and ten readers"
    )
    assert "queue = ctx.Queue(3)" in r.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.timeout(60)
def test_export_to_a_file_with_another_start_method(tmp_path):
    r = ipcplay("export", "pipe-stream-eof", "-o", "s.py", "--start-method", "fork", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    source = (tmp_path / "s.py").read_text(encoding="utf-8")
    assert 'START_METHOD = "fork"' in source
    assert "end.close()" in source  # a forked child closes the pipe ends it inherited
    assert r.stdout.startswith("s.py: A one-way Pipe stream that ends on EOFError")
    compile(source, "s.py", "exec")


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "preset, message",
    [
        ("bad.toml", "ipcplay: bad.toml: process[0].cout: unknown key; did you mean 'count'?"),
        ("missing.toml", "ipcplay: missing.toml: no such preset or file"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_leaves_the_output_alone(tmp_path, preset, message):
    (tmp_path / "bad.toml").write_text(BAD, encoding="utf-8")
    out = tmp_path / "keep.py"
    out.write_text("# mine\n", encoding="utf-8")
    r = ipcplay("export", preset, "-o", "keep.py", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.splitlines() == [message]
    assert "Traceback" not in r.stderr
    assert out.read_text(encoding="utf-8") == "# mine\n"
    r = ipcplay("export", preset, "-o", "new.py", cwd=tmp_path)
    assert r.returncode == 2 and not (tmp_path / "new.py").exists()


@pytest.mark.timeout(60)
def test_an_output_that_cannot_be_written_is_one_line_exit_2(tmp_path):
    r = ipcplay("export", "simplequeue-hello", "-o", ".", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr == "ipcplay: .: -o: is a directory, expected a file to write\n"
    r = ipcplay("export", "simplequeue-hello", "-o", "no/such/dir/x.py", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr == "ipcplay: no/such/dir/x.py: -o: cannot write (No such file or directory)\n"
