"""Host imports turn every failure into a status code and a recorded fault, without wasm."""

import pytest
from edgehost.config import SandboxLimits
from edgehost.sandbox.abi import Status
from edgehost.sandbox.imports import guarded
from edgehost.sandbox.invocation import Invocation, RunningGuest
from edgehost.sandbox.memory import GuestMemory, OutOfBounds


class FakeMemory:
    """A bytearray standing in for wasm memory, with wasmtime-py's slice semantics."""

    def __init__(self, size: int) -> None:
        self.data = bytearray(size)

    def refresh(self) -> None:
        pass

    def data_len(self, store) -> int:
        return len(self.data)

    def read(self, store, start, stop) -> bytes:
        return bytes(self.data[start:stop])  # as wasmtime_ffi.RawMemory.read: a copy, bytes

    def write(self, store, value, start):
        self.data[start:start + len(value)] = value
        return len(value)


def test_an_import_that_raises_returns_internal_and_records_a_fault():
    running = RunningGuest()
    inv = Invocation(input=b"", limits=SandboxLimits())

    def explode(inv):
        raise KeyError("boom")

    fn = guarded("explode", explode, running)
    running.invocation = inv
    assert fn() == Status.INTERNAL
    running.invocation = None
    assert inv.faults[0].import_name == "explode" and inv.faults[0].status == Status.INTERNAL


@pytest.mark.parametrize("ptr, length", [(-1, 1), (0, -1), (60, 5), (64, 1), (2**31, 1),
                                         (0xFFFFFFF0, 0x20)])
def test_guest_memory_refuses_ranges_outside_memory(ptr, length):
    memory = GuestMemory(None, FakeMemory(64))
    with pytest.raises(OutOfBounds):
        memory.read(ptr, length)
    with pytest.raises(OutOfBounds):
        memory.write(ptr, b"x", length)


def test_guest_memory_accepts_ranges_up_to_the_end():
    fake = FakeMemory(64)
    memory = GuestMemory(None, fake)
    assert memory.write(60, b"abcdef", 4) == 4  # copies only what fits the window
    assert memory.read(60, 4) == b"abcd"
    assert memory.read(64, 0) == b""

