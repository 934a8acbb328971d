"""The LMDB environment grows a full map and retries the whole transaction: nothing is lost."""

from pathlib import Path

from edgehost.storage.lmdb_env import LmdbEnv


def test_a_full_map_grows_and_every_acknowledged_write_is_kept(tmp_path: Path):
    env = LmdbEnv(tmp_path / "db", map_size=64 * 1024, databases=["kv"])
    db = env.db("kv")
    value = b"v" * 4000
    for batch in range(40):  # ~160 KB of values: several times the initial 64 KiB map
        env.write(lambda txn, b=batch: [txn.put(f"{b}:{i}".encode(), value, db=db)
                                        for i in range(10)])
    assert env.map_size > 64 * 1024, "the map never filled: this test proves nothing"
    count = env.read(lambda txn: txn.stat(db)["entries"])
    assert count == 400
    assert env.read(lambda txn: txn.get(b"0:0", db=db)) == value
    env.close()
    # and the grown environment opens again with everything in it
    env = LmdbEnv(tmp_path / "db", map_size=64 * 1024, databases=["kv"])
    assert env.read(lambda txn: txn.stat(env.db("kv"))["entries"]) == 400
    env.close()
