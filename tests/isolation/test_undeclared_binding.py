"""Threat: a guest calling a binding its own manifest does not declare."""

from tests.conftest import LiveHost, deploy_counter, wat
from tests.isolation.actors_common import assert_victim_intact, seed_victim
from tests.isolation.containment import run_attack


def test_a_binding_not_in_the_callers_manifest_is_refused(live_host: LiveHost):
    victim = deploy_counter(live_host)
    seed_victim(live_host, victim)
    # This function declares no bindings at all, but knows the type and binding names.
    rogue = live_host.deploy("rogue", wat("actor_caller"))
    result = run_attack(live_host, lambda: live_host.call_actor(rogue["slug"], "COUNTER",
                                                                "victim", "incr"))
    assert result.attack_response.status_code == 400  # NOT_PERMITTED: no [[actors]] at all
    assert "declares no [[actors]]" in result.attack_response.text
    # One that declares other bindings gets ActorUnknownBindingError for this one.
    rogue2 = live_host.deploy("rogue2", wat("actor_caller"),
                              '[[actors]]\nbinding = "OTHER"\ntype = "Other"\n')
    r = live_host.call_actor(rogue2["slug"], "COUNTER", "victim", "incr")
    assert r.json()["name"] == "ActorUnknownBindingError"
    result.assert_bystander_kept_answering()
    assert_victim_intact(live_host, victim)
