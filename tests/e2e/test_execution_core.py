"""Issue 10: budgets that span a call chain, cancellation that leaves nothing behind, and the
output gate (turns run back to back; a reply waits for the disk, and a failed commit fails
every turn that saw its writes)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import COUNTER_BINDINGS, LiveHost, deploy_counter, wat


def _caller_with_budget(live_host: LiveHost, budget_ms: int) -> dict:
    return live_host.deploy("impatient", wat("actor_caller"),
                            f"{COUNTER_BINDINGS}[limits]\ntimeout_ms = {budget_ms}\n")


def test_a_1_s_function_waiting_on_a_slow_actor_chain_answers_504_at_1_s(roomy_host: LiveHost):
    live_host = roomy_host  # actor calls may take 30 s: only the function's budget can stop it
    app = deploy_counter(live_host)
    impatient = _caller_with_budget(live_host, 1000)
    with ThreadPoolExecutor(1) as pool:
        # b is held by another request's 30 s spin; the chain impatient -> a -> b waits on it.
        pool.submit(app.call, live_host, "b", "spin")
        time.sleep(0.2)
        started = time.monotonic()
        r = live_host.call_actor(impatient["slug"], "COUNTER", "a", "naprelay", '["b"]')
        elapsed = time.monotonic() - started
        assert r.status_code == 504, r.text
        assert r.headers["x-edgehost-error"] == "timeout"
        assert 0.9 <= elapsed < 2.5, f"answered after {elapsed:.2f} s"
        # a's turn was dropped at the same deadline and its mailbox passed on.
        assert app.call(live_host, "a", "get").json() == 0


def test_a_guest_cancelled_at_its_budget_leaves_no_task_store_thread_or_token(
        live_host: LiveHost):
    app = deploy_counter(live_host)
    impatient = _caller_with_budget(live_host, 500)
    assert app.call(live_host, "held", "incr").json() == 1  # activated: it keeps one store
    sandbox = live_host.host.sandbox
    directory = live_host.host.actors.directory
    threads_before = threading.active_count()
    stores_before = sandbox.stores_open
    for _ in range(5):
        r = live_host.call_actor(impatient["slug"], "COUNTER", "held", "spin")
        assert r.status_code == 504, r.text
    # The dropped runs are finished off on the host's loop: the task first, then (one loop
    # iteration later, by the code that awaited it) the dropped activation's store.
    for _ in range(100):
        if sandbox.scheduler.tasks == 0 and sandbox.stores_open == stores_before - 1:
            break
        time.sleep(0.01)
    assert sandbox.scheduler.tasks == 0
    assert len(live_host.host.actors._waits) == 0
    # "held" was dropped at the deadline (its run stopped mid-instruction): its store is
    # closed and nothing else was left open; the next call re-activates it from disk.
    assert sandbox.stores_open == stores_before - 1 == len(directory)
    assert threading.active_count() <= threads_before  # (the admin warm-up timer may end)
    started = time.monotonic()
    assert app.call(live_host, "held", "incr").json() == 2  # the token was passed on
    assert time.monotonic() - started < 0.5
    assert app.call(live_host, "held", "inits").json() == 1 + 5  # re-activated after each drop


def test_a_failed_commit_fails_every_turn_that_saw_its_writes(live_host: LiveHost):
    app = deploy_counter(live_host)
    assert app.call(live_host, "g", "incr").json() == 1
    env = live_host.host.env
    real_write = env.write
    failing = threading.Event()

    def write(fn):
        if failing.is_set():
            raise OSError(28, "injected: no space left on device")
        return real_write(fn)

    env.write = write
    try:
        failing.set()
        with ThreadPoolExecutor(20) as pool:
            responses = list(pool.map(lambda _: app.call(live_host, "g", "incr"), range(20)))
        failing.clear()
    finally:
        env.write = real_write
    errors = [r.json() for r in responses]
    assert all(r.status_code == 500 for r in responses), errors
    assert {e["name"] for e in errors} == {"ActorOutputGateError"}, errors
    assert all("injected: no space left on device" in e["message"] for e in errors), errors[:2]
    # Storage is as it was, and the instance restarted from it (memory never ran ahead).
    assert app.call(live_host, "g", "get").json() == 1
    assert app.call(live_host, "g", "incr").json() == 2
    assert app.call(live_host, "g", "inits").json() >= 2
    assert live_host.host.metrics.value("edgehost_storage_commit_failures_total") >= 1


def test_turns_of_one_actor_run_while_the_previous_ones_wait_for_the_disk(
        roomy_host: LiveHost):
    """Pipelined turns: the next turn starts when the previous one's writes are handed to
    the committer, not after its fsync, so one fsync carries many turns of a hot actor. With
    every commit made 20 ms slow, 400 increments would take 8 s one fsync each."""
    live_host = roomy_host
    app = deploy_counter(live_host)
    assert app.call(live_host, "hot", "incr").json() == 1
    env = live_host.host.env
    real_write = env.write

    def slow_write(fn):
        time.sleep(0.02)  # a slow disk
        return real_write(fn)

    metrics = live_host.host.metrics
    commits = metrics.value("edgehost_storage_commits_total")
    turns = metrics.value("edgehost_storage_committed_turns_total")
    env.write = slow_write
    try:
        with ThreadPoolExecutor(32) as pool:
            values = list(pool.map(lambda _: app.call(live_host, "hot", "incr").json(),
                                   range(400)))
    finally:
        env.write = real_write
    assert sorted(values) == list(range(2, 402))  # and each reply came after its fsync
    new_commits = metrics.value("edgehost_storage_commits_total") - commits
    new_turns = metrics.value("edgehost_storage_committed_turns_total") - turns
    assert new_turns == 400
    assert new_commits <= new_turns / 4, f"{new_turns} turns took {new_commits} fsyncs"
