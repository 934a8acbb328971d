"""Issue 10: one tenant's runaway or parked work must not stall another tenant.

Guests run as futures on the event loop, preempted at every epoch tick, and the scheduler
serves accounts by the guest time they have used, so a tenant with many runaway guests gets
one share of the core, not all of it. Waiting (in a mailbox, for a commit) holds no thread.
Before, two runaway requests held every execution slot and a bystander's hello waited for
their whole budget; and calls parked in one tenant's own mailboxes held all 64 worker
threads, stalling every other tenant while the host used no CPU.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx

from tests import conftest
from tests.conftest import LiveHost, deploy_counter, wat

RUNAWAY_BUDGET_MS = 3000


def _tenant(live_host: LiveHost, name: str) -> str:
    r = live_host.admin("POST", "/accounts", json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


def _poll(live_host: LiveHost, slug: str, stop: threading.Event) -> list[tuple[int, float]]:
    """Request the bystander in a loop; (status, seconds) of each request."""
    answers: list[tuple[int, float]] = []
    with httpx.Client(base_url=live_host.base_url, timeout=30) as client:
        while not stop.is_set():
            started = time.monotonic()
            r = client.get("/", headers={"host": f"{slug}.localhost"})
            answers.append((r.status_code, time.monotonic() - started))
    return answers


def test_a_bystander_is_served_while_another_tenant_runs_runaway_guests(live_host: LiveHost):
    attacker_key = _tenant(live_host, "attacker")
    runaway = live_host.deploy("runaway", wat("infinite_loop"),
                               f"[limits]\ntimeout_ms = {RUNAWAY_BUDGET_MS}\n", key=attacker_key)
    bystander = live_host.deploy("calm", wat("static_ok"), key=_tenant(live_host, "calm"))
    runaways = 2 * (os.cpu_count() or 2)
    stop = threading.Event()
    with ThreadPoolExecutor(runaways + 1) as pool:
        attacks = [pool.submit(live_host.call, runaway["slug"]) for _ in range(runaways)]
        time.sleep(0.3)  # the runaways are all running now
        poller = pool.submit(_poll, live_host, bystander["slug"], stop)
        time.sleep(1.5)
        stop.set()
        answers = poller.result()
        statuses = [f.result().status_code for f in attacks]
    assert statuses == [504] * runaways  # they ran their whole budget
    assert len(answers) >= 10, answers
    assert all(status == 200 for status, _ in answers), answers
    slowest = max(seconds for _, seconds in answers)
    assert slowest < 1.0, f"the bystander waited {slowest:.2f} s behind another tenant"


def test_a_bystander_is_served_while_another_tenant_parks_calls_in_its_mailboxes(
        make_live_host, tmp_path):
    # The held instance keeps its callers parked for 3 s (its call budget).
    config = conftest.test_config(tmp_path / "parking", call_timeout_ms=3000)
    live_host = make_live_host(replace(config, sandbox=replace(config.sandbox, timeout_ms=4000)))
    attacker = deploy_counter(live_host, key=_tenant(live_host, "parker"), suffix="-a")
    bystander_key = _tenant(live_host, "calm")
    bystander = deploy_counter(live_host, key=bystander_key, suffix="-b")
    hello = live_host.deploy("calm-hello", wat("static_ok"), key=bystander_key)
    assert bystander.call(live_host, "own", "incr").json() == 1
    stop = threading.Event()
    parked = 70  # more than the 64 worker threads the old model had
    with ThreadPoolExecutor(parked + 4) as pool:
        poller = pool.submit(_poll, live_host, hello["slug"], stop)
        # One instance held for its whole call budget, with callers queued behind it ...
        holder = pool.submit(attacker.call, live_host, "z", "spin")
        time.sleep(0.1)
        queued = [pool.submit(attacker.call, live_host, "z", "get") for _ in range(parked)]
        # ... and a cross-request cycle: each naps holding its instance, then calls the other.
        cycle = [pool.submit(attacker.call, live_host, "p", "naprelay", '["q"]'),
                 pool.submit(attacker.call, live_host, "q", "naprelay", '["p"]')]
        own_calls = [bystander.call(live_host, "own", "incr") for _ in range(10)]
        time.sleep(0.5)
        stop.set()
        answers = poller.result()
        assert holder.result().json()["name"] == "ActorMethodTimeoutError"
        # Queued behind it, each either got its turn or ran out its own call budget waiting.
        assert {f.result().json()["name"] if f.result().status_code == 500 else "ok"
                for f in queued} <= {"ok", "ActorMethodTimeoutError"}
        cycle_results = [f.result().json() for f in cycle]
    assert [r.json() for r in own_calls] == list(range(2, 12))
    assert all(status == 200 for status, _ in answers) and len(answers) >= 5, answers
    slowest = max(seconds for _, seconds in answers)
    assert slowest < 1.0, f"the bystander waited {slowest:.2f} s behind another tenant"
    # The cycle was broken at once, not after the 3 s call budget: one side got the error.
    assert "end" in cycle_results, cycle_results
    errors = [r for r in cycle_results if r != "end"]
    assert len(errors) == 1 and errors[0]["name"] == "ActorDeadlockError", cycle_results
