"""Read custom sections from a Wasm binary (wasmtime-py has no API for them).

The module has already been validated by wasmtime when this runs, but lengths are still
checked so a hostile binary cannot make this loop misbehave.
"""

from __future__ import annotations

WASM_HEADER = b"\0asm\x01\0\0\0"
CUSTOM_SECTION_ID = 0


def _leb128_u32(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 28:
            raise ValueError("truncated or oversized LEB128")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def custom_sections(wasm: bytes, name: str) -> list[bytes]:
    """Contents of every custom section called `name`, in order."""
    if not wasm.startswith(WASM_HEADER):
        raise ValueError("not a Wasm module")
    found = []
    pos = len(WASM_HEADER)
    while pos < len(wasm):
        section_id = wasm[pos]
        size, pos = _leb128_u32(wasm, pos + 1)
        end = pos + size
        if end > len(wasm):
            raise ValueError("section runs past the end of the module")
        if section_id == CUSTOM_SECTION_ID:
            name_len, name_pos = _leb128_u32(wasm, pos)
            if name_pos + name_len > end:
                raise ValueError("custom section name runs past its section")
            if wasm[name_pos:name_pos + name_len] == name.encode():
                found.append(wasm[name_pos + name_len:end])
        pos = end
    return found
