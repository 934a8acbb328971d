"""Threat: a guest that grows its memory without bound."""

from tests.conftest import LiveHost, wat
from tests.isolation.containment import failure_entry, host_rss_bytes, run_attack


def test_memory_bomb_gets_500_and_host_memory_stays_bounded(live_host: LiveHost, host_config):
    func = live_host.deploy("bomb", wat("memory_bomb"))
    limit = host_config.sandbox.memory_bytes
    live_host.call(func["slug"], "/")  # warm up allocator and code paths
    before = host_rss_bytes()
    for _ in range(5):
        result = run_attack(live_host, lambda: live_host.call(func["slug"], "/"))
        assert result.attack_response.status_code == 500
        result.assert_bystander_kept_answering()
    grown = host_rss_bytes() - before
    # Each bomb touched `limit` bytes; if stores leaked, five would hold 5x that.
    assert grown < 2 * limit, f"host RSS grew {grown >> 20} MiB over 5 bombs of {limit >> 20} MiB"
    entry = failure_entry(live_host, func["func_id"], result.attack_response.json()["error_id"])
    assert entry["guest_message"] == "memory bomb hit the limit"
    assert entry["outcome"] == "trap"


def test_manifest_memory_limit_lowers_the_cap(live_host: LiveHost):
    # 1 MiB = 16 pages: the echo guest cannot grow to hold a 2 MB body.
    func = live_host.deploy("small", wat("echo_input"), "[limits]\nmemory_mib = 1\n")
    ok = live_host.call(func["slug"], "/", method="POST", content=b"a" * 1000)
    assert ok.status_code == 200
    r = live_host.call(func["slug"], "/", method="POST", content=b"a" * 2_000_000)
    assert r.status_code == 500


def test_manifest_cannot_raise_memory_above_the_host_cap(live_host: LiveHost, host_config):
    func = live_host.create_function("greedy")
    cap_mib = host_config.sandbox.memory_cap_bytes >> 20
    from tests.conftest import manifest
    r = live_host.ship(func["func_id"], wat("static_ok"),
                       manifest("greedy", f"[limits]\nmemory_mib = {cap_mib + 1}\n"))
    assert r.status_code == 422
    assert any("limits.memory_mib" in d and str(cap_mib + 1) in d for d in r.json()["details"])
