"""The host's side of wasmtime (engine_config.py configures it; compile_worker.py compiles;
wasmtime_ffi.py is the fence around its private API).

It owns ship-time validation (the module's shape, then the ABI), loading modules compiled by
the compile processes (compiler.py) with the engine configuration of engine_config.py, the
on-disk compiled-module cache, the linker with the host imports, and making guest instances,
which the scheduler (scheduler.py) runs.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import wasmtime

from edgehost.config import SandboxLimits, ShipLimits
from edgehost.files import install_durably
from edgehost.metrics import Metrics
from edgehost.sandbox import wasmtime_ffi as raw
from edgehost.sandbox.abi import (
    ACTOR_CALL_EXPORT,
    ACTOR_INIT_EXPORT,
    FETCH_EXPORT,
    HOST_IMPORTS,
    IMPORT_MODULE,
    INITIALIZE_EXPORT,
    MEMORY_EXPORT,
    ImportSignature,
)
from edgehost.sandbox.compiler import CompileRefused, CompilerPool
from edgehost.sandbox.engine_config import compiled_cache_key, instance_engine_config
from edgehost.sandbox.guest import GuestInstance, InvocationResult, Outcome, first_line
from edgehost.sandbox.imports import ASYNC_IMPLEMENTATIONS, IMPLEMENTATIONS, guarded, guarded_async
from edgehost.sandbox.invocation import Invocation, RunningGuest
from edgehost.sandbox.module_shape import ShapeCheck
from edgehost.sandbox.scheduler import Scheduler

log = logging.getLogger("edgehost.sandbox")

WASM_PAGE = 65536
PARTIAL_SUFFIX = ".partial"  # a compiled file being written; left over only by a crash


class ModuleRejected(Exception):
    """A module failed ship-time checks; `problems` lists every reason, each a full sentence."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# The guest entry points the host calls, all `() -> i32` (ABI.md, "Guest exports").
ENTRY_POINTS = (FETCH_EXPORT, ACTOR_INIT_EXPORT, ACTOR_CALL_EXPORT)


@dataclass
class CompiledModule:
    module_hash: str
    module: wasmtime.Module
    pre: wasmtime.InstancePre
    exports: frozenset[str]
    # The ENTRY_POINTS this module exports with the type `() -> i32`, checked at load: only
    # these may be called through _call_entry, which trusts the type.
    entry_points: frozenset[str] = frozenset()


def module_hash(wasm: bytes) -> str:
    return hashlib.sha256(wasm).hexdigest()


def _signature_of(functype: wasmtime.FuncType) -> ImportSignature:
    return ImportSignature(tuple(str(p) for p in functype.params),
                           tuple(str(r) for r in functype.results))


def _is_function(extern_type: object, signature: str) -> bool:
    """True if an export's type is a function with `signature` ("() -> i32")."""
    return isinstance(extern_type, wasmtime.FuncType) and \
        _signature_of(extern_type).render() == signature


class EpochTicker:
    """Advances the engine's epoch every tick: each running guest yields to the scheduler at
    every tick (its time slice), which is also how its wall-clock budget is checked."""

    def __init__(self, engine: wasmtime.Engine, tick_ms: float) -> None:
        self.engine = engine
        self._tick_s = tick_ms / 1000
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="edgehost-epoch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._tick_s):
            self.engine.increment_epoch()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


