"""Data stored by a host before the ordered key tree and usage records (layout 1) is moved to
the current layout when the host opens it: every key keeps its value and its place in list
order, usage is counted, and the upgrade runs once."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

from edgehost.config import ActorLimits, StorageLimits
from edgehost.metrics import Metrics
from edgehost.storage import actor_storage, layout_upgrade
from edgehost.storage.actor_storage import ActorStorage, InstanceId
from edgehost.storage.group_commit import GroupCommitter
from edgehost.storage.lmdb_env import LmdbEnv
from edgehost.storage.turn import Turn
from edgehost.storage.usage import Usage

from tests.unit.test_turn_storage import list_entries

ALICE = InstanceId("acct1", "Counter", "alice")
BOB = InstanceId("acct1", "Counter", "bob")  # stored once, then deleted everything
CAROL = InstanceId("acct2", "Other", "carol")
DAVE = InstanceId("acct1", "Gone", "dave")  # a type no stored revision binds any more
KNOWN_TYPES = {("acct1", "Counter"), ("acct2", "Other")}


def layout1_put(txn, kv, long_kv, instance: InstanceId, key: bytes, value: bytes) -> None:
    """How the old host stored a key: inline up to 495 bytes, else in the side table."""
    if len(key) <= 495:
        txn.put(instance.prefix + key, value, db=kv)
    else:
        txn.put(instance.prefix + hashlib.sha256(key).digest(),
                struct.pack("<H", len(key)) + key + value, db=long_kv)


def make_layout1(path: Path) -> dict[InstanceId, dict[bytes, bytes]]:
    data = {
        ALICE: {b"a": b"1", b"m" * 494: b"2", b"m" * 495: b"3", b"m" * 495 + b"a": b"4",
                b"m" * 496: b"5", b"n" * 495: b"6", b"z" * 2048: b"7", b"\x00": b"8"},
        CAROL: {b"c" * 1000: b'"c"', b"c" * 999 + b"d": b'"d"'},
        DAVE: {b"d" * 700: b"[1]", b"e": b"2"},
    }
    env = LmdbEnv(path, map_size=1 << 30,
                  databases=[*actor_storage.DATABASES, layout_upgrade.LEGACY_LONG_KV_DB])
    kv, long_kv = env.db(actor_storage.KV_DB), env.db(layout_upgrade.LEGACY_LONG_KV_DB)
    index = env.db(actor_storage.INSTANCES_DB)

    def write(txn) -> None:
        for instance, entries in data.items():
            for key, value in entries.items():
                layout1_put(txn, kv, long_kv, instance, key, value)
        for instance in (ALICE, BOB, CAROL, DAVE):
            txn.put(instance.index_key, instance.name.encode(), db=index)

    env.write(write)
    env.close()
    return data


def listed(storage: ActorStorage, instance: InstanceId, **options) -> list[tuple[str, object]]:
    turn = Turn(storage, instance, ActorLimits())
    return list_entries(turn, {"limit": 1000, **options})


def usage_of(entries: dict[bytes, bytes]) -> Usage:
    return Usage(len(entries), sum(len(k) + len(v) for k, v in entries.items()))


def test_layout1_data_is_moved_and_counted_once(tmp_path: Path):
    data = make_layout1(tmp_path / "lmdb")
    env = LmdbEnv(tmp_path / "lmdb", map_size=1 << 30, databases=actor_storage.DATABASES)
    assert layout_upgrade.upgrade(env, lambda: KNOWN_TYPES) is True
    storage = ActorStorage(env, StorageLimits())
    for instance, entries in data.items():
        expected = [(k.decode(), json.loads(v)) for k, v in sorted(entries.items())]
        assert listed(storage, instance) == expected, instance
        assert listed(storage, instance, reverse=True) == expected[::-1]
        for key, value in entries.items():
            assert storage.get(instance, key) == value
    assert [k for k, _ in listed(storage, ALICE, prefix="m" * 495)] == \
        ["m" * 495, "m" * 495 + "a", "m" * 496]
    assert env.existing_db(layout_upgrade.LEGACY_LONG_KV_DB) is None
    # Usage of every instance of a known type; bob, who stores nothing, is no longer listed.
    assert storage.usage("acct1") == usage_of(data[ALICE])
    assert storage.usage("acct2") == usage_of(data[CAROL])
    assert storage.instance_names("acct1", "Counter", after=None, limit=10) == ["alice"]
    # Once only: a second open finds it done.
    assert layout_upgrade.upgrade(env, lambda: KNOWN_TYPES) is False
    assert storage.usage("acct1") == usage_of(data[ALICE])

    # dave's type was unknown at the upgrade: his data is counted when a turn next writes.
    committer = GroupCommitter(env, Metrics(), 8)
    committer.start()
    turn = Turn(storage, DAVE, ActorLimits())
    turn.put(b"f", b"3")
    committer.commit(turn.apply)
    assert storage.usage("acct1") == usage_of(data[ALICE]) + usage_of(data[DAVE]) + Usage(1, 2)
    turn = Turn(storage, DAVE, ActorLimits())
    turn.delete_all()
    committer.commit(turn.apply)
    assert storage.usage("acct1") == usage_of(data[ALICE])
    committer.close()
    env.close()


def test_a_fresh_environment_is_marked_current(tmp_path: Path):
    env = LmdbEnv(tmp_path / "lmdb", map_size=1 << 30, databases=actor_storage.DATABASES)
    assert layout_upgrade.upgrade(env, lambda: set()) is True
    assert layout_upgrade.upgrade(env, lambda: set()) is False
    assert env.read(lambda txn: txn.get(layout_upgrade.LAYOUT_KEY,
                                        db=env.db(actor_storage.META_DB))) == b"2"
    env.close()
