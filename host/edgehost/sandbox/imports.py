"""Host import implementations for ABI v1, as plain Python over an `Invocation`.

Every function here may raise freely; `guarded()` turns any exception into a status code and
a recorded fault, because an exception raised into wasmtime-py travels through one
process-wide slot and can surface in another thread's guest. Actor storage refuses requests in
its own terms (storage/turn.py's `TurnRefusal`s); `guarded()` gives each its ABI status.
"""

from __future__ import annotations

import logging
import os
import time
from asyncio import Future
from collections.abc import Awaitable, Callable

from edgehost.sandbox import storage_wire
from edgehost.sandbox.abi import HOST_IMPORTS, LOG_LEVELS, AbiError, Status
from edgehost.sandbox.invocation import Invocation, LogLine, RunningGuest
from edgehost.sandbox.memory import U32, OutOfBounds
from edgehost.storage.turn import (
    InvalidKey,
    InvalidValue,
    NoOpenTransaction,
    TurnLimitExceeded,
    TurnRefusal,
    ValueTooLarge,
)

log = logging.getLogger("edgehost.sandbox")

# The status a guest gets for each kind of storage refusal.
TURN_REFUSAL_STATUS: dict[type[TurnRefusal], Status] = {
    InvalidKey: Status.INVALID_ARGUMENT,
    InvalidValue: Status.CODEC_ERROR,
    ValueTooLarge: Status.TOO_LARGE,
    TurnLimitExceeded: Status.LIMIT_EXCEEDED,
    NoOpenTransaction: Status.NOT_PERMITTED,
}


def _memory(inv: Invocation):
    if inv.memory is None:  # the guest called an import during instantiation, before export lookup
        raise AbiError(Status.NOT_PERMITTED, "guest memory is not available yet")
    return inv.memory


def _utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AbiError(Status.INVALID_ARGUMENT, f"{what} is not valid UTF-8: {e}") from None


def input_len(inv: Invocation) -> int:
    return len(inv.input)


def input_read(inv: Invocation, ptr: int, length: int) -> int:
    return _memory(inv).write(ptr, inv.input, length)


def output_write(inv: Invocation, ptr: int, length: int) -> int:
    memory = _memory(inv)
    memory.check(ptr, length)
    length &= U32
    if len(inv.output) + length > inv.limits.max_output_bytes:
        inv.output_overflowed = True
        raise AbiError(
            Status.TOO_LARGE, f"output would exceed {inv.limits.max_output_bytes} bytes")
    inv.output += memory.read(ptr, length)
    return Status.OK


def result_read(inv: Invocation, ptr: int, length: int) -> int:
    memory = _memory(inv)
    memory.check(ptr, length)
    if inv.result_slot is None:
        raise AbiError(Status.NOT_FOUND, "the result slot is empty")
    return memory.write(ptr, inv.result_slot, length)


def env_get(inv: Invocation, name_ptr: int, name_len: int) -> int:
    name = _utf8(_memory(inv).read(name_ptr, name_len), "env var name")
    value = inv.env_vars.get(name)
    if value is None:
        inv.result_slot = b"no such env var"
        return Status.NOT_FOUND  # an expected answer, not a fault
    inv.result_slot = value.encode("utf-8")
    return len(inv.result_slot)


def log_(inv: Invocation, level: int, ptr: int, length: int) -> int:
    if not 0 <= level < len(LOG_LEVELS):
        raise AbiError(Status.INVALID_ARGUMENT, f"log level {level} is not 0-3")
    memory = _memory(inv)
    memory.check(ptr, length)
    limits = inv.limits
    length &= U32
    if len(inv.logs) >= limits.max_log_lines or inv.log_bytes + length > limits.max_log_bytes:
        inv.logs_dropped += 1
        return Status.LIMIT_EXCEEDED  # a quota, not a fault: the guest is told, nothing logged
    message = memory.read(ptr, length).decode("utf-8", errors="replace")
    inv.logs.append(LogLine(LOG_LEVELS[level], message))
    inv.log_bytes += length
    return Status.OK


def set_error_message(inv: Invocation, ptr: int, length: int) -> int:
    memory = _memory(inv)
    memory.check(ptr, length)  # the whole range must be valid, though only a prefix is kept
    kept = memory.read(ptr, min(length & U32, inv.limits.max_error_message_bytes))
    inv.error_message = kept.decode("utf-8", errors="replace")
    return Status.OK


def clock_now_ms(inv: Invocation) -> int:
    return time.time_ns() // 1_000_000


def random_fill(inv: Invocation, ptr: int, length: int) -> int:
    memory = _memory(inv)
    memory.check(ptr, length)
    length &= U32
    if length > inv.limits.max_random_bytes:
        raise AbiError(Status.TOO_LARGE, f"random_fill of {length} bytes exceeds "
                                             f"{inv.limits.max_random_bytes}")
    memory.write(ptr, os.urandom(length), length)
    return Status.OK


def _storage(inv: Invocation):
    if inv.storage is None:
        raise AbiError(Status.NOT_PERMITTED, "storage is only available inside an actor turn")
    return inv.storage


# Storage and actor imports read their ranges before checking context, so an out-of-range
# pointer is reported as OUT_OF_BOUNDS wherever it is passed.


def storage_get(inv: Invocation, key_ptr: int, key_len: int) -> int:
    key = _memory(inv).read(key_ptr, key_len)
    value = _storage(inv).get(key)
    if value is None:
        inv.result_slot = b"no such key"
        return Status.NOT_FOUND  # an expected answer, not a fault
    inv.result_slot = value
    return len(value)


