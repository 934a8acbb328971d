"""Admission of function requests: a bound on each account's in-flight invocations.

Each running invocation holds a store, its memory and a guest stack, and competes for the
core, so one account may not run more than `max_inflight` at once; the excess waits here in
arrival order, up to `max_queued`, and past that the request is refused (503 overloaded) at
once rather than piling up. A waiting request gives up (503) when its budget has passed.
Actor turns are not admitted here: they are bounded by their mailboxes, and a request that is
running must always be able to reach its actors.
"""

from __future__ import annotations

import asyncio
from collections import deque


class _AccountSlots:
    __slots__ = ("inflight", "queue")

    def __init__(self) -> None:
        self.inflight = 0
        self.queue: deque[asyncio.Future[None]] = deque()  # resolved: the slot is theirs


class Admission:
    def __init__(self, max_inflight: int, max_queued: int) -> None:
        self._max_inflight = max_inflight
        self._max_queued = max_queued
        self._accounts: dict[str, _AccountSlots] = {}

    async def enter(self, account: str, timeout_s: float) -> bool:
        """Take one of the account's slots, waiting up to `timeout_s` in line; False when the
        line is full or the wait ran out (the caller answers 503)."""
        slots = self._accounts.get(account)
        if slots is None:
            slots = self._accounts[account] = _AccountSlots()
        if slots.inflight < self._max_inflight and not slots.queue:
            slots.inflight += 1
            return True
        if len(slots.queue) >= self._max_queued:
            return False
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        slots.queue.append(turn)
        try:
            async with asyncio.timeout(max(timeout_s, 0)):
                await asyncio.shield(turn)
            return True
        except (TimeoutError, asyncio.CancelledError) as e:
            if turn.done():  # handed a slot just as we gave up: pass it on
                self.leave(account)
            else:
                slots.queue.remove(turn)
                turn.cancel()
            if isinstance(e, asyncio.CancelledError):
                raise
            return False

    def leave(self, account: str) -> None:
        """Give the slot to the next request in line, or free it."""
        slots = self._accounts[account]
        while slots.queue:
            turn = slots.queue.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot moves to it: inflight is unchanged
                return
        slots.inflight -= 1
        if not slots.inflight:
            del self._accounts[account]

    def inflight_by_account(self) -> dict[str, int]:
        return {a: s.inflight for a, s in self._accounts.items()}

    def queued_by_account(self) -> dict[str, int]:
        return {a: len(s.queue) for a, s in self._accounts.items() if s.queue}
