"""Threats from inside an actor turn: bad pointers to storage imports, runaway methods."""

from tests.conftest import LiveHost, deploy_counter, wat
from tests.isolation.containment import run_attack
from tests.isolation.test_bad_pointers import POINTER_IMPORTS, RANGES_PER_IMPORT

PROBER = '[[actors]]\nbinding = "PROBER"\ntype = "Prober"\n'


def test_bad_pointers_inside_a_turn_get_out_of_bounds_for_every_import(live_host: LiveHost):
    live_host.deploy("prober", wat("actor_bad_pointers"), PROBER)
    caller = live_host.deploy("client", wat("actor_caller"), PROBER)
    result = run_attack(live_host,
                        lambda: live_host.call_actor(caller["slug"], "PROBER", "p", "attack"))
    response = result.attack_response
    assert response.status_code == 200, response.text
    assert response.json() == [-2] * (len(POINTER_IMPORTS) * RANGES_PER_IMPORT)
    result.assert_bystander_kept_answering()


def test_a_runaway_actor_method_is_stopped_and_other_names_keep_working(live_host: LiveHost):
    app = deploy_counter(live_host)
    app.call(live_host, "calm", "incr")
    result = run_attack(live_host, lambda: app.call(live_host, "wild", "spin"))
    assert result.attack_response.json()["name"] == "ActorMethodTimeoutError"
    result.assert_bystander_kept_answering()
    assert app.call(live_host, "calm", "incr").json() == 2
