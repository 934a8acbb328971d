"""Where actor instances' keys live in LMDB, and how they are read, listed and written.

Every key is stored under a 16-byte instance prefix, sha256(account, type, name)[:16], which the
guest never sees or chooses. Whatever bytes a guest uses as a key, they are appended after its
own prefix, and every scan is bounded to that prefix, so no instance can reach another's keys.

LMDB keys are at most 511 bytes, but the spec allows 2 KiB keys. Keys that fit go to
`actor_kv` as prefix + key (so LMDB keeps them in order). Longer ones go to `actor_kv_long`
as prefix + sha256(key), with the full key stored beside the value; `list` merges the two.
"""

from __future__ import annotations

import hashlib
import heapq
import struct
from dataclasses import dataclass
from functools import cached_property
from typing import Iterator

from edgehost.storage.lmdb_env import LmdbEnv

PREFIX_BYTES = 16
LMDB_MAX_KEY = 511
MAX_INLINE_KEY = LMDB_MAX_KEY - PREFIX_BYTES
_KEY_LEN = struct.Struct("<H")

KV_DB = "actor_kv"
LONG_KV_DB = "actor_kv_long"
INSTANCES_DB = "actor_instances"
DATABASES = (KV_DB, LONG_KV_DB, INSTANCES_DB)


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
        if len(name) > MAX_INLINE_KEY:  # keep it an LMDB key; order by the first bytes
            name = name[:MAX_INLINE_KEY - 8] + hashlib.sha256(name).digest()[:8]
        return type_prefix(self.account_id, self.type) + name


def type_prefix(account_id: str, type_: str) -> bytes:
    raw = f"{account_id}\0{type_}".encode("utf-8")
    return hashlib.sha256(b"type\0" + raw).digest()[:PREFIX_BYTES]


@dataclass(frozen=True)
class KeyRange:
    """A half-open range of keys [low, high) in byte order; high None = unbounded."""

    low: bytes = b""
    high: bytes | None = None

    def contains(self, key: bytes) -> bool:
        return key >= self.low and (self.high is None or key < self.high)


def prefix_successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with `prefix`."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


class ActorStorage:
    """Reads straight from LMDB; writes only through `apply()` inside a commit."""

    def __init__(self, env: LmdbEnv) -> None:
        self._env = env
        self._kv = env.db(KV_DB)
        self._long = env.db(LONG_KV_DB)
        self._instances = env.db(INSTANCES_DB)

    def get(self, instance: InstanceId, key: bytes) -> bytes | None:
        prefix = instance.prefix

        def read(txn) -> bytes | None:
            if len(key) <= MAX_INLINE_KEY:
                return txn.get(prefix + key, db=self._kv)
            raw = txn.get(prefix + hashlib.sha256(key).digest(), db=self._long)
            if raw is None:
                return None
            stored_key, value = _split_long(raw)
            return value if stored_key == key else None

        return self._env.read(read)

    def scan(self, instance: InstanceId, key_range: KeyRange, *, reverse: bool,
             limit: int) -> list[tuple[bytes, bytes]]:
        """Up to `limit` entries in range, in key order (reversed if asked)."""
        prefix = instance.prefix

        def read(txn) -> list[tuple[bytes, bytes]]:
            inline = self._scan_inline(txn, prefix, key_range, reverse)
            long_entries = sorted(
                ((k, v) for k, v in self._long_entries(txn, prefix) if key_range.contains(k)),
                reverse=reverse)
            merged = heapq.merge(inline, long_entries, reverse=reverse)
            out = []
            for entry in merged:
                if len(out) >= limit:
                    break
                out.append(entry)
            return out

        return self._env.read(read)

    def _scan_inline(self, txn, prefix: bytes, key_range: KeyRange,
                     reverse: bool) -> Iterator[tuple[bytes, bytes]]:
        cursor = txn.cursor(db=self._kv)
        low = prefix + key_range.low
        high = prefix + key_range.high if key_range.high is not None \
            else prefix_successor(prefix)
        n = PREFIX_BYTES
        if not reverse:
            if not cursor.set_range(low):
                return
            for key, value in cursor:
                if (high is not None and key >= high) or not key.startswith(prefix):
                    return
                yield key[n:], value
        else:
            # Position on the last key < high, then walk backwards.
            positioned = cursor.set_range(high) if high is not None else False
            positioned = cursor.prev() if positioned else cursor.last()
            while positioned:
                key = cursor.key()
                if key < low or not key.startswith(prefix):
                    return
                yield key[n:], cursor.value()
                positioned = cursor.prev()

    def _long_entries(self, txn, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        cursor = txn.cursor(db=self._long)
        if not cursor.set_range(prefix):
            return
        for key, raw in cursor:
            if not key.startswith(prefix):
                return
            yield _split_long(raw)

    # ------------------------------------------------------------------ writes

    def apply(self, txn, instance: InstanceId, cleared: bool,
              writes: dict[bytes, bytes | None]) -> None:
        """Apply one turn's writes inside a write transaction (called by the committer)."""
        prefix = instance.prefix
        if cleared:
            for db in (self._kv, self._long):
                cursor = txn.cursor(db=db)
                if cursor.set_range(prefix):
                    while cursor.key().startswith(prefix):
                        if not cursor.delete():
                            break
        for key, value in writes.items():
            if len(key) <= MAX_INLINE_KEY:
                db, lmdb_key, stored = self._kv, prefix + key, value
            else:
                db, lmdb_key = self._long, prefix + hashlib.sha256(key).digest()
                stored = None if value is None else _KEY_LEN.pack(len(key)) + key + value
            if stored is None:
                txn.delete(lmdb_key, db=db)
            else:
                txn.put(lmdb_key, stored, db=db)
        # Index the instance under its type, for `edgehost actors instances`.
        txn.put(instance.index_key, instance.name.encode("utf-8"), db=self._instances,
                overwrite=False)

    def instance_names(self, account_id: str, type_: str, *, after: str | None,
                       limit: int) -> list[str]:
        """Names of the instances of a type that have stored anything, in name order."""
        prefix = type_prefix(account_id, type_)
        start = InstanceId(account_id, type_, after).index_key + b"\0" if after else prefix

        def read(txn) -> list[str]:
            cursor = txn.cursor(db=self._instances)
            out: list[str] = []
            if cursor.set_range(start):
                for key, name in cursor:
                    if not key.startswith(prefix) or len(out) >= limit:
                        break
                    out.append(name.decode("utf-8"))
            return out

        return self._env.read(read)


def _split_long(raw: bytes) -> tuple[bytes, bytes]:
    (key_len,) = _KEY_LEN.unpack_from(raw)
    return raw[2:2 + key_len], raw[2 + key_len:]
