"""Threat: a turn that writes and then traps, hoping to leave a partial write behind."""

from tests.conftest import LiveHost, deploy_counter
from tests.isolation.actors_common import assert_victim_intact, seed_victim
from tests.isolation.containment import run_attack


def test_a_trap_after_writing_commits_nothing(live_host: LiveHost):
    app = deploy_counter(live_host)
    seed_victim(live_host, app)
    result = run_attack(live_host, lambda: app.call(live_host, "victim", "trap_after_write"))
    assert result.attack_response.json()["name"] == "ActorMethodError"
    result.assert_bystander_kept_answering()
    assert_victim_intact(live_host, app)  # the 999 it wrote never landed
