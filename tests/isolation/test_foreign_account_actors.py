"""Threat: another account's functions reaching this account's types and instances."""

from tests.conftest import COUNTER_BINDINGS, LiveHost, deploy_counter, wat
from tests.isolation.actors_common import assert_victim_intact, seed_victim
from tests.isolation.containment import run_attack


def test_a_foreign_account_cannot_reach_types_or_instances(live_host: LiveHost):
    victim = deploy_counter(live_host)
    seed_victim(live_host, victim)
    key_b = live_host.admin("POST", "/accounts", json={"name": "mallory"}).json()["api_key"]
    # Same binding and type names, no owner on B: the type does not resolve to A's.
    rogue = live_host.deploy("rogue", wat("actor_caller"), COUNTER_BINDINGS, key=key_b)
    result = run_attack(live_host, lambda: live_host.call_actor(rogue["slug"], "COUNTER",
                                                                "victim", "incr"))
    assert result.attack_response.json()["name"] == "ActorUnresolvedBindingError"
    # B owning its own Counter gets B's instances, never A's.
    own = deploy_counter(live_host, key=key_b, suffix="-b")
    for _ in range(5):
        own.call(live_host, "victim", "incr")
    r = live_host.admin("GET", "/actors/Counter/instances", key=key_b)
    assert r.json()["instances"] == [{"name": "victim", "live": True}]
    result.assert_bystander_kept_answering()
    assert_victim_intact(live_host, victim)
    # A's admin view is A's alone.
    assert [t["owner"]["name"] for t in live_host.admin("GET", "/actors").json()["types"]] == \
        ["counter"]
