"""Requests reach a shipped guest over a real server, and the guest's response comes back."""

from __future__ import annotations

import struct

from tests.conftest import LiveHost, wat


def decode_request(data: bytes) -> dict:
    """Test-side decoder of the ABI request encoding (the host only encodes requests)."""
    pos = 0

    def u32() -> int:
        nonlocal pos
        (v,) = struct.unpack_from("<I", data, pos)
        pos += 4
        return v

    def blob() -> bytes:
        nonlocal pos
        n = u32()
        pos += n
        return data[pos - n:pos]

    method, url = blob().decode(), blob().decode()
    headers = [(blob().decode(), blob().decode()) for _ in range(u32())]
    body = blob()
    assert pos == len(data)
    return {"method": method, "url": url, "headers": headers, "body": body}


def test_get_by_host_header_returns_guest_body(live_host: LiveHost):
    func = live_host.deploy("static", wat("static_ok"))
    r = live_host.call(func["slug"], "/")
    assert r.status_code == 200
    assert r.text == "ok"
    assert r.headers["content-type"] == "text/plain"
    assert "x-edgehost-error" not in r.headers


def test_request_reaches_guest_with_method_path_query_headers_and_body(live_host: LiveHost):
    func = live_host.deploy("echo", wat("echo_input"))
    r = live_host.call(func["slug"], "/some/path?a=1&b=two", method="POST",
                       content=b"\x00binary body\xff", headers={"X-Custom": "Value"})
    assert r.status_code == 200
    seen = decode_request(r.content)
    assert seen["method"] == "POST"
    assert seen["url"] == f"http://{func['slug']}.localhost:{live_host.port}/some/path?a=1&b=two"
    assert ("x-custom", "Value") in seen["headers"]
    assert seen["body"] == b"\x00binary body\xff"


def test_path_form_strips_its_prefix_before_the_guest_sees_the_path(live_host: LiveHost):
    func = live_host.deploy("echo", wat("echo_input"))
    r = live_host.client.get(f"/fn/{func['slug']}/inner/path?q=1")
    assert r.status_code == 200
    assert decode_request(r.content)["url"].endswith("/inner/path?q=1")
    assert "/fn/" not in decode_request(r.content)["url"]
    # the path_url the admin API hands out is the same form
    assert func["path_url"].endswith(f"/fn/{func['slug']}/")


def test_the_guest_sees_the_path_still_percent_encoded(live_host: LiveHost):
    func = live_host.deploy("echo", wat("echo_input"))
    for form in ("host", "path"):
        if form == "host":
            r = live_host.call(func["slug"], "/a%20b%2Fc/100%25?x=%41")
        else:
            r = live_host.client.get(f"/fn/{func['slug']}/a%20b%2Fc/100%25?x=%41")
        assert decode_request(r.content)["url"].endswith("/a%20b%2Fc/100%25?x=%41"), form


def test_unknown_function_is_a_host_404(live_host: LiveHost):
    r = live_host.call("nosuch-0123456789", "/")
    assert r.status_code == 404
    assert r.headers["x-edgehost-error"] == "not_found"
    assert live_host.client.get("/fn/nosuch-0123456789/").status_code == 404
    # the host's own address with no /fn/ prefix is not a function either
    assert live_host.client.get("/anything").status_code == 404


def test_function_created_but_never_shipped_is_404(live_host: LiveHost):
    func = live_host.create_function("empty")
    assert live_host.call(func["slug"], "/").status_code == 404


def test_body_over_the_limit_is_413_before_the_guest_runs(live_host: LiveHost, host_config):
    func = live_host.deploy("echo", wat("echo_input"))
    too_big = b"x" * (host_config.http.max_request_body_bytes + 1)
    r = live_host.call(func["slug"], "/", method="POST", content=too_big)
    assert r.status_code == 413
    assert r.headers["x-edgehost-error"] == "payload_too_large"
    # exactly at the limit is accepted (a guest that does not echo it back)
    static = live_host.deploy("static", wat("static_ok"))
    r = live_host.call(static["slug"], "/", method="POST",
                       content=b"y" * host_config.http.max_request_body_bytes)
    assert r.status_code == 200 and r.text == "ok"


def test_health_route_cannot_be_shadowed_by_a_function(live_host: LiveHost):
    func = live_host.deploy("static", wat("static_ok"))
    # Even with a function's Host header, the reserved prefix belongs to the host.
    r = live_host.call(func["slug"], "/__edgehost/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert live_host.client.get("/__edgehost/health").json() == {"status": "ok"}
