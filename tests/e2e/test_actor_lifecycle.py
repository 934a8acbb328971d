"""Activations come and go (memory is a cache); storage and ownership rules hold throughout."""

from __future__ import annotations

import re
import time

from tests.conftest import COUNTER_BINDINGS, LiveHost, deploy_counter, manifest, wat


def _metric(live_host: LiveHost, name: str, labels: str) -> float:
    text = live_host.client.get("/__edgehost/metrics").text
    m = re.search(rf"^{name}\{{{labels}\}} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def test_new_owner_revision_replaces_activations_and_keeps_storage(live_host: LiveHost):
    app = deploy_counter(live_host)
    for _ in range(5):
        app.call(live_host, "r", "incr")
    assert app.call(live_host, "r", "inits").json() == 1
    r = live_host.ship(app.owner["func_id"], wat("actor_counter"),
                       manifest("counter", COUNTER_BINDINGS + "[env_vars]\nREV = \"2\"\n"))
    assert r.status_code == 201 and r.json()["revision"] == 2
    assert app.call(live_host, "r", "get").json() == 5
    assert app.call(live_host, "r", "inits").json() == 2, "the old activation was reused"


def test_idle_activations_are_evicted(make_live_host):
    live_host = make_live_host(idle_eviction_s=0.2)
    app = deploy_counter(live_host)
    app.call(live_host, "idle", "incr")
    time.sleep(1.0)
    assert _metric(live_host, "edgehost_actor_evictions_total", 'reason="idle"') >= 1
    assert app.call(live_host, "idle", "get").json() == 1
    assert app.call(live_host, "idle", "inits").json() == 2


def test_live_activations_are_capped_least_recently_used_first(make_live_host):
    live_host = make_live_host(max_activations=3)
    app = deploy_counter(live_host)
    for name in ("n1", "n2", "n3", "n4", "n5"):
        app.call(live_host, name, "incr")
    assert _metric(live_host, "edgehost_actor_evictions_total", 'reason="lru"') >= 2
    # n1 was least recently used: it was evicted, and comes back with its storage
    assert app.call(live_host, "n1", "get").json() == 1
    assert app.call(live_host, "n1", "inits").json() == 2
    assert app.call(live_host, "n5", "inits").json() == 1


def test_a_second_owner_of_a_type_is_refused_naming_the_current_owner(live_host: LiveHost):
    app = deploy_counter(live_host)
    rival = live_host.create_function("rival")
    r = live_host.ship(rival["func_id"], wat("actor_counter"), manifest("rival", COUNTER_BINDINGS))
    assert r.status_code == 422
    detail = " ".join(r.json()["details"])
    assert "'Counter'" in detail and "counter" in detail and app.owner["func_id"] in detail
    # nothing changed: the owner still serves its instances
    assert app.call(live_host, "x", "incr").json() == 1


def test_a_reference_without_an_owner_ships_with_a_warning_and_resolves_later(
        live_host: LiveHost):
    caller = live_host.create_function("early")
    r = live_host.ship(caller["func_id"], wat("actor_caller"), manifest("early", COUNTER_BINDINGS))
    assert r.status_code == 201
    assert any("no owner" in w and "Counter" in w for w in r.json()["warnings"])
    inspected = live_host.admin("GET", f"/functions/{caller['func_id']}").json()
    assert {(b["binding"], b["role"], b["resolved"]) for b in inspected["bindings"]} == \
        {("COUNTER", "reference", False), ("PEER", "reference", False)}
    r = live_host.call_actor(caller["slug"], "COUNTER", "x", "incr")
    assert r.json()["name"] == "ActorUnresolvedBindingError"
    owner = live_host.deploy("counter", wat("actor_counter"), COUNTER_BINDINGS)
    assert live_host.call_actor(caller["slug"], "COUNTER", "x", "incr").json() == 1
    inspected = live_host.admin("GET", f"/functions/{caller['func_id']}").json()
    assert all(b["resolved"] and b["owner"]["func_id"] == owner["func_id"]
               for b in inspected["bindings"])
    owner_view = live_host.admin("GET", f"/functions/{owner['func_id']}").json()
    assert {b["role"] for b in owner_view["bindings"]} == {"owner"}


def test_deleting_the_owner_unresolves_the_type(live_host: LiveHost):
    app = deploy_counter(live_host)
    app.call(live_host, "d", "incr")
    assert live_host.admin("DELETE", f"/functions/{app.owner['func_id']}").status_code == 200
    assert app.call(live_host, "d", "get").json()["name"] == "ActorUnresolvedBindingError"


def test_an_owner_revision_without_the_class_unresolves_the_type_then_a_new_owner_resolves_it(
        live_host: LiveHost):
    app = deploy_counter(live_host)
    app.call(live_host, "v", "incr")  # the caller has found the owner (the host may cache it)
    # the owner's next revision ships no class: it becomes a reference to its own type
    r = live_host.ship(app.owner["func_id"], wat("actor_caller"),
                       manifest("counter", COUNTER_BINDINGS))
    assert r.status_code == 201, r.text
    assert app.call(live_host, "v", "get").json()["name"] == "ActorUnresolvedBindingError"
    # another function that ships the class owns it now, and the stored count is still there
    live_host.deploy("counter-next", wat("actor_counter"), COUNTER_BINDINGS)
    assert app.call(live_host, "v", "get").json() == 1


def test_another_accounts_functions_never_reach_this_accounts_instances(live_host: LiveHost):
    app_a = deploy_counter(live_host)
    for _ in range(3):
        app_a.call(live_host, "shared-name", "incr")
    key_b = live_host.admin("POST", "/accounts", json={"name": "tenant-b"}).json()["api_key"]
    # B's reference to "Counter" finds no owner on B, never A's
    lone = live_host.deploy("lone", wat("actor_caller"), COUNTER_BINDINGS, key=key_b)
    r = live_host.call_actor(lone["slug"], "COUNTER", "shared-name", "get")
    assert r.json()["name"] == "ActorUnresolvedBindingError"
    # B may own its own "Counter": an unrelated type with unrelated instances
    app_b = deploy_counter(live_host, key=key_b, suffix="-b")
    assert app_b.call(live_host, "shared-name", "get").json() == 0
    app_b.call(live_host, "shared-name", "incr")
    assert app_a.call(live_host, "shared-name", "get").json() == 3
