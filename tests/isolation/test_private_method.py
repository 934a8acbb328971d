"""Threat: calling methods that are not public (names starting with "_"), or not there."""

from tests.conftest import LiveHost, deploy_counter
from tests.isolation.actors_common import assert_victim_intact, seed_victim
from tests.isolation.containment import run_attack


def test_private_and_unknown_methods_never_run(live_host: LiveHost):
    victim = deploy_counter(live_host)
    seed_victim(live_host, victim)
    result = run_attack(live_host, lambda: victim.call(live_host, "victim", "_incr"))
    assert result.attack_response.json()["name"] == "ActorPrivateMethodError"
    for method in ("__proto__", "constructor", "edgehost_actor_call", "incr\x00"):
        r = victim.call(live_host, "victim", method)
        assert r.json()["name"] in ("ActorPrivateMethodError", "ActorUnknownMethodError"), method
    result.assert_bystander_kept_answering()
    assert_victim_intact(live_host, victim)
