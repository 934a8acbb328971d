"""Threat: admin calls with a missing, wrong or foreign key. Nothing may change."""

import pytest

from tests.conftest import LiveHost, manifest, wat


@pytest.fixture
def two_accounts(live_host: LiveHost):
    r = live_host.admin("POST", "/accounts", json={"name": "tenant-b"})
    assert r.status_code == 201, r.text
    key_b = r.json()["api_key"]
    func_a = live_host.deploy("owned-by-a", wat("static_ok"))
    return func_a, key_b


def _state(live_host: LiveHost, func_id: str) -> dict:
    return live_host.admin("GET", f"/functions/{func_id}").json()


@pytest.mark.parametrize("key, status", [(None, 401), ("ehk_wrong", 401), ("ehk_" + "x" * 43, 401)])
def test_missing_or_wrong_key_is_401_for_every_route(live_host: LiveHost, two_accounts, key,
                                                      status):
    func_a, _ = two_accounts
    fid = func_a["func_id"]
    before = _state(live_host, fid)
    calls = [("GET", "/whoami", {}), ("GET", "/functions", {}),
             ("POST", "/functions", {"json": {"name": "intruder"}}),
             ("GET", f"/functions/{fid}", {}), ("DELETE", f"/functions/{fid}", {}),
             ("GET", f"/functions/{fid}/logs", {}),
             ("POST", "/accounts", {"json": {"name": "intruder"}})]
    for method, path, kw in calls:
        r = live_host.admin(method, path, key=key, **kw)
        assert r.status_code == status, (method, path, r.text)
    r = live_host.ship(fid, wat("wasi_import"), manifest("owned-by-a"), key=key)
    assert r.status_code == status
    assert _state(live_host, fid) == before
    assert [f["name"] for f in live_host.admin("GET", "/functions").json()["functions"]] == \
        ["owned-by-a"]


def test_another_accounts_key_cannot_see_or_change_a_function(live_host: LiveHost, two_accounts):
    func_a, key_b = two_accounts
    fid = func_a["func_id"]
    before = _state(live_host, fid)
    assert live_host.admin("GET", "/functions", key=key_b).json() == {"functions": []}
    assert live_host.admin("GET", f"/functions/{fid}", key=key_b).status_code == 403
    assert live_host.admin("GET", f"/functions/{fid}/logs", key=key_b).status_code == 403
    assert live_host.admin("DELETE", f"/functions/{fid}", key=key_b).status_code == 403
    r = live_host.ship(fid, wat("static_ok"), manifest("owned-by-a"), key=key_b)
    assert r.status_code == 403
    assert _state(live_host, fid) == before
    assert live_host.call(func_a["slug"], "/").text == "ok"


def test_only_the_admin_account_creates_accounts(live_host: LiveHost, two_accounts):
    _, key_b = two_accounts
    r = live_host.admin("POST", "/accounts", key=key_b, json={"name": "tenant-c"})
    assert r.status_code == 403


def test_function_names_are_per_account(live_host: LiveHost, two_accounts):
    func_a, key_b = two_accounts
    # B may use the same name; it is a different function at a different address
    func_b = live_host.deploy("owned-by-a", wat("echo_input"), key=key_b)
    assert func_b["func_id"] != func_a["func_id"] and func_b["slug"] != func_a["slug"]
    assert live_host.call(func_a["slug"], "/").text == "ok"
    # and the same account may not reuse a name
    r = live_host.admin("POST", "/functions", json={"name": "owned-by-a"})
    assert r.status_code == 409


def test_delete_removes_the_function_and_its_address(live_host: LiveHost, two_accounts):
    func_a, _ = two_accounts
    r = live_host.admin("DELETE", f"/functions/{func_a['func_id']}")
    assert r.status_code == 200
    assert live_host.call(func_a["slug"], "/").status_code == 404
    assert live_host.admin("GET", f"/functions/{func_a['func_id']}").status_code == 404
