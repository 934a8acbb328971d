"""Every knob the host has, with its default, in one place (like uvicorn's Config)."""

from __future__ import annotations

from dataclasses import dataclass, field
import os
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
    max_loaded_modules: int = 256  # compiled modules kept in memory (LRU); the rest on disk


@dataclass(frozen=True)
class ActorLimits:
    """Stateful-actor knobs (spec sections 3 and 6)."""

    call_timeout_ms: int = 30_000  # an RPC call, including its wait in the mailbox
    init_timeout_ms: int = 30_000  # the activation's init turn (constructor)
    mailbox_depth: int = 1000  # calls waiting on one instance before ActorOverloadedError
    idle_eviction_s: float = 60.0
    max_activations: int = 10_000  # live activations; least recently used idle ones go first
    max_name_bytes: int = 1024
    max_key_bytes: int = 2048
    max_value_bytes: int = 128 * 1024
    list_default_limit: int = 128
    list_max_limit: int = 1000
    group_commit_max_turns: int = 256  # turns whose writes may share one fsync


@dataclass(frozen=True)
class StorageLimits:
    """Actor storage bounds: one turn's write buffer, and each account's stored data."""

    # A turn's writes wait in host memory, outside the guest's memory cap, until it commits.
    # These bound that buffer, counting every buffered put and delete (key + value bytes), and
    # the old values kept for open nested transactions to roll back to. 16 MiB is an eighth of
    # the default instance memory cap (128 values of the largest size); 10,000 writes bound the
    # per-entry overhead and the sort each `list` does of the turn's own writes.
    turn_max_writes: int = 10_000
    turn_max_write_bytes: int = 16 * MIB
    # What one account may keep stored across all its actor instances: key + value bytes, and
    # keys. Checked when a turn commits; a turn that would go over fails alone
    # (StorageQuotaError) and writes nothing. Turns that shrink an account's storage always
    # commit. 1 GiB keeps one tenant from filling the disk the host shares with the others.
    account_max_bytes: int = 1024 * MIB
    account_max_keys: int = 1_000_000


@dataclass(frozen=True)
class HostConfig:
    data_dir: Path = Path(".edgehost")
    host: str = "127.0.0.1"
    port: int = 8787
    base_domain: str = "localhost"
    max_request_body_bytes: int = 10 * 1000 * 1000
    max_module_bytes: int = 50 * MIB  # a shipped .wasm larger than this is refused
    max_manifest_bytes: int = 64 * 1024
    # The most the LMDB file may ever hold. The map is never resized while the host runs
    # (LMDB forbids it while any thread or process has a read transaction open); a write
    # beyond it fails with StorageFull. It costs address space only (sparse file, pages
    # mapped on use), so reserve generously; every process on one data dir must use one value.
    lmdb_map_size: int = 64 * 1024 * MIB
    function_log_max_bytes: int = 1 * MIB  # per function; one rotated file is kept
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    actors: ActorLimits = field(default_factory=ActorLimits)
    storage: StorageLimits = field(default_factory=StorageLimits)
    worker_threads: int = 64  # guest work runs on these; nested actor calls reuse the caller's
    # Threads running guest code at once (the rest wait). More than the cores only adds GIL
    # contention; waiting in a mailbox or for an fsync does not hold a slot.
    execution_slots: int = field(default_factory=lambda: os.cpu_count() or 2)
    # The admin API (FastAPI) is imported in the background this long after start-up, so the
    # import (~0.1 s holding the GIL) does not slow the first function requests after a
    # restart; an admin request before then builds it at once.
    admin_warmup_delay_s: float = 2.0

    @property
    def public_port_suffix(self) -> str:
        return "" if self.port == 80 else f":{self.port}"
