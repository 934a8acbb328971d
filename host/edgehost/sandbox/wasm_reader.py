"""Reading the WebAssembly binary format in Python, before wasmtime sees the bytes.

Only what the host reads itself: section headers, vector counts, limits and constant
expressions (to step over them). Every read is bounds-checked and raises `MalformedWasm`, so
a hostile binary can make these loops stop early but never misbehave.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

WASM_MAGIC = b"\0asm"
WASM_HEADER = WASM_MAGIC + b"\x01\0\0\0"  # magic, then version 1 (a core module)


class MalformedWasm(ValueError):
    """The bytes are not a WebAssembly module this reader understands."""


class Reader:
    """A cursor over `data[pos:end]`."""

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def at_end(self) -> bool:
        return self.pos >= self.end

    def peek(self) -> int | None:
        """The next byte without consuming it; None at the end."""
        return self.data[self.pos] if self.pos < self.end else None

    def byte(self) -> int:
        if self.pos >= self.end:
            raise MalformedWasm(f"unexpected end of data at offset {self.pos}")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def skip(self, count: int) -> None:
        if count < 0 or self.pos + count > self.end:
            raise MalformedWasm(f"{count} bytes at offset {self.pos} run past their section")
        self.pos += count

    def uleb(self, bits: int = 32) -> int:
        result = shift = 0
        while True:
            if shift >= bits:
                raise MalformedWasm(f"LEB128 integer over {bits} bits at offset {self.pos}")
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                # The last byte may carry only the bits left below `bits` (the spec's rule:
                # a u32 in 5 bytes uses 4 bits of the fifth).
                if result >> bits:
                    raise MalformedWasm(f"LEB128 integer over {bits} bits at offset {self.pos}")
                return result
            shift += 7

    def sleb(self, bits: int) -> None:
        """Step over a signed LEB128 integer (the host never needs its value)."""
        for _ in range((bits + 6) // 7):
            if not self.byte() & 0x80:
                return
        raise MalformedWasm(f"LEB128 integer over {bits} bits at offset {self.pos}")

    def name(self) -> bytes:
        length = self.uleb()
        start = self.pos
        self.skip(length)
        return self.data[start:self.pos]


@dataclass(frozen=True)
class Section:
    id: int
    start: int  # offset of the section's contents
    end: int

    def reader(self, data: bytes) -> Reader:
        return Reader(data, self.start, self.end)


def sections(wasm: bytes) -> Iterator[Section]:
    """Each section of a core module, in order. Raises MalformedWasm for a bad header or a
    section that runs past the end of the module."""
    if not wasm.startswith(WASM_MAGIC):
        raise MalformedWasm("not a WebAssembly module (no \\0asm header)")
    if not wasm.startswith(WASM_HEADER):
        raise MalformedWasm("not a core WebAssembly module of version 1 "
                            "(components and other versions are not accepted)")
    reader = Reader(wasm, len(WASM_HEADER))
    while not reader.at_end():
        section_id = reader.byte()
        size = reader.uleb()
        start = reader.pos
        reader.skip(size)
        yield Section(section_id, start, reader.pos)


@dataclass(frozen=True)
class Limits:
    minimum: int
    maximum: int | None


def read_limits(reader: Reader) -> Limits:
    """A table's or memory's limits: flag bits 0 (has a maximum), 1 (shared), 2 (64-bit
    indices) and 3 (a custom page size follows)."""
    flags = reader.byte()
    if flags & ~0x0F:
        raise MalformedWasm(f"unknown limits flags 0x{flags:02x} at offset {reader.pos - 1}")
    bits = 64 if flags & 0x04 else 32
    minimum = reader.uleb(bits)
    maximum = reader.uleb(bits) if flags & 0x01 else None
    if flags & 0x08:
        reader.uleb()  # log2 of the page size
    return Limits(minimum, maximum)


# Abstract heap types have one-byte shorthands (funcref 0x70, externref 0x6f, anyref 0x6e...);
# 0x63 and 0x64 introduce `(ref null ht)` and `(ref ht)`.
_REF_WITH_HEAP_TYPE = (0x63, 0x64)
_SHARED_HEAP_TYPE = 0x65


def read_heap_type(reader: Reader) -> None:
    if reader.peek() == _SHARED_HEAP_TYPE:
        reader.byte()
        reader.byte()
        return
    reader.sleb(33)  # an abstract type's one byte, or a type index


def read_ref_type(reader: Reader) -> None:
    if reader.byte() in _REF_WITH_HEAP_TYPE:
        read_heap_type(reader)


# Opcodes allowed in constant expressions (core spec, extended-const, reference types, GC,
# SIMD), each with how to step over its immediates.
_END = 0x0B
_NO_IMMEDIATE = {0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E}  # i32/i64 add, sub, mul
_GC_PREFIX, _SIMD_PREFIX = 0xFB, 0xFD
_GC_NEW_WITH_TYPE = {0, 1, 6, 7}  # struct.new(_default), array.new(_default): a type index
_GC_ARRAY_NEW_FIXED = 8  # a type index and a length
_GC_NO_IMMEDIATE = {0x1A, 0x1B, 0x1C}  # any.convert_extern, extern.convert_any, ref.i31
_SIMD_V128_CONST = 12


def skip_const_expr(reader: Reader) -> None:
    """Step over one constant expression, through its `end`."""
    while (op := reader.byte()) != _END:
        if op == 0x41:
            reader.sleb(32)  # i32.const
        elif op == 0x42:
            reader.sleb(64)  # i64.const
        elif op == 0x43:
            reader.skip(4)  # f32.const
        elif op == 0x44:
            reader.skip(8)  # f64.const
        elif op in (0x23, 0xD2):
            reader.uleb()  # global.get, ref.func
        elif op == 0xD0:
            read_heap_type(reader)  # ref.null
        elif op in _NO_IMMEDIATE:
            pass
        elif op == _GC_PREFIX:
            sub = reader.uleb()
            if sub in _GC_NEW_WITH_TYPE:
                reader.uleb()
            elif sub == _GC_ARRAY_NEW_FIXED:
                reader.uleb()
                reader.uleb()
            elif sub not in _GC_NO_IMMEDIATE:
                raise MalformedWasm(f"opcode 0xfb {sub} is not allowed in a constant expression")
        elif op == _SIMD_PREFIX and reader.uleb() == _SIMD_V128_CONST:
            reader.skip(16)
        else:
            raise MalformedWasm(f"opcode 0x{op:02x} at offset {reader.pos - 1} is not allowed "
                                f"in a constant expression")
