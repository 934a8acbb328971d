"""Where actor instances' keys live in LMDB, and how they are read, listed and written.

    actor_kv               an ordered tree of entries per instance (key_tree.py)
    actor_instances        type prefix + name -> name, for each instance storing any key
    actor_instance_usage   per instance and per account: keys and bytes stored (usage.py)
    account_storage_usage
    storage_meta           the layout version the data is in (layout_upgrade.py)

Every instance's tree hangs from a 16-byte instance prefix, sha256(account, type, name)[:16],
which the guest never sees or chooses. Whatever bytes a guest uses as a key, they live under
its own prefix, and every scan is bounded to that prefix's tree, so no instance can reach
another's keys.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from operator import itemgetter

from edgehost.config import StorageLimits
from edgehost.storage import key_tree, usage
from edgehost.storage.key_tree import NODE_ID_BYTES
from edgehost.storage.lmdb_env import LmdbEnv, scan_prefix
from edgehost.storage.usage import Usage

PREFIX_BYTES = NODE_ID_BYTES  # an instance's prefix is the id of its tree's root node
MAX_INDEXED_NAME = key_tree.LMDB_MAX_KEY - PREFIX_BYTES

KV_DB = "actor_kv"
INSTANCES_DB = "actor_instances"
META_DB = "storage_meta"
DATABASES = (KV_DB, INSTANCES_DB, usage.INSTANCE_USAGE_DB, usage.ACCOUNT_USAGE_DB, META_DB)


@dataclass(frozen=True)
class InstanceId:
    account_id: str
    type: str
    name: str

    @cached_property  # every storage operation of a turn needs it
    def prefix(self) -> bytes:
        raw = "\0".join((self.account_id, self.type, self.name)).encode("utf-8")
        return hashlib.sha256(raw).digest()[:PREFIX_BYTES]

    @property
    def index_key(self) -> bytes:
        """Where this instance is listed: under its (account, type), ordered by name."""
        name = self.name.encode("utf-8")
        if len(name) > MAX_INDEXED_NAME:  # keep it an LMDB key; order by the first bytes
            name = name[:MAX_INDEXED_NAME - 8] + hashlib.sha256(name).digest()[:8]
        return type_prefix(self.account_id, self.type) + name


def type_prefix(account_id: str, type_: str) -> bytes:
    raw = f"{account_id}\0{type_}".encode()
    return hashlib.sha256(b"type\0" + raw).digest()[:PREFIX_BYTES]


@dataclass(frozen=True)
class KeyRange:
    """A half-open range of keys [low, high) in byte order; high None = unbounded."""

    low: bytes = b""
    high: bytes | None = None

    def contains(self, key: bytes) -> bool:
        return key >= self.low and (self.high is None or key < self.high)


def pending_entries(pending: Mapping[bytes, bytes | None], key_range: KeyRange,
                    reverse: bool) -> list[tuple[bytes, bytes]]:
    """A turn's buffered puts within a range, in key order (reversed if asked)."""
    return sorted(((k, v) for k, v in pending.items()
                   if v is not None and key_range.contains(k)), reverse=reverse)


class ActorStorage:
    """Reads straight from LMDB; writes only through `apply()` inside a commit."""

    def __init__(self, env: LmdbEnv, limits: StorageLimits) -> None:
        self.limits = limits
        self._env = env
        self._kv = env.db(KV_DB)
        self._instances = env.db(INSTANCES_DB)
        self._instance_usage = env.db(usage.INSTANCE_USAGE_DB)
        self._account_usage = env.db(usage.ACCOUNT_USAGE_DB)

    def get(self, instance: InstanceId, key: bytes) -> bytes | None:
        with self._env.reading() as txn:  # a turn's every read: nothing allocated but the txn
            return key_tree.get(txn, self._kv, instance.prefix, key)

    def scan(self, instance: InstanceId, key_range: KeyRange, *, reverse: bool, limit: int,
             pending: Mapping[bytes, bytes | None]) -> list[tuple[bytes, bytes]]:
        """Up to `limit` entries in range, in key order (reversed if asked): what is stored, as
        changed by `pending` (a turn's buffered writes; None marks a delete). Reads only as
        many stored entries as it returns, plus those `pending` replaces."""
        fresh = pending_entries(pending, key_range, reverse)
        with self._env.reading() as txn:
            stored = key_tree.scan(txn, self._kv, instance.prefix, key_range.low,
                                   key_range.high, reverse)
            try:
                unchanged = (entry for entry in stored if entry[0] not in pending)
                return list(islice(heapq.merge(unchanged, fresh, key=itemgetter(0),
                                               reverse=reverse), limit))
            finally:
                stored.close()  # its cursors belong to this transaction

    def usage(self, account_id: str) -> Usage:
        """What an account's actors store, as of the last commit."""
        with self._env.reading() as txn:
            return usage.read(txn, self._account_usage, account_id.encode()) or Usage()

    # ------------------------------------------------------------------ writes

    def apply(self, txn, instance: InstanceId, cleared: bool,
              writes: Mapping[bytes, bytes | None]) -> None:
        """Apply one turn's writes inside a write transaction (called by the committer).

        Raises StorageQuotaExceeded, before writing anything, if they would take the
        instance's account over its quota. Every commit runs this, so the common case (a value
        rewritten at the same size) costs two reads (the instance's usage, the old value) and
        the write itself.
        """
        root = instance.prefix
        recorded = usage.read(txn, self._instance_usage, root)
        stored = recorded if recorded is not None else Usage(*key_tree.count(txn, self._kv, root))
        keys, size = (-stored.keys, -stored.bytes) if cleared else (0, 0)
        for key, value in writes.items():
            old = None if cleared else key_tree.get(txn, self._kv, root, key)
            if old is not None:
                keys, size = keys - 1, size - len(key) - len(old)
            if value is not None:
                keys, size = keys + 1, size + len(key) + len(value)
        # Data stored before usage was kept is counted the first time a turn writes to it.
        first_count = recorded is None and stored.keys > 0
        if keys or size or first_count:
            change = Usage(keys, size)
            account_key = instance.account_id.encode()
            account = usage.read(txn, self._account_usage, account_key) or Usage()
            if first_count:
                account += stored
            usage.check_quota(account, change, self.limits)
            usage.write(txn, self._account_usage, account_key, account + change)
            usage.write(txn, self._instance_usage, root, stored + change)

        if cleared:
            key_tree.delete_all(txn, self._kv, root)
        for key, value in writes.items():
            if value is None:
                key_tree.delete(txn, self._kv, root, key)
            else:
                key_tree.put(txn, self._kv, root, key, value)
        # Index the instance under its type while it stores anything, for `edgehost actors
        # instances`; an instance that stores nothing leaves nothing behind.
        if stored.keys + keys == 0:
            txn.delete(instance.index_key, db=self._instances)
        elif recorded is None:  # it stored nothing before this turn (or was not counted)
            txn.put(instance.index_key, instance.name.encode("utf-8"), db=self._instances)

    def instance_names(self, account_id: str, type_: str, *, after: str | None,
                       limit: int) -> list[str]:
        """Names of the instances of a type that store anything, in name order."""
        prefix = type_prefix(account_id, type_)
        start = InstanceId(account_id, type_, after).index_key + b"\0" if after else prefix
        with self._env.reading() as txn:
            entries = scan_prefix(txn, self._instances, prefix, start=start)
            return [name.decode("utf-8") for _, name in islice(entries, limit)]
