"""The wasmtime engine configuration: the one place it is defined.

Modules are compiled in a separate process (`compile_worker.py`) and deserialized by the host
(`engine.py`). wasmtime refuses a serialized module whose compile-affecting settings differ
from the engine loading it, so both sides build their engine from `engine_config` alone.
"""

from __future__ import annotations

import importlib.metadata

import wasmtime

from edgehost.config import SandboxLimits
from edgehost.sandbox.wasmtime_ffi import (
    set_async_stack_size,
    set_memory_reservation,
    use_pooling_allocator,
)

WASMTIME_VERSION = importlib.metadata.version("wasmtime")
# What a guest's stack needs beyond its wasm frames: the Python frames of a host import.
ASYNC_STACK_HOST_MARGIN = 256 * 1024
# Guard pages after each linear memory's reservation (wasmtime then checks bounds in code).
MEMORY_GUARD_BYTES = 64 * 1024
# Of each pooled memory, table and stack slot, what stays resident (zeroed) when it is reused.
POOL_KEEP_RESIDENT_BYTES = 64 * 1024
# The most instance metadata (vmctx) one instance may need: a module at the function cap.
MAX_INSTANCE_BYTES = 8 * 1024 * 1024


def engine_config(limits: SandboxLimits) -> wasmtime.Config:
    if limits.async_stack_bytes <= limits.max_wasm_stack + ASYNC_STACK_HOST_MARGIN:
        # wasmtime would abort the process (a Rust panic), not raise, on this combination.
        raise ValueError(
            f"async_stack_bytes = {limits.async_stack_bytes} must exceed max_wasm_stack "
            f"({limits.max_wasm_stack}) by at least {ASYNC_STACK_HOST_MARGIN} bytes for the "
            "host imports' frames")
    config = wasmtime.Config()
    config.epoch_interruption = True  # the wall-clock backstop of the time slice
    config.consume_fuel = True  # the time slice itself (see wasmtime_ffi.RawStore)
    config.max_wasm_stack = limits.max_wasm_stack
    config.cranelift_opt_level = "speed"
    # A guest runs on its own stack while it is a future: its wasm frames (max_wasm_stack)
    # plus the host import frames called from it.
    set_async_stack_size(config, limits.async_stack_bytes)
    # Each memory reserves only what the cap allows (not wasmtime's 4 GiB default), so a
    # worker's pool of thousands of memories is a few TiB of address space, not hundreds.
    set_memory_reservation(config, limits.memory_cap_bytes, MEMORY_GUARD_BYTES)
    return config


def instance_engine_config(limits: SandboxLimits) -> wasmtime.Config:
    """The host's engine: `engine_config` plus pooled instances (compiling needs no pool)."""
    config = engine_config(limits)
    use_pooling_allocator(config, slots=limits.instance_pool_slots,
                          stacks=limits.guest_stack_slots,
                          max_memory_bytes=limits.memory_cap_bytes,
                          max_tables=limits.max_tables,
                          table_elements=limits.max_table_elements,
                          max_instance_bytes=MAX_INSTANCE_BYTES,
                          keep_resident=POOL_KEEP_RESIDENT_BYTES)
    return config


def compiled_cache_key(limits: SandboxLimits) -> str:
    """What a compiled module's file name carries besides the module's hash: serialized
    modules are valid only for the same wasmtime version and engine settings."""
    return (f"wasmtime{WASMTIME_VERSION}-stack{limits.max_wasm_stack}"
            f"-mem{limits.memory_cap_bytes >> 20}-fuel")
