"""The exported scripts are clean by the project's own ruff rules: every
built-in preset passes `ruff check` and `ruff format --check`, and so do the
test scenarios that stress names, payloads and endings (check only: a payload
can hold a value no formatter would lay out the same way)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PRESETS

from ipcplay.export import to_python
from ipcplay.scenario import load

pytest.importorskip("ruff")
CONFIG = Path(__file__).resolve().parents[2] / "pyproject.toml"
DATA = Path(__file__).parent / "data"


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--config", str(CONFIG)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _write(folder: Path, files: list[Path]) -> list[str]:
    folder.mkdir()
    out = []
    for f in files:
        path = folder / f"{f.stem}.py"
        path.write_text(to_python(load(f)), encoding="utf-8")
        out.append(str(path))
    return out


@pytest.mark.timeout(60)
def test_exported_scripts_pass_ruff(tmp_path):
    presets = _write(tmp_path / "presets", sorted(PRESETS.glob("*.toml")))
    others = _write(tmp_path / "others", sorted(DATA.glob("*.toml")))
    assert len(presets) >= 6 and len(others) >= 2
    r = ruff("check", "--no-cache", *presets, *others)
    assert r.returncode == 0, r.stdout + r.stderr
    r = ruff("format", "--check", "--no-cache", *presets)
    assert r.returncode == 0, r.stdout + r.stderr