class Sandbox:
    """Compiles, caches and runs guest modules. One per host process."""

    def __init__(self, limits: SandboxLimits, cache_dir: Path, metrics: Metrics,
                 ship: ShipLimits | None = None) -> None:
        raw.self_check()  # a wasmtime whose private API moved fails here, not mid-request
        self.limits = limits
        self._metrics = metrics
        ship = ship or ShipLimits()
        self.engine = wasmtime.Engine(instance_engine_config(limits))
        self.shape = ShapeCheck(ship, limits)  # ship-time caps, also for registry checks
        self._compiler = CompilerPool(limits, ship, metrics)
        self._cache_key = compiled_cache_key(limits)
        self._cache_dir = cache_dir
        cache_dir.mkdir(parents=True, exist_ok=True)
        for leftover in cache_dir.glob(f"*{PARTIAL_SUFFIX}"):
            leftover.unlink(missing_ok=True)
        self.running = RunningGuest()
        self.stores_open = 0  # guest stores not yet closed (requests running, activations)
        # Every guest store and instantiation is timed (requests and activations alike).
        self.store_seconds = metrics.summary("edgehost_guest_store_seconds")
        self.instantiate_seconds = metrics.summary("edgehost_guest_instantiate_seconds")
        self._async_imports = raw.AsyncImports()
        self.scheduler = Scheduler(self.running, self._async_imports,
                                   limits.scheduler_slice_ms / 1000)
        self._linker = self._build_linker()
        self._loaded: OrderedDict[str, CompiledModule] = OrderedDict()  # LRU
        self._loading: dict[str, threading.Lock] = {}  # one lock per module being loaded
        self._loaded_lock = threading.Lock()
        self._ticker = EpochTicker(self.engine, limits.epoch_tick_ms)
        metrics.gauge("edgehost_guest_stores", lambda: self.stores_open)

    def start(self) -> None:
        self._ticker.start()
        self._compiler.start()

    def close(self) -> None:
        self._ticker.stop()
        self._compiler.close()

    def _build_linker(self) -> wasmtime.Linker:
        linker = wasmtime.Linker(self.engine)
        self._host_callbacks: list[object] = []  # ctypes callbacks live as long as the linker
        for name, sig in HOST_IMPORTS.items():
            if name in ASYNC_IMPLEMENTATIONS:
                # guarded_async's start answers an int or the scheduler's Pending; imports.py
                # does not say so yet (typed after the issue-11 refactors land).
                start = cast("Callable[..., int | raw.Pending]", guarded_async(
                    name, ASYNC_IMPLEMENTATIONS[name], self.running, self.scheduler.suspend))
                self._async_imports.define(linker, IMPORT_MODULE, name, sig.params, start)
            else:
                self._host_callbacks.append(raw.define_sync_import(
                    linker, IMPORT_MODULE, name, sig.params,
                    sig.results[0] if sig.results else None,
                    guarded(name, IMPLEMENTATIONS[name], self.running)))
        return linker

    # ---------------------------------------------------------------- ship time

    def check_shape(self, wasm: bytes) -> None:
        """Refuse a module whose shape (counts of functions, exports, tables...) is above the
        host's caps, before anything else reads it. Cheap: milliseconds for 12 MB."""
        problems = self.shape.refusals(wasm)
        if problems:
            raise ModuleRejected(problems)

    def compile(self, wasm: bytes, *, memory_limit_bytes: int,
                required_exports: tuple[str, ...] = (FETCH_EXPORT,),
                account_id: str = "") -> CompiledModule:
        """Check the shape, compile in a compile process (bounded in time and memory, one
        at a time per account: `account_id`, or "" for callers outside any account such as
        tests and benchmarks) and check against the ABI. Runs no guest code. Blocks: call it
        off the event loop. Raises ModuleRejected, or CompileBusy when the account's or the
        host's compile queue is full.

        Nothing is cached until the caller accepts the module with `keep()`, so a bundle
        refused for another reason leaves nothing behind.
        """
        digest = module_hash(wasm)
        partial = self._partial_path(digest)
        module = self._compile_to_module(wasm, account_id, partial)
        # The file is mapped by `module` and goes with it; keep() writes the cache anew.
        partial.unlink()
        return self._check_and_prepare(module, digest, memory_limit_bytes, required_exports)

    def _compile_to_module(self, wasm: bytes, account_id: str, output: Path) -> wasmtime.Module:
        self.check_shape(wasm)
        started = time.perf_counter()
        try:
            self._compiler.compile(account_id, wasm, output)
        except CompileRefused as refused:
            raise ModuleRejected([refused.problem]) from None
        self._metrics.observe("edgehost_module_compile_seconds", time.perf_counter() - started)
        self._metrics.inc("edgehost_modules_compiled_total")
        try:
            return wasmtime.Module.deserialize_file(self.engine, str(output))
        except BaseException:
            output.unlink(missing_ok=True)
            raise

    def keep(self, compiled: CompiledModule) -> None:
        """Cache an accepted module's compiled form on disk (for restarts) and in memory."""
        self._write_cache(compiled.module_hash, compiled.module.serialize())
        self._remember(compiled)

    def _check_and_prepare(self, module: wasmtime.Module, digest: str, memory_limit_bytes: int,
                           required_exports: tuple[str, ...]) -> CompiledModule:
        problems: list[str] = []
        for imp in module.imports:
            where = f"import {imp.module}.{imp.name}"
            expected = HOST_IMPORTS.get(imp.name) \
                if imp.module == IMPORT_MODULE and imp.name is not None else None
            if expected is None:
                problems.append(f"{where} is not part of the edgehost ABI "
                                f"(guests may import only {IMPORT_MODULE} functions)")
            elif not isinstance(imp.type, wasmtime.FuncType):
                problems.append(f"{where} must be a function {expected.render()}")
            elif (actual := _signature_of(imp.type)) != expected:
                problems.append(f"{where} has signature {actual.render()}, "
                                f"the ABI defines {expected.render()}")
        exports = {e.name: e.type for e in module.exports}
        memory = exports.get(MEMORY_EXPORT)
        if not isinstance(memory, wasmtime.MemoryType):
            problems.append(f"module must export its memory as '{MEMORY_EXPORT}'")
        else:
            memory_min = memory.limits.min * WASM_PAGE
            if memory_min > memory_limit_bytes:
                problems.append(
                    f"module's initial memory is {memory_min // 1024} KiB, above the function's "
                    f"memory limit of {memory_limit_bytes // 1024} KiB")
        for name in (*required_exports, INITIALIZE_EXPORT):
            ty = exports.get(name)
            want = "() -> i32" if name != INITIALIZE_EXPORT else "() -> ()"
            if ty is None:
                if name != INITIALIZE_EXPORT:
                    problems.append(f"module must export function '{name}' {want}")
            elif not _is_function(ty, want):
                problems.append(f"export '{name}' must be a function {want}")
        if problems:
            raise ModuleRejected(problems)
        entry_points = frozenset(
            name for name in ENTRY_POINTS if _is_function(exports.get(name), "() -> i32"))
        return CompiledModule(digest, module, self._linker.instantiate_pre(module),
                              frozenset(exports), entry_points)

    # ---------------------------------------------------------------- compiled cache

    def _cache_path(self, digest: str) -> Path:
        return self._cache_dir / f"{digest}-{self._cache_key}.cwasm"

    def _partial_path(self, digest: str) -> Path:
        return self._cache_dir / f"{digest}-{uuid.uuid4().hex}{PARTIAL_SUFFIX}"

    def _write_cache(self, digest: str, serialized: bytes | bytearray) -> None:
        partial = self._partial_path(digest)
        with open(partial, "wb") as f:
            f.write(serialized)
        self._install(partial, digest)

    def _install(self, partial: Path, digest: str) -> None:
        """Move a compiled file into the cache. wasmtime trusts a deserialized file beyond a
        header check, so it must never be torn, and a stored revision must never be left
        without its compiled module: installed durably (files.py)."""
        install_durably(partial, self._cache_path(digest))

    def _remember(self, compiled: CompiledModule) -> None:
        # A bounded LRU: live deployments hold their own reference, and an evicted module is
        # deserialized again from disk in well under a millisecond.
        with self._loaded_lock:
            self._loaded[compiled.module_hash] = compiled
            self._loaded.move_to_end(compiled.module_hash)
            while len(self._loaded) > self.limits.max_loaded_modules:
                self._loaded.popitem(last=False)

    def load(self, digest: str, read_wasm: Callable[[], bytes], *,
             memory_limit_bytes: int, account_id: str = "") -> CompiledModule:
        """A compiled module: from memory, else the on-disk cache, else recompiled from source
        the way ship compiles (`account_id`'s turn in the compile processes).

        Blocking (milliseconds, or seconds for a recompile): call it off the event loop. Loads
        of different modules proceed in parallel; two loads of one module happen once. Raises
        ModuleRejected if the module no longer compiles within the host's limits, and
        CompileBusy if the compile queue is full.
        """
        with self._loaded_lock:
            compiled = self._loaded.get(digest)
            if compiled is not None:
                self._loaded.move_to_end(digest)
                return compiled
            loading = self._loading.setdefault(digest, threading.Lock())
        try:
            with loading:
                with self._loaded_lock:
                    compiled = self._loaded.get(digest)
                if compiled is None:
                    compiled = self._check_and_prepare(
                        self._load_module(digest, read_wasm, account_id), digest,
                        memory_limit_bytes, ())
                    self._remember(compiled)
        finally:  # a refused recompile must not leave its lock behind
            with self._loaded_lock:
                self._loading.pop(digest, None)
        return compiled

    def _load_module(self, digest: str, read_wasm: Callable[[], bytes],
                     account_id: str) -> wasmtime.Module:
        path = self._cache_path(digest)
        if path.exists():
            started = time.perf_counter()
            try:
                module = wasmtime.Module.deserialize_file(self.engine, str(path))
                self._metrics.observe("edgehost_module_load_seconds",
                                      time.perf_counter() - started)
                self._metrics.inc("edgehost_modules_loaded_from_cache_total")
                return module
            except wasmtime.WasmtimeError as e:  # stale or damaged: fall back to compiling
                log.warning("compiled cache %s unusable (%s); recompiling", path.name,
                            first_line(e))
        wasm = read_wasm()
        if module_hash(wasm) != digest:
            raise RuntimeError(f"stored module {digest[:12]} does not match its hash")
        partial = self._partial_path(digest)
        module = self._compile_to_module(wasm, account_id, partial)
        self._install(partial, digest)
        return module

    # ---------------------------------------------------------------- run time

    def new_instance(self, compiled: CompiledModule, memory_limit_bytes: int) -> GuestInstance:
        """A store for one guest instance; it is instantiated by its first run."""
        started = time.perf_counter()
        instance = GuestInstance(self, compiled, memory_limit_bytes)
        self.store_seconds.observe(time.perf_counter() - started)
        return instance

    def invoke(self, compiled: CompiledModule, entry: str, invocation: Invocation, *,
               memory_limit_bytes: int, timeout_ms: int) -> InvocationResult:
        """Run `entry` to completion in a fresh store, on this thread, outside the scheduler
        (for tools and tests; the host itself runs guests through `scheduler`). A guest that
        calls an actor here gets NOT_PERMITTED. Never raises for guest behaviour."""
        instance = self.new_instance(compiled, memory_limit_bytes)
        try:
            run = instance.start(entry, invocation)
            deadline = time.monotonic() + timeout_ms / 1000
            while not run.poll():
                if time.monotonic() >= deadline:
                    run.cancel(Outcome.TIMEOUT, f"exceeded its {timeout_ms} ms budget")
                    break
            return run.result()
        finally:
            instance.close()
