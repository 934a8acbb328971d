"""When the peer cannot run, benchmarks/peer.py says why in words that can be acted on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def peer(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(BENCH_DIR))  # the benchmarks import each other by name
    import peer

    return peer


@pytest.fixture
def harness(tmp_path: Path) -> Path:
    """A peer harness as the benchmarks expect it, before `npm ci` installed workerd."""
    directory = tmp_path / "workerd"
    (directory / "bench").mkdir(parents=True)
    (directory / "config.capnp").write_text("# the harness's workerd config\n")
    (directory / "bench" / "wrk.lua").write_text("-- the harness's wrk script\n")
    return directory


def test_a_writable_harness_without_workerd_says_run_npm_ci_there(peer, harness: Path):
    assert peer.find_peer(harness) == f"workerd is not installed (run `npm ci` in {harness})"


def test_a_read_only_harness_says_to_install_in_a_copy(peer, harness: Path):
    harness.chmod(0o555)
    try:
        reason = peer.find_peer(harness)
    finally:
        harness.chmod(0o755)
    assert isinstance(reason, str)
    assert f"{harness} is read-only" in reason
    assert f"cp -r {harness} " in reason and "`npm ci` there" in reason
    assert "--peer-dir " in reason and f"run `npm ci` in {harness}" not in reason


def test_the_copy_the_advice_names_is_found(peer, harness: Path, tmp_path: Path):
    """Following the advice works: a copy with workerd installed is a usable peer."""
    copy = tmp_path / "workerd-peer"
    shutil.copytree(harness, copy)
    workerd = copy / peer.WORKERD_BINARY
    workerd.parent.mkdir(parents=True)
    workerd.write_text("#!/bin/sh\necho workerd test\n")
    workerd.chmod(0o755)
    setup = peer.find_peer(copy)
    if shutil.which("wrk") is None:
        assert setup == "wrk is not installed (apt-get install -y wrk)"
    else:
        assert isinstance(setup, peer.PeerSetup) and setup.workerd == workerd.resolve()
