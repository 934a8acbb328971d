"""files.py: durable all-or-nothing writes, and owner-only files."""

import os
import stat
from pathlib import Path

import pytest
from edgehost.files import write_durably, write_private


def test_a_durable_write_replaces_the_whole_file_and_leaves_no_temporary(tmp_path: Path):
    path = tmp_path / "module.cwasm"
    path.write_bytes(b"old")
    write_durably(path, b"new contents")
    assert path.read_bytes() == b"new contents"
    assert os.listdir(tmp_path) == ["module.cwasm"]


def test_a_failed_durable_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path):
    path = tmp_path / "module.cwasm"
    path.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_durably(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["module.cwasm"]


def test_a_private_file_is_owner_only_even_when_it_existed_wider(tmp_path: Path):
    path = tmp_path / "key"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, "ehk_secret\n")
    assert path.read_text() == "ehk_secret\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
