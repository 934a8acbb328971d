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
    # Each running guest future's native stack: its wasm frames (max_wasm_stack) plus the
    # Python frames of the host imports it calls. Reserved, not committed: only touched
    # pages cost memory.
    async_stack_bytes: int = 2 * MIB
    # The time slice: a running guest yields to the scheduler after this much fuel (about as
    # many wasm instructions; ~0.1 ms of a simple loop here), and its wall-clock budget is
    # checked then. A request arriving behind a busy guest waits a few slices (one per step
    # of its handling), so shorter slices mean lower latency for other tenants; each yield
    # costs the guest a few microseconds.
    slice_fuel: int = 100_000
    # How long the scheduler keeps polling guests before it lets the event loop serve
    # sockets (one or more slices).
    scheduler_slice_ms: float = 0.1
    # The wall-clock backstop of the slice: a guest also yields at every epoch tick, whatever
    # its fuel (one instruction may do much work: a large memory.fill). Ticks cost a wakeup
    # of a thread that needs the GIL, so they stay at 1 ms.
    epoch_tick_ms: float = 1.0
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
    # Guest instances (requests running, live activations) one worker may hold at once; their
    # memories and tables are reserved up front as a pool (address space: about
    # memory_cap_bytes a slot, resident only when used). When it is full, the least recently
    # used idle activation is dropped (memory is a cache); if none is idle, a request is
    # answered 503 and a new activation ActorOverloadedError.
    instance_pool_slots: int = 4_000
    # Guest runs (calls in progress, running or waiting) one worker may hold at once, each on
    # a stack of async_stack_bytes from a pool reserved up front; idle activations hold none.
    # Each stack's guard page is a kernel memory mapping, so this also bounds how many
    # mappings the pool costs (vm.max_map_count is 65,530 by default).
    guest_stack_slots: int = 1_000

    def function_memory_bytes(self, memory_mib: int | None) -> int:
        """A function's linear-memory limit: its manifest's `limits.memory_mib` if it sets one
        (the manifest check keeps that within memory_cap_bytes), else the default, never
        above the cap. The one rule: ship, deployments and benchmarks all use it."""
        if memory_mib is not None:
            return memory_mib * MIB
        return min(self.memory_bytes, self.memory_cap_bytes)

    def function_timeout_ms(self, timeout_ms: int | None) -> int:
        """A function's wall-clock budget: its manifest's `limits.timeout_ms`, else the
        default."""
        return timeout_ms or self.timeout_ms


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
    # Live activations on one worker (each holds an instance slot); least recently used idle
    # ones go first. Below instance_pool_slots, so requests always find a slot.
    max_activations: int = 3_500
    max_name_bytes: int = 1024
    max_key_bytes: int = 2048
    max_value_bytes: int = 128 * 1024
    list_default_limit: int = 128
    list_max_limit: int = 1000
    group_commit_max_turns: int = 256  # turns whose writes may share one fsync
    # A chain of actor calls (A calls B calls C ...) may be at most this deep: each level
    # holds a suspended guest (its store and stack) until the call returns.
    max_call_depth: int = 16
    # Calls of one account waiting in its actors' mailboxes, all mailboxes together.
    max_waiting_calls_per_account: int = 2_000
    # Live activations keep their instance's memory between calls (memory is a cache). When
    # these are passed, idle activations are dropped, least recently used first.
    max_activations_per_account: int = 2_000
    activation_memory_bytes: int = 2048 * MIB  # all accounts together
    account_activation_memory_bytes: int = 512 * MIB


