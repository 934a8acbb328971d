"""A guest instance and one run of one of its entry points, as a resumable state machine.

`GuestInstance` is a store holding (after its first run) one instance of a module: fresh per
request, or kept by an actor activation between turns. `GuestRun` is one entry-point call on
it: instantiate if needed, `_initialize` if the module has one, then the entry point. Each
step is a wasmtime call future; `poll()` advances it by one time slice and says whether the
run is over. The scheduler (sandbox/scheduler.py) decides whose `poll()` runs when; nothing
here blocks or waits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import wasmtime

from edgehost.sandbox import wasmtime_ffi as raw
from edgehost.sandbox.abi import INITIALIZE_EXPORT, MEMORY_EXPORT
from edgehost.sandbox.invocation import Invocation, RunningGuest
from edgehost.sandbox.memory import GuestMemory

if TYPE_CHECKING:
    from edgehost.sandbox.engine import CompiledModule, Sandbox


class Outcome(Enum):
    OK = "ok"
    TIMEOUT = "timeout"  # the wall-clock budget ran out
    TRAP = "trap"  # the guest trapped, including stack overflow and its own aborts
    GUEST_ERROR = "guest_error"  # the entry point returned non-zero
    OVERLOADED = "overloaded"  # no instance slot was free (the pool is full): not the guest's


@dataclass
class InvocationResult:
    outcome: Outcome
    invocation: Invocation
    detail: str = ""  # trap message etc.: for the function's log, never for clients
    elapsed_s: float = 0.0

    @property
    def output(self) -> bytes:
        return bytes(self.invocation.output)


class GuestInstance:
    """One guest instance in its own store.

    One run at a time (the request owns it, or the activation's mailbox holder does). After a
    run that did not end OK, close it rather than reuse it: its globals and heap may be
    mid-update, and a run dropped at its deadline stopped at an arbitrary instruction.
    """

    __slots__ = ("compiled", "store", "instance", "memory", "_running", "_sandbox", "_active")

    def __init__(self, sandbox: Sandbox, compiled: CompiledModule, memory_limit_bytes: int):
        limits = sandbox.limits
        self.compiled = compiled
        self._sandbox = sandbox
        self._running: RunningGuest = sandbox.running
        self.store = raw.RawStore(sandbox.engine, memory_bytes=memory_limit_bytes,
                                  table_elements=limits.max_table_elements,
                                  instances=limits.max_instances, tables=limits.max_tables,
                                  memories=limits.max_memories, slice_fuel=limits.slice_fuel)
        self.instance = None  # set by the first run's instantiation
        self.memory: GuestMemory | None = None
        self._active: GuestRun | None = None  # the run not yet over, if any
        sandbox.stores_open += 1

    def start(self, entry: str, invocation: Invocation) -> GuestRun:
        return GuestRun(self, entry, invocation)

    def memory_bytes(self) -> int:
        """The instance's linear memory size now (what an activation keeps resident)."""
        return self.memory.size() if self.memory is not None and not self.store.closed else 0

    def close(self) -> None:
        # A run still in progress holds a call future inside the store: drop it first. (Its
        # caller stopped waiting, e.g. a cancelled request; the scheduler then finds the run
        # over and never polls the closed store, which would abort the process.)
        if self._active is not None:
            self._active.cancel(Outcome.TRAP, "cancelled: its instance was closed while it ran")
        self.memory = None
        self.instance = None
        if not self.store.closed:
            self.store.close()
            self._sandbox.stores_open -= 1


class GuestRun:
    """One entry-point call, advanced by `poll()` one time slice at a time."""

    __slots__ = ("guest", "entry", "invocation", "_future", "_stage", "outcome", "detail",
                 "started", "finished_at", "instantiate_s", "_instantiate_started")

    # Stages, in order; a run starts at the first one its instance still needs.
    _INSTANTIATE, _INITIALIZE, _ENTRY, _DONE = range(4)

    def __init__(self, guest: GuestInstance, entry: str, invocation: Invocation) -> None:
        self.guest = guest
        self.entry = entry
        self.invocation = invocation
        self._future: raw.CallFuture | None = None
        self._stage = self._INSTANTIATE if guest.instance is None else self._ENTRY
        self.outcome: Outcome | None = None
        self.detail = ""
        self.started = time.perf_counter()
        self.finished_at = 0.0
        # How long instantiating took, when this run instantiated its instance: from its
        # first poll, so time spent queued behind other guests is not counted.
        self.instantiate_s: float | None = None
        self._instantiate_started = 0.0
        invocation.memory = guest.memory
        guest._active = self

    @property
    def done(self) -> bool:
        return self._stage == self._DONE

    def poll(self) -> bool:
        """Run until the guest finishes, yields at an epoch tick, or waits in an async import.
        True when the run is over (see `outcome`). Never raises for guest behaviour."""
        running = self.guest._running
        running.invocation = self.invocation
        try:
            while self._stage != self._DONE:
                if self._future is None:
                    self._future = self._next_future()
                    if self._future is None:
                        continue  # a stage with nothing to run (no _initialize)
                if not self._future.poll():
                    return False
                future, self._future = self._future, None
                self._finish_stage(future)
        except wasmtime.Trap as trap:
            self._end(Outcome.TRAP, describe_trap(trap))
        except wasmtime.WasmtimeError as e:  # e.g. instantiation beyond a store limit
            self._end(Outcome.OVERLOADED if raw.is_pool_exhausted(e) else Outcome.TRAP,
                      first_line(e))
        finally:
            running.invocation = None
        return True

    def _next_future(self) -> raw.CallFuture | None:
        guest = self.guest
        if self._stage == self._INSTANTIATE:
            self._instantiate_started = time.perf_counter()
            return raw.CallFuture.instantiate(guest.store, guest.compiled.pre)
        if self._stage == self._INITIALIZE:
            func = raw.func_of(raw.export(guest.store, guest.instance, INITIALIZE_EXPORT.encode()))
            if func is None:
                self._stage = self._ENTRY
                return None
            return raw.CallFuture.call_void(guest.store, func)
        func = raw.func_of(raw.export(guest.store, guest.instance, self.entry.encode()))
        if func is None or self.entry not in guest.compiled.entry_points:
            # Ship refuses a module without its entry points or with the wrong types; this
            # guards the unchecked call, which trusts the type.
            self._end(Outcome.TRAP, f"module has no entry point {self.entry} () -> i32")
            return None
        return raw.CallFuture.call_i32(guest.store, func)

    def _finish_stage(self, future: raw.CallFuture) -> None:
        result = future.outcome()  # raises for a trap or an error
        guest = self.guest
        if self._stage == self._INSTANTIATE:
            guest.instance = future.instance
            guest.memory = GuestMemory(guest.store, raw.RawMemory(
                raw.export(guest.store, guest.instance, MEMORY_EXPORT.encode())))
            self.invocation.memory = guest.memory
            self.instantiate_s = time.perf_counter() - self._instantiate_started
            guest._sandbox.instantiate_seconds.observe(self.instantiate_s)
            self._stage = self._INITIALIZE
        elif self._stage == self._INITIALIZE:
            self._stage = self._ENTRY
        else:
            rc = result or 0
            self._end(Outcome.OK if rc == 0 else Outcome.GUEST_ERROR,
                      "" if rc == 0 else f"{self.entry} returned {rc}")

    def cancel(self, outcome: Outcome, detail: str) -> None:
        """Stop the run where it is (its instance must then be closed, not reused)."""
        if self._future is not None:
            self._future.drop()
            self._future = None
        self._end(outcome, detail)

    def _end(self, outcome: Outcome, detail: str) -> None:
        if self.guest._active is self:
            self.guest._active = None
        self._stage = self._DONE
        self.outcome = outcome
        self.detail = detail
        self.finished_at = time.perf_counter()
        self.invocation.memory = None

    def result(self) -> InvocationResult:
        assert self.outcome is not None
        return InvocationResult(self.outcome, self.invocation, self.detail,
                                self.finished_at - self.started)


def describe_trap(trap: wasmtime.Trap) -> str:
    """A short, log-sized description: the trap kind, its cause and the top of the backtrace."""
    code = trap.trap_code.name.lower() if trap.trap_code is not None else "trap"
    text = trap.message or ""
    cause = text.split("Caused by:", 1)[1].strip().splitlines()[0] if "Caused by:" in text else ""
    frames = [line.strip() for line in text.splitlines()[1:4] if line.strip()[:1].isdigit()]
    return "; ".join(part for part in (code, cause, " | ".join(frames)) if part)[:1024]


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
