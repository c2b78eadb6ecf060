"""The command line as a user meets it: list, check, run --json, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PRESETS

from ipcplay.report import EXIT_CODES

BUILTIN = sorted(p.stem for p in PRESETS.glob("*.toml"))


def ipcplay(
    *args: str, cwd: Path | None = None, timeout: float = 90
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ipcplay", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def test_list_shows_every_builtin_preset_from_anywhere(tmp_path):
    r = ipcplay("list", cwd=tmp_path)  # no checkout around: presets come from the package
    assert r.returncode == 0, r.stderr
    for name in BUILTIN:
        assert name in r.stdout
    assert len([line for line in r.stdout.splitlines() if "[built-in]" in line]) == len(BUILTIN)


# `ipcplay run NAME --json` for every built-in preset (its exit status, one JSON
# object, the report's keys, a real pid per process, conserved counts) is checked
# by tests/export/test_export_presets.py, whose tests run that very command for
# every preset beside its exported script (export_runs.check_cli_report).


@pytest.mark.timeout(60)
def test_journal_file_holds_every_operation(tmp_path):
    jf = tmp_path / "run.jsonl"
    r = ipcplay("run", "joinable-queue-consumers", "--json", "--journal", str(jf))
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    events = [json.loads(line) for line in jf.read_text().splitlines()]
    assert report["journal"] == {"events": len(events), "dropped": 0, "late": 0, "file": str(jf)}
    tasks = next(c for c in report["channels"] if c["name"] == "tasks")
    puts = [e for e in events if e["channel"] == "tasks" and e["op"] == "put"]
    gets = [e for e in events if e["channel"] == "tasks" and e["op"] == "get"]
    assert len(puts) == tasks["puts"] and len(gets) == tasks["gets"]
    assert sum(e["bytes"] for e in gets) == tasks["bytes"]
    # Every task put is got by someone, matched by its message id.
    assert {e["msg"] for e in puts if e["msg"] is not None} == {
        e["msg"] for e in gets if e["msg"] is not None
    }
    pids = {p["pid"] for p in report["processes"]}
    assert {e["pid"] for e in events} == pids
    assert len([e for e in puts if e["pill"]]) == len(
        [p for p in report["processes"] if p["role"] == "worker"]
    )


def test_check_accepts_every_builtin_preset():
    r = ipcplay("check", *[str(p) for p in sorted(PRESETS.glob("*.toml"))])
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(": ok") == len(BUILTIN)


BAD = {
    "syntax.toml": "[scenario\ntitle = 1",
    "typo.toml": '[scenario]\ntitle = "t"\n[channels.q]\nkind = "Queue"\n'
    '[[process]]\nname = "p"\nrole = "producer"\nout = "q"\ncout = 3\n',
    "empty.toml": "",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_one_line_exit_2_and_touches_nothing(name, tmp_path):
    f = tmp_path / name
    f.write_text(BAD[name])
    journal = tmp_path / "keep.jsonl"
    journal.write_text("precious\n")
    for args in (("check", str(f)), ("run", str(f), "--journal", str(journal))):
        r = ipcplay(*args)
        assert r.returncode == 2
        assert r.stdout == ""
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and name in lines[0], r.stderr
        assert "Traceback" not in r.stderr
    assert journal.read_text() == "precious\n"  # nothing lost


def test_bad_arguments_and_missing_presets_are_one_line_errors(tmp_path):
    for args in (
        ("run", "no-such-preset"),
        ("run", "steady-pipeline", "--duration", "-1"),
        ("run", "steady-pipeline", "--hz", "many"),
        ("frobnicate",),
        ("check", str(tmp_path)),
        ("check", str(tmp_path / "missing.toml")),
    ):
        r = ipcplay(*args)
        assert r.returncode == 2, args
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr


def test_a_preset_cannot_write_escape_sequences_to_the_terminal(tmp_path):
    f = tmp_path / "evil.toml"
    f.write_text(
        '[scenario]\ntitle = "boom \\u001b[2J\\u001b]0;pwned\\u0007"\n'
        '[channels.q]\nkind = "SimpleQueue"\n[[process]]\nname = "p"\n'
        'role = "producer"\nout = "q"\ncount = 1\n[[process]]\nname = "c"\n'
        'role = "consumer"\nin = "q"\ncount = 1\n'
    )
    r = ipcplay("check", str(f))
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    r = ipcplay("run", str(f))
    assert r.returncode == 0, r.stderr
    assert "\x1b]0;" not in r.stdout and "\x07" not in r.stdout


@pytest.mark.timeout(60)
def test_run_json_reports_shared_objects(tmp_path):
    r = ipcplay("run", "value-lost-updates-fixed", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    (counter,) = json.loads(r.stdout)["shared"]
    assert counter["name"] == "counter" and counter["kind"] == "Value"
    assert counter["value"] == counter["expected"] == 80000
    assert counter["lost_updates"] == 0 and counter["updates"] == 80000
    assert counter["acquires"] == counter["releases"] == 80000
    r = ipcplay("run", "lock-order-deadlock", "--json", cwd=tmp_path)
    assert r.returncode == EXIT_CODES["deadlock"], r.stderr
    report = json.loads(r.stdout)
    locks = {o["name"]: o for o in report["shared"]}
    pids = {p["name"]: p["pid"] for p in report["processes"]}
    assert locks["lock_a"]["holders"] == [{"name": "left", "pid": pids["left"]}]
    assert locks["lock_b"]["holders"] == [{"name": "right", "pid": pids["right"]}]
    assert report["stuck"]["processes"] == ["left", "right"]


@pytest.mark.timeout(60)
def test_a_deadlock_report_carries_its_wait_for_graph():
    r = ipcplay("run", "lock-order-deadlock", "--json", "--start-method", "fork")
    waits = json.loads(r.stdout)["stuck"]["waits"]
    assert [(w["waiter"], w["op"], w["object"], w["waits_for"], w["in_cycle"]) for w in waits] == [
        ("left", "acquire", "lock_b", ["right"], True),
        ("right", "acquire", "lock_a", ["left"], True),
    ]
    assert waits[0]["holder"].startswith("right (pid ")
