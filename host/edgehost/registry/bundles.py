"""Shipped modules on disk, content-addressed by their SHA-256, written atomically."""

from __future__ import annotations

import os
import re
from pathlib import Path

_DIGEST = re.compile(r"[0-9a-f]{64}")


class BundleStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        # Digests come from our own metadata; refuse anything else.
        if not _DIGEST.fullmatch(digest):
            raise ValueError(f"not a module digest: {digest!r}")
        return self._root / f"{digest}.wasm"

    def put(self, digest: str, wasm: bytes) -> None:
        path = self.path(digest)
        if path.exists():
            return
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(wasm)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()
