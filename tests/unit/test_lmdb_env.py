"""The LMDB environment never resizes its map while open: a full map is a clear StorageFull
error, readers in other threads and other processes are never disturbed, and nothing
acknowledged is lost."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import edgehost
import pytest
from edgehost.storage.lmdb_env import LmdbEnv, MapSizeMismatch, StorageFull

SMALL_MAP = 256 * 1024
VALUE = b"v" * 4000
HOST_DIR = Path(edgehost.__file__).resolve().parent.parent


def fill(env: LmdbEnv, db, tag: str, batches: int = 200) -> int:
    """Write batches of 10 values until the map is full; how many values were acknowledged."""
    written = 0
    for batch in range(batches):
        try:
            env.write(lambda txn, b=batch: [txn.put(f"{tag}{b}:{i}".encode(), VALUE, db=db)
                                            for i in range(10)])
        except StorageFull:
            return written
        written += 10
    raise AssertionError("the map never filled: this test proves nothing")


def count(env: LmdbEnv, db) -> int:
    return env.read(lambda txn: txn.stat(db)["entries"])


def test_a_full_map_is_a_clear_error_and_every_acknowledged_write_is_kept(tmp_path: Path):
    env = LmdbEnv(tmp_path / "db", map_size=SMALL_MAP, databases=["kv"])
    db = env.db("kv")
    written = fill(env, db, "a")
    with pytest.raises(StorageFull, match="lmdb_map_size"):
        env.write(lambda txn: [txn.put(b"more%d" % i, VALUE, db=db) for i in range(20)])
    assert env.map_size == SMALL_MAP, "the map was resized while open"
    assert count(env, db) == written, "the refused transaction left something behind"
    # Deleting makes room again: the environment is not broken by a full map.
    env.write(lambda txn: [txn.delete(f"a0:{i}".encode(), db=db) for i in range(10)])
    env.write(lambda txn: txn.put(b"after", VALUE, db=db))
    env.close()
    env = LmdbEnv(tmp_path / "db", map_size=SMALL_MAP, databases=["kv"])
    assert count(env, db := env.db("kv")) == written - 10 + 1
    assert env.read(lambda txn: txn.get(b"a1:0", db=db)) == VALUE
    env.close()


def test_a_full_map_does_not_disturb_a_reader_in_another_thread(tmp_path: Path):
    """Resizing the map while a read transaction is open (which LMDB forbids) made py-lmdb
    invalidate the reader's transaction mid-walk; with zero-copy reads it crashes the process."""
    env = LmdbEnv(tmp_path / "db", map_size=SMALL_MAP, databases=["kv"])
    db = env.db("kv")
    env.write(lambda txn: [txn.put(b"r%03d" % i, b"x" * 100, db=db) for i in range(50)])
    mid_walk, writer_done = threading.Event(), threading.Event()
    walked: list[bytes] = []
    failure: list[BaseException] = []

    def reader() -> None:
        def walk(txn) -> None:
            cursor = txn.cursor(db=db)
            cursor.set_range(b"r")
            walked.append(cursor.key())
            mid_walk.set()
            writer_done.wait(30)
            while cursor.next() and cursor.key().startswith(b"r"):
                walked.append(cursor.key())
        try:
            env.read(walk)
        except BaseException as e:  # noqa: BLE001 - reported below
            failure.append(e)

    thread = threading.Thread(target=reader)
    thread.start()
    assert mid_walk.wait(10)
    try:
        for batch in range(200):  # 8 MB: far past the map
            try:
                env.write(lambda txn, b=batch: [txn.put(b"w%d:%d" % (b, i), VALUE, db=db)
                                                for i in range(10)])
            except StorageFull:
                pass
    finally:
        writer_done.set()
        thread.join(30)
    assert not failure, f"the reader's transaction broke while the map filled: {failure[0]!r}"
    assert walked == [b"r%03d" % i for i in range(50)]
    env.close()


CHILD = """
import sys
from pathlib import Path
from edgehost.storage.lmdb_env import LmdbEnv, StorageFull
env = LmdbEnv(Path(sys.argv[1]), map_size=int(sys.argv[2]), databases=["kv"])
db = env.db("kv")
written = 0
try:
    for batch in range(int(sys.argv[3])):
        env.write(lambda txn, b=batch: [txn.put(f"c{b}:{i}".encode(), b"v" * 4000, db=db)
                                        for i in range(10)])
        written += 10
except StorageFull:
    pass
print(written)
"""


def run_child(path: Path, map_size: int, batches: int) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(map_size), str(batches)],
                         env={"PYTHONPATH": str(HOST_DIR)}, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


def test_another_process_filling_the_map_leaves_this_one_working(tmp_path: Path):
    """Several worker processes share one environment: one of them filling it must not leave
    the others unable to read (LMDB's MapResizedError when a peer grew the map)."""
    env = LmdbEnv(tmp_path / "db", map_size=SMALL_MAP, databases=["kv"])
    db = env.db("kv")
    env.write(lambda txn: txn.put(b"mine", b"1", db=db))
    written = run_child(tmp_path / "db", SMALL_MAP, batches=200)
    assert count(env, db) == written + 1
    assert 0 < written < 2000, "the other process never filled the map"
    assert env.read(lambda txn: txn.get(b"c0:0", db=db)) == b"v" * 4000
    env.write(lambda txn: txn.delete(b"mine", db=db))
    env.close()


def test_processes_opened_with_different_map_sizes_get_a_clear_error(tmp_path: Path):
    env = LmdbEnv(tmp_path / "db", map_size=SMALL_MAP, databases=["kv"])
    db = env.db("kv")
    run_child(tmp_path / "db", 4 * SMALL_MAP, batches=60)  # past this process's map
    with pytest.raises(MapSizeMismatch, match="same lmdb_map_size"):
        env.read(lambda txn: txn.get(b"c0:0", db=db))
    env.close()
