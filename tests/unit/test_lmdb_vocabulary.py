"""The small LMDB vocabulary: reading and writing blocks, prefix scans and deletes, and a
record codec's get and put, over a real LMDB in a temp dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from edgehost.storage.lmdb_env import LmdbEnv, StorageFull, delete_prefix, scan_prefix
from edgehost.storage.record_codec import dataclass_codec


@pytest.fixture
def env(tmp_path: Path):
    env = LmdbEnv(tmp_path / "db", map_size=256 * 1024, databases=["kv"])
    yield env
    env.close()


KEYS = [b"a", b"a/", b"a/1", b"a/2", b"a0", b"b/1"]


def fill(env: LmdbEnv) -> None:
    with env.writing() as txn:
        for key in KEYS:
            txn.put(key, key.upper(), db=env.db("kv"))


def test_scan_prefix_yields_only_the_prefix_in_key_order(env):
    fill(env)
    db = env.db("kv")
    with env.reading() as txn:
        assert list(scan_prefix(txn, db, b"a/")) == [(b"a/", b"A/"), (b"a/1", b"A/1"),
                                                      (b"a/2", b"A/2")]
        assert [k for k, _ in scan_prefix(txn, db, b"a/", start=b"a/1\0")] == [b"a/2"]
        assert [k for k, _ in scan_prefix(txn, db, b"")] == KEYS
        assert list(scan_prefix(txn, db, b"c")) == []
        assert list(scan_prefix(txn, db, b"b/1/")) == []  # past the last key


def test_delete_prefix_deletes_only_the_prefix(env):
    fill(env)
    db = env.db("kv")
    with env.writing() as txn:
        assert delete_prefix(txn, db, b"a/") == 3
        assert delete_prefix(txn, db, b"b/") == 1  # up to the last entry of the database
        assert delete_prefix(txn, db, b"z") == 0
    with env.reading() as txn:
        assert [k for k, _ in scan_prefix(txn, db, b"")] == [b"a", b"a0"]


def test_a_writing_block_that_raises_writes_nothing(env):
    db = env.db("kv")
    with pytest.raises(KeyError):
        with env.writing() as txn:
            txn.put(b"k", b"v", db=db)
            raise KeyError("refused midway")
    with env.reading() as txn:
        assert txn.get(b"k", db=db) is None


def test_a_full_map_in_a_writing_block_is_storage_full_and_writes_nothing(env):
    db = env.db("kv")
    with pytest.raises(StorageFull):
        with env.writing() as txn:
            for i in range(1000):
                txn.put(b"%d" % i, b"v" * 4000, db=db)
    with env.reading() as txn:
        assert txn.stat(db)["entries"] == 0
    with env.writing() as txn:  # and the environment is still writable
        txn.put(b"small", b"v", db=db)


@dataclass(frozen=True)
class Point:
    x: int
    y: int


def test_a_codec_reads_back_what_it_put(env):
    codec, db = dataclass_codec(Point), env.db("kv")
    with env.writing() as txn:
        codec.put(txn, db, b"p", Point(1, 2))
    with env.reading() as txn:
        assert codec.get(txn, db, b"p") == Point(1, 2)
        assert codec.get(txn, db, b"missing") is None
        assert txn.get(b"p", db=db) == b'{"x": 1, "y": 2}'
