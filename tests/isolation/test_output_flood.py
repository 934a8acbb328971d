"""Threat: a guest that writes response bytes forever."""

from tests.conftest import LiveHost, wat
from tests.isolation.containment import failure_entry, run_attack


def test_response_flood_is_capped_and_answered_500(live_host: LiveHost):
    func = live_host.deploy("flood", wat("output_flood"))
    result = run_attack(live_host, lambda: live_host.call(func["slug"], "/"))
    assert result.attack_response.status_code == 500
    assert len(result.attack_response.content) < 1000  # the flood never reached the client
    result.assert_bystander_kept_answering()
    entry = failure_entry(live_host, func["func_id"], result.attack_response.json()["error_id"])
    assert entry["outcome"] == "bad_response"
    assert any(f["import"] == "output_write" and f["status"] == -3
               for f in entry["import_faults"])
