"""Threat: JSON and TOML nested deep enough to exhaust the parsers' recursion.

Python's json and tomllib recurse per level: a few hundred levels raise RecursionError, a 500
wherever nobody expected it. Every document a tenant hands the host is measured first: the
manifest, the module's `edgehost.actors` section, admin API bodies, and actor call arguments,
results and stored values. Past the limit the answer is 422 (or, for actor values, the
guest-visible CodecError) naming what, how deep, and the limit. A bystander function is polled
throughout, and an actor app on another account keeps its stored state.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import LiveHost, deploy_counter, manifest, wat
from tests.isolation.actors_common import assert_victim_intact, counter_with_section, seed_victim
from tests.isolation.containment import run_attack

NEST_BINDINGS = '[[actors]]\nbinding = "NEST"\ntype = "Nest"\n'


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def section(signature: str) -> str:
    """An actors section for Counter whose `incr` signature is `signature` (JSON); the section
    itself adds 4 levels: {"classes": [{"signatures": {"incr": ...}}]}."""
    return ('{"version":1,"classes":[{"name":"Counter","methods":["echo","fail","get","incr",'
            '"inits","probe","relay","slow","spin","trap_after_write"],'
            f'"signatures":{{"incr":{signature}}}}}]}}')


@pytest.fixture
def attacker(live_host: LiveHost) -> str:
    return live_host.admin("POST", "/accounts", json={"name": "mallory"}).json()["api_key"]


@pytest.fixture
def victim(live_host: LiveHost):
    """An actor app on the default account with stored state, to check after each attack."""
    app = deploy_counter(live_host)
    seed_victim(live_host, app)
    return app


def _contained(live_host: LiveHost, victim, attack):
    result = run_attack(live_host, attack)
    result.assert_bystander_kept_answering()
    assert_victim_intact(live_host, victim)
    return result.attack_response


def _details(response) -> str:
    assert response.status_code == 422, response.text
    return "\n".join(response.json()["details"])


def test_a_deeply_nested_manifest_is_refused_with_422(live_host: LiveHost, attacker, victim,
                                                      host_config):
    limit = host_config.documents.max_nesting_depth
    func = live_host.deploy("deep", wat("static_ok"), key=attacker)

    def ship(extra: str):
        return live_host.ship(func["func_id"], wat("static_ok"), manifest("deep", extra),
                              key=attacker)

    # An array inside 30,000 arrays (tomllib recurses per level), inline tables, dotted keys
    # (tables nested without a bracket; a reader of the parsed value would recurse on them).
    arrays = _contained(live_host, victim, lambda: ship(f"x = {nested(30_000)}\n"))
    assert f"telnyx.toml: the document nests 30000 levels deep; the limit is {limit}" in \
        _details(arrays)
    tables = ship("x = " + "{a = " * 10_000 + "1" + "}" * 10_000 + "\n")
    assert "the document nests 10000 levels deep" in _details(tables)
    dotted = ship("[env_vars]\nKEY." + ".".join(["a"] * 5_000) + " = 1\n")
    assert "the document nests 5001 levels deep" in _details(dotted)
    # Nothing refused was stored: the function still serves its first revision.
    inspected = live_host.admin("GET", f"/functions/{func['func_id']}", key=attacker).json()
    assert [r["revision"] for r in inspected["revisions"]] == [1]
    assert live_host.call(func["slug"]).text == "ok"
    # At the limit, the manifest ships (its unknown key is a warning).
    at_limit = ship(f"x = {nested(limit)}\n")
    assert at_limit.status_code == 201, at_limit.text
    assert at_limit.json()["warnings"] == ["unknown key 'x' is ignored"]


def test_a_deeply_nested_actors_section_is_refused_with_422(live_host: LiveHost, attacker,
                                                            victim, host_config):
    limit = host_config.documents.max_nesting_depth
    func = live_host.create_function("counter", key=attacker)

    def ship(signature: str):
        return live_host.ship(func["func_id"], counter_with_section(section(signature)),
                              manifest("counter", '[[actors]]\nbinding = "C"\ntype = "Counter"\n'),
                              key=attacker)

    deep = _contained(live_host, victim, lambda: ship(nested(100_000)))
    assert (f"module: the 'edgehost.actors' section nests 100004 levels deep; the limit is "
            f"{limit}") in _details(deep)
    one_over = ship(nested(limit - 3))
    assert f"nests {limit + 1} levels deep" in _details(one_over)
    assert live_host.admin("GET", f"/functions/{func['func_id']}",
                           key=attacker).json()["revisions"] == []
    # At the limit it ships, and every admin view of the signature still renders.
    at_limit = ship(nested(limit - 4))
    assert at_limit.status_code == 201, at_limit.text
    types = live_host.admin("GET", "/actors", key=attacker)
    assert types.status_code == 200
    assert types.json()["types"][0]["signatures"]["incr"] == json.loads(nested(limit - 4))
    assert live_host.admin("GET", f"/functions/{func['func_id']}", key=attacker).status_code == 200


def test_a_deeply_nested_admin_body_is_refused_with_422(live_host: LiveHost, attacker, victim,
                                                        host_config):
    limit = host_config.documents.max_nesting_depth

    def create(name_json: str):
        return live_host.admin("POST", "/functions", key=attacker,
                               content='{"name": ' + name_json + "}",
                               headers={"content-type": "application/json"})

    deep = _contained(live_host, victim, lambda: create(nested(30_000)))
    assert deep.status_code == 422, deep.text
    assert deep.json() == {
        "error": "invalid_request",
        "message": f"the request body nests 30001 levels deep; the limit is {limit} "
                   f"(documents.max_nesting_depth)"}
    assert create(nested(limit)).json()["message"].startswith(
        f"the request body nests {limit + 1} levels deep")
    # Within the limit, the body reaches validation, which refuses a list as a name.
    shallow = create(nested(limit - 1))
    assert shallow.status_code == 422 and shallow.json()["detail"][0]["type"] == "string_type"
    assert live_host.admin("GET", "/functions", key=attacker).json() == {"functions": []}


def test_deeply_nested_actor_values_are_codec_errors(live_host: LiveHost, attacker, victim):
    limit = 64  # actor values always use DEFAULT_MAX_NESTING_DEPTH (part of the guest ABI)
    live_host.deploy("nest", wat("actor_deep_values"), NEST_BINDINGS, key=attacker)
    caller = live_host.deploy("caller", wat("actor_caller"), NEST_BINDINGS, key=attacker)

    def call(method: str, args: str):
        return live_host.call_actor(caller["slug"], "NEST", "n1", method, args)

    assert call("store", "[10]").text == "0"
    # Arguments: refused before the call (CODEC_ERROR, the caller's guest gets the message).
    r = _contained(live_host, victim, lambda: call("load", nested(60_000)))
    assert r.status_code == 400
    assert r.text == f"the argument list nests 60000 levels deep; the limit is {limit}"
    r = call("load", nested(limit + 1))
    assert r.status_code == 400 and f"nests {limit + 1} levels deep" in r.text
    # Stored values: storage_put returns CODEC_ERROR (-8); the stored value is unchanged.
    assert call("store", "[60000]").text == "-8"
    assert call("store", f"[{limit + 1}]").text == "-8"
    assert call("load", "[]").text == nested(10)
    assert call("store", f"[{limit}]").text == "0"
    assert call("load", "[]").text == nested(limit)
    # Results: the caller gets CodecError naming the method.
    r = call("nest", "[60000]")
    assert r.status_code == 500 and r.json()["name"] == "CodecError"
    assert r.json()["message"].endswith(
        f"the result of Nest.nest nests 60000 levels deep; the limit is {limit}")
    assert f"nests {limit + 1} levels deep" in call("nest", f"[{limit + 1}]").json()["message"]
    assert call("nest", f"[{limit}]").text == nested(limit)
