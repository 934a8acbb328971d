"""Per-invocation state: what one guest call reads, writes and reports.

One `Invocation` exists per entry-point call (one HTTP request, one actor turn). Host imports
record faults here instead of raising: an exception cannot cross into wasmtime, and a fault
must reach only its own guest.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from edgehost.config import ActorLimits, SandboxLimits
from edgehost.sandbox.memory import GuestMemory

if TYPE_CHECKING:
    from edgehost.sandbox.scheduler import GuestTask
    from edgehost.storage.turn import ListOptions

MAX_RECORDED_FAULTS = 32


@dataclass(frozen=True)
class LogLine:
    level: str
    message: str


@dataclass(frozen=True)
class Fault:
    """A host import that returned an error status, kept for the function's log."""

    import_name: str
    status: int
    detail: str


class TurnStorage(Protocol):
    """What storage imports need from an actor turn (see storage/turn.py). It takes typed
    requests and refuses with a storage TurnRefusal; the imports decode and map statuses."""

    limits: ActorLimits

    def get(self, key: bytes) -> bytes | None: ...
    def put(self, key: bytes, value: bytes) -> None: ...
    def delete(self, key: bytes) -> bool: ...
    def list(self, options: ListOptions) -> list[tuple[bytes, bytes]]: ...
    def delete_all(self) -> None: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class ActorCaller(Protocol):
    """What `actor_call` needs: route a call and, later, give its JSON result (see actors/).
    The guest waits for the result suspended, without a thread."""

    def call(self, binding: bytes, name: bytes, method: bytes,
             args: bytes) -> Awaitable[bytes]: ...


@dataclass
class Invocation:
    input: bytes
    limits: SandboxLimits
    env_vars: Mapping[str, str] = field(default_factory=dict)
    memory: GuestMemory | None = None
    output: bytearray = field(default_factory=bytearray)
    output_overflowed: bool = False
    result_slot: bytes | None = None  # what result_read hands the guest next (ABI.md)
    logs: list[LogLine] = field(default_factory=list)
    log_bytes: int = 0
    logs_dropped: int = 0
    error_message: str | None = None
    faults: list[Fault] = field(default_factory=list)
    storage: TurnStorage | None = None  # set only for an actor turn
    actors: ActorCaller | None = None  # set when the guest's manifest may call actors

    def record_fault(self, import_name: str, status: int, detail: str) -> int:
        """Note a failed import and park its explanation in the result slot."""
        if len(self.faults) < MAX_RECORDED_FAULTS:
            self.faults.append(Fault(import_name, status, detail))
        self.result_slot = detail.encode("utf-8", "replace")
        return status


class RunningGuest:
    """The invocation whose guest is being polled on this thread right now, for host imports
    to find. A poll never nests (an import that waits suspends its guest instead of running
    another one inside it), so one slot per thread is exact. Per thread, not per sandbox,
    because tests and tools may run guests of one sandbox from several threads."""

    def __init__(self) -> None:
        self._local = threading.local()

    @property
    def invocation(self) -> Invocation | None:
        return getattr(self._local, "invocation", None)

    @invocation.setter
    def invocation(self, value: Invocation | None) -> None:
        self._local.invocation = value

    @property
    def task(self) -> GuestTask | None:
        """The scheduler task being polled on this thread (None outside the scheduler)."""
        return getattr(self._local, "task", None)

    @task.setter
    def task(self, value: GuestTask | None) -> None:
        self._local.task = value
