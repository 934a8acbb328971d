"""A shipped module is durable under its final name before `put` returns (and so before the
revision naming it commits): the file is fsynced before its rename, the directory after."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from pathlib import Path

from edgehost.registry.bundles import BundleStore


def record_durability(monkeypatch) -> list[tuple[str, str]]:
    """Every fsync (of a file or a directory, by path) and rename, in order."""
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append((f"fsync {kind}", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst) -> None:
        real_replace(src, dst)
        events.append(("rename", str(dst)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


def test_a_module_is_durable_under_its_name_when_put_returns(tmp_path: Path, monkeypatch):
    store = BundleStore(tmp_path / "bundles")
    wasm = b"\0asm\1\0\0\0"
    digest = hashlib.sha256(wasm).hexdigest()
    events = record_durability(monkeypatch)
    store.put(digest, wasm)
    final, directory = str(store.path(digest)), str(tmp_path / "bundles")
    kinds = [kind for kind, _ in events]
    assert kinds == ["fsync file", "rename", "fsync dir"], events
    assert events[1:] == [("rename", final), ("fsync dir", directory)]
    assert store.read(digest) == wasm
    # Shipping the same module again still makes sure its name is durable.
    events.clear()
    store.put(digest, wasm)
    assert events == [("fsync dir", directory)]
    assert sorted(os.listdir(directory)) == [f"{digest}.wasm"], "a temp file was left behind"


def test_concurrent_puts_of_one_module_both_succeed(tmp_path: Path):
    store = BundleStore(tmp_path / "bundles")
    wasm = b"\0asm\1\0\0\0" + b"\0" * 20_000_000
    digest = hashlib.sha256(wasm).hexdigest()
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def put() -> None:
        start.wait(10)
        try:
            store.put(digest, wasm)
        except BaseException as e:  # noqa: BLE001 - checked below
            failures.append(e)

    threads = [threading.Thread(target=put) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures
    assert store.read(digest) == wasm
    assert sorted(os.listdir(tmp_path / "bundles")) == [f"{digest}.wasm"]
