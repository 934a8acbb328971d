"""The wasmtime engine configuration: the one place it is defined.

Modules are compiled in a separate process (`compile_worker.py`) and deserialized by the host
(`engine.py`). wasmtime refuses a serialized module whose compile-affecting settings differ
from the engine loading it, so both sides build their engine from `engine_config` alone.
"""

from __future__ import annotations

import importlib.metadata

import wasmtime

from edgehost.config import SandboxLimits

WASMTIME_VERSION = importlib.metadata.version("wasmtime")


def engine_config(limits: SandboxLimits) -> wasmtime.Config:
    config = wasmtime.Config()
    config.epoch_interruption = True
    config.max_wasm_stack = limits.max_wasm_stack
    config.cranelift_opt_level = "speed"
    return config


def compiled_cache_key(limits: SandboxLimits) -> str:
    """What a compiled module's file name carries besides the module's hash: serialized
    modules are valid only for the same wasmtime version and engine settings."""
    return f"wasmtime{WASMTIME_VERSION}-stack{limits.max_wasm_stack}"
