"""One host per data dir: an exclusive lock taken by `serve` (and so by `dev`) before it
opens anything there.

Two hosts on one data dir would each think it owns every actor: both would run activations of
the same names, and acknowledged writes would be lost (measured: 200 concurrent increments
split over two hosts ended at 173). The lock is an flock on `<data dir>/serve.lock`, which the
kernel releases when the last process holding it exits, however it exits (kill -9 included),
so a stale lock never needs cleaning up. Worker processes inherit it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = "serve.lock"


class DataDirInUse(Exception):
    pass


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self, shown_as: str) -> None:
        """Take the lock or raise DataDirInUse naming the holder's pid. `shown_as` is how
        the message names the data dir (as the user gave it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise DataDirInUse(f"data dir {shown_as} is in use by pid {holder}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    @property
    def fd(self) -> int | None:
        """The locked file descriptor, for worker processes to inherit."""
        return self._fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
