"""Threat: one actor call buffering unbounded writes in host memory, outside its memory cap
(6,000 values of 128 KiB in one call cost the host 1.5 GiB of RSS and 774 MiB of disk)."""

from dataclasses import replace

from edgehost.config import MIB, StorageLimits

from tests import conftest
from tests.conftest import LiveHost, deploy_counter
from tests.isolation.actors_common import assert_victim_intact, deploy_hog, seed_victim
from tests.isolation.containment import run_attack

VALUE = 128 * 1024


def test_one_call_cannot_buffer_more_than_its_write_budget(make_live_host, tmp_path):
    config = replace(conftest.test_config(tmp_path / "data"),
                     storage=StorageLimits(turn_max_write_bytes=4 * MIB, turn_max_writes=100))
    live: LiveHost = make_live_host(config)
    victim = deploy_counter(live)
    seed_victim(live, victim)
    hog = deploy_hog(live)

    # 64 values of 128 KiB: 8 MiB, twice the budget. Each put costs its 8-byte key and its
    # value, so the 32nd (index 31) is the first over 4 MiB.
    result = run_attack(live, lambda: hog.call(live, "flood", "fill", f"[64,{VALUE},8,0]",
                                               binding="HOG"))
    assert result.attack_response.status_code == 500, result.attack_response.text
    error = result.attack_response.json()
    assert error["name"] == "ActorMethodError"
    assert error["message"].startswith("put 31 failed (status -5): ")  # LIMIT_EXCEEDED
    assert "over the limit of 4,194,304 bytes one call may buffer" in error["message"]
    # The count of writes is bounded the same way, whatever their size.
    r = hog.call(live, "flood", "fill", "[101,2,8,0]", binding="HOG")
    assert r.json()["message"].startswith("put 100 failed (status -5): one call may buffer "
                                          "at most 100 writes")
    # The failed calls stored nothing; a call within the budget still works.
    assert hog.call(live, "flood", "list", '[{"limit":1000}]', binding="HOG").json() == 0
    assert hog.call(live, "flood", "fill", f"[31,{VALUE},8,0]", binding="HOG").json() == 31
    assert hog.call(live, "flood", "list", '[{"limit":1000}]', binding="HOG").json() == 31
    result.assert_bystander_kept_answering()
    assert_victim_intact(live, victim)
