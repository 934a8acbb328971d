"""How much each account's actors store, kept exactly in LMDB, and the quota a commit checks.

    actor_instance_usage   instance prefix (16 bytes)  ->  keys u64, bytes u64
    account_storage_usage  account_id (UTF-8)          ->  keys u64, bytes u64

Usage counts what a guest stores: its keys, and key + value bytes. Each turn's commit updates
both records in the write transaction that changes the keys they count, so they stay exact
through any crash. An instance's record exists while it stores at least one key. A missing one
is computed from the instance's keys: one seek when it has none, and a single walk for data
stored before usage was kept that the upgrade could not attribute (see layout_upgrade.py).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from edgehost.config import StorageLimits

INSTANCE_USAGE_DB = "actor_instance_usage"
ACCOUNT_USAGE_DB = "account_storage_usage"
_RECORD = struct.Struct("<QQ")


@dataclass(frozen=True)
class Usage:
    keys: int = 0
    bytes: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.keys + other.keys, self.bytes + other.bytes)

    def __sub__(self, other: Usage) -> Usage:
        return Usage(self.keys - other.keys, self.bytes - other.bytes)



def read(txn, db, record_key: bytes) -> Usage | None:
    raw = txn.get(record_key, db=db)
    return None if raw is None else Usage(*_RECORD.unpack(raw))


def write(txn, db, record_key: bytes, usage: Usage) -> None:
    """Store a usage record; one that counts no keys is deleted, so records never pile up
    for instances that store nothing."""
    if usage.keys < 0 or usage.bytes < 0:
        raise RuntimeError(f"storage usage of {record_key!r} would go negative: {usage}")
    if usage.keys == 0:
        txn.delete(record_key, db=db)
    else:
        txn.put(record_key, _RECORD.pack(usage.keys, usage.bytes), db=db)


class TurnRefused(Exception):
    """A turn's commit refused before it wrote anything; the other turns committed with it in
    one transaction are not affected."""


class StorageQuotaExceeded(TurnRefused):
    def __init__(self, what: str, used: int, adding: int, quota: int) -> None:
        super().__init__(
            f"this call's writes would bring the account's actor storage to {used + adding:,} "
            f"{what} (it uses {used:,}, the call adds {adding:,}); the account's quota is "
            f"{quota:,} {what}. Nothing of the call was saved; delete data to make room")
        self.what, self.used, self.adding, self.quota = what, used, adding, quota


def check_quota(used: Usage, change: Usage, limits: StorageLimits) -> None:
    """Refuse a change that grows an account past its quota. A change that does not grow
    a dimension always passes it, so an account over quota (say, after the quota was
    lowered) can still delete its way back."""
    for what, now, adding, quota in (("bytes", used.bytes, change.bytes,
                                      limits.account_max_bytes),
                                     ("keys", used.keys, change.keys, limits.account_max_keys)):
        if adding > 0 and now + adding > quota:
            raise StorageQuotaExceeded(what, now, adding, quota)
