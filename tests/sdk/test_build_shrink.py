"""edgehost-asc's shrink step rewrites the data section smaller without changing what a fresh
instance's memory holds: the module built with --no-shrink and the one built normally must
give the same initial memory, except the allocator words of static strings, which it drops
on purpose (see `shrink` in guest-sdk/assemblyscript/bin/edgehost-asc.js)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT

ASC = ROOT / "node_modules" / ".bin" / "edgehost-asc"


def _leb(data: bytes, pos: int, signed: bool = False) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if signed and byte & 0x40:
                result -= 1 << shift
            return result, pos


def sections(module: bytes) -> dict[int, bytes]:
    out, pos = {}, 8
    while pos < len(module):
        section_id = module[pos]
        size, pos = _leb(module, pos + 1)
        if section_id:  # custom sections (0) may repeat; not needed here
            out[section_id] = module[pos:pos + size]
        pos += size
    return out


def data_segments(module: bytes) -> list[tuple[int, bytes]]:
    """(offset, bytes) of each active segment with an i32.const offset."""
    data = sections(module).get(11, b"")
    if not data:
        return []
    count, pos = _leb(data, 0)
    segments = []
    for _ in range(count):
        flags, pos = _leb(data, pos)
        assert flags == 0 and data[pos] == 0x41, "not an active i32.const segment"
        offset, pos = _leb(data, pos + 1, signed=True)
        assert data[pos] == 0x0B
        size, pos = _leb(data, pos + 1)
        segments.append((offset, data[pos:pos + size]))
        pos += size
    return segments


def memory_image(segments: list[tuple[int, bytes]]) -> bytearray:
    image = bytearray(max((o + len(b) for o, b in segments), default=0))
    for offset, payload in segments:
        image[offset:offset + len(payload)] = payload
    return image


@pytest.fixture(scope="module", params=["hello", "account-readonly"])
def built(request, tmp_path_factory) -> tuple[bytes, bytes]:
    """(unshrunk, shrunk) builds of one example: UTF-16 literals in hello, lit() in the other."""
    if not ASC.exists():
        pytest.fail(f"{ASC.relative_to(ROOT)} is missing: run scripts/setup")
    name = request.param
    out_file = tmp_path_factory.mktemp("shrink") / f"{name}.wasm"
    done = subprocess.run([str(ASC), "--no-shrink", "-o", str(out_file)], cwd=EXAMPLES / name,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return Path(out_file).read_bytes(), (EXAMPLES / name / "build" / f"{name}.wasm").read_bytes()


def test_shrink_keeps_the_initial_memory_but_the_dead_allocator_words(built):
    unshrunk, shrunk = built
    before, after = data_segments(unshrunk), data_segments(shrunk)
    assert len(after) < len(before)
    expected = memory_image(before)
    starts = {offset: payload for offset, payload in before}
    for offset, payload in before:  # the allocator word 12 bytes before a static string
        text = starts.get(offset + 12)
        if len(payload) <= 4 and text is not None and len(text) >= 8 and text[:4] == b"\x02\0\0\0":
            expected[offset:offset + len(payload)] = bytes(len(payload))
    got = memory_image(after)
    assert got == expected[:len(got)] and not any(expected[len(got):])


def test_shrink_changes_nothing_but_the_data(built):
    unshrunk, shrunk = built
    a, b = sections(unshrunk), sections(shrunk)
    assert set(a) == set(b)
    for section_id in a:
        if section_id not in (11, 12):  # data, datacount
            assert a[section_id] == b[section_id], f"section {section_id} changed"
