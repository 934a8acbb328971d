"""ABI v1 wire formats of the storage imports (see guest-sdk/ABI.md, `storage_list`).

    list options  JSON object: prefix, start | startAfter, end (strings), reverse (bool),
                  limit (1 .. ActorLimits.list_max_limit; default list_default_limit)
    list result   count:u32 (key_len:u32 key value_len:u32 value){count}

The options come from the guest, so they are decoded here, where guest input is decoded, into
the typed `ListOptions` storage takes; storage never sees the guest's JSON.
"""

from __future__ import annotations

import struct
from typing import Any

from edgehost import nesting
from edgehost.config import DEFAULT_MAX_NESTING_DEPTH, ActorLimits
from edgehost.sandbox.abi import AbiError, Status
from edgehost.storage.actor_storage import KeyRange
from edgehost.storage.key_tree import prefix_successor
from edgehost.storage.turn import ListOptions

_U32 = struct.Struct("<I")
LIST_OPTION_NAMES = frozenset({"prefix", "start", "startAfter", "end", "reverse", "limit"})


def decode_list_options(raw: bytes, limits: ActorLimits) -> ListOptions:
    """The guest's list options (empty: every key, up to the default limit), or AbiError
    naming the option and the rule it breaks."""
    opts = _options_object(raw)
    limit = opts.get("limit", limits.list_default_limit)
    max_limit = limits.list_max_limit
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= max_limit:
        raise AbiError(Status.INVALID_ARGUMENT,
                       f"list limit {limit!r} must be an integer from 1 to {max_limit}")
    reverse = opts.get("reverse", False)
    if not isinstance(reverse, bool):
        raise AbiError(Status.INVALID_ARGUMENT, "list option reverse must be a boolean")
    return ListOptions(_key_range(opts), reverse, limit)


def _options_object(raw: bytes) -> dict[str, Any]:
    try:
        opts = nesting.load_json(raw, "list options", DEFAULT_MAX_NESTING_DEPTH) if raw else {}
    except ValueError as e:  # TooDeep, InvalidJson
        raise AbiError(Status.CODEC_ERROR, str(e)) from None
    if not isinstance(opts, dict):
        raise AbiError(Status.INVALID_ARGUMENT, "list options must be a JSON object")
    unknown = set(opts) - LIST_OPTION_NAMES
    if unknown:
        raise AbiError(Status.INVALID_ARGUMENT, f"unknown list option(s): {sorted(unknown)}")
    return opts


def _text(opts: dict[str, Any], name: str) -> bytes | None:
    value = opts.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise AbiError(Status.INVALID_ARGUMENT, f"list option {name} must be a string")
    return value.encode("utf-8")


def _key_range(opts: dict[str, Any]) -> KeyRange:
    """The keys `start`/`startAfter`, `end` and `prefix` select together."""
    start, start_after = _text(opts, "start"), _text(opts, "startAfter")
    if start is not None and start_after is not None:
        raise AbiError(Status.INVALID_ARGUMENT, "give start or startAfter, not both")
    low = start if start is not None else \
        (start_after + b"\0" if start_after is not None else b"")
    high = _text(opts, "end")
    prefix = _text(opts, "prefix")
    if prefix:
        low = max(low, prefix)
        successor = prefix_successor(prefix)
        if successor is not None:
            high = successor if high is None else min(high, successor)
    return KeyRange(low, high)


def encode_entries(entries: list[tuple[bytes, bytes]]) -> bytes:
    """A list result: its count, then each key and value with its length."""
    out = [_U32.pack(len(entries))]
    for key, value in entries:
        out += [_U32.pack(len(key)), key, _U32.pack(len(value)), value]
    return b"".join(out)
