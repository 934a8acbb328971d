"""The fence around wasmtime-py's private C bindings (`wasmtime._ffi`).

Everything the host does with wasmtime below the public Python API happens here, and nowhere
else: guests run as *call futures* that the scheduler polls (`wasmtime_func_call_async`), host
imports are raw callbacks (unchecked ones that never wait, and async ones whose continuation
is polled until its result is ready), stores are raw, and guest memory is read with one C call.
The public API cannot do any of this: it has no call futures, and it converts every value
through Val/ValType objects (49 C calls for a hello request, each releasing the GIL).

`wasmtime._ffi` is not a stable interface, which is why the version is pinned (~=50.0.1) and
why `self_check()` runs at start-up: it verifies that every symbol used here exists with the
shape this module expects, so an upgrade fails at start with a clear message, never
mid-request with a segfault.

Hazards this module takes care of (toolchain.md, "Async execution"):
- every ctypes callback and every value array handed to C stays referenced until C is done
  with it (a collected one is a segfault, not an exception);
- a future is polled only by the thread that created it (the worker's event loop);
- a future dropped mid-run leaves its instance mid-update: callers drop the instance too;
- the epoch deadline is set on every store before its first poll.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import itertools
from collections.abc import Callable
from ctypes import CFUNCTYPE, POINTER, byref, c_void_p, memmove, string_at
from typing import TYPE_CHECKING

import wasmtime
from wasmtime import _bindings
from wasmtime import _ffi as ffi

if TYPE_CHECKING:  # ctypes pointer types are generic only to the type checker
    from typing import TypeAlias

    StorePointer: TypeAlias = ctypes._Pointer[ffi.wasmtime_store_t]
    ContextPointer: TypeAlias = ctypes._Pointer[ffi.wasmtime_context_t]
    ErrorPointer: TypeAlias = ctypes._Pointer[ffi.wasmtime_error_t]

# (symbol, number of arguments, whether it returns something) for every C function used here.
_C_FUNCTIONS = (
    ("wasmtime_config_async_stack_size_set", 2, False),
    ("wasmtime_config_memory_reservation_set", 2, False),
    ("wasmtime_config_memory_guard_size_set", 2, False),
    ("wasmtime_pooling_allocation_config_new", 0, True),
    ("wasmtime_pooling_allocation_config_delete", 1, False),
    ("wasmtime_pooling_allocation_config_total_core_instances_set", 2, False),
    ("wasmtime_pooling_allocation_config_total_memories_set", 2, False),
    ("wasmtime_pooling_allocation_config_total_tables_set", 2, False),
    ("wasmtime_pooling_allocation_config_total_stacks_set", 2, False),
    ("wasmtime_pooling_allocation_config_max_memory_size_set", 2, False),
    ("wasmtime_pooling_allocation_config_max_tables_per_module_set", 2, False),
    ("wasmtime_pooling_allocation_config_max_memories_per_module_set", 2, False),
    ("wasmtime_pooling_allocation_config_table_elements_set", 2, False),
    ("wasmtime_pooling_allocation_config_max_core_instance_size_set", 2, False),
    ("wasmtime_pooling_allocation_config_async_stack_keep_resident_set", 2, False),
    ("wasmtime_pooling_allocation_config_linear_memory_keep_resident_set", 2, False),
    ("wasmtime_pooling_allocation_config_table_keep_resident_set", 2, False),
    ("wasmtime_pooling_allocation_strategy_set", 2, False),
    ("wasmtime_linker_define_func_unchecked", 9, True),
    ("wasmtime_linker_define_async_func", 9, True),
    ("wasmtime_store_new", 3, True),
    ("wasmtime_store_context", 1, True),
    ("wasmtime_store_limiter", 6, False),
    ("wasmtime_store_delete", 1, False),
    ("wasmtime_context_set_epoch_deadline", 2, False),
    ("wasmtime_context_epoch_deadline_async_yield_and_update", 2, True),
    ("wasmtime_context_set_fuel", 2, True),
    ("wasmtime_context_fuel_async_yield_interval", 2, True),
    ("wasmtime_instance_pre_instantiate_async", 5, True),
    ("wasmtime_instance_export_get", 5, True),
    ("wasmtime_func_call_async", 8, True),
    ("wasmtime_call_future_poll", 1, True),
    ("wasmtime_call_future_delete", 1, False),
    ("wasmtime_memory_data", 2, True),
    ("wasmtime_memory_data_size", 2, True),
)
# ctypes types used here, with the fields this module reads or writes.
_C_TYPES = (
    ("wasmtime_val_raw_t", ("i32", "i64")),
    ("wasmtime_val_t", ("kind", "of")),
    ("wasmtime_extern_t", ("kind", "of")),
    ("wasmtime_instance_t", ("store_id",)),
    ("wasmtime_async_continuation_t", ("callback", "env", "finalizer")),
    ("wasmtime_func_unchecked_callback_t", ()),
    ("wasmtime_func_async_callback_t", ()),
    ("wasmtime_func_async_continuation_callback_t", ()),
    ("wasmtime_call_future_t", ()),
    ("wasm_trap_t", ()),
    ("wasmtime_error_t", ()),
)

# wasmtime_extern_t.kind (WASMTIME_EXTERN_FUNC). ctypes reads a c_uint8 field as an int, but
# wasmtime-py annotates the field as c_uint8: comparing `kind` with these needs a narrow
# `type: ignore[comparison-overlap]`.
EXTERN_FUNC = 0
EXTERN_MEMORY = 3  # WASMTIME_EXTERN_MEMORY
VAL_I32 = 0  # wasmtime_val_t.kind (WASMTIME_I32)

_NO_FINALIZER = CFUNCTYPE(None, c_void_p)()  # a NULL function pointer


class FfiMismatch(RuntimeError):
    """The installed wasmtime's private bindings are not what this host was written against."""