def storage_put(inv: Invocation, key_ptr: int, key_len: int, value_ptr: int,
                value_len: int) -> int:
    memory = _memory(inv)
    key, value = memory.read(key_ptr, key_len), memory.read(value_ptr, value_len)
    _storage(inv).put(key, value)
    return Status.OK


def storage_delete(inv: Invocation, key_ptr: int, key_len: int) -> int:
    key = _memory(inv).read(key_ptr, key_len)
    return int(_storage(inv).delete(key))


def storage_list(inv: Invocation, options_ptr: int, options_len: int) -> int:
    raw = _memory(inv).read(options_ptr, options_len)
    storage = _storage(inv)
    entries = storage.list(storage_wire.decode_list_options(raw, storage.limits))
    inv.result_slot = storage_wire.encode_entries(entries)
    return len(inv.result_slot)


def storage_delete_all(inv: Invocation) -> int:
    _storage(inv).delete_all()
    return Status.OK


def storage_txn_begin(inv: Invocation) -> int:
    _storage(inv).begin()
    return Status.OK


def storage_txn_commit(inv: Invocation) -> int:
    _storage(inv).commit()
    return Status.OK


def storage_txn_rollback(inv: Invocation) -> int:
    _storage(inv).rollback()
    return Status.OK


def actor_call(inv: Invocation, binding_ptr: int, binding_len: int, name_ptr: int,
               name_len: int, method_ptr: int, method_len: int, args_ptr: int,
               args_len: int) -> Awaitable[bytes]:
    """Starts the call; the guest waits for its JSON result suspended (an async import)."""
    memory = _memory(inv)
    parts = [memory.read(p, n) for p, n in ((binding_ptr, binding_len), (name_ptr, name_len),
                                            (method_ptr, method_len), (args_ptr, args_len))]
    if inv.actors is None:
        raise AbiError(Status.NOT_PERMITTED, "this function declares no [[actors]] bindings")
    return inv.actors.call(*parts)


IMPLEMENTATIONS: dict[str, Callable[..., int]] = {
    "input_len": input_len,
    "input_read": input_read,
    "output_write": output_write,
    "result_read": result_read,
    "env_get": env_get,
    "log": log_,
    "set_error_message": set_error_message,
    "clock_now_ms": clock_now_ms,
    "random_fill": random_fill,
    "storage_get": storage_get,
    "storage_put": storage_put,
    "storage_delete": storage_delete,
    "storage_list": storage_list,
    "storage_delete_all": storage_delete_all,
    "storage_txn_begin": storage_txn_begin,
    "storage_txn_commit": storage_txn_commit,
    "storage_txn_rollback": storage_txn_rollback,
}
# Imports that may wait: the guest is suspended (no thread) until the result is ready.
ASYNC_IMPLEMENTATIONS: dict[str, Callable[..., Awaitable[bytes]]] = {
    "actor_call": actor_call,
}
assert (IMPLEMENTATIONS.keys() | ASYNC_IMPLEMENTATIONS.keys()) == HOST_IMPORTS.keys(), \
    "abi.HOST_IMPORTS and imports disagree"


def guarded(name: str, impl: Callable[..., int], running: RunningGuest) -> Callable[..., int]:
    """Wrap an implementation so it finds its invocation and can never raise into wasmtime."""
    error_result = Status.INTERNAL

    def host_function(*args: int) -> int:
        inv = running.invocation
        if inv is None:  # cannot happen while the guest run sets it before every poll
            return error_result
        if inv.memory is not None:
            inv.memory.refresh()
        try:
            return int(impl(inv, *args))
        except OutOfBounds as e:
            return inv.record_fault(name, Status.OUT_OF_BOUNDS, str(e))
        except AbiError as e:
            return inv.record_fault(name, e.status, e.detail)
        except TurnRefusal as e:
            return inv.record_fault(name, TURN_REFUSAL_STATUS[type(e)], str(e))
        except BaseException as e:  # noqa: BLE001 - nothing may propagate into wasmtime
            log.exception("host import %s failed", name)
            return inv.record_fault(name, Status.INTERNAL, f"host fault: {type(e).__name__}")

    host_function.__name__ = f"edgehost_v1.{name}"
    return host_function


def guarded_async(name: str, impl: Callable[..., Awaitable[bytes]], running: RunningGuest,
                  suspend: Callable[[Awaitable[bytes], Callable[[Future], int]], object]
                  ) -> Callable[..., object]:
    """Like `guarded`, for an import that waits: the checks before the wait answer at once;
    the wait itself goes to `suspend` (the scheduler), and its outcome becomes the import's
    result (the length of the bytes parked in the result slot, or a status) when the guest
    resumes."""

    def start(*args: int):
        inv = running.invocation
        if inv is None:
            return Status.INTERNAL
        if inv.memory is not None:
            inv.memory.refresh()
        try:
            awaitable = impl(inv, *args)
        except OutOfBounds as e:
            return inv.record_fault(name, Status.OUT_OF_BOUNDS, str(e))
        except AbiError as e:
            return inv.record_fault(name, e.status, e.detail)
        except BaseException as e:  # noqa: BLE001 - nothing may propagate into wasmtime
            log.exception("host import %s failed", name)
            return inv.record_fault(name, Status.INTERNAL, f"host fault: {type(e).__name__}")

        def deliver(future: Future) -> int:
            try:
                value = future.result()
            except AbiError as e:
                return inv.record_fault(name, e.status, e.detail)
            except BaseException as e:  # noqa: BLE001 - the guest gets a status, never a raise
                log.exception("host import %s failed", name)
                return inv.record_fault(name, Status.INTERNAL, f"host fault: {type(e).__name__}")
            inv.result_slot = value
            return len(value)

        return suspend(awaitable, deliver)

    start.__name__ = f"edgehost_v1.{name}"
    return start
