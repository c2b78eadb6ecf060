"""Preset lookup: files first, built-ins by name, then the user's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipcplay.scenario import PresetInfo, ScenarioError, list_presets, presets, resolve, user_dir

GOOD = """[scenario]
title = "{title}"

[channels.q]
kind = "Queue"

[[process]]
name = "p"
role = "producer"
out = "q"

[[process]]
name = "c"
role = "consumer"
in = "q"
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty IPCPLAY_HOME with a presets folder; the user's real one is never read."""
    monkeypatch.setenv("IPCPLAY_HOME", str(tmp_path / "home"))
    folder = tmp_path / "home" / "presets"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def fake_builtins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Replace the built-ins so tests do not depend on which presets ship."""
    folder = tmp_path / "builtin"
    folder.mkdir()
    monkeypatch.setattr(presets, "_builtins", lambda: presets._toml_files(folder))
    return folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- user_dir


def test_user_dir_prefers_ipcplay_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IPCPLAY_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert user_dir() == tmp_path / "presets"


def test_user_dir_then_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("IPCPLAY_HOME", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert user_dir() == tmp_path / "ipcplay" / "presets"


def test_user_dir_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("IPCPLAY_HOME", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_dir() == tmp_path / ".config" / "ipcplay" / "presets"


# --------------------------------------------------------------------------- resolve


def test_resolve_existing_path_wins(home: Path, fake_builtins: Path, tmp_path: Path) -> None:
    write(fake_builtins, "demo", GOOD.format(title="built-in"))
    mine = write(tmp_path, "demo", GOOD.format(title="mine"))
    assert resolve(str(mine)) == mine


def test_resolve_user_preset(home: Path, fake_builtins: Path) -> None:
    path = write(home, "my-ring", GOOD.format(title="Mine"))
    assert resolve("my-ring") == path
    assert resolve("my-ring.toml") == path


def test_builtin_wins_over_user_on_name(home: Path, fake_builtins: Path) -> None:
    builtin = write(fake_builtins, "demo", GOOD.format(title="built-in"))
    write(home, "demo", GOOD.format(title="mine"))
    assert resolve("demo") == builtin


def test_resolve_unknown_name_suggests(home: Path, fake_builtins: Path) -> None:
    write(fake_builtins, "fan-out", GOOD.format(title="x"))
    write(home, "my-ring", GOOD.format(title="x"))
    with pytest.raises(ScenarioError) as info:
        resolve("my-rnig")
    assert str(info.value) == "my-rnig: no such preset or file; did you mean 'my-ring'?"
    with pytest.raises(ScenarioError) as info:
        resolve("fanout")
    assert str(info.value) == "fanout: no such preset or file; did you mean 'fan-out'?"


def test_resolve_unknown_name_without_suggestion(home: Path, fake_builtins: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        resolve("zzzzzz")
    assert str(info.value) == "zzzzzz: no such preset or file"
    assert (info.value.file, info.value.key) == ("zzzzzz", "")


def test_resolve_directory(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="is a directory"):
        resolve(str(tmp_path))


def test_names_cannot_escape_the_preset_folders(home: Path, fake_builtins: Path) -> None:
    write(home.parent, "outside", GOOD.format(title="x"))
    with pytest.raises(ScenarioError, match="no such preset or file"):
        resolve("../outside")


# --------------------------------------------------------------------------- list_presets


def test_list_presets_orders_and_reports_broken_files(home: Path, fake_builtins: Path) -> None:
    b = write(fake_builtins, "b-demo", GOOD.format(title="B"))
    a = write(fake_builtins, "a-demo", GOOD.format(title="A"))
    broken = write(home, "broken", "[scenario\n")
    mine = write(home, "a-demo", GOOD.format(title="Mine"))
    (home / "notes.txt").write_text("not a preset")
    (home / ".hidden.toml").write_text("ignored")

    listed = list_presets()

    assert listed[:2] == [
        PresetInfo(name="a-demo", path=a, title="A", origin="built-in"),
        PresetInfo(name="b-demo", path=b, title="B", origin="built-in"),
    ]
    assert listed[2] == PresetInfo(name="a-demo", path=mine, title="Mine", origin="user")
    bad = listed[3]
    assert (bad.name, bad.path, bad.origin, bad.title) == ("broken", broken, "user", "")
    assert bad.error is not None
    assert bad.error.startswith(f"{broken}: (syntax): invalid TOML:")
    assert len(listed) == 4


def test_list_presets_without_user_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_builtins: Path
) -> None:
    monkeypatch.setenv("IPCPLAY_HOME", str(tmp_path / "does-not-exist"))
    assert list_presets() == []


def test_listed_title_is_neutralised(home: Path, fake_builtins: Path) -> None:
    write(home, "loud", GOOD.format(title="\\u001b[2Jboom"))
    (info,) = list_presets()
    assert info.title == "\\x1b[2Jboom"


def test_shipped_presets_all_load(home: Path) -> None:
    """Whatever ships in presets/ must load cleanly: a broken built-in is a bug."""
    broken = [(i.name, i.error) for i in list_presets() if i.origin == "built-in" and i.error]
    assert broken == []
