"""One activation's mailbox: FIFO, one call at a time, a depth limit.

Calls are not queued as messages handed to a worker; each caller's thread waits its turn and
then runs the turn itself. The mailbox passes a single token from caller to caller in arrival
order, so no thread handoff is paid per call and a nested actor call simply runs on the thread
of the turn that made it.
"""

from __future__ import annotations

import threading
from collections import deque


class MailboxFull(Exception):
    pass


class Mailbox:
    def __init__(self, depth_limit: int) -> None:
        self._depth_limit = depth_limit
        self._lock = threading.Lock()
        self._busy = False
        self._waiting: deque[threading.Event] = deque()

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self._busy and not self._waiting

    def acquire(self, timeout_s: float) -> bool:
        """Wait for this caller's turn (FIFO). False on timeout; MailboxFull when too deep."""
        with self._lock:
            if not self._busy:
                self._busy = True
                return True
            if len(self._waiting) >= self._depth_limit:
                raise MailboxFull(len(self._waiting))
            ticket = threading.Event()
            self._waiting.append(ticket)
        if ticket.wait(max(timeout_s, 0)):
            return True
        with self._lock:
            try:
                self._waiting.remove(ticket)
                return False
            except ValueError:  # handed the token just as the wait timed out: it is ours
                return True

    def try_acquire(self) -> bool:
        with self._lock:
            if self._busy:
                return False
            self._busy = True
            return True

    def release(self) -> None:
        """Pass the token to the next waiter in order, or mark the mailbox free."""
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()  # still busy: the token moves, never drops
            else:
                self._busy = False
