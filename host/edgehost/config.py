"""Every knob the host has, with its default, in one place (like uvicorn's Config)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024


@dataclass(frozen=True)
class SandboxLimits:
    """Per-invocation limits the sandbox enforces on every guest."""

    memory_bytes: int = 128 * MIB  # default linear-memory cap per store
    memory_cap_bytes: int = 128 * MIB  # no manifest may raise a function above this
    timeout_ms: int = 30_000  # default wall-clock budget of one invocation
    timeout_cap_ms: int = 60_000  # no manifest may raise a function above this
    max_wasm_stack: int = 512 * 1024
    epoch_tick_ms: int = 10  # granularity of the wall-clock budget
    max_output_bytes: int = 10 * 1000 * 1000
    max_log_lines: int = 256  # per invocation
    max_log_bytes: int = 64 * 1024  # per invocation
    max_error_message_bytes: int = 4096
    max_random_bytes: int = 64 * 1024
    max_tables: int = 4
    max_table_elements: int = 100_000
    max_instances: int = 1
    max_memories: int = 1


@dataclass(frozen=True)
class HostConfig:
    data_dir: Path = Path(".edgehost")
    host: str = "127.0.0.1"
    port: int = 8787
    base_domain: str = "localhost"
    max_request_body_bytes: int = 10 * 1000 * 1000
    max_module_bytes: int = 50 * MIB  # a shipped .wasm larger than this is refused
    max_manifest_bytes: int = 64 * 1024
    lmdb_map_size: int = 64 * 1024 * MIB  # sparse file: reserving 64 GiB costs nothing
    function_log_max_bytes: int = 1 * MIB  # per function; one rotated file is kept
    limits: SandboxLimits = field(default_factory=SandboxLimits)

    @property
    def public_port_suffix(self) -> str:
        return "" if self.port == 80 else f":{self.port}"