def self_check() -> None:
    """Raise FfiMismatch naming every missing or reshaped symbol. Cheap: run at start-up."""
    problems = []
    for name, nargs, returns in _C_FUNCTIONS:
        raw = getattr(_bindings, "_" + name, None)  # the ctypes function behind ffi.<name>
        if raw is None or not hasattr(ffi, name):
            problems.append(f"{name} is missing")
            continue
        if len(raw.argtypes or ()) != nargs:
            problems.append(f"{name} takes {len(raw.argtypes or ())} arguments, expected {nargs}")
        if (raw.restype is not None) != returns:
            problems.append(f"{name} {'returns nothing' if returns else 'returns a value'}, "
                            f"expected the opposite")
    for name, fields in _C_TYPES:
        ctype = getattr(ffi, name, None)
        if ctype is None:
            problems.append(f"type {name} is missing")
            continue
        have = {f[0] for f in getattr(ctype, "_fields_", ())}
        missing = [f for f in fields if f not in have]
        if missing:
            problems.append(f"type {name} lacks field(s) {', '.join(missing)}")
    if problems:
        raise FfiMismatch(
            f"wasmtime {importlib.metadata.version('wasmtime')}: its "
            f"private C bindings differ from what edgehost needs ({'; '.join(problems)}); "
            "install the version pyproject.toml pins")


def set_async_stack_size(config: wasmtime.Config, size: int) -> None:
    """The native stack each running guest future gets (wasm frames plus host import frames)."""
    ffi.wasmtime_config_async_stack_size_set(config.ptr(), size)


def set_memory_reservation(config: wasmtime.Config, reservation: int, guard: int) -> None:
    """Address space reserved per linear memory, and the guard after it. This shapes the
    compiled code (how bounds are checked), so compiler and host must agree on it."""
    ffi.wasmtime_config_memory_reservation_set(config.ptr(), reservation)
    ffi.wasmtime_config_memory_guard_size_set(config.ptr(), guard)


def use_pooling_allocator(config: wasmtime.Config, *, slots: int, stacks: int,
                          max_memory_bytes: int, max_tables: int, table_elements: int,
                          max_instance_bytes: int, keep_resident: int) -> None:
    """Instances, memories, tables and guest stacks come from pools reserved once, instead of
    an mmap and munmap (and page faults) per store: what a store costs to make and drop is
    most of a small request's C time. `slots` bounds how many instances may exist at once,
    `stacks` how many guest calls may be in progress."""
    pool = ffi.wasmtime_pooling_allocation_config_new()
    try:
        ffi.wasmtime_pooling_allocation_config_total_core_instances_set(pool, slots)
        ffi.wasmtime_pooling_allocation_config_total_memories_set(pool, slots)
        ffi.wasmtime_pooling_allocation_config_total_tables_set(pool, slots)
        ffi.wasmtime_pooling_allocation_config_total_stacks_set(pool, stacks)
        ffi.wasmtime_pooling_allocation_config_max_memory_size_set(pool, max_memory_bytes)
        ffi.wasmtime_pooling_allocation_config_max_memories_per_module_set(pool, 1)
        ffi.wasmtime_pooling_allocation_config_max_tables_per_module_set(pool, max_tables)
        ffi.wasmtime_pooling_allocation_config_table_elements_set(pool, table_elements)
        ffi.wasmtime_pooling_allocation_config_max_core_instance_size_set(pool,
                                                                         max_instance_bytes)
        ffi.wasmtime_pooling_allocation_config_async_stack_keep_resident_set(pool, keep_resident)
        ffi.wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(pool,
                                                                              keep_resident)
        ffi.wasmtime_pooling_allocation_config_table_keep_resident_set(pool, keep_resident)
        ffi.wasmtime_pooling_allocation_strategy_set(config.ptr(), pool)  # copied by the config
    finally:
        ffi.wasmtime_pooling_allocation_config_delete(pool)


