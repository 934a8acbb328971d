"""Issue 9, item 4: what live activations may keep, host-wide and per account.

An activation keeps its instance, and so its linear memory, between calls (up to 128 MiB a
store): one tenant's 16 names used to keep 1.9 GiB resident. Memory is a cache, so now the
host bounds what all activations keep, in bytes and in count, host-wide and per account, and
drops idle ones (least recently used first, the account's own first) when a bound is passed.
A bystander account's activations and stored state are untouched.
"""

from __future__ import annotations

import threading
import time

from tests.conftest import LiveHost, deploy_counter, wat

HOG = '[[actors]]\nbinding = "HOG"\ntype = "Hog"\n'
MIB = 1024 * 1024


def _bystander(live_host: LiveHost):
    r = live_host.admin("POST", "/accounts", json={"name": "bystander"})
    assert r.status_code == 201, r.text
    key = r.json()["api_key"]
    app = deploy_counter(live_host, key=key, suffix="-b")
    assert app.call(live_host, "kept", "incr").json() == 1
    return app


def _hogs(live_host: LiveHost) -> dict:
    live_host.deploy("hog", wat("actor_memory_hog"), HOG)
    return live_host.deploy("feeder", wat("actor_caller"), HOG)


def test_an_accounts_activations_keep_no_more_than_its_memory_budget(make_live_host):
    live_host = make_live_host(account_activation_memory_bytes=16 * MIB,
                               activation_memory_bytes=64 * MIB)
    bystander = _bystander(live_host)
    feeder = _hogs(live_host)
    directory = live_host.host.actors.directory
    attacker = live_host.host.default_account.account.account_id
    for i in range(16):  # 16 x ~4 MiB, four times the account's budget
        r = live_host.call_actor(feeder["slug"], "HOG", f"h{i}", "grow")
        assert r.status_code == 200, r.text
        assert directory.account_memory_bytes(attacker) <= 16 * MIB
    assert directory.memory_bytes <= 64 * MIB
    assert live_host.host.metrics.value("edgehost_actor_evictions_total",
                                        {"reason": "memory"}) >= 12
    # The bystander's instance was neither evicted nor changed.
    assert bystander.call(live_host, "kept", "incr").json() == 2
    assert bystander.call(live_host, "kept", "inits").json() == 1


def test_the_host_wide_budget_evicts_least_recently_used_idle_activations(make_live_host):
    live_host = make_live_host(account_activation_memory_bytes=64 * MIB,
                               activation_memory_bytes=24 * MIB)
    feeder = _hogs(live_host)
    directory = live_host.host.actors.directory
    for i in range(12):
        r = live_host.call_actor(feeder["slug"], "HOG", f"g{i}", "grow")
        assert r.status_code == 200, r.text
        assert directory.memory_bytes <= 24 * MIB
    # The most recent ones stayed; the oldest went (a new activation starts at 1 page).
    assert live_host.call_actor(feeder["slug"], "HOG", "g11", "pages").json() == 65
    assert live_host.call_actor(feeder["slug"], "HOG", "g0", "pages").json() == 1


def test_an_account_keeps_at_most_its_cap_of_live_activations(make_live_host):
    live_host = make_live_host(max_activations_per_account=4)
    bystander = _bystander(live_host)
    feeder = _hogs(live_host)
    attacker = live_host.host.default_account.account.account_id
    for i in range(10):
        r = live_host.call_actor(feeder["slug"], "HOG", f"c{i}", "pages")
        assert r.status_code == 200, r.text
        assert len(live_host.host.actors.directory.live_names(attacker, "Hog")) <= 4
    assert bystander.call(live_host, "kept", "inits").json() == 1


def test_a_new_activation_beyond_the_cap_with_all_busy_is_refused(make_live_host):
    live_host = make_live_host(max_activations_per_account=4)
    app = deploy_counter(live_host)
    spinning = [threading.Thread(target=app.call, args=(live_host, f"s{i}", "spin"))
                for i in range(4)]  # each holds its activation for the 1 s call budget
    for t in spinning:
        t.start()
    attacker = live_host.host.default_account.account.account_id
    try:
        for _ in range(200):  # until all four are live (and so busy spinning)
            if len(live_host.host.actors.directory.live_names(attacker, "Counter")) == 4:
                break
            time.sleep(0.005)
        r = app.call(live_host, "one-more", "get")
        assert r.status_code == 500, "a fifth activation was made while four were busy"
        assert r.json()["name"] == "ActorOverloadedError"
        assert "max_activations_per_account" in r.json()["message"]
    finally:
        for t in spinning:
            t.join()
    assert app.call(live_host, "one-more", "get").json() == 0  # room again once they are idle
