"""Read custom sections from a Wasm binary (wasmtime-py has no API for them).

Ship runs this after the shape check (module_shape.py), which caps how many custom sections
there are to walk; lengths are still checked, so a hostile binary cannot make it misbehave.
"""

from __future__ import annotations

from edgehost.sandbox.wasm_reader import MalformedWasm, sections

CUSTOM_SECTION_ID = 0


def custom_sections(wasm: bytes, name: str) -> list[bytes]:
    """Contents of every custom section called `name`, in order. Raises ValueError
    (MalformedWasm) for bytes that are not a module."""
    found = []
    for section in sections(wasm):
        if section.id == CUSTOM_SECTION_ID:
            reader = section.reader(wasm)
            try:
                section_name = reader.name()
            except MalformedWasm:
                raise MalformedWasm("custom section name runs past its section") from None
            if section_name == name.encode():
                found.append(wasm[reader.pos:section.end])
    return found
