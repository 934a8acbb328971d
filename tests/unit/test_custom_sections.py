"""Custom sections read from untrusted bytes (sandbox/custom_sections.py over wasm_reader.py):
every section of the name is found in order, other names and sections are stepped over, and
a module cut short or lying about a size is refused with MalformedWasm, never misread."""

from __future__ import annotations

import pytest
import wasmtime
from edgehost.sandbox.custom_sections import custom_sections
from edgehost.sandbox.wasm_reader import MalformedWasm, Reader, sections

from tests.wasm_encoder import WASM_HEADER, guest, name, section, uleb

ACTORS = "edgehost.actors"


def custom(section_name: str, payload: bytes) -> bytes:
    return section(0, name(section_name) + payload)


def test_no_custom_section_gives_nothing():
    assert custom_sections(guest(), ACTORS) == []


def test_every_section_of_the_name_is_returned_in_order_past_other_sections():
    module = guest(functions=2, exports=1) + custom(ACTORS, b"first") + custom("other", b"x") + \
        custom(ACTORS, b"") + custom(ACTORS, b"\x00third\xff")
    wasmtime.Module.validate(wasmtime.Engine(), module)  # a real module, as wasmtime sees it
    assert custom_sections(module, ACTORS) == [b"first", b"", b"\x00third\xff"]
    assert custom_sections(module, "other") == [b"x"]


def test_custom_sections_may_sit_between_and_before_known_sections():
    module = guest()
    first_section = len(WASM_HEADER)
    module = module[:first_section] + custom(ACTORS, b"early") + module[first_section:]
    assert custom_sections(module, ACTORS) == [b"early"]


@pytest.mark.parametrize("other", ["edgehost.actor", "edgehost.actorsx", "EDGEHOST.ACTORS",
                                   "", "edgehost.actors\x00"])
def test_names_match_exactly(other: str):
    module = guest() + custom(other, b"not this")
    assert custom_sections(module, ACTORS) == []


def test_a_non_ascii_name_is_matched_by_its_utf8_bytes():
    module = guest() + custom("caf\u00e9", b"ok")
    assert custom_sections(module, "caf\u00e9") == [b"ok"]


def test_a_large_payload_with_a_multi_byte_size_is_read_whole():
    payload = bytes(range(256)) * 600  # 153,600 bytes: a three-byte LEB128 size
    assert custom_sections(guest() + custom(ACTORS, payload), ACTORS) == [payload]


def test_a_section_with_an_over_long_size_encoding_is_still_read():
    # LEB128 allows padding (0x85 0x80 0x00 is 5); wasmtime accepts it, so must we.
    body = name(ACTORS) + b"abc"
    padded = bytes([len(body) | 0x80, 0x80, 0x00])
    module = guest() + b"\x00" + padded + body
    wasmtime.Module.validate(wasmtime.Engine(), module)
    assert custom_sections(module, ACTORS) == [b"abc"]


# ------------------------------------------------------------------ malformed modules

@pytest.mark.parametrize("module, reason", [
    (b"", "no \\\\0asm header"),
    (b"\0asm", "components and other versions"),
    (b"\0asm\x0d\x00\x01\x00", "components and other versions"),
    (b"\0asm\x02\x00\x00\x00", "components and other versions"),
])
def test_bytes_that_are_not_a_core_module_are_refused(module: bytes, reason: str):
    with pytest.raises(MalformedWasm, match=reason):
        custom_sections(module, ACTORS)


@pytest.mark.parametrize("tail", [
    pytest.param(b"\x00", id="id-without-size"),
    pytest.param(b"\x00\x80", id="size-ends-mid-leb128"),
    pytest.param(b"\x00\xff\xff", id="size-ends-mid-leb128-2"),
])
def test_a_module_cut_inside_a_section_size_is_refused(tail: bytes):
    with pytest.raises(MalformedWasm, match="unexpected end of data"):
        custom_sections(WASM_HEADER + tail, ACTORS)


@pytest.mark.parametrize("size", [
    pytest.param(b"\xff\xff\xff\xff\xff\x01", id="six-bytes"),
    pytest.param(b"\xff\xff\xff\xff\x10", id="fifth-byte-sets-bit-32"),
    pytest.param(b"\xff\xff\xff\xff\x7f", id="fifth-byte-sets-bits-32-34"),
])
def test_a_section_size_over_32_bits_is_refused_as_such(size: bytes):
    # A u32 takes at most five LEB128 bytes, and only the low four bits of the fifth
    # (core spec 5.2.2): anything more is malformed, not a larger size.
    with pytest.raises(MalformedWasm, match="over 32 bits"):
        custom_sections(WASM_HEADER + b"\x00" + size, ACTORS)


def test_the_largest_u32_is_read():
    assert Reader(b"\xff\xff\xff\xff\x0f").uleb() == 2**32 - 1


@pytest.mark.parametrize("module", [
    pytest.param(WASM_HEADER + b"\x00\x05" + name("a"), id="custom-section-past-the-end"),
    pytest.param(guest() + b"\x00" + uleb(2**32 - 1) + name(ACTORS), id="size-near-2-32"),
    pytest.param(WASM_HEADER + b"\x01\x09\x01\x60", id="known-section-past-the-end"),
])
def test_a_section_size_past_the_end_is_refused(module: bytes):
    with pytest.raises(MalformedWasm, match="run past their section"):
        custom_sections(module, ACTORS)


@pytest.mark.parametrize("content", [
    pytest.param(b"", id="empty-section"),
    pytest.param(b"\x80", id="name-length-cut"),
    pytest.param(uleb(5) + b"abc", id="name-longer-than-section"),
    pytest.param(uleb(2**32 - 1), id="name-length-near-2-32"),
])
def test_a_custom_section_name_that_runs_past_its_section_is_refused(content: bytes):
    module = guest() + section(0, content) + custom(ACTORS, b"after")
    with pytest.raises(MalformedWasm, match="custom section name runs past its section"):
        custom_sections(module, ACTORS)


def test_a_name_may_not_borrow_bytes_from_the_next_section():
    # The name's length fits in the module but not in its own section.
    module = guest() + section(0, uleb(4) + b"ab") + custom("x", b"")
    with pytest.raises(MalformedWasm, match="custom section name runs past its section"):
        custom_sections(module, "ab")


def test_sections_reports_each_sections_bounds():
    module = WASM_HEADER + section(0, name("a") + b"12") + section(1, b"\x00")
    assert [(s.id, s.start, s.end) for s in sections(module)] == [(0, 10, 14), (1, 16, 17)]
