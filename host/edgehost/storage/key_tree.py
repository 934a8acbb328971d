"""How one actor instance's keys are laid out in LMDB: an ordered tree of LMDB entries.

LMDB keys are at most 511 bytes, while actor keys may be longer (2 KiB by the spec; any length
`max_key_bytes` allows). The keys of an instance form a tree of *nodes*. A node is a 16-byte
id; its entries are the LMDB keys that start with that id:

    node + k           a key entry: a key rest k of at most HEAD (494) bytes -> its value
    node + h + 0xFF    a branch entry (empty value): every key rest longer than HEAD bytes
                       that starts with the HEAD-byte head h continues in the child node
                       child_id(node, h), which holds the rest after h the same way

The root node's id is the instance prefix, so a key of at most HEAD bytes is simply
prefix + key. 16 + 494 + 1 = 511 bytes, LMDB's limit.

Why this keeps order: keys are valid UTF-8, which never contains the byte 0xFF. So a branch
entry never collides with a key entry; it sorts after h itself and after every key entry
that starts with h (those are at most HEAD bytes, so they end before the 0xFF), and before
every entry for a larger head. Reading a node's entries in LMDB's byte order, expanding each
branch in place, therefore yields the full keys in byte order. A range scan is a depth-first
walk with one cursor per level, forward or backward. It seeks straight to the range's start,
and the only entries it reads but does not return are at most one partial branch at each end
of the range per level, so its cost follows the entries returned, not the keys stored. A
branch exists exactly while its child node holds something, so no walk meets an empty one.

Child ids are derived by hashing (child_id), so `get`/`put` reach any key without reading the
branches on its path.

The walks here keep their own LMDB cursors instead of lmdb_env.scan_prefix: they are on the
hot path of every turn and commit, move backward as well as forward, seek past branches, and
reuse one cursor per level, none of which a generic prefix scan would do as cheaply.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

NODE_ID_BYTES = 16
LMDB_MAX_KEY = 511
HEAD = LMDB_MAX_KEY - NODE_ID_BYTES - 1  # key bytes a node holds; the 1 is the branch mark
BRANCH = b"\xff"  # ends a branch entry; never a byte of a UTF-8 key


def child_id(node: bytes, head: bytes) -> bytes:
    """The node holding the rests of the keys that continue `head` in `node`."""
    return hashlib.sha256(b"edgehost key branch\0" + node + head).digest()[:NODE_ID_BYTES]


def _locate(root: bytes, key: bytes) -> tuple[bytes, bytes]:
    """(node, rest): where `key`'s entry lives."""
    node, rest = root, key
    while len(rest) > HEAD:
        node, rest = child_id(node, rest[:HEAD]), rest[HEAD:]
    return node, rest


def get(txn, db, root: bytes, key: bytes) -> bytes | None:
    if len(key) <= HEAD:  # most keys: no branch to follow (every commit reads one)
        return txn.get(root + key, db=db)
    node, rest = _locate(root, key)
    return txn.get(node + rest, db=db)


def put(txn, db, root: bytes, key: bytes, value: bytes) -> None:
    node, rest = root, key
    while len(rest) > HEAD:
        head = rest[:HEAD]
        txn.put(node + head + BRANCH, b"", db=db, overwrite=False)
        node, rest = child_id(node, head), rest[HEAD:]
    txn.put(node + rest, value, db=db)


def delete(txn, db, root: bytes, key: bytes) -> None:
    """Delete `key` (if stored), and every branch its deletion left empty."""
    path: list[tuple[bytes, bytes]] = []  # (node, head) of each branch taken
    node, rest = root, key
    while len(rest) > HEAD:
        head = rest[:HEAD]
        path.append((node, head))
        node, rest = child_id(node, head), rest[HEAD:]
    if not txn.delete(node + rest, db=db):
        return
    for parent, head in reversed(path):
        if not _is_empty(txn, db, node):
            return
        txn.delete(parent + head + BRANCH, db=db)
        node = parent


