"""FairSlots: one compile per account at a time, accounts served round-robin, waiting bounded."""

import threading
import time

import pytest
from edgehost.sandbox.compile_queue import CompileBusy, FairSlots


class Holder:
    """A thread that takes a slot for `account` and keeps it until released."""

    def __init__(self, slots: FairSlots, account: str, served: list[str]) -> None:
        self.account = account
        self.entered = threading.Event()
        self.release = threading.Event()
        self.error: BaseException | None = None
        self._served = served
        self._slots = slots
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        try:
            with self._slots.slot(self.account):
                self._served.append(self.account)
                self.entered.set()
                self.release.wait()
        except BaseException as e:  # noqa: BLE001 - checked by the test
            self.error = e

    def finish(self) -> None:
        self.release.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.001)


def _waiting(slots: FairSlots) -> int:
    return sum(len(queue) for queue in slots._waiting.values())


def _queue(slots: FairSlots, account: str, served: list[str]) -> Holder:
    """Start a holder and wait until it is served or queued, so arrival order is exact."""
    before_served, before_waiting = len(served), _waiting(slots)
    holder = Holder(slots, account, served)
    _until(lambda: len(served) > before_served or _waiting(slots) > before_waiting
           or holder.error is not None, f"{account} queued")
    return holder


def test_accounts_are_served_round_robin_one_compile_each_at_a_time():
    slots = FairSlots(1, max_waiting_per_account=5, max_waiting=10, retry_after_s=1)
    served: list[str] = []
    holders = [_queue(slots, account, served) for account in ("a", "a", "a", "b", "c")]
    assert served == ["a"]
    for _ in holders:  # release each holder of the slot in turn

        def holding() -> list[Holder]:
            return [h for h in holders if h.entered.is_set() and not h.release.is_set()]

        _until(holding, "the slot is handed on")
        holding()[0].finish()
    # "a" arrived first and goes first each round, but its third compile waits for b and c.
    assert served == ["a", "a", "b", "c", "a"]


def test_another_account_gets_a_free_slot_while_one_account_has_compiles_queued():
    slots = FairSlots(2, max_waiting_per_account=5, max_waiting=10, retry_after_s=1)
    served: list[str] = []
    first = _queue(slots, "a", served)
    queued = _queue(slots, "a", served)  # a's second compile waits for its first
    other = _queue(slots, "b", served)
    assert served == ["a", "b"]
    for holder in (other, first, queued):
        holder.finish()
    assert served == ["a", "b", "a"]


def test_an_account_beyond_its_waiting_bound_is_told_to_retry():
    slots = FairSlots(1, max_waiting_per_account=1, max_waiting=10, retry_after_s=7)
    served: list[str] = []
    running, waiting = _queue(slots, "a", served), _queue(slots, "a", served)
    with pytest.raises(CompileBusy) as busy:
        with slots.slot("a"):
            pass
    assert busy.value.account_full and busy.value.retry_after_s == 7
    assert "1 compile(s) waiting" in busy.value.message
    other = _queue(slots, "b", served)  # another account may still queue
    for holder in (running, waiting, other):
        holder.finish()
    assert served == ["a", "a", "b"]
    assert all(h.error is None for h in (running, waiting, other))


def test_the_host_wide_waiting_bound_refuses_every_account():
    slots = FairSlots(1, max_waiting_per_account=5, max_waiting=1, retry_after_s=3)
    served: list[str] = []
    running, waiting = _queue(slots, "a", served), _queue(slots, "b", served)
    with pytest.raises(CompileBusy) as busy:
        with slots.slot("c"):
            pass
    assert not busy.value.account_full
    for holder in (running, waiting):
        holder.finish()
    assert served == ["a", "b"]


def test_close_wakes_waiting_compiles_with_busy():
    slots = FairSlots(1, max_waiting_per_account=5, max_waiting=10, retry_after_s=1)
    served: list[str] = []
    running, waiting = _queue(slots, "a", served), _queue(slots, "b", served)
    slots.close()
    waiting.thread.join(timeout=10)
    assert isinstance(waiting.error, CompileBusy)
    running.finish()
    assert served == ["a"]
