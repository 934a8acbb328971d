"""Threat: a guest answering as the host, or setting cookies that reach other tenants.

The host marks its own answers with `x-edgehost-error` (README, "Status codes a client
sees"); a guest that could send that header could pass off any body, error ids included, as
the host's. A `Set-Cookie` with `Domain=` the shared base domain reaches every tenant's
function and the host's own routes."""

from __future__ import annotations

import json

from tests.conftest import LiveHost, deploy_counter, wat
from tests.isolation.actors_common import assert_victim_intact, seed_victim
from tests.isolation.containment import run_attack
from tests.isolation.scripted import KeepAliveConnection, deploy_scripted, ship_scripted


def test_a_guest_cannot_send_headers_in_the_hosts_namespace(live_host: LiveHost):
    victim = deploy_counter(live_host)
    seed_victim(live_host, victim)
    fake = json.dumps({"error": "function_failed", "message": "the function failed",
                       "error_id": "forged-0123"}).encode()
    impostor = deploy_scripted(live_host, "impostor", 500, [
        ("x-edgehost-error", "function_failed"), ("X-Edgehost-Error", "not_found"),
        ("X-EDGEHOST-Request-Id", "1"), ("x-edgehost-", "empty suffix"),
        ("content-type", "application/json"), ("x-edgehostile", "not the namespace")], fake)
    result = run_attack(live_host, lambda: live_host.call(impostor["slug"], "/"))
    r = result.attack_response
    # The guest's own answer goes out, without a single header of the host's namespace, so a
    # client can tell it from the host's even though the body claims an error id.
    assert (r.status_code, r.content) == (500, fake)
    assert [k for k in r.headers if k.startswith("x-edgehost-")] == []
    assert r.headers["x-edgehostile"] == "not the namespace"
    assert r.headers["content-type"] == "application/json"
    # The same through the path form, on the host's own address.
    r = live_host.client.get(f"/fn/{impostor['slug']}/")
    assert r.status_code == 500 and not [k for k in r.headers if k.startswith("x-edgehost-")]
    # The host's own answers still carry the mark.
    r = live_host.call("nobody-0000000000", "/")
    assert (r.status_code, r.headers["x-edgehost-error"]) == (404, "not_found")
    result.assert_bystander_kept_answering()
    assert_victim_intact(live_host, victim)


def test_a_guest_cannot_set_cookies_for_the_shared_domain(live_host: LiveHost):
    victim_key = live_host.admin("POST", "/accounts", json={"name": "victim"}).json()["api_key"]
    neighbour = live_host.deploy("neighbour", wat("static_ok"), key=victim_key)
    victim = deploy_counter(live_host, key=victim_key)
    seed_victim(live_host, victim)
    baker = live_host.create_function("baker")
    own = f"{baker['slug']}.localhost"
    sent_and_kept = [
        ("shared=1; Domain=localhost; Path=/", "shared=1; Path=/"),
        ("dotted=1; domain=.LOCALHOST", "dotted=1"),
        ("spaced=1;  DOMAIN = localhost ;Path=/", "spaced=1;Path=/"),
        (f"neighbour=1; Path=/; Domain={neighbour['slug']}.localhost; HttpOnly",
         "neighbour=1; Path=/; HttpOnly"),
        (f"lookalike=1; Domain=x{own}", "lookalike=1"),
        ("empty=1; Domain=", "empty=1"),
        (f"last=1; Domain={own}; Domain=localhost", f"last=1; Domain={own}"),
        (f"own=1; Domain={own}; Secure", f"own=1; Domain={own}; Secure"),
        (f"owndot=1; Domain=.{own.upper()}", f"owndot=1; Domain=.{own.upper()}"),
        ("hostonly=1; Path=/; Secure; SameSite=Lax", "hostonly=1; Path=/; Secure; SameSite=Lax"),
        ("trick=Domain=localhost", "trick=Domain=localhost"),  # a value, not an attribute
    ]
    ship_scripted(live_host, baker, 200,
                  [("set-cookie", sent) for sent, _ in sent_and_kept] + [("x-other", "kept")],
                  b"cookies")
    expected = [kept for _, kept in sent_and_kept]

    result = run_attack(live_host, lambda: live_host.call(baker["slug"], "/"))
    r = result.attack_response
    assert r.status_code == 200 and r.headers["x-other"] == "kept"
    assert r.headers.get_list("set-cookie") == expected
    # The path form has no address of its own: the same rule, whatever the Host header says.
    with KeepAliveConnection(live_host.port) as conn:
        conn.send(conn.encode("GET", f"/fn/{baker['slug']}/", "localhost"))
        assert conn.read_response("GET").values("set-cookie") == expected
    result.assert_bystander_kept_answering()
    assert live_host.call(neighbour["slug"], "/").text == "ok"
    assert_victim_intact(live_host, victim)
