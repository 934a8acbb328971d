"""A mailbox hands its token to waiters in arrival order, one at a time, with a depth limit."""

import threading
import time

import pytest

from edgehost.actors.mailbox import Mailbox, MailboxFull


def test_waiters_get_the_token_in_arrival_order():
    mailbox = Mailbox(depth_limit=100)
    assert mailbox.acquire(1.0)
    order: list[int] = []

    def waiter(i: int) -> None:
        assert mailbox.acquire(10.0)
        order.append(i)
        mailbox.release()

    threads = []
    for i in range(10):
        t = threading.Thread(target=waiter, args=(i,))
        t.start()
        threads.append(t)
        time.sleep(0.02)  # let it queue before the next one arrives
    mailbox.release()
    for t in threads:
        t.join(timeout=10)
    assert order == list(range(10))


def test_only_one_holder_at_a_time():
    mailbox = Mailbox(depth_limit=100)
    inside = 0
    worst = 0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal inside, worst
        for _ in range(200):
            assert mailbox.acquire(10.0)
            with lock:
                inside += 1
                worst = max(worst, inside)
            with lock:
                inside -= 1
            mailbox.release()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert worst == 1 and mailbox.idle


def test_depth_limit_and_timeout():
    mailbox = Mailbox(depth_limit=1)
    assert mailbox.acquire(1.0)
    started = threading.Event()
    result: list[bool] = []
    t = threading.Thread(target=lambda: (started.set(), result.append(mailbox.acquire(0.5))))
    t.start()
    started.wait()
    time.sleep(0.05)
    with pytest.raises(MailboxFull):
        mailbox.acquire(1.0)  # the one waiting slot is taken
    t.join()
    assert result == [False]  # the waiter timed out and left the queue
    mailbox.release()
    assert mailbox.idle
