"""Threat: unbounded recursion."""

from tests.conftest import LiveHost, wat
from tests.isolation.containment import failure_entry, run_attack


def test_unbounded_recursion_is_a_500_with_an_error_id_and_details_only_in_the_log(
        live_host: LiveHost):
    func = live_host.deploy("recurse", wat("recursion"))
    result = run_attack(live_host, lambda: live_host.call(func["slug"], "/"))
    response = result.attack_response
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "function_failed" and body["error_id"].startswith("err_")
    assert "stack" not in response.text.lower(), "trap detail leaked to the client"
    result.assert_bystander_kept_answering()
    entry = failure_entry(live_host, func["func_id"], body["error_id"])
    assert entry["detail"].startswith("stack_overflow")
    # the function still serves its next request (fresh instance per request)
    assert live_host.call(func["slug"], "/").status_code == 500
