"""Execution slots: how many threads may run guest code at the same time.

Every wasmtime-py call releases and retakes the GIL, so dozens of runnable guest threads (one
per in-flight request) spend their time handing the GIL around instead of working. A thread
must hold a slot to run guest code; it gives the slot back while it *waits* (for an actor's
mailbox, for an fsync), so waiting never limits how many calls can queue or share a commit.

A thread coming back from a wait is already part-way through a request: it gets the next free
slot before any thread that wants to start a new one, so work in progress finishes first.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator


class ExecutionSlots:
    def __init__(self, count: int) -> None:
        self._free = count
        self._lock = threading.Lock()
        self._new_work = threading.Condition(self._lock)
        self._resuming = threading.Condition(self._lock)
        self._resuming_waiters = 0
        self._holding = threading.local()  # whether this thread holds a slot

    def _held(self) -> bool:
        return getattr(self._holding, "held", False)

    def _take(self, resuming: bool) -> None:
        with self._lock:
            if resuming:
                self._resuming_waiters += 1
                while self._free == 0:
                    self._resuming.wait()
                self._resuming_waiters -= 1
            else:
                while self._free == 0 or self._resuming_waiters:
                    self._new_work.wait()
            self._free -= 1
        self._holding.held = True

    def _give(self) -> None:
        self._holding.held = False
        with self._lock:
            self._free += 1
            if self._resuming_waiters:
                self._resuming.notify()
            else:
                self._new_work.notify()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Run guest code. Re-entrant: a nested actor turn on the same thread reuses its slot."""
        if self._held():
            yield
            return
        self._take(resuming=False)
        try:
            yield
        finally:
            self._give()

    @contextmanager
    def released(self) -> Iterator[None]:
        """Wait without occupying a slot (a no-op for a thread that holds none)."""
        if not self._held():
            yield
            return
        self._give()
        try:
            yield
        finally:
            self._take(resuming=True)
