"""Threat: a guest that never stops computing, in fetch or in its start function."""

from tests.conftest import LiveHost, wat
from tests.isolation.containment import failure_entry, run_attack


def test_infinite_loop_in_fetch_is_stopped_with_504_within_the_budget(live_host: LiveHost,
                                                                       host_config):
    func = live_host.deploy("spinner", wat("infinite_loop"))
    result = run_attack(live_host, lambda: live_host.call(func["slug"], "/"))
    assert result.attack_response.status_code == 504
    budget_s = host_config.sandbox.timeout_ms / 1000
    assert result.attack_seconds < budget_s + 2, "the loop outlived its budget"
    result.assert_bystander_kept_answering()
    body = result.attack_response.json()
    entry = failure_entry(live_host, func["func_id"], body["error_id"])
    assert entry["outcome"] == "timeout"


def test_start_function_that_loops_is_stopped_at_instantiation(live_host: LiveHost,
                                                              host_config):
    func = live_host.deploy("startloop", wat("start_loop"))
    result = run_attack(live_host, lambda: live_host.call(func["slug"], "/"))
    assert result.attack_response.status_code == 504
    assert result.attack_seconds < host_config.sandbox.timeout_ms / 1000 + 2
    result.assert_bystander_kept_answering()


def test_manifest_may_shorten_the_budget(live_host: LiveHost):
    func = live_host.deploy("quick", wat("infinite_loop"), "[limits]\ntimeout_ms = 300\n")
    result = run_attack(live_host, lambda: live_host.call(func["slug"], "/"))
    assert result.attack_response.status_code == 504
    assert result.attack_seconds < 1.5
