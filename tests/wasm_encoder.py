"""A tiny WebAssembly binary encoder, for test modules too large or too odd to write as WAT.

`guest()` builds a valid edgehost guest (it exports `memory` and an `edgehost_fetch` that
returns 0) with as many functions, exports, globals, segments... as a test asks for.
"""

from __future__ import annotations

WASM_HEADER = b"\0asm\x01\0\0\0"
I32, FUNCREF = 0x7F, 0x70
END = b"\x0b"
I32_CONST_0 = b"\x41\x00"


def uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def vec(items: list[bytes]) -> bytes:
    return uleb(len(items)) + b"".join(items)


def name(text: str) -> bytes:
    return uleb(len(text.encode())) + text.encode()


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + uleb(len(payload)) + payload


def limits(minimum: int, maximum: int | None = None) -> bytes:
    if maximum is None:
        return b"\x00" + uleb(minimum)
    return b"\x01" + uleb(minimum) + uleb(maximum)


def guest(*, functions: int = 0, exports: int = 0, imports: int = 0, types: int = 0,
          globals_: int = 0, data_segments: int = 0, tables: tuple = (),
          element_segments: int = 0, element_items: int = 0, custom_sections: int = 0,
          memories: int = 1, tags: int = 0, body: bytes = b"", locals_: int = 0,
          data_segment_bytes: int = 1) -> bytes:
    """A valid guest plus `functions` extra functions (each `() -> ()` with `locals_` i32
    locals and `body` as its code), the first `exports` of them exported, `imports` imports
    of `input_len`, `types` extra types, `data_segments` segments of `data_segment_bytes`
    each, and so on. `tables` is a tuple of (min, max or None); element segments (active, at
    offset 0 of table 0) share `element_items` function references."""
    fetch_type, void_type = 0, 1
    type_entries = [b"\x60\x00\x01" + bytes([I32]), b"\x60\x00\x00"]
    type_entries += [b"\x60" + vec([bytes([I32])] * (i % 8)) + b"\x00" for i in range(types)]
    out = [WASM_HEADER, section(1, vec(type_entries))]
    if imports:
        out.append(section(2, vec([name("edgehost_v1") + name("input_len") + b"\x00" +
                                    uleb(fetch_type)] * imports)))
    out.append(section(3, vec([uleb(fetch_type)] + [uleb(void_type)] * functions)))
    if tables:
        out.append(section(4, vec([bytes([FUNCREF]) + limits(lo, hi) for lo, hi in tables])))
    out.append(section(5, vec([limits(1)] * memories)))
    if tags:  # exception tags, each of type () -> ()
        out.append(section(13, vec([b"\x00" + uleb(void_type)] * tags)))
    if globals_:
        out.append(section(6, vec([bytes([I32, 0]) + I32_CONST_0 + END] * globals_)))
    fetch = imports  # imported functions come first in the index space
    export_entries = [name("memory") + b"\x02\x00", name("edgehost_fetch") + b"\x00" +
                      uleb(fetch)]
    export_entries += [name(f"f{i}") + b"\x00" + uleb(fetch + 1 + i) for i in range(exports)]
    out.append(section(7, vec(export_entries)))
    if element_segments:
        per_segment = element_items // element_segments
        out.append(section(9, vec([b"\x00" + I32_CONST_0 + END + vec([uleb(fetch)] * per_segment)
                                   ] * element_segments)))
    fetch_body = b"\x00" + I32_CONST_0 + END
    other_body = (vec([uleb(locals_) + bytes([I32])]) if locals_ else b"\x00") + body + END
    out.append(section(10, vec([uleb(len(fetch_body)) + fetch_body] +
                               [uleb(len(other_body)) + other_body] * functions)))
    if data_segments:
        data = b"\x00" + I32_CONST_0 + END + uleb(data_segment_bytes) + b"x" * data_segment_bytes
        out.append(section(11, vec([data] * data_segments)))
    out += [section(0, name(f"c{i}")) for i in range(custom_sections)]
    return b"".join(out)
