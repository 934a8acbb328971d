"""Sharing the compile processes fairly among accounts.

Each account runs at most one compile at a time. When a process is free it goes to the next
account, round-robin, that has a compile waiting and none running, so an account shipping many
modules (or many heavy ones) delays its own ships and no one else's beyond one compile per
process. Waiting is bounded per account and host-wide: beyond either bound a compile is
refused at once with `CompileBusy`, so waiting ships cannot pile up the threads they hold.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


class CompileBusy(Exception):
    """No compile can start now. `account_full` tells whether it is the account's own queue
    (the account should slow down) or the host's (everyone should)."""

    def __init__(self, message: str, *, account_full: bool, retry_after_s: int) -> None:
        super().__init__(message)
        self.message = message
        self.account_full = account_full
        self.retry_after_s = retry_after_s


@dataclass
class _Ticket:
    account: str
    granted: threading.Event = field(default_factory=threading.Event)
    slot: int | None = None


class FairSlots:
    """`slots` numbered slots, handed to accounts one at a time each, round-robin."""

    def __init__(self, slots: int, *, max_waiting_per_account: int, max_waiting: int,
                 retry_after_s: int) -> None:
        self._free = list(range(slots))
        self._max_waiting_per_account = max_waiting_per_account
        self._max_waiting = max_waiting
        self._retry_after_s = retry_after_s
        self._lock = threading.Lock()
        # Accounts with compiles waiting, in round-robin order (a dict keeps insertion order;
        # an account that is served moves to the back).
        self._waiting: dict[str, deque[_Ticket]] = {}
        self._running: set[str] = set()
        self._closed = False

    @contextmanager
    def slot(self, account: str) -> Iterator[int]:
        """Wait for this account's turn and a free slot; yields the slot's number."""
        ticket = self._enqueue(account)
        ticket.granted.wait()
        if ticket.slot is None:
            raise CompileBusy("the host is shutting down", account_full=False,
                              retry_after_s=self._retry_after_s)
        try:
            yield ticket.slot
        finally:
            with self._lock:
                self._running.discard(account)
                self._free.append(ticket.slot)
                self._dispatch()

    def _enqueue(self, account: str) -> _Ticket:
        ticket = _Ticket(account)
        with self._lock:
            if self._closed:
                ticket.granted.set()
                return ticket
            self._waiting.setdefault(account, deque()).append(ticket)
            self._dispatch()
            if ticket.granted.is_set():
                return ticket
            mine = len(self._waiting[account])
            everyone = sum(len(queue) for queue in self._waiting.values())
            if mine > self._max_waiting_per_account or everyone > self._max_waiting:
                self._waiting[account].pop()
                if not self._waiting[account]:
                    del self._waiting[account]
                account_full = mine > self._max_waiting_per_account
                raise CompileBusy(
                    f"this account already has {mine - 1} compile(s) waiting (the host's "
                    f"limit is {self._max_waiting_per_account} per account)"
                    if account_full else
                    f"the host already has {everyone - 1} compile(s) waiting (its limit is "
                    f"{self._max_waiting})",
                    account_full=account_full, retry_after_s=self._retry_after_s)
            return ticket

    def _dispatch(self) -> None:
        """Hand free slots to waiting accounts, round-robin. Called with the lock held."""
        while self._free:
            account = next((a for a in self._waiting if a not in self._running), None)
            if account is None:
                return
            queue = self._waiting.pop(account)
            ticket = queue.popleft()
            if queue:
                self._waiting[account] = queue  # to the back of the round
            ticket.slot = self._free.pop()
            self._running.add(account)
            ticket.granted.set()

    def close(self) -> None:
        """Wake every waiting compile with CompileBusy; new ones fail the same way."""
        with self._lock:
            self._closed = True
            for queue in self._waiting.values():
                for ticket in queue:
                    ticket.granted.set()
            self._waiting.clear()