# ----------------------------------------------------------------------- host imports

def define_sync_import(linker: wasmtime.Linker, module: str, name: str,
                       params: tuple[str, ...], result: str | None,
                       host_function: Callable[..., int]) -> object:
    """An import that never waits, as wasmtime's unchecked callback: the arguments and the
    result pass in one array of raw values, with no conversion objects. `host_function` gets
    the arguments as ints and returns the result; it must never raise (an exception cannot
    cross into wasmtime), and the `except` here is the last line of defence. Returns what the
    caller must keep alive as long as the linker."""
    kinds = tuple(enumerate(params))
    failed = -100  # Status.INTERNAL

    def trampoline(_env: int | None, _caller: ctypes._Pointer[ffi.wasmtime_caller_t],
                   values: ctypes._Pointer[ffi.wasmtime_val_raw_t], _count: int) -> int:
        try:
            value = host_function(*[values[i].i32 if kind == "i32" else values[i].i64
                                    for i, kind in kinds])
        except BaseException:  # noqa: BLE001 - see the docstring
            value = failed
        if result == "i32":
            values[0].i32 = value
        elif result == "i64":
            values[0].i64 = value
        return 0  # never a trap: imports report failures as status codes

    functype = wasmtime.FuncType([_VALTYPES[p]() for p in params],
                                 [_VALTYPES[result]()] if result else [])
    callback = ffi.wasmtime_func_unchecked_callback_t(trampoline)
    _check(ffi.wasmtime_linker_define_func_unchecked(
        linker.ptr(), module.encode(), len(module.encode()), name.encode(), len(name.encode()),
        functype.ptr(), callback, None, _NO_FINALIZER))
    return callback


_VALTYPES = {"i32": wasmtime.ValType.i32, "i64": wasmtime.ValType.i64,
             "f32": wasmtime.ValType.f32, "f64": wasmtime.ValType.f64}


class AsyncImports:
    """Imports that may wait: the guest stays suspended (no thread) until a result is ready.

    An async import's callback runs inside a poll: `start(args)` either answers at once (an
    int) or returns a `Pending` whose `ready()` the scheduler learns about from its owner; the
    continuation (one C callback shared by every call, keyed by an id) is polled only once the
    guest has been woken, and writes the result into the guest's result slot.
    """

    def __init__(self) -> None:
        self._waiting: dict[int, _Wait] = {}
        self._ids = itertools.count(1)  # next() is atomic under the GIL
        self._continuation = ffi.wasmtime_func_async_continuation_callback_t(self._resume)
        self._keep: list[object] = []

    def define(self, linker: wasmtime.Linker, module: str, name: str, params: tuple[str, ...],
               start: Callable[..., int | Pending]) -> None:
        """An i32-returning import taking i32 parameters whose `start(*args)` answers at once
        (an int) or with a `Pending` that the guest waits on, suspended. `start` must not
        raise."""
        if any(p != "i32" for p in params):
            raise ValueError(f"async import {name}: only i32 parameters are supported")
        nparams = len(params)
        failed = -100  # Status.INTERNAL, for a start() that raises despite its contract
        functype = wasmtime.FuncType([wasmtime.ValType.i32() for _ in params],
                                     [wasmtime.ValType.i32()])

        def callback(_env: int | None, _caller: ctypes._Pointer[ffi.wasmtime_caller_t],
                     args: ctypes._Pointer[ffi.wasmtime_val_t], _nargs: int,
                     results: ctypes._Pointer[ffi.wasmtime_val_t], _nresults: int,
                     _trap: ctypes._Pointer[ctypes._Pointer[ffi.wasm_trap_t]],
                     continuation: ctypes._Pointer[ffi.wasmtime_async_continuation_t]) -> None:
            try:
                outcome = start(*[args[i].of.i32 for i in range(nparams)])
            except BaseException:  # noqa: BLE001 - nothing may propagate into wasmtime
                outcome = failed
            wait_id = next(self._ids)
            self._waiting[wait_id] = _Wait(results, outcome)
            continuation[0].callback = self._continuation
            continuation[0].env = wait_id
            continuation[0].finalizer = _NO_FINALIZER

        c_callback = ffi.wasmtime_func_async_callback_t(callback)
        self._keep.append(c_callback)
        _check(ffi.wasmtime_linker_define_async_func(
            linker.ptr(), module.encode(), len(module.encode()), name.encode(),
            len(name.encode()), functype.ptr(), c_callback, None, _NO_FINALIZER))

    def _resume(self, env: int) -> bool:  # env: a wait id, never 0 (NULL)
        wait = self._waiting.get(env)
        if wait is None:
            return True  # cannot happen; never leave a guest suspended forever
        value = wait.outcome
        if isinstance(value, Pending):
            if not value.done:
                return False
            value = value.value
        del self._waiting[env]
        wait.results[0].kind = VAL_I32
        wait.results[0].of.i32 = value
        return True

    def forget(self, pending: Pending) -> None:
        """Drop the bookkeeping of a wait whose guest future was dropped (cancelled)."""
        for wait_id, wait in list(self._waiting.items()):
            if wait.outcome is pending:
                del self._waiting[wait_id]


