"""Threat: Host-header and path tricks to reach another function or the admin API."""


from tests.conftest import LiveHost, wat
from tests.isolation.containment import raw_request


def test_host_header_tricks_never_reach_another_function(live_host: LiveHost):
    target = live_host.deploy("target", wat("static_ok"))
    tricks = [f"{target['slug']}.localhost.evil.example", f"x.{target['slug']}.localhost",
              f"{target['slug']}x.localhost", f"{target['slug'][:-1]}.localhost",
              f"{target['slug'].upper()}X.localhost", ".localhost", "localhost.."]
    for host in tricks:
        r = live_host.client.get("/", headers={"host": host})
        assert r.status_code == 404 and r.headers.get("x-edgehost-error") == "not_found", host


def test_function_paths_never_reach_the_admin_api(live_host: LiveHost):
    echo = live_host.deploy("echo", wat("echo_input"))
    auth = f"Authorization: Bearer {live_host.key}\r\n".encode()
    slug = echo["slug"].encode()
    # Under the path form, everything after the slug is the guest's, dot segments included.
    for path in (b"/fn/" + slug + b"/__edgehost/v1/functions",
                 b"/fn/" + slug + b"/../__edgehost/v1/functions",
                 b"/fn/" + slug + b"/%2F__edgehost/v1/functions"):
        status, body = raw_request(live_host.port, path, extra_headers=auth)
        assert status == 200, path  # the guest answered (it echoes the request it got)
        assert b'"functions"' not in body and b"func_id" not in body
    # Through a function's Host name, the same paths are the guest's too...
    status, body = raw_request(live_host.port, b"/../__edgehost/v1/functions",
                               host=slug + b".localhost", extra_headers=auth)
    assert b'"functions"' not in body
    # ...except the exact reserved prefix, which is the host's and still demands a key.
    r = live_host.call(echo["slug"], "/__edgehost/v1/functions")
    assert r.status_code == 401


def test_the_authorization_header_is_passed_only_to_the_function_addressed(
        live_host: LiveHost):
    # A guest sees the headers of requests sent to it, and nothing of other requests.
    echo = live_host.deploy("echo", wat("echo_input"))
    live_host.client.get("/__edgehost/v1/whoami",
                         headers={"authorization": f"Bearer {live_host.key}"})
    r = live_host.call(echo["slug"], "/")
    assert live_host.key.encode() not in r.content


def test_dot_segments_before_the_reserved_prefix_do_not_reach_the_admin_api(
        live_host: LiveHost):
    auth = f"Authorization: Bearer {live_host.key}\r\n".encode()
    for path in (b"/fn/../__edgehost/v1/functions", b"/x/../__edgehost/v1/functions",
                 b"/%2E%2E/__edgehost/v1/functions"):
        status, body = raw_request(live_host.port, path, extra_headers=auth)
        assert b'"functions"' not in body, path
        assert status in (400, 404), (path, status)
