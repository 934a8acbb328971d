"""One actor turn's view of its instance's storage: a write buffer over LMDB.

Reads see the turn's own writes, then the writes of earlier turns still on their way to disk
(the output gate's layers, see output_gate.py), then LMDB. Nothing reaches LMDB until the turn
ends well and its buffer is committed; a turn that traps or errors is simply dropped.
`begin/commit/rollback` give nested all-or-nothing transactions inside the turn: each open one
is a layer of the buffer.

The buffer lives in host memory, outside the guest's memory cap, so it has a budget
(StorageLimits.turn_max_writes / turn_max_write_bytes): every buffered put and delete counts,
at every layer it is held in, so old values kept for a rollback count too. A write over the
budget is refused and leaves the buffer as it was.

The turn speaks storage's terms, not the ABI's: it takes typed requests (a `ListOptions`, not
the guest's JSON) and refuses with a `TurnRefusal`, whose subclass says why. The storage
imports decode the guest's arguments and turn each refusal into its ABI status
(sandbox/storage_wire.py, sandbox/imports.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edgehost import nesting
from edgehost.config import DEFAULT_MAX_NESTING_DEPTH, ActorLimits
from edgehost.storage.actor_storage import ActorStorage, InstanceId, KeyRange, pending_entries
from edgehost.storage.output_gate import Layer

RESERVED_KEY_PREFIX = b"__edgehost_"
MAX_TXN_DEPTH = 16


class TurnRefusal(Exception):
    """A storage request the turn refuses; nothing changed. The message says why, for the
    guest; the subclass says what kind of refusal it is."""


class InvalidKey(TurnRefusal):
    """A key too long, not UTF-8, or in the host's reserved namespace."""


class InvalidValue(TurnRefusal):
    """A value that is not strict JSON, or nests too deep."""


class ValueTooLarge(TurnRefusal):
    """A value above ActorLimits.max_value_bytes."""


class TurnLimitExceeded(TurnRefusal):
    """The turn's write budget is spent, or its transactions nest too deep."""


class NoOpenTransaction(TurnRefusal):
    """A commit or rollback with no transaction open."""


@dataclass(frozen=True)
class ListOptions:
    """Which entries a `list` returns: those in a key range, in order (or reversed), at most
    `limit` of them."""

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
        self.limits = limits  # what a request may ask: key and value sizes, list limits
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
        if len(key) > self.limits.max_key_bytes:
            raise InvalidKey(f"key of {len(key)} bytes exceeds the "
                             f"limit of {self.limits.max_key_bytes}")
        try:
            key.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidKey("key is not valid UTF-8") from None
        if key.startswith(RESERVED_KEY_PREFIX):
            raise InvalidKey(f"keys starting with {RESERVED_KEY_PREFIX.decode()!r} are reserved")
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
            raise TurnLimitExceeded(
                f"one call may buffer at most {budget.turn_max_writes:,} writes (puts "
                "and deletes, counted in every open transaction that holds one); "
                "spread the work over several calls")
        if size > budget.turn_max_write_bytes:
            raise TurnLimitExceeded(
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
        if len(value) > self.limits.max_value_bytes:
            raise ValueTooLarge(f"value of {len(value)} bytes exceeds the limit "
                                f"of {self.limits.max_value_bytes}")
        try:
            # (64 bytes may end inside a character: the message must not fail on it)
            nesting.load_json(value, f"the value for key {key[:64].decode(errors='replace')!r}",
                              DEFAULT_MAX_NESTING_DEPTH)
        except ValueError as e:
            raise InvalidValue(str(e)) from None
        self._buffer(key, value)

    def delete(self, key: bytes) -> bool:
        existed = self.get(key) is not None
        self._buffer(self._key(key), None)
        return existed

    def delete_all(self) -> None:
        top = self._layers[-1]
        self._drop_layer_writes(top)
        top.cleared = True

    def list(self, options: ListOptions) -> list[tuple[bytes, bytes]]:
        """The entries `options` selects, as this turn sees them, in order."""
        pending = self.writes
        if not self.cleared and self._pending:  # earlier turns' writes, then this turn's
            merged: dict[bytes, bytes | None] = {}
            for earlier in self._pending:
                merged.update(earlier.writes)
            merged.update(pending)
            pending = merged
        if self.cleared or self._pending_cleared:
            return pending_entries(pending, options.key_range, options.reverse)[:options.limit]
        return self._storage.scan(self.instance, options.key_range, reverse=options.reverse,
                                  limit=options.limit, pending=pending)

    # -------------------------------------------------------------- nested transactions

    def begin(self) -> None:
        if len(self._layers) > MAX_TXN_DEPTH:
            raise TurnLimitExceeded(f"transactions nest at most {MAX_TXN_DEPTH} deep")
        self._layers.append(_Layer())

    def commit(self) -> None:
        """Fold the innermost transaction into its parent."""
        if len(self._layers) == 1:
            raise NoOpenTransaction("no transaction is open")
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
            raise NoOpenTransaction("no transaction is open")
        self._drop_layer_writes(self._layers.pop())

    def apply(self, txn) -> None:
        """Write this turn's buffer inside a commit's write transaction."""
        self._storage.apply(txn, self.instance, self.cleared, self.writes)
