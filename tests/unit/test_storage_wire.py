"""The storage imports' side of the ABI: a guest's list options decoded into storage's typed
ListOptions (each bad option named with its rule), list results encoded, and every storage
refusal reaching the guest as the ABI status of its meaning."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from edgehost.config import ActorLimits, SandboxLimits, StorageLimits
from edgehost.sandbox import storage_wire
from edgehost.sandbox.abi import AbiError, Status
from edgehost.sandbox.imports import (
    TURN_REFUSAL_STATUS,
    guarded,
    storage_list,
    storage_put,
    storage_txn_commit,
)
from edgehost.sandbox.invocation import Invocation, RunningGuest
from edgehost.sandbox.memory import GuestMemory
from edgehost.storage import actor_storage
from edgehost.storage.actor_storage import ActorStorage, InstanceId, KeyRange
from edgehost.storage.lmdb_env import LmdbEnv
from edgehost.storage.turn import ListOptions, Turn, TurnRefusal

from tests.unit.test_import_guard import FakeMemory

LIMITS = ActorLimits()


def decode(options) -> ListOptions:
    raw = options if isinstance(options, bytes) else json.dumps(options).encode()
    return storage_wire.decode_list_options(raw, LIMITS)


def test_no_options_is_every_key_up_to_the_default_limit():
    assert decode(b"") == decode({}) == \
        ListOptions(KeyRange(b"", None), False, LIMITS.list_default_limit)


@pytest.mark.parametrize("options, key_range", [
    ({"start": "b"}, KeyRange(b"b", None)),
    ({"startAfter": "b"}, KeyRange(b"b\0", None)),
    ({"end": "m"}, KeyRange(b"", b"m")),
    ({"prefix": "ab"}, KeyRange(b"ab", b"ac")),
    ({"prefix": "ab", "start": "aa", "end": "zz"}, KeyRange(b"ab", b"ac")),  # the narrower
    ({"prefix": "ab", "start": "abc", "end": "abd"}, KeyRange(b"abc", b"abd")),
    ({"prefix": ""}, KeyRange(b"", None)),
    ({"prefix": "\u00ff"}, KeyRange("\u00ff".encode(), b"\xc3\xc0")),
])
def test_start_end_and_prefix_make_one_key_range(options, key_range):
    assert decode(options).key_range == key_range


@pytest.mark.parametrize("options, status, message", [
    (b"{", Status.CODEC_ERROR, "list options is not valid JSON"),
    (b"[" * 70 + b"]" * 70, Status.CODEC_ERROR, "list options nests 70 levels deep"),
    ([], Status.INVALID_ARGUMENT, "list options must be a JSON object"),
    ({"limt": 5}, Status.INVALID_ARGUMENT, "unknown list option(s): ['limt']"),
    ({"limit": 0}, Status.INVALID_ARGUMENT, "list limit 0 must be an integer from 1 to 1000"),
    ({"limit": 1001}, Status.INVALID_ARGUMENT, "list limit 1001 must be an integer from 1 to"),
    ({"limit": True}, Status.INVALID_ARGUMENT, "list limit True must be an integer"),
    ({"reverse": 1}, Status.INVALID_ARGUMENT, "list option reverse must be a boolean"),
    ({"start": 5}, Status.INVALID_ARGUMENT, "list option start must be a string"),
    ({"prefix": ["a"]}, Status.INVALID_ARGUMENT, "list option prefix must be a string"),
    ({"start": "a", "startAfter": "b"}, Status.INVALID_ARGUMENT,
     "give start or startAfter, not both"),
])
def test_each_bad_option_is_refused_naming_its_rule(options, status, message):
    with pytest.raises(AbiError) as e:
        decode(options)
    assert e.value.status == status and message in e.value.detail


def test_list_entries_are_encoded_with_their_lengths():
    raw = storage_wire.encode_entries([(b"a", b"1"), (b"key", b"[]")])
    assert raw == struct.pack("<I", 2) + struct.pack("<I", 1) + b"a" + struct.pack("<I", 1) + \
        b"1" + struct.pack("<I", 3) + b"key" + struct.pack("<I", 2) + b"[]"
    assert storage_wire.encode_entries([]) == struct.pack("<I", 0)


@pytest.fixture
def guest(tmp_path: Path):
    """An invocation inside an actor turn over real LMDB, its memory a bytearray."""
    env = LmdbEnv(tmp_path / "lmdb", map_size=1 << 24, databases=actor_storage.DATABASES)
    turn = Turn(ActorStorage(env, StorageLimits()), InstanceId("acct", "T", "n"), LIMITS)
    memory = FakeMemory(4096)
    inv = Invocation(input=b"", limits=SandboxLimits(), memory=GuestMemory(None, memory),
                     storage=turn)
    running = RunningGuest()
    running.invocation = inv

    def call(name, impl, *data: bytes) -> int:
        args, pos = [], 0
        for chunk in data:  # each argument at its own place in memory, as (ptr, len)
            memory.data[pos:pos + len(chunk)] = chunk
            args += [pos, len(chunk)]
            pos += len(chunk)
        return guarded(name, impl, running)(*args)

    yield inv, call
    env.close()


def test_every_kind_of_storage_refusal_has_a_status():
    assert set(TURN_REFUSAL_STATUS) == set(TurnRefusal.__subclasses__())


@pytest.mark.parametrize("key, value, status", [
    (b"__edgehost_x", b"1", Status.INVALID_ARGUMENT),
    (b"k" * 3000, b"1", Status.INVALID_ARGUMENT),
    (b"k", b"nope", Status.CODEC_ERROR),
    (b"k", b"1" * (LIMITS.max_value_bytes + 1), Status.TOO_LARGE),
])
def test_a_refused_put_reaches_the_guest_as_its_status(guest, key, value, status):
    inv, call = guest
    assert call("storage_put", storage_put, key, value) == status
    assert inv.faults[-1].status == status and inv.faults[-1].import_name == "storage_put"
    assert inv.storage.get(b"k") is None


def test_a_commit_with_no_transaction_is_not_permitted(guest):
    inv, call = guest
    assert call("storage_txn_commit", storage_txn_commit) == Status.NOT_PERMITTED
    assert inv.result_slot == b"no transaction is open"


def test_storage_list_decodes_options_and_encodes_the_result(guest):
    inv, call = guest
    for key in (b"a", b"b", b"c"):
        assert call("storage_put", storage_put, key, b"1") == Status.OK
    length = call("storage_list", storage_list, b'{"start": "b", "limit": 1}')
    assert inv.result_slot == storage_wire.encode_entries([(b"b", b"1")])
    assert length == len(inv.result_slot)
    assert call("storage_list", storage_list, b'{"limit": 0}') == Status.INVALID_ARGUMENT
