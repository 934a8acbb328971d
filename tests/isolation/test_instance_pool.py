"""Guest instances come from a bounded pool per worker (`instance_pool_slots`): memories,
tables and stacks are reserved up front, so making a store costs no mmap, and the number of
instances alive at once has a hard bound. When every slot is taken, a request gets a clear
503 (and a new activation ActorOverloadedError) instead of the host growing without end, and
the slots come back as soon as the instances holding them end."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from tests import conftest
from tests.conftest import deploy_counter, wat

SLOTS = 3


def test_a_full_instance_pool_answers_503_and_recovers(make_live_host, tmp_path):
    config = conftest.test_config(tmp_path / "pool")
    live_host = make_live_host(replace(config, sandbox=replace(config.sandbox,
                                                              instance_pool_slots=SLOTS)))
    runaway = live_host.deploy("runaway", wat("infinite_loop"), "[limits]\ntimeout_ms = 1500\n")
    calm = live_host.deploy("calm", wat("static_ok"))
    app = deploy_counter(live_host)
    spinning = [threading.Thread(target=live_host.call, args=(runaway["slug"],))
                for _ in range(SLOTS)]
    for t in spinning:
        t.start()
    try:
        deadline = time.monotonic() + 5
        while live_host.host.sandbox.stores_open < SLOTS and time.monotonic() < deadline:
            time.sleep(0.01)
        r = live_host.call(calm["slug"])
        assert r.status_code == 503, r.text
        assert r.headers["x-edgehost-error"] == "overloaded"
        assert r.headers["retry-after"]
        assert "no room for another guest instance" in r.json()["message"]
        health = live_host.client.get("/__edgehost/health")
        assert health.status_code == 200
    finally:
        for t in spinning:
            t.join()
    # The runaways ended at their budget and gave their slots back.
    assert live_host.call(calm["slug"]).text == "ok"
    assert app.call(live_host, "c", "incr").json() == 1


def test_an_activation_without_a_free_slot_evicts_an_idle_one_or_is_overloaded(
        make_live_host, tmp_path):
    config = conftest.test_config(tmp_path / "pool")
    live_host = make_live_host(replace(config, sandbox=replace(config.sandbox,
                                                              instance_pool_slots=SLOTS)))
    app = deploy_counter(live_host)
    # Two live activations and the caller's own instance take all three slots ...
    assert app.call(live_host, "a", "incr").json() == 1
    assert app.call(live_host, "b", "incr").json() == 1
    # ... so a third activation drops the least recently used idle one (memory is a cache).
    assert app.call(live_host, "c", "incr").json() == 1
    assert live_host.host.metrics.value("edgehost_actor_evictions_total",
                                        {"reason": "instance_pool"}) == 1
    assert app.call(live_host, "a", "incr").json() == 2  # re-activated from storage
    # With every other slot held by a busy guest, there is nothing to drop.
    spinning = threading.Thread(target=app.call, args=(live_host, "b", "spin"))
    spinning.start()
    try:
        deadline = time.monotonic() + 5
        while live_host.host.sandbox.scheduler.tasks < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        r = app.call(live_host, "d", "incr")
        assert r.status_code == 500, r.text
        assert r.json()["name"] == "ActorOverloadedError"
        assert "instance_pool_slots" in r.json()["message"]
    finally:
        spinning.join()
