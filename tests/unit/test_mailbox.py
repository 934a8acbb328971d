"""A mailbox hands its token to waiters in arrival order, one at a time, with a depth limit,
and a waiter that times out or is cancelled never takes the token with it."""

import asyncio

import pytest
from edgehost.actors.mailbox import Mailbox, MailboxFull


def test_waiters_get_the_token_in_arrival_order():
    async def scenario() -> list[int]:
        mailbox = Mailbox(depth_limit=100)
        assert await mailbox.acquire(1.0)
        order: list[int] = []

        async def waiter(i: int) -> None:
            assert await mailbox.acquire(10.0)
            order.append(i)
            await asyncio.sleep(0)  # hold it across a loop iteration
            mailbox.release()

        tasks = []
        for i in range(10):
            tasks.append(asyncio.create_task(waiter(i)))
            await asyncio.sleep(0.001)  # let it queue before the next one arrives
        mailbox.release()
        await asyncio.gather(*tasks)
        assert mailbox.idle
        return order

    assert asyncio.run(scenario()) == list(range(10))


def test_only_one_holder_at_a_time():
    async def scenario() -> int:
        mailbox = Mailbox(depth_limit=1000)
        inside = worst = 0

        async def worker() -> None:
            nonlocal inside, worst
            for _ in range(50):
                assert await mailbox.acquire(10.0)
                inside += 1
                worst = max(worst, inside)
                await asyncio.sleep(0)  # other workers run here, and must not get in
                inside -= 1
                mailbox.release()

        await asyncio.gather(*(worker() for _ in range(8)))
        assert mailbox.idle
        return worst

    assert asyncio.run(scenario()) == 1


def test_depth_limit_and_timeout():
    async def scenario() -> None:
        mailbox = Mailbox(depth_limit=1)
        assert await mailbox.acquire(1.0)
        waiter = asyncio.create_task(mailbox.acquire(0.2))
        await asyncio.sleep(0.01)
        with pytest.raises(MailboxFull):
            await mailbox.acquire(1.0)  # the one waiting slot is taken
        assert await waiter is False  # the waiter timed out and left the queue
        mailbox.release()
        assert mailbox.idle

    asyncio.run(scenario())


def test_a_cancelled_waiter_gives_up_its_place_and_never_the_token():
    async def scenario() -> None:
        mailbox = Mailbox(depth_limit=10)
        assert await mailbox.acquire(1.0)
        first = asyncio.create_task(mailbox.acquire(10.0))
        second = asyncio.create_task(mailbox.acquire(10.0))
        await asyncio.sleep(0.01)
        first.cancel()  # cancelled while waiting: leaves the queue
        await asyncio.sleep(0)
        mailbox.release()
        assert await second  # the token skipped the cancelled waiter
        # Handed the token and cancelled in the same instant: it must be passed on.
        third = asyncio.create_task(mailbox.acquire(10.0))
        await asyncio.sleep(0.01)
        mailbox.release()  # third is handed the token ...
        third.cancel()  # ... and cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await third
        assert mailbox.idle  # it released what it was handed
        with pytest.raises(asyncio.CancelledError):
            await first

    asyncio.run(scenario())
