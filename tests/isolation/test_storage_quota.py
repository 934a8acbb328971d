"""Threat: one account filling the host's disk with actor storage, at the expense of every other
account on the host. Each account has a quota of bytes and keys, checked at commit."""

import threading
from dataclasses import replace

from edgehost.config import MIB, StorageLimits

from tests import conftest
from tests.conftest import LiveHost, deploy_counter
from tests.isolation.actors_common import assert_victim_intact, deploy_hog, seed_victim
from tests.isolation.containment import run_attack

VALUE = 128 * 1024
ENTRY = 8 + VALUE  # what one key of the hog's fill counts: its 8-byte key and its value


def test_an_account_cannot_store_past_its_quota(make_live_host, tmp_path):
    config = replace(conftest.test_config(tmp_path / "data"),
                     storage=StorageLimits(account_max_bytes=1 * MIB, account_max_keys=500))
    live: LiveHost = make_live_host(config)
    victim = deploy_counter(live)  # the bystander tenant: the default account
    seed_victim(live, victim)
    key_b = live.admin("POST", "/accounts", json={"name": "hoarder"}).json()["api_key"]
    hog = deploy_hog(live, key=key_b)

    def fill(name: str, args: str):
        return hog.call(live, name, "fill", args, binding="HOG")

    assert fill("hoard", f"[7,{VALUE},8,0]").json() == 7  # 7 x 128 KiB: under 1 MiB
    # Over-quota calls from the hoarder, while the victim's account keeps writing beside them
    # (their turns share the group commit's transactions).
    victim_answers: list[int] = []

    def victim_writes() -> None:
        for _ in range(20):
            victim_answers.append(victim.call(live, "victim", "incr").status_code)

    writer = threading.Thread(target=victim_writes)

    def attack():
        writer.start()
        answers = [fill(f"hoard{i % 3}", f"[2,{VALUE},8,{100 + i * 2}]") for i in range(12)]
        writer.join(60)
        return answers[0]

    result = run_attack(live, attack)
    assert result.attack_response.status_code == 500, result.attack_response.text
    error = result.attack_response.json()
    assert error["name"] == "StorageQuotaError"
    used = 7 * ENTRY
    assert f"it uses {used:,}, the call adds {2 * ENTRY:,}" in error["message"]
    assert "the account's quota is 1,048,576 bytes" in error["message"]
    # Nothing of a refused call was stored: the hoarder has exactly what it had.
    assert live.admin("GET", "/storage", key=key_b).json() == {
        "account_id": live.admin("GET", "/whoami", key=key_b).json()["account_id"],
        "used": {"bytes": used, "keys": 7}, "quota": {"bytes": 1 * MIB, "keys": 500}}
    for name in ("hoard0", "hoard1", "hoard2"):
        assert hog.call(live, name, "list", '[{"limit":1000}]', binding="HOG").json() == 0
    # A call that fits what is left still commits; the key quota counts keys too.
    assert fill("hoard", "[1,1000,8,7]").json() == 1
    r = fill("hoard", "[600,2,8,1000]")
    assert r.json()["name"] == "StorageQuotaError" and "quota is 500 keys" in r.json()["message"]
    # Deleting makes room again.
    assert hog.call(live, "hoard", "delete_all", "[]", binding="HOG").status_code == 200
    assert live.admin("GET", "/storage", key=key_b).json()["used"] == {"bytes": 0, "keys": 0}
    assert fill("hoard", f"[7,{VALUE},8,0]").json() == 7

    # The other account was never held back, and its usage is its own.
    assert victim_answers == [200] * 20
    result.assert_bystander_kept_answering()
    assert_victim_intact(live, victim, n=3 + 20)
    mine = live.admin("GET", "/storage").json()
    assert mine["used"] == {"keys": 2, "bytes": len(b"n23") + len(b"inits1")}  # n = 23 by now
