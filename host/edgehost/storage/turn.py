"""One actor turn's view of its instance's storage: a write buffer over LMDB.

Reads see the turn's own writes, then the writes of earlier turns still on their way to disk
(the output gate's layers, see output_gate.py), then LMDB. Nothing reaches LMDB until the turn
ends well and its buffer is committed; a turn that traps or errors is simply dropped. `begin/commit/rollback` give
nested all-or-nothing transactions inside the turn: each open one is a layer of the buffer.

The buffer lives in host memory, outside the guest's memory cap, so it has a budget
(StorageLimits.turn_max_writes / turn_max_write_bytes): every buffered put and delete counts,
at every layer it is held in, so old values kept for a rollback count too. A write over the
budget fails with LIMIT_EXCEEDED and leaves the buffer as it was.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Mapping

from edgehost import nesting
from edgehost.config import DEFAULT_MAX_NESTING_DEPTH, ActorLimits
from edgehost.sandbox.abi import AbiError, Status
from edgehost.storage.actor_storage import ActorStorage, InstanceId, KeyRange, pending_entries
from edgehost.storage.key_tree import prefix_successor
from edgehost.storage.output_gate import Layer

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


def _size(key: bytes, value: bytes | None) -> int:
    """What a buffered write costs the budget: its key and value bytes."""
    return len(key) + (0 if value is None else len(value))


class _Layer:
    """The writes of one level: the turn's own, or those since an open storage_txn_begin."""

    __slots__ = ("writes", "cleared", "size")

    def __init__(self) -> None:
        self.writes: dict[bytes, bytes | None] = {}  # None marks a delete
        self.cleared = False  # deleteAll() ran at this level: nothing below it is visible
        self.size = 0  # key + value bytes of `writes`


