"""Per-invocation state: what one guest call reads, writes and reports.

One `Invocation` exists per entry-point call (one HTTP request, later one actor turn). Host
imports record faults here instead of raising, so nothing crosses between concurrent guests
(see the cross-thread hazard in toolchain.md).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Mapping

from edgehost.config import SandboxLimits
from edgehost.sandbox.memory import GuestMemory

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


@dataclass
class Invocation:
    input: bytes
    limits: SandboxLimits
    env_vars: Mapping[str, str] = field(default_factory=dict)
    memory: GuestMemory | None = None
    output: bytearray = field(default_factory=bytearray)
    output_overflowed: bool = False
    result: bytes | None = None
    logs: list[LogLine] = field(default_factory=list)
    log_bytes: int = 0
    logs_dropped: int = 0
    error_message: str | None = None
    faults: list[Fault] = field(default_factory=list)

    def record_fault(self, import_name: str, status: int, detail: str) -> int:
        if len(self.faults) < MAX_RECORDED_FAULTS:
            self.faults.append(Fault(import_name, status, detail))
        return status


class InvocationStack:
    """The invocation each thread is currently running, for host imports to find.

    A guest runs synchronously on one thread, so its imports execute on that same thread;
    a stack (not a single slot) allows a host import to run a nested guest call.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def push(self, invocation: Invocation) -> None:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        stack.append(invocation)

    def pop(self) -> None:
        self._local.stack.pop()

    def current(self) -> Invocation | None:
        stack = getattr(self._local, "stack", None)
        return stack[-1] if stack else None
