"""The host's LMDB environment: named databases, durable write transactions, map growth.

LMDB allows one writer at a time; `write()` serialises writers within the process so callers
never see "transaction already open" and a full map grows and retries the whole transaction.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Iterable, TypeVar

import lmdb

T = TypeVar("T")


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

    def read(self, fn: Callable[[lmdb.Transaction], T]) -> T:
        with self._env.begin(write=False) as txn:
            return fn(txn)

    def write(self, fn: Callable[[lmdb.Transaction], T]) -> T:
        """Run `fn` in one write transaction, committed and fsynced before returning.

        `fn` may run more than once (after the map grows), so it must only touch `txn`.
        """
        with self._write_lock:
            while True:
                try:
                    with self._env.begin(write=True) as txn:
                        return fn(txn)
                except lmdb.MapFullError:
                    # The aborted transaction left nothing behind; grow and redo it whole.
                    self._env.set_mapsize(self._env.info()["map_size"] * 2)
                except lmdb.MapResizedError:
                    self._env.set_mapsize(0)

    def close(self) -> None:
        self._env.close()
