"""Admission of function requests (http/admission.py): each account runs at most its in-flight
bound at once, the excess waits in arrival order up to its queue bound and is refused at once
beyond it, one account's crowd never delays another, and a waiter that gives up (its budget
ran out, or it was cancelled) leaves the line without taking a slot with it."""

from __future__ import annotations

import asyncio
import time

import pytest
from edgehost.http.admission import Admission

LONG = 10.0  # a budget no test waits out


async def settle() -> None:
    """Let every task that can run, run (waiters queue, handed slots are taken)."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_an_account_runs_up_to_its_bound_and_the_next_waits_for_a_leave():
    async def scenario() -> None:
        admission = Admission(max_inflight=2, max_queued=10)
        assert await admission.enter("a", LONG)
        assert await admission.enter("a", LONG)
        third = asyncio.create_task(admission.enter("a", LONG))
        await settle()
        assert not third.done()
        assert admission.inflight_by_account() == {"a": 2}
        assert admission.queued_by_account() == {"a": 1}
        admission.leave("a")
        assert await third is True
        assert admission.inflight_by_account() == {"a": 2}  # the slot moved, never freed
        assert admission.queued_by_account() == {}

    asyncio.run(scenario())


def test_waiters_are_admitted_in_arrival_order():
    async def scenario() -> list[int]:
        admission = Admission(max_inflight=1, max_queued=100)
        assert await admission.enter("a", LONG)
        order: list[int] = []

        async def request(i: int) -> None:
            assert await admission.enter("a", LONG)
            order.append(i)
            await asyncio.sleep(0)
            admission.leave("a")

        tasks = []
        for i in range(10):
            tasks.append(asyncio.create_task(request(i)))
            await settle()
        admission.leave("a")
        await asyncio.gather(*tasks)
        assert admission.inflight_by_account() == {}
        return order

    assert asyncio.run(scenario()) == list(range(10))


def test_a_full_line_is_refused_at_once():
    async def scenario() -> None:
        admission = Admission(max_inflight=1, max_queued=2)
        assert await admission.enter("a", LONG)
        waiters = [asyncio.create_task(admission.enter("a", LONG)) for _ in range(2)]
        await settle()
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await admission.enter("a", LONG) is False
        assert loop.time() - started < 1.0, "refused without waiting for its budget"
        assert admission.queued_by_account() == {"a": 2}  # the refused one never queued
        for _ in range(3):
            admission.leave("a")
        assert await asyncio.gather(*waiters) == [True, True]
        assert admission.inflight_by_account() == {}

    asyncio.run(scenario())


def test_another_account_is_admitted_while_one_is_full_and_queued():
    async def scenario() -> None:
        admission = Admission(max_inflight=1, max_queued=1)
        assert await admission.enter("crowd", LONG)
        waiting = asyncio.create_task(admission.enter("crowd", LONG))
        await settle()
        assert await admission.enter("crowd", LONG) is False  # its line is full
        assert await admission.enter("quiet", LONG) is True  # at once, despite the crowd
        assert admission.inflight_by_account() == {"crowd": 1, "quiet": 1}
        assert admission.queued_by_account() == {"crowd": 1}
        admission.leave("quiet")
        assert not waiting.done(), "a slot of another account is never handed over"
        admission.leave("crowd")
        assert await waiting is True
        admission.leave("crowd")
        assert admission.inflight_by_account() == {}

    asyncio.run(scenario())


def test_a_waiter_whose_budget_runs_out_leaves_the_line():
    async def scenario() -> None:
        admission = Admission(max_inflight=1, max_queued=1)
        assert await admission.enter("a", LONG)
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await admission.enter("a", 0.05) is False
        assert 0.04 <= loop.time() - started < 2.0
        assert admission.queued_by_account() == {}
        # Its place is free again, and the slot is not handed to it when the holder leaves.
        late = asyncio.create_task(admission.enter("a", LONG))
        await settle()
        admission.leave("a")
        assert await late is True
        admission.leave("a")
        assert admission.inflight_by_account() == {}

    asyncio.run(scenario())


@pytest.mark.parametrize("budget", [0.0, -1.0])
def test_a_request_with_no_budget_left_is_refused_when_it_would_wait(budget: float):
    async def scenario() -> None:
        admission = Admission(max_inflight=1, max_queued=5)
        assert await admission.enter("a", budget) is True  # a free slot needs no waiting
        assert await admission.enter("a", budget) is False
        assert admission.queued_by_account() == {}
        admission.leave("a")
        assert admission.inflight_by_account() == {}

    asyncio.run(scenario())


def test_a_cancelled_waiter_leaves_the_line_and_takes_no_slot():
    async def scenario() -> None:
        admission = Admission(max_inflight=1, max_queued=5)
        assert await admission.enter("a", LONG)
        cancelled = asyncio.create_task(admission.enter("a", LONG))
        after = asyncio.create_task(admission.enter("a", LONG))
        await settle()
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert admission.queued_by_account() == {"a": 1}
        admission.leave("a")
        assert await asyncio.wait_for(after, 1.0) is True
        admission.leave("a")
        assert admission.inflight_by_account() == {}

    asyncio.run(scenario())


def test_a_slot_handed_over_as_the_waiter_is_cancelled_is_passed_on():
    async def scenario() -> None:
        admission = Admission(max_inflight=1, max_queued=5)
        assert await admission.enter("a", LONG)
        unlucky = asyncio.create_task(admission.enter("a", LONG))
        next_in_line = asyncio.create_task(admission.enter("a", LONG))
        await settle()
        admission.leave("a")  # hands the slot to `unlucky`...
        unlucky.cancel()  # ...which is cancelled before it runs again
        with pytest.raises(asyncio.CancelledError):
            await unlucky
        assert await asyncio.wait_for(next_in_line, 1.0) is True
        assert admission.inflight_by_account() == {"a": 1}
        admission.leave("a")
        assert admission.inflight_by_account() == {} and admission.queued_by_account() == {}

    asyncio.run(scenario())


def test_a_slot_handed_over_as_the_budget_runs_out_is_passed_on():
    async def scenario() -> None:
        admission = Admission(max_inflight=1, max_queued=5)
        assert await admission.enter("a", LONG)
        loop = asyncio.get_running_loop()
        unlucky = asyncio.create_task(admission.enter("a", 0.05))
        next_in_line = asyncio.create_task(admission.enter("a", LONG))
        await settle()
        # The slot is handed to `unlucky` in the same loop iteration as its budget runs out,
        # just after: hold the loop past both, so they fire together, in that order.
        loop.call_at(loop.time() + 0.06, admission.leave, "a")
        time.sleep(0.1)
        assert await unlucky is False
        assert await asyncio.wait_for(next_in_line, 1.0) is True
        assert admission.inflight_by_account() == {"a": 1}
        assert admission.queued_by_account() == {}
        admission.leave("a")
        assert admission.inflight_by_account() == {}

    asyncio.run(scenario())
