"""Threat: a guest answer that puts a shared keep-alive connection out of step.

A client reads no body after a 1xx, 204 or 304 status or after any response to HEAD
(RFC 9112 section 6.3), so body bytes sent there are read as the response to the NEXT request
on the connection, which a reverse proxy pooling connections may have sent for another tenant
or for the admin API. Every guest body below is itself a complete forged response."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import LiveHost, deploy_counter, wat
from tests.isolation.actors_common import assert_victim_intact, seed_victim
from tests.isolation.containment import failure_entry, run_attack
from tests.isolation.scripted import KeepAliveConnection, RawResponse, deploy_scripted

FORGED = (b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 6\r\n\r\nforged")


@dataclass
class Exchange:
    method: str
    target: str
    host: str
    extra_headers: str
    expect_status: int
    expect_body: bytes | None = None  # None: not compared (JSON checked by the caller)
    expect_headers: tuple[tuple[str, str], ...] = ()
    expect_no_content_length: bool = False

    def check(self, got: RawResponse) -> None:
        where = f"{self.method} {self.host}{self.target}"
        assert got.status == self.expect_status, (where, got)
        if self.expect_body is not None:
            assert got.body == self.expect_body, (where, got)
        for name, value in self.expect_headers:
            assert value in got.values(name), (where, name, got.headers)
        if self.expect_no_content_length:
            assert got.values("content-length") == [], (where, got.headers)


def test_informational_statuses_are_malformed_responses(live_host: LiveHost):
    for status in (100, 101, 103, 199):
        func = deploy_scripted(live_host, f"interim{status}", status,
                               [("upgrade", "websocket"), ("connection", "upgrade")], FORGED)
        result = run_attack(live_host, lambda f=func: live_host.call(f["slug"], "/"))
        r = result.attack_response
        assert r.status_code == 500 and r.headers["x-edgehost-error"] == "function_failed"
        entry = failure_entry(live_host, func["func_id"], r.json()["error_id"])
        assert entry["outcome"] == "bad_response"
        assert f"status {status}" in entry["detail"] and "1xx" in entry["detail"]
        result.assert_bystander_kept_answering()


@pytest.mark.parametrize("pipelined", [False, True], ids=["sequential", "pipelined"])
def test_every_response_on_a_shared_connection_is_the_right_one(live_host: LiveHost,
                                                                  pipelined: bool):
    # The bystander tenant: another account, with a function and an actor's stored state.
    victim_key = live_host.admin("POST", "/accounts", json={"name": "victim"}).json()["api_key"]
    bystander = live_host.deploy("bystander", wat("static_ok"), key=victim_key)
    counter = deploy_counter(live_host, key=victim_key)
    seed_victim(live_host, counter)
    # The attacker's functions: bodies where HTTP has none.
    no_content = deploy_scripted(live_host, "nocontent", 204, [("x-kept", "204")], FORGED)
    not_modified = deploy_scripted(live_host, "notmodified", 304,
                                   [("etag", '"v1"'), ("content-length", "6")], FORGED)
    ok = deploy_scripted(live_host, "headok", 200,
                         [("content-type", "text/plain"), ("x-kept", "head")], FORGED)
    any_host = "127.0.0.1"
    fn_host = {f["slug"]: f"{f['slug']}.localhost" for f in (no_content, not_modified, ok,
                                                            bystander)}
    auth = f"Authorization: Bearer {victim_key}\r\n"
    by_slug = bystander["slug"]
    exchanges = [
        Exchange("GET", "/", fn_host[no_content["slug"]], "", 204, b"",
                 (("x-kept", "204"),), expect_no_content_length=True),
        Exchange("GET", "/", fn_host[by_slug], "", 200, b"ok"),
        Exchange("GET", "/", fn_host[not_modified["slug"]], "", 304, b"",
                 (("etag", '"v1"'),), expect_no_content_length=True),
        Exchange("GET", "/__edgehost/v1/whoami", any_host, auth, 200),
        Exchange("HEAD", "/", fn_host[ok["slug"]], "", 200, b"",
                 (("x-kept", "head"), ("content-type", "text/plain"),
                  ("content-length", str(len(FORGED))))),
        Exchange("GET", f"/fn/{by_slug}/", any_host, "", 200, b"ok"),
        Exchange("HEAD", f"/fn/{no_content['slug']}/", any_host, "", 204, b"",
                 expect_no_content_length=True),
        Exchange("HEAD", "/", fn_host[by_slug], "", 200, b"", (("content-length", "2"),)),
        Exchange("GET", "/", fn_host[ok["slug"]], "", 200, FORGED),
        Exchange("GET", "/__edgehost/health", any_host, "", 200, b'{"status":"ok"}'),
    ]
    with KeepAliveConnection(live_host.port) as conn:
        if pipelined:
            conn.send(*(conn.encode(e.method, e.target, e.host, e.extra_headers)
                        for e in exchanges))
        responses = []
        for exchange in exchanges:
            if not pipelined:
                conn.send(conn.encode(exchange.method, exchange.target, exchange.host,
                                      exchange.extra_headers))
            responses.append(conn.read_response(exchange.method))
            exchange.check(responses[-1])
        assert b'"name":"victim"' in responses[3].body  # the admin API answered the victim
        assert conn.buffered == b"", "the server sent bytes no response accounts for"
    assert_victim_intact(live_host, counter)