class Pending:
    """The result of an async import that is not ready yet; `finish(value)` makes it ready."""

    __slots__ = ("done", "value", "on_done")

    def __init__(self) -> None:
        self.done = False
        self.value = 0
        self.on_done: Callable[[], None] | None = None

    def finish(self, value: int) -> None:
        self.done, self.value = True, value
        if self.on_done is not None:
            self.on_done()


class _Wait:
    __slots__ = ("results", "outcome")

    def __init__(self, results: ctypes._Pointer[ffi.wasmtime_val_t],
                 outcome: int | Pending) -> None:
        self.results = results
        self.outcome = outcome


# ----------------------------------------------------------------------- stores and calls

# Fuel is only a clock here, never a limit: a store gets all of it, and yields every
# `slice_fuel` units.
_ALL_FUEL = (1 << 63) - 1


class RawStore:
    """A wasmtime store made and freed through the C API, with the host's limits. Its guest
    yields to the scheduler every `slice_fuel` units of fuel (about as many wasm
    instructions: the time slice), and at every epoch tick at the latest (a wall-clock
    backstop for instructions that do much work for one unit, like a large memory.fill)."""

    __slots__ = ("_ptr", "context")

    def __init__(self, engine: wasmtime.Engine, *, memory_bytes: int, table_elements: int,
                 instances: int, tables: int, memories: int, slice_fuel: int) -> None:
        self._ptr: StorePointer | None = ffi.wasmtime_store_new(engine.ptr(), None,
                                                                 _NO_FINALIZER)
        self.context: ContextPointer | None = ffi.wasmtime_store_context(self._ptr)
        ffi.wasmtime_store_limiter(self._ptr, memory_bytes, table_elements, instances, tables,
                                   memories)
        _check(ffi.wasmtime_context_set_fuel(self.context, _ALL_FUEL))
        _check(ffi.wasmtime_context_fuel_async_yield_interval(self.context, slice_fuel))
        ffi.wasmtime_context_set_epoch_deadline(self.context, 1)
        # The binding's declared restype is stale (see toolchain.md): never read the result.
        ffi.wasmtime_context_epoch_deadline_async_yield_and_update(self.context, 1)

    def close(self) -> None:
        if self._ptr is not None:
            ffi.wasmtime_store_delete(self._ptr)
            self._ptr = None
            self.context = None

    @property
    def closed(self) -> bool:
        return self._ptr is None


