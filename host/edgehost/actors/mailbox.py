"""One activation's mailbox: FIFO, one call at a time, a depth limit.

A single token passes from caller to caller in arrival order; the holder runs its turn. Callers
wait for it as futures on the event loop, so a thousand waiting calls cost a thousand small
objects, not a thousand threads.
"""

from __future__ import annotations

import asyncio
from collections import deque


class MailboxFull(Exception):
    pass


class Mailbox:
    __slots__ = ("_depth_limit", "_busy", "_waiting")

    def __init__(self, depth_limit: int) -> None:
        self._depth_limit = depth_limit
        self._busy = False
        self._waiting: deque[asyncio.Future[bool]] = deque()  # resolved True: the token

    @property
    def idle(self) -> bool:
        return not self._busy and not self._waiting

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def try_acquire(self) -> bool:
        if self._busy:
            return False
        self._busy = True
        return True

    async def acquire(self, timeout_s: float) -> bool:
        """Wait for this caller's turn (FIFO). False on timeout; MailboxFull when too deep.
        If the waiting caller is cancelled, its place is given up and no token is lost."""
        if not self._busy:
            self._busy = True
            return True
        if len(self._waiting) >= self._depth_limit:
            raise MailboxFull(len(self._waiting))
        ticket: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(ticket)
        try:
            async with asyncio.timeout(max(timeout_s, 0)):
                await asyncio.shield(ticket)
            return True
        except TimeoutError:
            return self._give_up(ticket)
        except asyncio.CancelledError:
            if self._give_up(ticket):
                self.release()  # handed the token as we were cancelled: pass it on
            raise

    def _give_up(self, ticket: asyncio.Future[bool]) -> bool:
        """Leave the queue; True if the token had already been handed to this ticket."""
        if ticket.done():
            return True
        self._waiting.remove(ticket)
        ticket.cancel()
        return False

    def release(self) -> None:
        """Pass the token to the next waiter in order, or mark the mailbox free."""
        while self._waiting:
            ticket = self._waiting.popleft()
            if not ticket.done():
                ticket.set_result(True)  # still busy: the token moves, never drops
                return
        self._busy = False
