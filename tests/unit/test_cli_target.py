"""Where the CLI finds the host and the key (cli/settings.py `resolve`): a flag beats the
environment, which beats the saved config, which beats the default, for the URL and the key
each on its own; the saved config lives where $EDGEHOST_CONFIG, $XDG_CONFIG_HOME or $HOME
say. Every test runs with a temporary HOME and only the environment it sets."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from edgehost.cli.settings import DEFAULT_URL, config_path, resolve, save

ENV = ("EDGEHOST_URL", "EDGEHOST_API_KEY", "EDGEHOST_CONFIG", "XDG_CONFIG_HOME")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME with no edgehost variables set."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return home


def saved(home: Path, values: dict | str) -> Path:
    """Write the saved config where the CLI looks by default (~/.config/edgehost)."""
    path = home / ".config" / "edgehost" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text(values if isinstance(values, str) else json.dumps(values))
    return path


def target(url_flag: str | None = None, key_flag: str | None = None) -> tuple:
    resolved = resolve(url_flag, key_flag)
    return resolved.url, resolved.key, resolved.key_source


# ------------------------------------------------------------------ precedence

def test_with_nothing_set_the_default_url_and_no_key():
    assert target() == (DEFAULT_URL, None, "none")


@pytest.mark.parametrize("flag, env, saved_url, expected", [
    ("http://flag:1", "http://env:2", "http://saved:3", "http://flag:1"),
    (None, "http://env:2", "http://saved:3", "http://env:2"),
    (None, None, "http://saved:3", "http://saved:3"),
    ("http://flag:1", None, "http://saved:3", "http://flag:1"),
    ("http://flag:1", "http://env:2", None, "http://flag:1"),
    (None, None, None, DEFAULT_URL),
])
def test_url_flag_beats_environment_beats_saved_config_beats_default(
        home: Path, monkeypatch: pytest.MonkeyPatch, flag, env, saved_url, expected):
    if env is not None:
        monkeypatch.setenv("EDGEHOST_URL", env)
    if saved_url is not None:
        saved(home, {"url": saved_url})
    assert resolve(flag, None).url == expected


def test_key_flag_beats_environment_beats_saved_config(home: Path,
                                                       monkeypatch: pytest.MonkeyPatch):
    path = saved(home, {"api_key": "ehk_saved"})
    assert target() == (DEFAULT_URL, "ehk_saved", str(path))
    monkeypatch.setenv("EDGEHOST_API_KEY", "ehk_env")
    assert target() == (DEFAULT_URL, "ehk_env", "EDGEHOST_API_KEY")
    assert target(key_flag="ehk_flag") == (DEFAULT_URL, "ehk_flag", "--api-key")


def test_url_and_key_are_resolved_independently(home: Path, monkeypatch: pytest.MonkeyPatch):
    saved(home, {"url": "http://saved:3", "api_key": "ehk_saved"})
    monkeypatch.setenv("EDGEHOST_API_KEY", "ehk_env")
    # The URL from the saved config and the key from the environment...
    assert target()[:2] == ("http://saved:3", "ehk_env")
    # ...or the URL from a flag and the key from the saved config.
    monkeypatch.delenv("EDGEHOST_API_KEY")
    assert target(url_flag="http://flag:1")[:2] == ("http://flag:1", "ehk_saved")


def test_empty_flags_and_variables_count_as_unset(home: Path, monkeypatch: pytest.MonkeyPatch):
    path = saved(home, {"url": "http://saved:3", "api_key": "ehk_saved"})
    monkeypatch.setenv("EDGEHOST_URL", "")
    monkeypatch.setenv("EDGEHOST_API_KEY", "")
    assert target("", "") == ("http://saved:3", "ehk_saved", str(path))


@pytest.mark.parametrize("given", ["http://h:8787/", "http://h:8787///", "http://h:8787"])
def test_trailing_slashes_are_dropped_from_every_source(home: Path,
                                                        monkeypatch: pytest.MonkeyPatch, given):
    assert resolve(given, None).url == "http://h:8787"
    monkeypatch.setenv("EDGEHOST_URL", given)
    assert resolve(None, None).url == "http://h:8787"
    monkeypatch.delenv("EDGEHOST_URL")
    saved(home, {"url": given})
    assert resolve(None, None).url == "http://h:8787"


# ------------------------------------------------------------------ where the config lives

def test_the_config_path_follows_edgehost_config_then_xdg_then_home(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert config_path() == home / ".config" / "edgehost" / "config.json"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "edgehost" / "config.json"
    monkeypatch.setenv("EDGEHOST_CONFIG", str(tmp_path / "explicit.json"))
    assert config_path() == tmp_path / "explicit.json"


def test_the_key_is_read_from_the_config_the_environment_names(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    saved(home, {"api_key": "ehk_home"})
    xdg = tmp_path / "xdg" / "edgehost" / "config.json"
    xdg.parent.mkdir(parents=True)
    xdg.write_text(json.dumps({"api_key": "ehk_xdg"}))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert target() == (DEFAULT_URL, "ehk_xdg", str(xdg))
    monkeypatch.setenv("EDGEHOST_CONFIG", str(tmp_path / "missing.json"))
    assert target() == (DEFAULT_URL, None, "none")  # named but absent: no saved key


@pytest.mark.parametrize("content", ["", "{not json", "\x00\xff"])
def test_a_saved_config_that_is_not_json_counts_as_empty(home: Path, content: str):
    saved(home, content)
    assert target() == (DEFAULT_URL, None, "none")


@pytest.mark.parametrize("content", ["[]", '"ehk_x"', "42", "null"])
def test_a_saved_config_that_is_json_but_not_an_object_counts_as_empty(home: Path,
                                                                      content: str):
    # Hand-edited or written by another tool: the CLI must still start (and `auth api-key
    # set` must still be able to replace it), not fail every command with a traceback.
    path = saved(home, content)
    assert target() == (DEFAULT_URL, None, "none")
    save({"api_key": "ehk_new"})
    assert json.loads(path.read_text()) == {"api_key": "ehk_new"}


def test_a_saved_config_that_is_a_directory_counts_as_empty(home: Path):
    (home / ".config" / "edgehost" / "config.json").mkdir(parents=True)
    assert target() == (DEFAULT_URL, None, "none")


# ------------------------------------------------------------------ saving

def test_save_merges_into_an_owner_only_file_that_resolve_reads(home: Path):
    path = save({"url": "http://saved:3"})
    save({"api_key": "ehk_saved"})
    assert json.loads(path.read_text()) == {"url": "http://saved:3", "api_key": "ehk_saved"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert target() == ("http://saved:3", "ehk_saved", str(path))


def test_save_makes_an_existing_config_owner_only(home: Path):
    path = saved(home, {"url": "http://old:1"})
    path.chmod(0o644)
    save({"api_key": "ehk_new"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"url": "http://old:1", "api_key": "ehk_new"}
