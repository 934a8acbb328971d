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
class ShipLimits:
    """What shipping (or recompiling) one module may cost the host.

    Shape: counts read from the module's sections before wasmtime sees it (tables and
    memories are capped by SandboxLimits). The defaults admit, with 2.5x room or more, the
    largest real guests measured: StarlingMonkey, SpiderMonkey built for Wasm
    (componentize-js 0.23, starlingmonkey_embedding*.wasm, 10.5-13 MB: 12,584-19,852
    functions, 140-174 types, 19-23 exports, 6,714 data segments, one 7,690-entry table);
    QuickJS-NG (qjs-wasi-reactor.wasm 0.17, 1.5 MB: 1,512 functions, 109 types, 10 exports,
    one 588-entry table); the AssemblyScript examples (account.wasm: 105 functions, 4
    exports, 12 globals, 66 data segments; hello.wasm: 30 functions, 2 exports).

    Compile: Cranelift runs in a pool of separate processes (sandbox/compiler.py), each
    compile under a memory limit and a wall-clock limit, one per account at a time.
    Measured on this project's 2-core machine: StarlingMonkey compiles in 17-28 s, peaking at
    500 MiB of address space and 400 MiB resident, to 30-34 MB; QuickJS-NG in 1.7 s to
    3.4 MB; hello.wasm in 30 ms.
    """

    max_types: int = 1_000  # largest real: 174 (StarlingMonkey)
    # The ABI has 18 functions and nothing else may be imported; each import is a Python
    # object at ship and a linker lookup at load.
    max_imports: int = 256
    # Each is compiled (50,000 empty functions: 4 s, 310 MiB, 10 MB compiled here);
    # StarlingMonkey has 19,852.
    max_functions: int = 50_000
    max_globals: int = 1_000  # each is initialised on every instantiation; largest real: 12
    # wasmtime-py wraps every export in a Python object whenever a module's or an instance's
    # exports are listed; largest real: 23.
    max_exports: int = 1_000
    max_element_segments: int = 1_000  # applied on every instantiation; largest real: 1
    # Across all segments; one full table at SandboxLimits.max_table_elements. Largest: 7,689.
    max_element_items: int = 100_000
    max_data_segments: int = 20_000  # applied on every instantiation; StarlingMonkey: 6,714
    max_tags: int = 1_000  # exception tags, registered like types
    max_custom_sections: int = 256  # the host walks them in Python; largest real: 9
    # Compile processes, kept running (the warm pool): at most this many compiles at once,
    # and this many times compile_memory_bytes of memory for compiling.
    compile_processes: int = 2
    compile_threads: int = 2  # cores one compile may use (wasmtime compiles in parallel)
    compile_timeout_s: float = 60.0  # wall clock per compile, start to serialized file
    compile_memory_bytes: int = 1024 * MIB  # address space of a compile process (RLIMIT_AS)
    # The serialized module's size: disk per revision and memory mapped per loaded module.
    # Empty functions compile to 52x their size, real code to about 3x.
    max_compiled_bytes: int = 128 * MIB
    # Compiles waiting for a process, per account and host-wide; beyond either a ship gets
    # 429 (its own account is busy) or 503 (the host is) with Retry-After. Each waiting ship
    # holds one of the admin API's 40 threads, hence a host-wide bound well under that.
    max_waiting_compiles_per_account: int = 2
    max_waiting_compiles: int = 16
    compile_busy_retry_after_s: int = 10  # the Retry-After of those answers
    compile_nice: int = 10  # compile processes yield the CPU to guest code


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
    actors: ActorLimits = field(default_factory=ActorLimits)
    ship: ShipLimits = field(default_factory=ShipLimits)
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
