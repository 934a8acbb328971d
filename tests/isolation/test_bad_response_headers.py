"""Threat: response header names and values HTTP does not allow.

A name with a space, a colon or a non-token byte, or a value with a control character, would
either be refused by the server mid-response (no answer at all, a traceback in the host log,
nothing in the function's log) or reach the wire as something a client or proxy parses
differently. The host refuses such a response as malformed: 500 with an error id, and the
function's log names the header, the bad text and the rule."""

from __future__ import annotations

import pytest

from tests.conftest import LiveHost, deploy_counter, wat
from tests.isolation.actors_common import assert_victim_intact, seed_victim
from tests.isolation.containment import failure_entry, run_attack
from tests.isolation.scripted import KeepAliveConnection, deploy_scripted

GOOD = ("content-type", "text/plain")
TOKEN_RULE = "RFC 9110 token"
VALUE_RULE = "RFC 9110 field-value"

BAD_HEADERS = [
    pytest.param(("bad name", "1"), "name", "'bad name'", TOKEN_RULE, id="space-in-name"),
    pytest.param(("x:y", "1"), "name", "'x:y'", TOKEN_RULE, id="colon-in-name"),
    pytest.param(("", "1"), "name", "''", TOKEN_RULE, id="empty-name"),
    pytest.param(("x-tab\t", "1"), "name", "'x-tab\\t'", TOKEN_RULE, id="tab-in-name"),
    pytest.param(("(x)", "1"), "name", "'(x)'", TOKEN_RULE, id="delimiter-in-name"),
    pytest.param(("na\u00efve", "1"), "name", "'na\u00efve'", TOKEN_RULE, id="non-ascii-name"),
    pytest.param(("x-v", "a\x01b"), "value", "'a\\x01b'", VALUE_RULE, id="ctl-in-value"),
    pytest.param(("x-v", "a\x7fb"), "value", "'a\\x7fb'", VALUE_RULE, id="del-in-value"),
    pytest.param(("x-v", "\x1b[31m"), "value", "'\\x1b[31m'", VALUE_RULE, id="esc-in-value"),
    pytest.param(("x-v", "a\rb"), "value", "'a\\rb'", VALUE_RULE, id="cr-in-value"),
    pytest.param(("x-v", "a\nInjected: 1"), "value", "'a\\nInjected: 1'", VALUE_RULE,
                 id="lf-in-value"),
    pytest.param(("x-v", "a\x00b"), "value", "'a\\x00b'", VALUE_RULE, id="nul-in-value"),
    pytest.param(("x-v", "x" * 1000 + "\x01"), "value", "'" + "x" * 64 + "'", VALUE_RULE,
                 id="long-value-truncated"),
]


@pytest.mark.parametrize("bad, part, shown, rule", BAD_HEADERS)
def test_a_bad_header_is_a_malformed_response(live_host: LiveHost, bad, part, shown, rule):
    victim = deploy_counter(live_host)
    seed_victim(live_host, victim)
    bystander = live_host.deploy("bystander-conn", wat("static_ok"))
    func = deploy_scripted(live_host, "badheader", 200, [GOOD, bad], b"body")
    result = run_attack(live_host, lambda: live_host.call(func["slug"], "/"))
    r = result.attack_response
    assert r.status_code == 500 and r.headers["x-edgehost-error"] == "function_failed"
    entry = failure_entry(live_host, func["func_id"], r.json()["error_id"])
    assert entry["outcome"] == "bad_response"
    detail = entry["detail"]
    assert f"header 1 {part}" in detail and shown in detail and rule in detail, detail
    assert len(detail) < 400, "the bad value is shown truncated"
    # On a shared keep-alive connection the next request, another function's, is answered.
    with KeepAliveConnection(live_host.port) as conn:
        conn.send(conn.encode("GET", "/", f"{func['slug']}.localhost"),
                  conn.encode("GET", "/", f"{bystander['slug']}.localhost"))
        assert conn.read_response("GET").status == 500
        answer = conn.read_response("GET")
        assert (answer.status, answer.body) == (200, b"ok")
    result.assert_bystander_kept_answering()
    assert_victim_intact(live_host, victim)


def test_headers_http_allows_go_out_unchanged(live_host: LiveHost):
    # HTAB and obs-text are allowed in a field value; a guest's UTF-8 goes out byte for byte.
    func = deploy_scripted(live_host, "goodheaders", 200, [
        GOOD, ("X-Mixed-Case", "v"), ("x-tab", "a\tb"), ("x-utf8", "caf\u00e9 \u20ac"),
        ("x-empty", ""), ("x-token-chars", "ok"), ("!#$%&'*+-.^_`|~09az", "all tchars")],
        b"fine")
    with KeepAliveConnection(live_host.port) as conn:
        conn.send(conn.encode("GET", "/", f"{func['slug']}.localhost"))
        response = conn.read_response("GET")
    assert (response.status, response.body) == (200, b"fine")
    raw = {name: value.encode("latin-1") for name, value in response.headers}
    assert raw["x-mixed-case"] == b"v"
    assert raw["x-tab"] == b"a\tb"
    assert raw["x-utf8"] == "caf\u00e9 \u20ac".encode()
    assert raw["x-empty"] == b""
    assert raw["!#$%&'*+-.^_`|~09az"] == b"all tchars"
