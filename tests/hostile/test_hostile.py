"""The hostile corpus through every door: check, run, export and the TUI.

Invalid files (and special files made here: a FIFO, /dev/zero, a link to it,
a link loop, a file over the size cap, bytes that are not UTF-8) are refused
by every command with the same one line, exit status 2 and no traceback.
Valid but hostile files run, export to scripts that compile and run, and
never put a control character on the terminal, under their own names or
under a name made of escape sequences. See README.md in this folder.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ipcplay.cli import main
from ipcplay.scenario import load

HERE = Path(__file__).parent
INVALID = sorted((HERE / "invalid").glob("*.toml"))
VALID = sorted((HERE / "valid").glob("*.toml"))
# What must never reach a terminal: C0 and C1 controls (but newline), bidi overrides.
RAW = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE_NAME = "\x1b]2;PWNED\x07\x1b[31mred\u202e"


def _special(tmp: Path) -> dict[str, str]:
    """Files that cannot be kept in git: made for the test, by name."""
    made = {}
    fifo = tmp / "fifo.toml"
    os.mkfifo(fifo)
    made["fifo"] = str(fifo)
    made["dev-zero"] = "/dev/zero"
    (tmp / "zero-link.toml").symlink_to("/dev/zero")
    made["link-to-dev-zero"] = str(tmp / "zero-link.toml")
    (tmp / "loop-a.toml").symlink_to(tmp / "loop-b.toml")
    (tmp / "loop-b.toml").symlink_to(tmp / "loop-a.toml")
    made["link-loop"] = str(tmp / "loop-a.toml")
    big = tmp / "big.toml"
    big.write_text("# " + "x" * (2 << 20) + "\n", encoding="utf-8")
    made["over-the-size-cap"] = str(big)
    latin = tmp / "latin-1.toml"
    latin.write_bytes(b'[scenario]\ntitle = "caf\xe9"\n')
    made["not-utf-8"] = str(latin)
    named = tmp / f"{HOSTILE_NAME}.toml"
    named.write_text("[scenario\n", encoding="utf-8")
    made["escapes-in-the-file-name"] = str(named)
    return made


SPECIAL = [
    "fifo",
    "dev-zero",
    "link-to-dev-zero",
    "link-loop",
    "over-the-size-cap",
    "not-utf-8",
    "escapes-in-the-file-name",
]


def _refusals(capsys: pytest.CaptureFixture[str], path: str) -> list[str]:
    """What check, run, export and the TUI each say about `path`."""
    said = []
    for argv in (["check", path], ["run", path], ["export", path], [path]):
        status = main(argv)
        out, err = capsys.readouterr()
        assert status == 2, (argv, err)
        assert out == "", (argv, out)
        assert err.count("\n") == 1 and err.startswith("ipcplay: "), (argv, err)
        assert "Traceback" not in err
        assert not RAW.search(err.rstrip("\n")), (argv, err)
        said.append(err)
    return said


@pytest.mark.timeout(60)
@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_an_invalid_file_is_one_line_and_status_2_for_every_command(capsys, path):
    said = _refusals(capsys, str(path))
    assert len(set(said)) == 1, said  # the same words from every command
    assert str(path) in said[0]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", SPECIAL)
def test_a_special_file_is_one_line_and_status_2_for_every_command(capsys, tmp_path, kind):
    path = _special(tmp_path)[kind]
    said = _refusals(capsys, path)
    assert len(set(said)) == 1, said


def test_special_files_are_named_for_what_they_are(capsys, tmp_path):
    made = _special(tmp_path)
    words = {kind: _refusals(capsys, made[kind])[0] for kind in ("fifo", "dev-zero", "link-loop")}
    assert "is not a regular file" in words["fifo"]
    assert "is not a regular file" in words["dev-zero"]
    assert "symbolic link loop" in words["link-loop"]


def _ipcplay(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ipcplay", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_a_hostile_valid_file_checks_runs_and_exports_without_raw_controls(tmp_path, path):
    checked = _ipcplay("check", str(path))
    assert checked.returncode == 0 and not RAW.search(checked.stdout.rstrip("\n")), checked
    plain = _ipcplay("run", str(path))
    assert plain.returncode == 0, plain.stderr
    assert "verdict: completed" in plain.stdout
    assert not RAW.search(plain.stdout.replace("\n", "")), plain.stdout[:400]
    assert not plain.stderr
    as_json = _ipcplay("run", str(path), "--json")
    report = json.loads(as_json.stdout)
    scenario = load(path)
    started = len(report["processes"])
    assert report["verdict"] == "completed"
    assert started == sum(p.replicas for p in scenario.processes) + sum(
        p.replicas * p.pool.processes for p in scenario.processes if p.pool
    )
    assert started <= 128  # the cap holds for what really ran
    script = tmp_path / "exported.py"
    exported = _ipcplay("export", str(path), "-o", str(script))
    assert exported.returncode == 0, exported.stderr
    assert not RAW.search(exported.stdout.rstrip("\n"))
    source = script.read_text(encoding="utf-8")
    compile(source, str(script), "exec")
    assert not RAW.search(source.replace("\n", "")), "a raw control character in the script"


@pytest.mark.timeout(300)
def test_a_file_named_with_escapes_is_printed_neutralised_everywhere(tmp_path):
    hostile = tmp_path / f"{HOSTILE_NAME}.toml"
    hostile.write_text((HERE / "valid" / "escapes-everywhere.toml").read_text("utf-8"), "utf-8")
    out = tmp_path / f"{HOSTILE_NAME}.py"
    for args in (
        ("check", str(hostile)),
        ("run", str(hostile), "--journal", str(tmp_path / f"{HOSTILE_NAME}.jsonl")),
        ("export", str(hostile), "-o", str(out)),
        ("run", str(hostile), "--duration", "0.0001", "--journal", str(tmp_path)),  # an error
    ):
        r = _ipcplay(*args)
        for stream in (r.stdout, r.stderr):
            assert not RAW.search(stream.replace("\n", "")), (args, stream[:300])
        assert "Traceback" not in r.stderr
    assert out.exists()
    ran = subprocess.run(
        [sys.executable, "-I", "-S", str(out)], capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr


# --------------------------------------------------------------------------- the TUI


def _raw_on_screen(app) -> list[str]:
    svg = app.export_screenshot()
    return RAW.findall(svg.replace("\n", ""))


@pytest.mark.timeout(60)
async def test_the_run_screen_shows_a_hostile_scenario_neutralised():
    from dataclasses import replace

    from ipcplay.tui.app import IpcplayApp

    scenario = replace(load(HERE / "valid" / "escapes-everywhere.toml"), name=HOSTILE_NAME)
    app = IpcplayApp(initial=scenario)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(1.0)
        assert not _raw_on_screen(app)
        await pilot.press("e")  # the Explain tab: the explanation's escapes
        await pilot.pause(0.3)
        assert not _raw_on_screen(app)
        await pilot.press("q")


@pytest.mark.timeout(60)
async def test_the_home_screen_lists_a_file_named_with_escapes_neutralised(tmp_path):
    from ipcplay.tui.app import IpcplayApp

    hostile = tmp_path / f"{HOSTILE_NAME}.toml"
    hostile.write_text((HERE / "valid" / "escapes-everywhere.toml").read_text("utf-8"), "utf-8")
    broken = tmp_path / f"{HOSTILE_NAME}-broken.toml"
    broken.write_text("[scenario\n", "utf-8")
    app = IpcplayApp(extra=[hostile, broken])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        assert not _raw_on_screen(app)
        await pilot.press("q")


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "args",
    [
        ("run", "simplequeue-hello", "--journal", "{fifo}"),
        ("run", "simplequeue-hello", "--trace", "{fifo}"),
        ("export", "simplequeue-hello", "-o", "{fifo}"),
        ("record", "simplequeue-hello", "-o", "{fifo}"),
    ],
    ids=["journal", "trace", "export", "record"],
)
def test_a_fifo_as_an_output_is_refused_at_once(capsys, tmp_path, args):
    """Opening a FIFO to write waits for a reader: the run hung for ever."""
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    status = main([a.format(fifo=fifo) for a in args])
    err = capsys.readouterr().err
    assert status == 2
    assert (
        err
        == f"ipcplay: {fifo}: {args[-2]}: is a FIFO or a socket, expected a regular file to write\n"
    )
