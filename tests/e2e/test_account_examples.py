"""The account (owner) and account-readonly (reference) examples: spec section 9, for real."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import LiveHost
from tests.process_host import ProcessHost


@pytest.fixture
def bank(roomy_host: LiveHost) -> tuple[LiveHost, dict, dict]:
    return roomy_host, roomy_host.deploy_example("account"), \
        roomy_host.deploy_example("account-readonly")


def test_write_through_account_read_through_readonly(bank):
    live_host, owner, reference = bank
    r = live_host.call(owner["slug"], "/accounts/carol/deposit", "POST", json={"amount": 100})
    assert r.status_code == 200 and r.json() == {"account": "carol", "balance": 100}
    r = live_host.call(reference["slug"], "/accounts/carol/balance")
    assert r.status_code == 200
    assert r.json() == {"account": "carol", "balance": 100, "via": "READONLY->Account(shared)"}
    assert live_host.call(owner["slug"], "/accounts/carol/balance").json() == \
        {"account": "carol", "balance": 100}
    # the reference shipped no class: it owns nothing and resolves to the owner
    inspected = live_host.admin("GET", f"/functions/{reference['func_id']}").json()
    assert inspected["bindings"] == [{"binding": "READONLY", "type": "Account",
                                      "role": "reference", "resolved": True,
                                      "owner": {"func_id": owner["func_id"], "name": "account"}}]
    assert inspected["current"]["actor_classes"] == {}


def test_debit_never_overdraws_and_answers_409(bank):
    live_host, owner, _ = bank
    live_host.call(owner["slug"], "/accounts/dan/deposit", "POST", json={"amount": 10})
    r = live_host.call(owner["slug"], "/accounts/dan/debit", "POST", json={"amount": 4})
    assert r.status_code == 200 and r.json() == {"account": "dan", "ok": True, "balance": 6}
    r = live_host.call(owner["slug"], "/accounts/dan/debit", "POST", json={"amount": 7})
    assert r.status_code == 409 and r.json() == {"account": "dan", "ok": False, "balance": 6}


@pytest.mark.parametrize("body", ['{"amount":"x"}', "{}", "not json", '{"amount":-5}',
                                  '{"amount":0}', '{"amount":1.5}', ""])
def test_bad_amount_or_json_is_400_and_changes_nothing(bank, body):
    live_host, owner, _ = bank
    live_host.call(owner["slug"], "/accounts/erin/deposit", "POST", json={"amount": 5})
    for route in ("deposit", "debit"):
        r = live_host.call(owner["slug"], f"/accounts/erin/{route}", "POST", content=body)
        assert r.status_code == 400, (route, r.text)
        assert "error" in r.json()
    assert live_host.call(owner["slug"], "/accounts/erin/balance").json()["balance"] == 5


def test_health_routes(bank):
    live_host, owner, reference = bank
    for func in (owner, reference):
        for path in ("/health/liveness", "/health/readiness"):
            assert live_host.call(func["slug"], path).text == "ok"


def test_200_concurrent_debits_of_1_on_100_exactly_100_succeed(bank):
    live_host, owner, reference = bank

    def debit(name: str) -> int:
        with httpx.Client(base_url=live_host.base_url, timeout=60) as client:
            r = client.post(f"/fn/{owner['slug']}/accounts/{name}/debit", json={"amount": 1})
            return r.status_code

    for round_ in range(4):
        name = f"race{round_}"
        live_host.call(owner["slug"], f"/accounts/{name}/deposit", "POST", json={"amount": 100})
        with ThreadPoolExecutor(48) as pool:
            statuses = list(pool.map(debit, [name] * 200))
        assert statuses.count(200) == 100 and statuses.count(409) == 100, \
            sorted(set(statuses))
        r = live_host.call(reference["slug"], f"/accounts/{name}/balance")
        assert r.json()["balance"] == 0


def test_acknowledged_deposits_survive_kill_9(tmp_path):
    from tests.conftest import example_bundle
    key = "ehk_account_kill_test"
    data = tmp_path / "data"
    host = ProcessHost(data, key).start()
    slugs = {}
    with host.client() as c:
        for name in ("account", "account-readonly"):
            module, manifest_text = example_bundle(name)
            func = c.post("/__edgehost/v1/functions", json={"name": name}).json()
            r = c.post(f"/__edgehost/v1/functions/{func['func_id']}/revisions",
                       files={"module": ("m.wasm", module), "manifest": ("t.toml", manifest_text)})
            assert r.status_code == 201, r.text
            slugs[name] = func["slug"]
    acknowledged = 0
    try:
        for round_ in range(3):
            with httpx.Client(base_url=host.base_url, timeout=30) as c:
                for _ in range(25):
                    r = c.post(f"/fn/{slugs['account']}/accounts/frank/deposit",
                               json={"amount": 2})
                    assert r.status_code == 200
                    acknowledged = r.json()["balance"]
            host.kill9()
            host = ProcessHost(data, key).start()
            with httpx.Client(base_url=host.base_url, timeout=30) as c:
                r = c.get(f"/fn/{slugs['account-readonly']}/accounts/frank/balance")
                assert r.json()["balance"] == acknowledged == 50 * (round_ + 1)
    finally:
        host.stop()
