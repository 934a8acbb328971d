"""Per-account storage usage, kept exactly in LMDB at every commit, and the quota it enforces:
a turn over quota fails alone, before writing anything, while the turns sharing its LMDB
transaction commit."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from edgehost.config import ActorLimits, StorageLimits
from edgehost.metrics import Metrics
from edgehost.storage import actor_storage, key_tree
from edgehost.storage.actor_storage import ActorStorage, InstanceId
from edgehost.storage.group_commit import GroupCommitter
from edgehost.storage.lmdb_env import LmdbEnv
from edgehost.storage.turn import Turn
from edgehost.storage.usage import StorageQuotaExceeded, Usage

LIMITS = StorageLimits(account_max_bytes=10_000, account_max_keys=20)


@pytest.fixture
def env(tmp_path: Path):
    env = LmdbEnv(tmp_path / "lmdb", map_size=1 << 30, databases=actor_storage.DATABASES)
    yield env
    env.close()


@pytest.fixture
def committer(env: LmdbEnv):
    committer = GroupCommitter(env, Metrics(), 64)
    committer.start()
    yield committer
    committer.close()


def turn(storage: ActorStorage, account: str, name: str = "n") -> Turn:
    return Turn(storage, InstanceId(account, "Type", name), ActorLimits())


def value(size: int) -> bytes:
    return b'"' + b"x" * (size - 2) + b'"'


def test_usage_follows_every_kind_of_write_exactly(env, committer):
    storage = ActorStorage(env, StorageLimits())
    long_key = b"L" * 1200
    t = turn(storage, "a", "one")
    t.put(b"k1", value(100))
    t.put(long_key, value(50))
    t.put(b"gone", b"1")
    t.delete(b"gone")  # put then deleted in one turn: never stored
    committer.commit(t.apply)
    assert storage.usage("a") == Usage(2, 2 + 100 + 1200 + 50)
    t = turn(storage, "a", "two")
    t.put(b"k", value(10))
    committer.commit(t.apply)
    assert storage.usage("a") == Usage(3, 1352 + 11)
    t = turn(storage, "a", "one")
    t.put(b"k1", value(30))  # an overwrite counts the difference
    t.delete(long_key)
    t.delete(b"never stored")
    committer.commit(t.apply)
    assert storage.usage("a") == Usage(2, 32 + 11)
    t = turn(storage, "a", "one")
    t.delete_all()
    t.put(b"fresh", b"12")
    committer.commit(t.apply)
    assert storage.usage("a") == Usage(2, 7 + 11)
    assert storage.usage("b") == Usage()
    assert storage.instance_names("a", "Type", after=None, limit=10) == ["one", "two"]
    t = turn(storage, "a", "two")
    t.delete(b"k")
    committer.commit(t.apply)
    # An instance that stores nothing leaves no usage record and no index entry behind.
    assert storage.instance_names("a", "Type", after=None, limit=10) == ["one"]
    prefix = InstanceId("a", "Type", "two").prefix
    assert env.read(lambda txn: txn.get(prefix, db=env.db("actor_instance_usage"))) is None
    # The records agree with a full count of what is stored.
    assert storage.usage("a") == Usage(1, 7)
    one = InstanceId("a", "Type", "one").prefix
    assert env.read(lambda txn: key_tree.count(txn, env.db(actor_storage.KV_DB), one)) == (1, 7)


def test_a_turn_over_quota_fails_alone_and_writes_nothing(env, committer):
    storage = ActorStorage(env, LIMITS)
    t = turn(storage, "hog")
    t.put(b"base", value(9_000))
    committer.commit(t.apply)
    # Hold the committer inside a first transaction so the next three turns queue up and
    # share the second one.
    holding, release = threading.Event(), threading.Event()

    def hold(txn) -> None:
        holding.set()
        release.wait(10)

    first = threading.Thread(target=committer.commit, args=(hold,))
    first.start()
    assert holding.wait(10)
    calls = []
    within_a = turn(storage, "a", "first")
    within_a.put(b"k", value(5_000))
    over = turn(storage, "hog")
    over.put(b"more", value(2_000))
    over.put(b"base", value(8_000))  # and a change that must not land either
    within_b = turn(storage, "a", "second")
    within_b.put(b"k", value(4_000))
    outcomes: dict[str, BaseException | None] = {}

    def commit(label: str, t: Turn) -> None:
        def apply(txn) -> None:
            calls.append((label, txn))
            t.apply(txn)
        try:
            committer.commit(apply)
            outcomes[label] = None
        except BaseException as e:  # noqa: BLE001 - checked below
            outcomes[label] = e

    threads = [threading.Thread(target=commit, args=args)
               for args in (("a1", within_a), ("hog", over), ("a2", within_b))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(committer._queue) < 3 and time.monotonic() < deadline:  # all three queued
        time.sleep(0.01)
    release.set()
    for thread in (first, *threads):
        thread.join(10)
    assert len({id(txn) for _, txn in calls}) == 1, "the turns did not share a transaction"
    assert outcomes["a1"] is None and outcomes["a2"] is None
    refused = outcomes["hog"]
    assert isinstance(refused, StorageQuotaExceeded)
    assert "quota is 10,000 bytes" in str(refused) and "it uses 9,004" in str(refused)
    assert storage.usage("hog") == Usage(1, 4 + 9_000)
    reader = turn(storage, "hog")
    assert reader.get(b"more") is None and reader.get(b"base") == value(9_000)
    assert storage.usage("a") == Usage(2, 5_001 + 4_001)
    assert turn(storage, "a", "second").get(b"k") == value(4_000)


def test_the_key_quota_counts_keys(env, committer):
    storage = ActorStorage(env, LIMITS)
    t = turn(storage, "a")
    for i in range(20):
        t.put(b"%d" % i, b"1")
    committer.commit(t.apply)
    t = turn(storage, "a", "other instance, same account")
    t.put(b"one more", b"1")
    with pytest.raises(StorageQuotaExceeded, match="20 keys"):
        committer.commit(t.apply)
    t = turn(storage, "a")
    t.put(b"0", b"2")  # replacing a key adds none
    committer.commit(t.apply)
    assert storage.usage("a") == Usage(20, 20 + 10 + 20)


def test_an_account_over_its_quota_can_still_delete(env, committer):
    roomy = ActorStorage(env, StorageLimits())
    t = turn(roomy, "a")
    t.put(b"big", value(20_000))
    t.put(b"small", b"1")
    committer.commit(t.apply)
    storage = ActorStorage(env, LIMITS)  # the operator lowered the quota below the usage
    t = turn(storage, "a")
    t.put(b"small", b"12")  # grows it: refused
    with pytest.raises(StorageQuotaExceeded):
        committer.commit(t.apply)
    t = turn(storage, "a")
    t.put(b"big", value(15_000))  # shrinks it, though still over: allowed
    committer.commit(t.apply)
    t = turn(storage, "a")
    t.delete_all()
    committer.commit(t.apply)
    assert storage.usage("a") == Usage()
