"""Execution slots: how many threads may run guest code at the same time.

Every wasmtime-py call releases and retakes the GIL, so dozens of runnable guest threads (one
per in-flight request) spend their time handing the GIL around instead of working. A thread
must hold a slot to run guest code; it gives the slot back while it *waits* (for an actor's
mailbox, for an fsync), so waiting never limits how many calls can queue or share a commit.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator


class ExecutionSlots:
    def __init__(self, count: int) -> None:
        self._semaphore = threading.Semaphore(count)
        self._holding = threading.local()  # whether this thread holds a slot

    def _held(self) -> bool:
        return getattr(self._holding, "held", False)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Run guest code. Re-entrant: a nested actor turn on the same thread reuses its slot."""
        if self._held():
            yield
            return
        self._semaphore.acquire()
        self._holding.held = True
        try:
            yield
        finally:
            self._holding.held = False
            self._semaphore.release()

    @contextmanager
    def released(self) -> Iterator[None]:
        """Wait without occupying a slot (a no-op for a thread that holds none)."""
        if not self._held():
            yield
            return
        self._holding.held = False
        self._semaphore.release()
        try:
            yield
        finally:
            self._semaphore.acquire()
            self._holding.held = True
