"""Keys of any length in one ordered LMDB layout (storage/key_tree.py), checked against a plain
in-memory model: random mixes of short and long keys sharing prefixes around the 494/495-byte
boundary (and the next one at 988), listed with every option, forward and backward, with the
turn's own uncommitted writes on top."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from edgehost.config import ActorLimits, StorageLimits
from edgehost.storage import actor_storage, key_tree
from edgehost.storage.actor_storage import ActorStorage, InstanceId
from edgehost.storage.lmdb_env import LmdbEnv
from edgehost.storage.turn import Turn

from tests.unit.test_turn_storage import list_entries

HEAD = key_tree.HEAD  # 494: the key bytes one LMDB entry holds
STEM_LENGTHS = [0, 1, HEAD - 2, HEAD - 1, HEAD, HEAD + 1, HEAD + 2, 2 * HEAD - 1, 2 * HEAD,
                2 * HEAD + 1, 1500, 2040]
ALPHABET = ["a", "b", "\x00", "é", "\x7f", "ÿ"]  # NUL, 2-byte and U+00FF (bytes C3 BF)


@pytest.fixture
def storage(tmp_path: Path):
    env = LmdbEnv(tmp_path / "lmdb", map_size=1 << 30, databases=actor_storage.DATABASES)
    # A turn's buffer is committed as the group committer does it: apply in a write txn.
    yield env, ActorStorage(env, StorageLimits()), env.write
    env.close()


def random_key(rng: random.Random, stems: list[str]) -> str:
    """A stem shared with other keys, then a short random tail: many keys share long
    prefixes and end just before, on and after the entry boundaries."""
    stem = rng.choice(stems)
    key = stem[:rng.choice(STEM_LENGTHS)]
    key += "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 4)))
    while len(key.encode()) > 2048:
        key = key[:-1]
    return key


def list_keys(turn: Turn, options: dict) -> list[tuple[str, object]]:
    return list_entries(turn, options)


def model_list(model: dict[str, object], options: dict) -> list[tuple[str, object]]:
    """What list must return, straight from the spec's definitions, on UTF-8 bytes."""
    def selected(key: bytes) -> bool:
        if "prefix" in options and not key.startswith(options["prefix"].encode()):
            return False
        if "start" in options and key < options["start"].encode():
            return False
        if "startAfter" in options and key <= options["startAfter"].encode():
            return False
        return "end" not in options or key < options["end"].encode()

    keys = sorted((k for k in model if selected(k.encode())), key=str.encode,
                  reverse=options.get("reverse", False))
    return [(k, model[k]) for k in keys[:options.get("limit", 128)]]


def random_options(rng: random.Random, keys: list[str], stems: list[str]) -> dict:
    def some_bound() -> str:
        # an existing key, a prefix of one, or a fresh key: hits, misses and in-betweens
        pick = rng.random()
        if pick < 0.4 and keys:
            return rng.choice(keys)
        if pick < 0.7 and keys:
            key = rng.choice(keys)
            return key[:rng.randrange(0, len(key) + 1)]
        return random_key(rng, stems)

    options: dict = {"limit": rng.choice([1, 2, 3, 7, 50, 1000])}
    if rng.random() < 0.5:
        options["reverse"] = True
    if rng.random() < 0.4:
        options["prefix"] = some_bound()
    if rng.random() < 0.5:
        options["start" if rng.random() < 0.5 else "startAfter"] = some_bound()
    if rng.random() < 0.5:
        options["end"] = some_bound()
    return options


@pytest.mark.parametrize("seed", range(8))
def test_list_matches_a_model_over_random_short_and_long_keys(storage, seed: int):
    env, store, commit = storage
    rng = random.Random(seed)
    stems = ["".join(rng.choice(ALPHABET) for _ in range(2048)) for _ in range(3)]
    instance = InstanceId("acct", "Type", f"name{seed}")
    model: dict[str, object] = {}

    def turn() -> Turn:
        return Turn(store, instance, ActorLimits())

    for _ in range(6):  # committed turns: puts, overwrites, deletes, sometimes deleteAll
        t = turn()
        if rng.random() < 0.15:
            t.delete_all()
            model.clear()
        for _ in range(rng.randrange(20, 60)):
            key = random_key(rng, stems)
            if model and rng.random() < 0.25:
                key = rng.choice(list(model))
                assert t.delete(key.encode()) is True
                del model[key]
            else:
                value = rng.randrange(1000)
                t.put(key.encode(), json.dumps(value).encode())
                model[key] = value
        commit(t.apply)

    t = turn()  # and a last turn whose own writes are not committed
    for _ in range(15):
        key = random_key(rng, stems)
        if model and rng.random() < 0.4:
            key = rng.choice(list(model))
            t.delete(key.encode())
            model.pop(key)
        else:
            t.put(key.encode(), b"-1")
            model[key] = -1
    keys = list(model)
    for key in keys:
        assert t.get(key.encode()) == json.dumps(model[key]).encode()
    for _ in range(150):
        options = random_options(rng, keys, stems)
        assert list_keys(t, options) == model_list(model, options), options
    assert list_keys(t, {"limit": 1000}) == model_list(model, {"limit": 1000})
    assert list_keys(t, {"limit": 1000, "reverse": True}) == \
        model_list(model, {"limit": 1000, "reverse": True})

    # Deleting everything key by key leaves no entry behind: no branch outlives its keys.
    commit(t.apply)
    t = turn()
    for key in keys:
        t.delete(key.encode())
    commit(t.apply)
    assert env.read(lambda txn: txn.stat(env.db(actor_storage.KV_DB))["entries"]) == 0


def test_keys_on_both_sides_of_the_entry_boundary_keep_their_order(storage):
    env, store, commit = storage
    head = "h" * HEAD
    keys = [head[:-1], head[:-1] + "a", head, head + "\x00", head + "a", head + "a" * HEAD,
            head + "a" * HEAD + "b", head + "b", head[:-1] + "i", "z"]
    t = Turn(store, InstanceId("acct", "Type", "edge"), ActorLimits())
    for i, key in enumerate(reversed(keys)):
        t.put(key.encode(), str(i).encode())
    commit(t.apply)
    t = Turn(store, InstanceId("acct", "Type", "edge"), ActorLimits())
    expected = sorted(keys, key=str.encode)
    assert [k for k, _ in list_keys(t, {"limit": 100})] == expected
    assert [k for k, _ in list_keys(t, {"limit": 100, "reverse": True})] == expected[::-1]
    # A bound that is itself longer than one entry, inside the branch of its head.
    assert [k for k, _ in list_keys(t, {"startAfter": head + "\x00", "limit": 2})] == \
        [head + "a", head + "a" * HEAD]
    assert [k for k, _ in list_keys(t, {"end": head + "a" * HEAD, "reverse": True,
                                        "limit": 2})] == [head + "a", head + "\x00"]
    assert [k for k, _ in list_keys(t, {"prefix": head + "a", "limit": 100})] == \
        [head + "a", head + "a" * HEAD, head + "a" * HEAD + "b"]
    # Counting (for usage) sees every key once, with its full length.
    keys_stored, size = env.read(lambda txn: key_tree.count(
        txn, env.db(actor_storage.KV_DB), InstanceId("acct", "Type", "edge").prefix))
    assert keys_stored == len(keys)
    assert size == sum(len(k.encode()) + len(str(i)) for i, k in enumerate(reversed(keys)))
