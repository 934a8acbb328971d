"""How a record type is stored in LMDB: one codec per type, JSON of a dict of its fields.

Each record type declares its codec once, beside the type (`FUNCTION_RECORDS` in
registry/records.py, `ACCOUNTS` in registry/accounts.py...), and every read and write of that
type goes through it, so a change to the stored form (a field added, a value converted on
read for records written by older hosts) is made in one place.

Actor storage's values are the guest's own bytes and usage records are fixed-size structs
(storage/usage.py): neither is JSON, and neither goes through here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Generic, TypeVar

import lmdb

R = TypeVar("R")


class JsonCodec(Generic[R]):
    """A record as a JSON object: `to_json` makes the object, `from_json` the record back."""

    def __init__(self, to_json: Callable[[R], dict[str, Any]],
                 from_json: Callable[[dict[str, Any]], R]) -> None:
        self._to_json = to_json
        self._from_json = from_json

    def encode(self, record: R) -> bytes:
        return json.dumps(self._to_json(record)).encode()

    def decode(self, raw: bytes) -> R:
        return self._from_json(json.loads(raw))

    def get(self, txn: lmdb.Transaction, db, key: bytes) -> R | None:
        """The record stored under `key`, or None."""
        raw = txn.get(key, db=db)
        return None if raw is None else self.decode(raw)

    def put(self, txn: lmdb.Transaction, db, key: bytes, record: R) -> None:
        txn.put(key, self.encode(record), db=db)


def dataclass_codec(cls: Callable[..., R]) -> JsonCodec[R]:
    """The codec of a flat dataclass: stored as the JSON object of its fields."""
    return JsonCodec(asdict, lambda data: cls(**data))  # type: ignore[arg-type]