class Turn:
    def __init__(self, storage: ActorStorage, instance: InstanceId, limits: ActorLimits,
                 pending: tuple[Layer, ...] = ()) -> None:
        self._storage = storage
        self.instance = instance
        self._limits = limits
        self._budget = storage.limits
        # The bottom layer is the turn's; each open nested transaction adds one on top. Beginning
        # one copies nothing, and rolling back drops its layer with the writes made in it.
        self._layers = [_Layer()]
        self._buffered_writes = 0  # entries in all layers
        self._buffered_bytes = 0  # their key + value bytes
        # Writes of earlier turns not yet on disk, oldest first (read-only here). Only those
        # from the newest deleteAll() on are visible, and then LMDB is not.
        cleared_at = next((i for i in range(len(pending) - 1, -1, -1) if pending[i].cleared),
                          None)
        self._pending = pending if cleared_at is None else pending[cleared_at:]
        self._pending_cleared = cleared_at is not None

    @property
    def writes(self) -> Mapping[bytes, bytes | None]:
        """The turn's writes as they stand (open transactions included): key -> value, or None
        for a delete."""
        if len(self._layers) == 1:
            return self._layers[0].writes
        merged: dict[bytes, bytes | None] = {}
        for layer in self._layers:
            if layer.cleared:
                merged.clear()
            merged.update(layer.writes)
        return merged

    @property
    def cleared(self) -> bool:
        """deleteAll() ran: nothing stored before this turn is visible."""
        return any(layer.cleared for layer in self._layers)

    @property
    def has_writes(self) -> bool:
        return any(layer.cleared or layer.writes for layer in self._layers)

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

    def _buffer(self, key: bytes, value: bytes | None) -> None:
        """Record a put (or a delete, value None) in the innermost layer, within the budget."""
        top = self._layers[-1]
        replaced = key in top.writes
        freed = _size(key, top.writes[key]) if replaced else 0
        writes = self._buffered_writes + (0 if replaced else 1)
        size = self._buffered_bytes - freed + _size(key, value)
        budget = self._budget
        if writes > budget.turn_max_writes:
            raise AbiError(Status.LIMIT_EXCEEDED,
                           f"one call may buffer at most {budget.turn_max_writes:,} writes (puts "
                           "and deletes, counted in every open transaction that holds one); "
                           "spread the work over several calls")
        if size > budget.turn_max_write_bytes:
            raise AbiError(Status.LIMIT_EXCEEDED,
                           f"this write would bring the call's buffered writes to {size:,} bytes "
                           f"of keys and values, over the limit of "
                           f"{budget.turn_max_write_bytes:,} bytes one call may buffer (values "
                           "kept for open transactions count too); spread the work over "
                           "several calls")
        top.writes[key] = value
        top.size += _size(key, value) - freed
        self._buffered_writes, self._buffered_bytes = writes, size

    def _drop_layer_writes(self, layer: _Layer) -> None:
        self._buffered_writes -= len(layer.writes)
        self._buffered_bytes -= layer.size
        layer.writes, layer.size = {}, 0

    # -------------------------------------------------------------- operations

    def get(self, key: bytes) -> bytes | None:
        key = self._key(key)
        for layer in reversed(self._layers):
            if key in layer.writes:
                return layer.writes[key]
            if layer.cleared:
                return None
        for earlier in reversed(self._pending):
            if key in earlier.writes:
                return earlier.writes[key]
        if self._pending_cleared:
            return None
        return self._storage.get(self.instance, key)

    def put(self, key: bytes, value: bytes) -> None:
        key = self._key(key)
        if len(value) > self._limits.max_value_bytes:
            raise AbiError(Status.TOO_LARGE, f"value of {len(value)} bytes exceeds the limit "
                           f"of {self._limits.max_value_bytes}")
        # (64 bytes may end inside a character: the message must not fail on it)
        check_json(value, f"the value for key {key[:64].decode(errors='replace')!r}")
        self._buffer(key, value)

    def delete(self, key: bytes) -> bool:
        existed = self.get(key) is not None
        self._buffer(self._key(key), None)
        return existed

    def delete_all(self) -> None:
        top = self._layers[-1]
        self._drop_layer_writes(top)
        top.cleared = True

    def list(self, options: bytes) -> bytes:
        opts = self._list_options(options)
        pending = self.writes
        if not self.cleared and self._pending:  # earlier turns' writes, then this turn's
            merged: dict[bytes, bytes | None] = {}
            for earlier in self._pending:
                merged.update(earlier.writes)
            merged.update(pending)
            pending = merged
        if self.cleared or self._pending_cleared:
            entries = pending_entries(pending, opts.key_range, opts.reverse)[:opts.limit]
        else:
            entries = self._storage.scan(self.instance, opts.key_range, reverse=opts.reverse,
                                         limit=opts.limit, pending=pending)
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
        if len(self._layers) > MAX_TXN_DEPTH:
            raise AbiError(Status.LIMIT_EXCEEDED,
                           f"transactions nest at most {MAX_TXN_DEPTH} deep")
        self._layers.append(_Layer())

    def commit(self) -> None:
        """Fold the innermost transaction into its parent."""
        if len(self._layers) == 1:
            raise AbiError(Status.NOT_PERMITTED, "no transaction is open")
        top = self._layers.pop()
        parent = self._layers[-1]
        if top.cleared:
            self._drop_layer_writes(parent)
            parent.cleared = True
        for key, value in top.writes.items():
            if key in parent.writes:  # the parent's older write is replaced: no longer held
                freed = _size(key, parent.writes[key])
                self._buffered_writes -= 1
                self._buffered_bytes -= freed
                parent.size -= freed
            parent.writes[key] = value
            parent.size += _size(key, value)

    def rollback(self) -> None:
        if len(self._layers) == 1:
            raise AbiError(Status.NOT_PERMITTED, "no transaction is open")
        self._drop_layer_writes(self._layers.pop())

    def apply(self, txn) -> None:
        """Write this turn's buffer inside a commit's write transaction."""
        self._storage.apply(txn, self.instance, self.cleared, self.writes)
