"""The host's LMDB environment: named databases and durable write transactions.

LMDB allows one writer at a time; `write()` serialises writers within the process so callers
never see "transaction already open".

The map size is fixed when the environment opens and never changes while it is open. LMDB
forbids resizing the map while any transaction is active in the process (py-lmdb invalidates
every open transaction, so concurrent readers fail mid-walk, and a zero-copy read crashes
the process), and another process on the same file would have to notice and remap too. A
fixed map costs only address space (the file is sparse and pages are mapped as they are
used), so the host opens it large (HostConfig.lmdb_map_size) and a write that does not fit
fails cleanly with `StorageFull`, leaving everything already stored readable and writable.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Iterable, TypeVar

import lmdb

T = TypeVar("T")


class StorageFull(Exception):
    """The LMDB map has no room for a write transaction; nothing of it was written."""


class MapSizeMismatch(Exception):
    """Another process opened this environment with a larger map and used it."""


class LmdbEnv:
    def __init__(self, path: Path, *, map_size: int, databases: Iterable[str]) -> None:
        path.mkdir(parents=True, exist_ok=True)
        names = tuple(databases)
        self._env = lmdb.open(str(path), map_size=map_size, max_dbs=len(names) + 8,
                              subdir=True, sync=True, metasync=True, lock=True)
        self._dbs = {name: self._env.open_db(name.encode()) for name in names}
        self._write_lock = threading.Lock()

    @property
    def map_size(self) -> int:
        return self._env.info()["map_size"]

    def db(self, name: str):
        return self._dbs[name]

    def existing_db(self, name: str):
        """A named database if the environment has one (say, from an older layout), or None;
        unlike `db`, it creates nothing."""
        try:
            return self._env.open_db(name.encode(), create=False)
        except lmdb.NotFoundError:
            return None

    def read(self, fn: Callable[[lmdb.Transaction], T]) -> T:
        try:
            with self._env.begin(write=False) as txn:
                return fn(txn)
        except lmdb.MapResizedError:
            raise self._mismatch() from None

    def write(self, fn: Callable[[lmdb.Transaction], T]) -> T:
        """Run `fn` in one write transaction, committed and fsynced before returning.

        Raises StorageFull when the map has no room; the transaction is then aborted whole.
        """
        with self._write_lock:
            try:
                with self._env.begin(write=True) as txn:
                    return fn(txn)
            except lmdb.MapFullError:
                raise StorageFull(
                    f"storage is full: the LMDB map of {self.map_size} bytes "
                    "(HostConfig.lmdb_map_size) has no room for this write") from None
            except lmdb.MapResizedError:
                raise self._mismatch() from None

    def _mismatch(self) -> MapSizeMismatch:
        return MapSizeMismatch(
            f"another process grew the LMDB map beyond this process's {self.map_size} bytes: "
            "every process on one data dir must open it with the same lmdb_map_size; restart "
            "this one with the larger value")

    def close(self) -> None:
        self._env.close()
