"""The host's LMDB environment: named databases and durable write transactions.

LMDB allows one writer at a time; `writing()` and `write()` serialise writers within the
process so callers never see "transaction already open".

The map size is fixed when the environment opens and never changes while it is open. LMDB
forbids resizing the map while any transaction is active in the process (py-lmdb invalidates
every open transaction, so concurrent readers fail mid-walk, and a zero-copy read crashes
the process), and another process on the same file would have to notice and remap too. A
fixed map costs only address space (the file is sparse and pages are mapped as they are
used), so the host opens it large (HostConfig.lmdb_map_size) and a write that does not fit
fails cleanly with `StorageFull`, leaving everything already stored readable and writable.

The vocabulary the registry and storage use over it:

    with env.reading() as txn: ...     a read-only snapshot
    with env.writing() as txn: ...     one durable write transaction (serialised, fsynced)
    scan_prefix(txn, db, prefix)       the entries whose keys start with prefix, in key order
    delete_prefix(txn, db, prefix)     delete them

and, in record_codec.py, one codec per stored record type. `read(fn)` and `write(fn)` run a
callable in a transaction, for callers that already have one (the group committer's batch).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

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

    def reading(self) -> lmdb.Transaction:
        """A read-only transaction over the latest commit, for `with env.reading() as txn:`
        (leaving the block ends it).

        Nothing is allocated beyond LMDB's own transaction, so the hot reads of an actor turn
        use it too. LMDB reports a map grown by another process only when a transaction
        begins, which is where it is turned into MapSizeMismatch.
        """
        try:
            return self._env.begin(write=False)
        except lmdb.MapResizedError:
            raise self._mismatch() from None

    @contextmanager
    def writing(self) -> Iterator[lmdb.Transaction]:
        """One write transaction, for `with env.writing() as txn:`: committed and fsynced when
        the block ends, aborted whole if it raises. Writers in this process take turns.

        Raises StorageFull when the map has no room; the transaction is then aborted whole.
        """
        with self._write_lock:
            try:
                with self._env.begin(write=True) as txn:
                    yield txn
            except (lmdb.MapFullError, lmdb.MapResizedError) as e:
                raise self._write_failure(e) from None

    def read(self, fn: Callable[[lmdb.Transaction], T]) -> T:
        """`fn` run in a read-only transaction (see `reading`)."""
        with self.reading() as txn:
            return fn(txn)

    def write(self, fn: Callable[[lmdb.Transaction], T]) -> T:
        """`fn` run in one write transaction, as `writing` runs a block. The group committer's
        path: it spares each commit the generator `writing` costs (a few microseconds)."""
        with self._write_lock:
            try:
                with self._env.begin(write=True) as txn:
                    return fn(txn)
            except (lmdb.MapFullError, lmdb.MapResizedError) as e:
                raise self._write_failure(e) from None

    def _write_failure(self, error: lmdb.Error) -> Exception:
        if isinstance(error, lmdb.MapFullError):
            return StorageFull(f"storage is full: the LMDB map of {self.map_size} bytes "
                               "(HostConfig.lmdb_map_size) has no room for this write")
        return self._mismatch()

    def _mismatch(self) -> MapSizeMismatch:
        return MapSizeMismatch(
            f"another process grew the LMDB map beyond this process's {self.map_size} bytes: "
            "every process on one data dir must open it with the same lmdb_map_size; restart "
            "this one with the larger value")

    def close(self) -> None:
        self._env.close()


def scan_prefix(txn: lmdb.Transaction, db, prefix: bytes, *,
                start: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) of every entry of `db` whose key starts with `prefix`, in key order,
    beginning at `start` (a key at or after `prefix`) when given. Lazy: a caller that stops
    early reads no further. For the registry's and the admin views' walks; the key tree's
    walks (storage/key_tree.py) keep their own cursors, as they branch and go backward."""
    cursor = txn.cursor(db=db)
    if not cursor.set_range(prefix if start is None else start):
        return
    for key, value in cursor:
        if not key.startswith(prefix):
            return
        yield key, value


def delete_prefix(txn: lmdb.Transaction, db, prefix: bytes) -> int:
    """Delete every entry of `db` whose key starts with `prefix`; how many there were."""
    cursor = txn.cursor(db=db)
    deleted = 0
    found = cursor.set_range(prefix)
    while found and cursor.key().startswith(prefix):
        found = cursor.delete()  # and moves to the next entry
        deleted += 1
    return deleted
