"""One actor turn's view of its instance's storage: a write buffer over LMDB.

Reads see the turn's own writes. Nothing reaches LMDB until the turn ends well and its buffer
is committed; a turn that traps or errors is simply dropped. `begin/commit/rollback` give
nested all-or-nothing transactions inside the turn (savepoints of the buffer).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

from edgehost import nesting
from edgehost.config import DEFAULT_MAX_NESTING_DEPTH, ActorLimits
from edgehost.sandbox.abi import AbiError, Status
from edgehost.storage.actor_storage import ActorStorage, InstanceId, KeyRange, prefix_successor

RESERVED_KEY_PREFIX = b"__edgehost_"
MAX_TXN_DEPTH = 16
_U32 = struct.Struct("<I")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def check_json(data: bytes, what: str) -> object:
    """Parse strict JSON (no NaN/Infinity, nesting at most DEFAULT_MAX_NESTING_DEPTH deep) or
    raise CODEC_ERROR naming `what`."""
    try:
        nesting.check_json(data, what, DEFAULT_MAX_NESTING_DEPTH)
        return json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except nesting.TooDeep as e:
        raise AbiError(Status.CODEC_ERROR, str(e)) from None
    except (UnicodeDecodeError, ValueError) as e:
        raise AbiError(Status.CODEC_ERROR, f"{what} is not valid JSON ({e})") from None


@dataclass(frozen=True)
class ListOptions:
    key_range: KeyRange
    reverse: bool
    limit: int


class Turn:
    def __init__(self, storage: ActorStorage, instance: InstanceId, limits: ActorLimits) -> None:
        self._storage = storage
        self.instance = instance
        self._limits = limits
        self.writes: dict[bytes, bytes | None] = {}  # None marks a delete
        self.cleared = False  # deleteAll() ran: nothing stored before this turn is visible
        self._savepoints: list[tuple[dict[bytes, bytes | None], bool]] = []

    @property
    def has_writes(self) -> bool:
        return self.cleared or bool(self.writes)

    # -------------------------------------------------------------- validation

    def _key(self, key: bytes) -> bytes:
        if len(key) > self._limits.max_key_bytes:
            raise AbiError(Status.INVALID_ARGUMENT, f"key of {len(key)} bytes exceeds the "
                           f"limit of {self._limits.max_key_bytes}")
        try:
            key.decode("utf-8")
        except UnicodeDecodeError:
            raise AbiError(Status.INVALID_ARGUMENT, "key is not valid UTF-8") from None
        if key.startswith(RESERVED_KEY_PREFIX):
            raise AbiError(Status.INVALID_ARGUMENT,
                           f"keys starting with {RESERVED_KEY_PREFIX.decode()!r} are reserved")
        return key

    # -------------------------------------------------------------- operations

    def get(self, key: bytes) -> bytes | None:
        key = self._key(key)
        if key in self.writes:
            return self.writes[key]
        if self.cleared:
            return None
        return self._storage.get(self.instance, key)

    def put(self, key: bytes, value: bytes) -> None:
        key = self._key(key)
        if len(value) > self._limits.max_value_bytes:
            raise AbiError(Status.TOO_LARGE, f"value of {len(value)} bytes exceeds the limit "
                           f"of {self._limits.max_value_bytes}")
        check_json(value, f"the value for key {key[:64].decode()!r}")
        self.writes[key] = value

    def delete(self, key: bytes) -> bool:
        existed = self.get(key) is not None
        self.writes[self._key(key)] = None
        return existed

    def delete_all(self) -> None:
        self.writes.clear()
        self.cleared = True

    def list(self, options: bytes) -> bytes:
        opts = self._list_options(options)
        # Fetch enough persisted entries that buffered deletes cannot leave us short.
        persisted = [] if self.cleared else self._storage.scan(
            self.instance, opts.key_range, reverse=opts.reverse,
            limit=opts.limit + len(self.writes))
        merged = {k: v for k, v in persisted}
        for key, value in self.writes.items():
            if opts.key_range.contains(key):
                merged[key] = value
        entries = sorted(((k, v) for k, v in merged.items() if v is not None),
                         reverse=opts.reverse)[:opts.limit]
        out = [_U32.pack(len(entries))]
        for key, value in entries:
            out += [_U32.pack(len(key)), key, _U32.pack(len(value)), value]
        return b"".join(out)

    def _list_options(self, raw: bytes) -> ListOptions:
        opts = check_json(raw, "list options") if raw else {}
        if not isinstance(opts, dict):
            raise AbiError(Status.INVALID_ARGUMENT, "list options must be a JSON object")
        unknown = set(opts) - {"prefix", "start", "startAfter", "end", "reverse", "limit"}
        if unknown:
            raise AbiError(Status.INVALID_ARGUMENT, f"unknown list option(s): {sorted(unknown)}")

        def text(name: str) -> bytes | None:
            value = opts.get(name)
            if value is None:
                return None
            if not isinstance(value, str):
                raise AbiError(Status.INVALID_ARGUMENT, f"list option {name} must be a string")
            return value.encode("utf-8")

        limit = opts.get("limit", self._limits.list_default_limit)
        max_limit = self._limits.list_max_limit
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= max_limit:
            raise AbiError(Status.INVALID_ARGUMENT,
                           f"list limit {limit!r} must be an integer from 1 to {max_limit}")
        reverse = opts.get("reverse", False)
        if not isinstance(reverse, bool):
            raise AbiError(Status.INVALID_ARGUMENT, "list option reverse must be a boolean")
        start, start_after = text("start"), text("startAfter")
        if start is not None and start_after is not None:
            raise AbiError(Status.INVALID_ARGUMENT, "give start or startAfter, not both")
        low = start if start is not None else \
            (start_after + b"\0" if start_after is not None else b"")
        high = text("end")
        prefix = text("prefix")
        if prefix:
            low = max(low, prefix)
            successor = prefix_successor(prefix)
            if successor is not None:
                high = successor if high is None else min(high, successor)
        return ListOptions(KeyRange(low, high), reverse, limit)

    # -------------------------------------------------------------- nested transactions

    def begin(self) -> None:
        if len(self._savepoints) >= MAX_TXN_DEPTH:
            raise AbiError(Status.LIMIT_EXCEEDED,
                           f"transactions nest at most {MAX_TXN_DEPTH} deep")
        self._savepoints.append((dict(self.writes), self.cleared))

    def commit(self) -> None:
        if not self._savepoints:
            raise AbiError(Status.NOT_PERMITTED, "no transaction is open")
        self._savepoints.pop()

    def rollback(self) -> None:
        if not self._savepoints:
            raise AbiError(Status.NOT_PERMITTED, "no transaction is open")
        self.writes, self.cleared = self._savepoints.pop()

    def apply(self, txn) -> None:
        """Write this turn's buffer inside a commit's write transaction."""
        self._storage.apply(txn, self.instance, self.cleared, self.writes)