class CallFuture:
    """One running guest call (or instantiation): `poll()` runs it until it finishes, yields
    at an epoch tick, or waits in an async import. `drop()` cancels it. Holds every buffer C
    writes into until it is dropped."""

    # The C future reads its arguments (the function, the instance slot) when it is first
    # polled, not when it is made: they are kept here until it is dropped.
    __slots__ = ("_future", "_results", "_trap", "_error", "instance", "_store", "_func")

    _store: RawStore  # set by each constructor below: kept alive while C may use it

    def __init__(self) -> None:
        self._future: ctypes._Pointer[ffi.wasmtime_call_future_t] | None = None
        self._func: ffi.wasmtime_func_t | None = None
        self._results: ctypes.Array[ffi.wasmtime_val_t] | None = None
        self._trap = POINTER(ffi.wasm_trap_t)()
        self._error = POINTER(ffi.wasmtime_error_t)()
        self.instance: ffi.wasmtime_instance_t | None = None  # made by an instantiation

    @classmethod
    def instantiate(cls, store: RawStore, pre: wasmtime.InstancePre) -> CallFuture:
        call = cls()
        call._store = store
        call.instance = instance = ffi.wasmtime_instance_t()
        call._future = ffi.wasmtime_instance_pre_instantiate_async(
            pre.ptr(), store.context, byref(instance), byref(call._trap), byref(call._error))
        return call

    @classmethod
    def call_i32(cls, store: RawStore, func: ffi.wasmtime_func_t) -> CallFuture:
        """Call an export of type `() -> i32` (checked when the module was loaded)."""
        call = cls()
        call._store = store
        call._results = (ffi.wasmtime_val_t * 1)()
        call._func = func
        call._future = ffi.wasmtime_func_call_async(
            store.context, byref(func), None, 0, call._results, 1, byref(call._trap),
            byref(call._error))
        return call

    @classmethod
    def call_void(cls, store: RawStore, func: ffi.wasmtime_func_t) -> CallFuture:
        """Call an export of type `() -> ()` (e.g. `_initialize`)."""
        call = cls()
        call._store = store
        call._func = func
        call._future = ffi.wasmtime_func_call_async(
            store.context, byref(func), None, 0, None, 0, byref(call._trap), byref(call._error))
        return call

    def poll(self) -> bool:
        return ffi.wasmtime_call_future_poll(self._future)

    def drop(self) -> None:
        if self._future is not None:
            ffi.wasmtime_call_future_delete(self._future)
            self._future = None
            self._func = None

    def outcome(self) -> int | None:
        """After a finished poll: the i32 result (None for no result). Raises wasmtime.Trap
        or wasmtime.WasmtimeError for a trap or an error."""
        self.drop()
        if self._trap:
            raise wasmtime.Trap._from_ptr(self._trap)
        if self._error:
            raise wasmtime.WasmtimeError._from_ptr(self._error)
        return self._results[0].of.i32 if self._results is not None else None


def is_pool_exhausted(error: wasmtime.WasmtimeError) -> bool:
    """Whether an instantiation failed only because every pooled instance slot is in use."""
    return "maximum concurrent limit" in str(error)


def export(store: RawStore, instance: ffi.wasmtime_instance_t,
           name: bytes) -> ffi.wasmtime_extern_t | None:
    """An instance's export by name, as a raw extern (one C call; no enumeration of the rest)."""
    item = ffi.wasmtime_extern_t()
    if not ffi.wasmtime_instance_export_get(store.context, byref(instance), name, len(name),
                                            byref(item)):
        return None
    return item


# wasmtime_memory_data returning the address as an int, with no cast per call: a private copy of
# the C function object, so wasmtime-py's own (typed POINTER(c_uint8)) is left as it is.
_memory_data_address = ffi.dll["wasmtime_memory_data"]
_memory_data_address.argtypes = _bindings._wasmtime_memory_data.argtypes
_memory_data_address.restype = c_void_p


class RawMemory:
    """A guest memory. Its address and size are read once per host import call (`refresh`
    marks them stale): a memory cannot move or grow while its guest is inside an import, and
    each read costs a C call. No range checks here: GuestMemory.check runs first on every path
    (sandbox/memory.py), and a wasm memory never shrinks."""

    __slots__ = ("_memory", "_stale", "_base", "_size")

    def __init__(self, extern: ffi.wasmtime_extern_t | None) -> None:
        if extern is None or extern.kind != EXTERN_MEMORY:  # type: ignore[comparison-overlap]
            raise TypeError("export is not a memory")
        self._memory = extern.of.memory
        self._stale = True  # _base and _size are to be read again
        self._base = 0
        self._size = 0

    def refresh(self) -> None:
        self._stale = True

    def data_len(self, store: RawStore) -> int:
        if self._stale:
            self._base = _memory_data_address(store.context, byref(self._memory)) or 0
            self._size = ffi.wasmtime_memory_data_size(store.context, byref(self._memory))
            self._stale = False
        return self._size

    def read(self, store: RawStore, start: int, stop: int) -> bytes:
        self.data_len(store)
        return string_at(self._base + start, stop - start)

    def write(self, store: RawStore, value: bytes | bytearray, start: int) -> int:
        self.data_len(store)
        memmove(self._base + start, bytes(value), len(value))
        return len(value)


def func_of(extern: ffi.wasmtime_extern_t | None) -> ffi.wasmtime_func_t | None:
    """The function inside a raw extern, or None when the export is not a function."""
    if extern is None or extern.kind != EXTERN_FUNC:  # type: ignore[comparison-overlap]
        return None
    return extern.of.func


def _check(error: ErrorPointer | None) -> None:
    if error:
        raise wasmtime.WasmtimeError._from_ptr(error)


