"""Threat: storage keys crafted to escape their instance's key space (through a real turn).

tests/unit/test_turn_storage.py attacks the key layout directly with many more keys.
"""

from tests.conftest import LiveHost, deploy_counter
from tests.isolation.actors_common import assert_victim_intact, seed_victim
from tests.isolation.containment import run_attack


def test_crafted_keys_stay_inside_the_attackers_instance(live_host: LiveHost):
    app = deploy_counter(live_host)
    seed_victim(live_host, app)  # victim's keys: "inits", "n"
    result = run_attack(live_host, lambda: app.call(live_host, "attacker", "probe"))
    # The attacker sees exactly its own keys: 4 crafted + its "inits".
    assert result.attack_response.json() == 5, result.attack_response.text
    assert app.call(live_host, "attacker", "get").json() == 0  # no "n" leaked in
    result.assert_bystander_kept_answering()
    assert_victim_intact(live_host, app)
