"""The AssemblyScript hello example, built from source by the setup command, served for real."""

from __future__ import annotations

import pytest

from tests.conftest import EXAMPLES, LiveHost

HELLO = EXAMPLES / "hello"


@pytest.fixture(scope="session")
def hello_bundle() -> tuple[bytes, str]:
    module = HELLO / "build" / "hello.wasm"
    if not module.exists():
        pytest.fail(f"{module} is missing: run scripts/setup (it builds the examples)")
    return module.read_bytes(), (HELLO / "telnyx.toml").read_text()


def test_ship_hello_through_the_admin_api_and_get_its_body(live_host: LiveHost, hello_bundle):
    module, manifest_text = hello_bundle
    func = live_host.create_function("hello")
    r = live_host.ship(func["func_id"], module, manifest_text)
    assert r.status_code == 201, r.text
    shipped = r.json()
    assert shipped["revision"] == 1 and shipped["module_size"] == len(module)
    r = live_host.call(func["slug"], "/")
    assert r.status_code == 200
    assert r.text == "hello from edgehost\n"
    assert r.headers["content-type"].startswith("text/plain")
    for path in ("/health/liveness", "/health/readiness"):
        assert live_host.call(func["slug"], path).text == "ok"
    assert live_host.call(func["slug"], "/missing").status_code == 404


def test_hello_echo_sees_method_path_query_and_body(live_host: LiveHost, hello_bundle):
    module, manifest_text = hello_bundle
    func = live_host.create_function("hello")
    assert live_host.ship(func["func_id"], module, manifest_text).status_code == 201
    r = live_host.client.post(f"/fn/{func['slug']}/echo?x=1&y=%C3%A9", content=b"12345")
    assert r.status_code == 200
    assert r.json() == {"method": "POST", "path": "/echo", "query": "x=1&y=%C3%A9",
                        "bodyLength": 5}


def test_reship_creates_a_new_revision_and_serves_it(live_host: LiveHost, hello_bundle):
    from tests.conftest import wat
    module, manifest_text = hello_bundle
    func = live_host.create_function("hello")
    assert live_host.ship(func["func_id"], wat("static_ok"), manifest_text).status_code == 201
    assert live_host.call(func["slug"], "/").text == "ok"
    r = live_host.ship(func["func_id"], module, manifest_text)
    assert r.json()["revision"] == 2
    assert live_host.call(func["slug"], "/").text == "hello from edgehost\n"
    revisions = live_host.admin("GET", f"/functions/{func['func_id']}").json()["revisions"]
    assert [rev["revision"] for rev in revisions] == [1, 2]