def _is_empty(txn, db, node: bytes) -> bool:
    cursor = txn.cursor(db=db)
    return not (cursor.set_range(node) and cursor.key().startswith(node))


def delete_all(txn, db, root: bytes) -> None:
    """Delete every entry of the tree under `root`."""
    pending = [root]
    cursor = txn.cursor(db=db)
    while pending:
        node = pending.pop()
        found = cursor.set_range(node)
        while found and cursor.key().startswith(node):
            part = cursor.key()[NODE_ID_BYTES:]
            if part.endswith(BRANCH):
                pending.append(child_id(node, part[:-1]))
            found = cursor.delete()  # and moves to the next entry


def count(txn, db, root: bytes) -> tuple[int, int]:
    """(keys, key + value bytes) stored under `root`: one walk over every entry."""
    keys = size = 0
    pending = [(root, 0)]  # (node, length of the key bytes above it)
    cursor = txn.cursor(db=db)
    while pending:
        node, depth_bytes = pending.pop()
        found = cursor.set_range(node)
        while found:
            lmdb_key = cursor.key()
            if not lmdb_key.startswith(node):
                break
            part = lmdb_key[NODE_ID_BYTES:]
            if part.endswith(BRANCH):
                pending.append((child_id(node, part[:-1]), depth_bytes + HEAD))
            else:
                keys += 1
                size += depth_bytes + len(part) + len(cursor.value())
            found = cursor.next()
    return keys, size


def scan(txn, db, root: bytes, low: bytes, high: bytes | None,
         reverse: bool) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) for every key in [low, high) (high None: unbounded), in byte order or
    reversed; lazily, so a caller that stops early reads only what it took."""
    return _walk(txn, db, root, b"", low, high, reverse)


def _walk(txn, db, node: bytes, path: bytes, low: bytes, high: bytes | None,
          reverse: bool) -> Iterator[tuple[bytes, bytes]]:
    """Entries of `node`, whose keys are path + rest, with low <= rest < high."""
    cursor = txn.cursor(db=db)
    found = _start_backward(cursor, node, high) if reverse else \
        cursor.set_range(node + _seek_key(low))
    while found:
        lmdb_key = cursor.key()
        if not lmdb_key.startswith(node):
            return
        part = lmdb_key[NODE_ID_BYTES:]
        is_branch = part.endswith(BRANCH)
        # Forward, stop at the first entry wholly at or above `high`; backward, at the first
        # wholly below `low`. A branch for head h holds rests h + t with t non-empty: it is
        # above `high` iff h >= high, and below `low` iff h + 0xFF < low.
        if reverse:
            if part < low:
                return
        elif high is not None and (part[:-1] if is_branch else part) >= high:
            return
        if is_branch:
            head = part[:-1]
            yield from _walk(txn, db, child_id(node, head), path + head,
                             low[HEAD:] if low.startswith(head) else b"",
                             high[HEAD:] if high is not None and high.startswith(head) else None,
                             reverse)
        else:
            yield path + part, cursor.value()
        found = cursor.prev() if reverse else cursor.next()


def _seek_key(bound: bytes) -> bytes:
    """The entry part to seek to for `bound`. A bound longer than HEAD cannot be an entry: the
    first entry at or after it is its head's branch (which may hold rests above the bound), or
    else the next entry after that branch."""
    return bound if len(bound) <= HEAD else bound[:HEAD] + BRANCH


def _start_backward(cursor, node: bytes, high: bytes | None) -> bool:
    """Position on the last entry of `node` that holds anything below `high`."""
    if high is None:
        after = prefix_successor(node)
        found = cursor.set_range(after) if after is not None else False
        return cursor.prev() if found else cursor.last()
    seek = node + _seek_key(high)
    found = cursor.set_range(seek)
    if found and len(high) > HEAD and cursor.key() == seek:
        return True  # the branch of high's head: it holds rests below high
    return cursor.prev() if found else cursor.last()


def prefix_successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with `prefix`."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])
