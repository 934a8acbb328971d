"""Shipped modules on disk, content-addressed by their SHA-256, written atomically and durably.

A revision names its module by digest, and the revision is committed (fsynced in LMDB) right
after `put` returns. So `put` returns only once the module is durable under its final name:
the file's data is fsynced before the rename, and the directory after it (a rename lives in
the directory, and without that fsync a power loss can undo it, leaving a revision that points
at nothing).
"""

from __future__ import annotations

import re
from pathlib import Path

from edgehost.files import fsync_dir, write_durably

_DIGEST = re.compile(r"[0-9a-f]{64}")


class BundleStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True)
        fsync_dir(root.parent)  # the directory itself, if it was just created

    def path(self, digest: str) -> Path:
        # Digests come from our own metadata; refuse anything else.
        if not _DIGEST.fullmatch(digest):
            raise ValueError(f"not a module digest: {digest!r}")
        return self._root / f"{digest}.wasm"

    def put(self, digest: str, wasm: bytes) -> None:
        path = self.path(digest)
        if not path.exists():
            write_durably(path, wasm)  # two ships of one module at once never share a file
        else:
            # Already there: whoever wrote it may not have made its name durable yet (a ship
            # still in flight, or a host from before this fsync existed).
            fsync_dir(self._root)

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()
