"""Threat: a guest that floods its log. The quota holds and the host keeps serving."""

from tests.conftest import LiveHost, wat
from tests.isolation.containment import function_log, run_attack


def test_log_flood_is_capped_per_request(live_host: LiveHost, host_config):
    func = live_host.deploy("chatty", wat("log_flood"))
    result = run_attack(live_host, lambda: live_host.call(func["slug"], "/"))
    assert result.attack_response.status_code == 200 and result.attack_response.text == "ok"
    result.assert_bystander_kept_answering()
    entries = function_log(live_host, func["func_id"])
    guest_lines = [e for e in entries if e["message"].startswith("flooding")]
    assert len(guest_lines) == host_config.sandbox.max_log_lines
    dropped = [e for e in entries if "dropped" in e["message"]]
    assert dropped and str(20_000 - host_config.sandbox.max_log_lines) in dropped[0]["message"]


def test_function_log_file_stays_bounded(live_host: LiveHost, host_config):
    func = live_host.deploy("chatty", wat("log_flood"))
    for _ in range(120):  # ~120 x 256 lines of ~120 bytes: well past the 1 MiB cap
        assert live_host.call(func["slug"], "/").status_code == 200
    logs = host_config.data_dir / "logs"
    sizes = [p.stat().st_size for p in logs.glob(f"{func['func_id']}.jsonl*")]
    assert sizes and all(size <= host_config.function_log_max_bytes for size in sizes)
    assert len(sizes) <= 2  # the live file and one rotated file
