"""Files the host writes that must never be seen half-written or lost to a power cut (compiled
modules, shipped modules), and files only their owner may read (API keys, the CLI's config).

A rename lives in its directory: until the directory is fsynced, a power loss can undo it,
leaving a committed revision that names a file that is not there."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make the entries of a directory (files created, renamed or removed in it) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def install_durably(written: Path, path: Path) -> None:
    """Move a fully written file into place for good: fsync its data, rename it over `path`,
    fsync the directory. Readers see the old file or the whole new one, never a torn one."""
    with open(written, "rb") as f:
        os.fsync(f.fileno())
    os.replace(written, path)
    fsync_dir(path.parent)


def write_durably(path: Path, data: bytes) -> None:
    """Write `data` as `path`, all or nothing, through a temporary file of its own (two
    writers of one path never share one) that is removed if anything fails."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:24]}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        install_durably(Path(tmp), path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner may read or write (0600, also when the file was
    already there with a wider mode)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
