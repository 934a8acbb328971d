"""The only path from host code to guest memory: every range is checked here first.

wasmtime-py's `Memory.read` follows Python slice rules (negative starts count from the end,
out-of-range stops are clamped), so a guest could otherwise read the wrong bytes silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from edgehost.sandbox.wasmtime_ffi import RawStore


U32 = 0xFFFF_FFFF


class OutOfBounds(Exception):
    """A guest (ptr, len) range does not lie inside its memory."""


class RawMemory(Protocol):
    """A guest's linear memory, unchecked (wasmtime_ffi.RawMemory)."""

    def refresh(self) -> None: ...  # the memory may have moved or grown since the last access
    def data_len(self, store: RawStore) -> int: ...
    def read(self, store: RawStore, start: int, stop: int) -> bytes: ...
    def write(self, store: RawStore, value: bytes | bytearray, start: int) -> int: ...


class GuestMemory:
    def __init__(self, store: RawStore, memory: RawMemory) -> None:
        self._store = store
        self._memory = memory

    def refresh(self) -> None:
        """Called as each host import starts: the guest may have grown its memory since."""
        self._memory.refresh()

    def size(self) -> int:
        self._memory.refresh()
        return self._memory.data_len(self._store)

    def check(self, ptr: int, length: int) -> tuple[int, int]:
        # Wasm32 pointers are unsigned; wasmtime hands us signed Python ints.
        ptr &= U32
        length &= U32
        if ptr + length > self._memory.data_len(self._store):
            raise OutOfBounds(f"range [{ptr}, {ptr + length}) is outside guest memory")
        return ptr, length

    def read(self, ptr: int, length: int) -> bytes:
        ptr, length = self.check(ptr, length)
        if length == 0:
            return b""
        return self._memory.read(self._store, ptr, ptr + length)

    def write(self, ptr: int, data: bytes, capacity: int) -> int:
        """Copy as much of `data` as fits in the guest's `[ptr, ptr+capacity)` window."""
        ptr, capacity = self.check(ptr, capacity)
        chunk = data[:capacity]
        if chunk:
            self._memory.write(self._store, chunk, ptr)
        return len(chunk)