@dataclass(frozen=True)
class SchedulingLimits:
    """How guests share a worker (sandbox/scheduler.py, http/admission.py)."""

    # Function requests of one account running at once; more wait in line. Each running one
    # holds a store, its memory and a guest stack.
    max_inflight_per_account: int = 64
    # Requests of one account waiting for one of those slots; past this the host answers
    # 503 with Retry-After at once.
    max_queued_per_account: int = 256
    # Threads that load a deployment (LMDB read, compiled module from disk) on the first
    # request after a start or a ship; never guest code.
    loader_threads: int = 2
    # How long a worker waits for the others to confirm a ship (each drops its cached copy).
    peer_timeout_s: float = 10.0


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
class HttpLimits:
    """Bounds on what one HTTP request may make the host read and hold, checked as the bytes
    arrive (never trusting a declared Content-Length alone), so that no client, signed in or
    not, can make the host buffer more than these on one connection."""

    # The request target (the URL in the request line). Longer ones get 414 (RFC 9112 section 3:
    # a server that will not parse a target that long MUST answer 414). 8 KiB is what Apache and
    # nginx accept by default; function URLs are a short Host label plus the tenant's own path.
    max_request_line_bytes: int = 8 * 1024
    # The header section: every field's name and value plus ": " and CRLF, summed (trailers of
    # a chunked body count too). Over it: 431 (RFC 6585). nginx's default total is 32 KiB
    # (4 buffers of 8 KiB); that leaves room for browsers' cookie headers.
    max_header_bytes: int = 32 * 1024
    # Header fields per request (trailers included). Over it: 431. Apache's default is 100.
    max_header_count: int = 100
    # A function request body (413 above it). The guest receives the whole body in memory.
    max_request_body_bytes: int = 10 * 1000 * 1000
    # A body sent to the admin API other than a bundle upload (JSON), 413 above it. The largest
    # legitimate one is a name: 64 KiB leaves ample room and keeps parsing trivial.
    max_admin_body_bytes: int = 64 * 1024
    # A bundle upload may be max_module_bytes + max_manifest_bytes plus this much multipart
    # framing (boundaries, part headers). Real framing is a few hundred bytes.
    multipart_overhead_bytes: int = 64 * 1024


# Nesting of tenant JSON and TOML: deep enough for any real document (hand-written JSON rarely
# passes 10 levels; serde_json stops at 128), shallow enough that every recursive consumer of a
# parsed value (tomllib, json, FastAPI's and pydantic's encoders, repr) stays far below Python's
# 1000-frame recursion limit, which deeper input turns into a 500.
DEFAULT_MAX_NESTING_DEPTH = 64


@dataclass(frozen=True)
class DocumentLimits:
    """Bounds on the structure of the documents tenants hand the host."""

    # Arrays and objects/tables inside one another (`[]` is 1, `{"a": [1]}` 2; a TOML
    # document's top-level tables and arrays are 1): the manifest, the module's
    # `edgehost.actors` section, admin API JSON bodies.
    # Actor call arguments, results and stored values always use DEFAULT_MAX_NESTING_DEPTH:
    # they are part of the guest ABI (guest-sdk/ABI.md), so a value one host accepts, every
    # host accepts.
    max_nesting_depth: int = DEFAULT_MAX_NESTING_DEPTH


@dataclass(frozen=True)
class HostConfig:
    data_dir: Path = Path(".edgehost")
    host: str = "127.0.0.1"
    port: int = 8787
    base_domain: str = "localhost"
    max_module_bytes: int = 50 * MIB  # a shipped .wasm larger than this is refused
    max_manifest_bytes: int = 64 * 1024
    # The most the LMDB file may ever hold. The map is never resized while the host runs
    # (LMDB forbids it while any thread or process has a read transaction open); a write
    # beyond it fails with StorageFull. It costs address space only (sparse file, pages
    # mapped on use), so reserve generously; every process on one data dir must use one value.
    lmdb_map_size: int = 64 * 1024 * MIB
    function_log_max_bytes: int = 1 * MIB  # per function; one rotated file is kept
    # Log entries waiting for the log writer thread, all functions together; past this they
    # are dropped and counted (edgehost_function_log_entries_dropped_total).
    function_log_queue_bytes: int = 8 * MIB
    sandbox: SandboxLimits = field(default_factory=SandboxLimits)
    actors: ActorLimits = field(default_factory=ActorLimits)
    scheduling: SchedulingLimits = field(default_factory=SchedulingLimits)
    storage: StorageLimits = field(default_factory=StorageLimits)
    http: HttpLimits = field(default_factory=HttpLimits)
    documents: DocumentLimits = field(default_factory=DocumentLimits)
    ship: ShipLimits = field(default_factory=ShipLimits)
    # The admin API (FastAPI) is imported in the background this long after start-up, so the
    # import (~0.1 s holding the GIL) does not slow the first function requests after a
    # restart; an admin request before then builds it at once.
    admin_warmup_delay_s: float = 2.0
