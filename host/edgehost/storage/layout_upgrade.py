"""Bring actor storage written by an older host to the current layout, once, when it opens.

Layout 1 (no version recorded): keys of up to 495 bytes in `actor_kv` as prefix + key; longer
keys in `actor_kv_long` as prefix + sha256(key) -> key length (u16) + key + value, which every
list copied and sorted whole; no usage records; an instance stayed in `actor_instances` for
good once it had stored anything.

Layout 2 (`storage_meta` "actor_kv_layout" = 2): each instance's keys are the ordered tree of
key_tree.py (keys of up to 494 bytes are still prefix + key; the 495-byte ones and the long
ones move into branches), with usage records (usage.py), and an instance is indexed while it
stores a key.

The upgrade is one write transaction: a crash leaves layout 1 untouched or layout 2 complete.
Several processes may open one environment at once: the version is checked inside the write
transaction, so the first does the work and the others find it done.

Usage is counted here for every instance the upgrade can attribute to an account. The
instance index names instances only by a hash of (account, type), so the caller supplies
`known_types`: every (account, type) any stored revision binds. Instances of other types
(their functions were deleted) are counted when a turn next writes to them (usage.py).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Iterable

from edgehost.storage import key_tree, usage
from edgehost.storage.actor_storage import (
    INSTANCES_DB,
    KV_DB,
    META_DB,
    PREFIX_BYTES,
    InstanceId,
    type_prefix,
)
from edgehost.storage.lmdb_env import LmdbEnv, scan_prefix
from edgehost.storage.usage import Usage

log = logging.getLogger("edgehost.storage")

LAYOUT_KEY = b"actor_kv_layout"
LAYOUT = b"2"
LEGACY_LONG_KV_DB = "actor_kv_long"
LEGACY_MAX_INLINE_KEY = 495
_LEGACY_KEY_LEN = struct.Struct("<H")
_MOVE_CHUNK = 1024  # 495-byte keys collected per pass (keys only: at most ~0.5 MiB)


def upgrade(env: LmdbEnv, known_types: Callable[[], Iterable[tuple[str, str]]]) -> bool:
    """Upgrade to layout 2 if the data is older; True if it did anything."""
    meta, kv = env.db(META_DB), env.db(KV_DB)
    legacy_long = env.existing_db(LEGACY_LONG_KV_DB)

    with env.writing() as txn:
        if txn.get(LAYOUT_KEY, db=meta) == LAYOUT:
            return False
        moved = _move_legacy_inline(txn, kv)
        if legacy_long is not None:
            moved += _move_legacy_long(txn, kv, legacy_long)
            txn.drop(legacy_long, delete=True)
        counted = _count_usage(txn, env, known_types())
        txn.put(LAYOUT_KEY, LAYOUT, db=meta)
    if moved or counted:
        log.info("actor storage upgraded to layout %s: %d key(s) moved, usage counted "
                 "for %d account(s)", LAYOUT.decode(), moved, counted)
    return True


def _move_legacy_inline(txn, kv) -> int:
    """Keys of exactly 495 bytes were inline in layout 1; in layout 2 they are branched.
    (A walk over the whole database in chunks, writing as it goes: not a prefix scan.)"""
    moved = 0
    cursor = txn.cursor(db=kv)
    start = b""
    while True:
        batch = []
        found = cursor.set_range(start)
        while found and len(batch) < _MOVE_CHUNK:
            lmdb_key = cursor.key()
            # Entries this loop wrote are skipped: branches end in 0xFF, moved keys are short.
            if len(lmdb_key) == PREFIX_BYTES + LEGACY_MAX_INLINE_KEY and \
                    not lmdb_key.endswith(key_tree.BRANCH):
                batch.append((lmdb_key, cursor.value()))
            found = cursor.next()
        for lmdb_key, value in batch:
            txn.delete(lmdb_key, db=kv)
            key_tree.put(txn, kv, lmdb_key[:PREFIX_BYTES], lmdb_key[PREFIX_BYTES:], value)
        moved += len(batch)
        if not found:
            return moved
        start = batch[-1][0]


def _move_legacy_long(txn, kv, legacy_long) -> int:
    moved = 0
    for lmdb_key, raw in scan_prefix(txn, legacy_long, b""):
        (key_len,) = _LEGACY_KEY_LEN.unpack_from(raw)
        key, value = raw[2:2 + key_len], raw[2 + key_len:]
        key_tree.put(txn, kv, lmdb_key[:PREFIX_BYTES], key, value)
        moved += 1
    return moved


def _count_usage(txn, env: LmdbEnv, known_types: Iterable[tuple[str, str]]) -> int:
    """Usage records for every instance of a known type; returns how many accounts store."""
    kv, index = env.db(KV_DB), env.db(INSTANCES_DB)
    instance_usage, account_usage = env.db(usage.INSTANCE_USAGE_DB), \
        env.db(usage.ACCOUNT_USAGE_DB)
    accounts: dict[str, Usage] = {}
    for account_id, type_ in sorted(set(known_types)):
        # Collected first: the loop below deletes from the index it walks.
        entries = [(index_key, name.decode("utf-8")) for index_key, name in
                   scan_prefix(txn, index, type_prefix(account_id, type_))]
        for index_key, name in entries:
            root = InstanceId(account_id, type_, name).prefix
            stored = Usage(*key_tree.count(txn, kv, root))
            usage.write(txn, instance_usage, root, stored)
            if stored.keys == 0:  # it stores nothing any more: layout 2 does not index it
                txn.delete(index_key, db=index)
            accounts[account_id] = accounts.get(account_id, Usage()) + stored
    for account_id, stored in accounts.items():
        usage.write(txn, account_usage, account_id.encode(), stored)
    return sum(1 for stored in accounts.values() if stored.keys)
