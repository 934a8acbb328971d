"""A turn's storage over real LMDB: reads see own writes, list options, limits, isolation."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from edgehost.config import ActorLimits, StorageLimits
from edgehost.sandbox import storage_wire
from edgehost.sandbox.abi import AbiError, Status
from edgehost.storage import actor_storage
from edgehost.storage.actor_storage import ActorStorage, InstanceId
from edgehost.storage.lmdb_env import LmdbEnv
from edgehost.storage.turn import (
    InvalidKey,
    InvalidValue,
    NoOpenTransaction,
    Turn,
    TurnLimitExceeded,
    ValueTooLarge,
)


@pytest.fixture
def store(tmp_path: Path):
    env = LmdbEnv(tmp_path / "lmdb", map_size=1 << 30, databases=actor_storage.DATABASES)

    def turn(name: str = "alice", account: str = "acct", type_: str = "Account",
             **storage_limits) -> Turn:
        storage = ActorStorage(env, StorageLimits(**storage_limits))
        return Turn(storage, InstanceId(account, type_, name), ActorLimits())

    def commit(t: Turn) -> None:
        env.write(t.apply)  # what the group committer does with a turn's buffer

    yield turn, commit
    env.close()


def decode_list(raw: bytes) -> list[tuple[str, object]]:
    (count,), pos, out = struct.unpack_from("<I", raw), 4, []
    for _ in range(count):
        (kl,) = struct.unpack_from("<I", raw, pos)
        key = raw[pos + 4:pos + 4 + kl].decode()
        pos += 4 + kl
        (vl,) = struct.unpack_from("<I", raw, pos)
        out.append((key, json.loads(raw[pos + 4:pos + 4 + vl])))
        pos += 4 + vl
    return out


def list_entries(t: Turn, options: dict | None = None) -> list[tuple[str, object]]:
    """What a guest's storage_list gets: its JSON options decoded and the turn's entries
    encoded, as the import does (sandbox/storage_wire.py)."""
    decoded = storage_wire.decode_list_options(json.dumps(options or {}).encode(), t.limits)
    return decode_list(storage_wire.encode_entries(t.list(decoded)))


def keys(t: Turn, **options) -> list[str]:
    return [k for k, _ in list_entries(t, options)]


def test_reads_see_the_turns_own_writes_and_nothing_lands_before_commit(store):
    turn, commit = store
    t = turn()
    t.put(b"a", b"1")
    assert t.get(b"a") == b"1"
    assert turn().get(b"a") is None, "an uncommitted write was visible to another turn"
    commit(t)
    assert turn().get(b"a") == b"1"


def test_delete_reports_whether_the_key_existed(store):
    turn, commit = store
    t = turn()
    t.put(b"k", b'"v"')
    commit(t)
    t = turn()
    assert t.delete(b"k") is True
    assert t.delete(b"k") is False
    assert t.get(b"k") is None
    commit(t)
    assert turn().get(b"k") is None


def test_list_options_follow_lexicographic_order(store):
    turn, commit = store
    t = turn()
    for k in ["b", "a", "c1", "c2", "c3", "d", "é"]:
        t.put(k.encode(), b"0")
    commit(t)
    t = turn()
    assert keys(t) == ["a", "b", "c1", "c2", "c3", "d", "é"]
    assert keys(t, prefix="c") == ["c1", "c2", "c3"]
    assert keys(t, start="c2") == ["c2", "c3", "d", "é"]
    assert keys(t, startAfter="c2") == ["c3", "d", "é"]
    assert keys(t, end="c2") == ["a", "b", "c1"]
    assert keys(t, reverse=True, limit=2) == ["é", "d"]
    assert keys(t, prefix="c", reverse=True) == ["c3", "c2", "c1"]
    assert keys(t, start="b", end="d", reverse=True) == ["c3", "c2", "c1", "b"]
    # the turn's own writes and deletes are part of the listing
    t.put(b"c15", b"0")
    t.delete(b"c2")
    assert keys(t, prefix="c") == ["c1", "c15", "c3"]
    assert keys(t, prefix="c", limit=2) == ["c1", "c15"]


def test_list_limit_default_and_maximum(store):
    turn, commit = store
    t = turn()
    for i in range(1100):
        t.put(f"k{i:05d}".encode(), b"1")
    commit(t)
    t = turn()
    assert len(keys(t)) == 128
    assert len(keys(t, limit=1000)) == 1000
    with pytest.raises(AbiError) as e:
        keys(t, limit=1001)
    assert e.value.status == Status.INVALID_ARGUMENT and "1000" in e.value.detail


def test_keys_longer_than_an_lmdb_key_work_and_list_in_order(store):
    turn, commit = store
    long_a, long_b = ("m" + "a" * 1500).encode(), ("m" + "b" * 2000).encode()
    t = turn()
    for k in (long_b, b"z", b"a", long_a, b"m"):
        t.put(k, b"1")
    commit(t)
    t = turn()
    assert t.get(long_a) == b"1" and t.get(long_b) == b"1"
    assert keys(t) == ["a", "m", long_a.decode(), long_b.decode(), "z"]
    assert keys(t, reverse=True) == ["z", long_b.decode(), long_a.decode(), "m", "a"]
    assert t.delete(long_a) is True
    commit(t)
    assert turn().get(long_a) is None
    with pytest.raises(InvalidKey):
        turn().put(b"x" * 2049, b"1")


@pytest.mark.parametrize("key, value, refusal", [
    (b"__edgehost_alarm", b"1", InvalidKey),
    (b"\xff\xfe", b"1", InvalidKey),
    (b"ok", b"not json", InvalidValue),
    (b"ok", b"NaN", InvalidValue),
    (b"ok", b'"' + b"x" * (128 * 1024) + b'"', ValueTooLarge),
])
def test_bad_keys_and_values_are_refused_at_the_write(store, key, value, refusal):
    turn, _ = store
    with pytest.raises(refusal):
        turn().put(key, value)


def test_delete_all_is_atomic_with_the_turn(store):
    turn, commit = store
    t = turn()
    t.put(b"a", b"1")
    t.put(b"b", b"2")
    commit(t)
    t = turn()
    t.delete_all()
    t.put(b"c", b"3")
    assert t.get(b"a") is None and keys(t) == ["c"]
    assert keys(turn()) == ["a", "b"], "deleteAll leaked before commit"
    commit(t)
    assert keys(turn()) == ["c"]


def test_nested_transactions_roll_back_only_their_own_writes(store):
    turn, _ = store
    t = turn()
    t.put(b"outer", b"1")
    t.begin()
    t.put(b"inner", b"2")
    t.delete(b"outer")
    t.rollback()
    assert t.get(b"outer") == b"1" and t.get(b"inner") is None
    t.begin()
    t.put(b"kept", b"3")
    t.commit()
    assert t.get(b"kept") == b"3"
    with pytest.raises(NoOpenTransaction):
        t.commit()


def test_no_key_bytes_reach_another_instance(store):
    turn, commit = store
    victim = turn("victim")
    victim.put(b"secret", b'"v"')
    commit(victim)
    # Crafted keys: NULs, the other name as a prefix, a key that sorts before everything.
    attacker = turn("attacker")
    for crafted in (b"", b"\x00", b"victim\x00secret", b"../victim/secret", b"\x7f" * 300):
        attacker.put(crafted, b"1")
    commit(attacker)
    attacker = turn("attacker")
    assert attacker.get(b"secret") is None
    listed = keys(attacker, limit=1000)
    assert "secret" not in listed and len(listed) == 5
    assert keys(turn("victim")) == ["secret"]
    # Another account or type with the same name is another instance.
    assert turn("victim", account="other").get(b"secret") is None
    assert turn("victim", type_="Other").get(b"secret") is None


def test_a_key_with_a_character_across_byte_64_is_stored(store):
    """The value check names the key by its first 64 bytes, which may end mid-character."""
    turn, commit = store
    key = ("x" * 63 + "é").encode()
    t = turn()
    t.put(key, b"1")
    commit(t)
    assert turn().get(key) == b"1"


def limit_exceeded(call) -> str:
    with pytest.raises(TurnLimitExceeded) as e:
        call()
    return str(e.value)


def test_a_turn_buffers_at_most_its_budget_of_bytes(store):
    turn, commit = store
    t = turn(turn_max_write_bytes=1000)
    t.put(b"a", b'"' + b"x" * 598 + b'"')  # 1 + 600 bytes
    t.put(b"b", b'"' + b"x" * 396 + b'"')  # 1 + 398: 1,000 in all, the budget exactly
    detail = limit_exceeded(lambda: t.put(b"c", b"1"))
    assert "1,000 bytes" in detail and "1,002" in detail
    limit_exceeded(lambda: t.delete(b"cc"))  # a delete is buffered too: its key counts
    assert t.get(b"c") is None and t.get(b"b") is not None, "a refused write changed the buffer"
    t.put(b"b", b"2")  # replacing a buffered value frees what it held
    t.put(b"c", b"3")
    commit(t)
    assert keys(turn()) == ["a", "b", "c"]


def test_a_turn_buffers_at_most_its_budget_of_writes(store):
    turn, _ = store
    t = turn(turn_max_writes=3)
    for key in (b"a", b"b", b"a", b"c"):  # the second "a" replaces the first: 3 entries
        t.put(key, b"1")
    assert "3 writes" in limit_exceeded(lambda: t.put(b"d", b"1"))
    assert "3 writes" in limit_exceeded(lambda: t.delete(b"d"))
    t.delete(b"a")  # an entry already buffered is replaced, not added
    t.delete_all()  # which drops every buffered write: room again
    for key in (b"x", b"y", b"z"):
        t.put(key, b"1")


def test_values_kept_for_an_open_transaction_count_against_the_budget(store):
    turn, _ = store
    t = turn(turn_max_write_bytes=1000)
    big, half = b'"' + b"x" * 598 + b'"', b'"' + b"x" * 298 + b'"'
    t.put(b"a", big)  # 601
    for _ in range(3):  # beginning a transaction copies nothing
        t.begin()
    t.put(b"a", half)  # the old value stays for a rollback: 601 + 301
    limit_exceeded(lambda: t.put(b"a", big))  # 601 + 601 would not fit
    t.rollback()
    assert t.get(b"a") == big
    limit_exceeded(lambda: t.put(b"a", big))  # a level below too: 601 + 601
    t.rollback()
    t.rollback()
    t.put(b"a", big)  # back in the turn's own layer: the old value is replaced
    t.begin()
    t.put(b"b", half)  # 601 + 301
    t.commit()  # folding into the parent keeps both
    limit_exceeded(lambda: t.put(b"c", half))
    t.begin()
    t.delete_all()  # in the transaction only: the parent's writes are still held
    limit_exceeded(lambda: t.put(b"c", half))
    t.commit()  # now they are gone for good
    t.put(b"c", half)
    t.put(b"d", half)
    assert t.get(b"a") is None and t.get(b"b") is None
    assert keys(t) == ["c", "d"]
