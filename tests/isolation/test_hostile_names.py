"""Threat: names built to escape paths, break parsers or confuse routing."""

import pytest

from tests.conftest import COUNTER_BINDINGS, LiveHost, deploy_counter, manifest, wat
from tests.isolation.actors_common import assert_victim_intact, counter_with_section, seed_victim
from tests.isolation.containment import run_attack

HOSTILE = ["../etc", "a/b", "a\\b", "nul\x00byte", "x" * 300, "ünïcode", "UPPER", "-lead",
           "trail-", "sp ace", "dot.name", "", "a\nb"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_function_names_are_refused_at_create(live_host: LiveHost, name):
    r = live_host.admin("POST", "/functions", json={"name": name})
    assert r.status_code == 400, r.text
    assert "name" in r.json()["message"]
    assert live_host.admin("GET", "/functions").json() == {"functions": []}


@pytest.mark.parametrize("field, value", [
    ("binding", "../X"), ("binding", "A\x00B"), ("binding", "Ünï"), ("binding", "A" * 65),
    ("type", "T/../U"), ("type", "T" * 33), ("type", "Tÿpe"), ("type", "__proto__"),
])
def test_hostile_binding_and_type_names_are_refused_at_ship(live_host: LiveHost, field, value):
    func = live_host.create_function("named")
    other = "type" if field == "binding" else "binding"
    toml_value = value.replace("\\", "\\\\").replace("\x00", "\\u0000")
    other_value = "Ok" if other == "type" else "OK"
    extra = f'[[actors]]\n{field} = "{toml_value}"\n{other} = "{other_value}"\n'
    r = live_host.ship(func["func_id"], wat("static_ok"), manifest("named", extra))
    assert r.status_code == 422, r.text
    assert any(f"actors[0].{field}" in d for d in r.json()["details"])


# A trailing newline: `re.match` with a `$`-anchored pattern accepts "name\n" ($ also matches
# before a final newline). Every kind of name goes through the real API, beside a polled
# bystander and an actor app on another account whose stored state is checked.

COUNTER_METHODS = '"echo","fail","get","incr","inits","probe","relay","slow","spin",' \
                  '"trap_after_write"'


def _ship(live_host: LiveHost, key: str, module: bytes, extra: str = "", name: str = "named"):
    func = live_host.create_function("named", key=key)
    return live_host.ship(func["func_id"], module, manifest(name, extra), key=key)


TRAILING_NEWLINE = {
    "function name": (lambda h, key: h.admin("POST", "/functions", key=key,
                                             json={"name": "named\n"}),
                      400, "name = 'named\\n'"),
    "account name": (lambda h, key: h.admin("POST", "/accounts", json={"name": "named\n"}),
                     400, "account name = 'named\\n'"),
    "manifest name": (lambda h, key: _ship(h, key, wat("static_ok"), name="named\\n"),
                      422, "telnyx.toml: name = 'named\\n': must be 1-52 characters"),
    "binding": (lambda h, key: _ship(h, key, wat("static_ok"),
                                     '[[actors]]\nbinding = "A\\n"\ntype = "T"\n'),
                422, "actors[0].binding = 'A\\n'"),
    "type": (lambda h, key: _ship(h, key, wat("static_ok"),
                                  '[[actors]]\nbinding = "A"\ntype = "T\\n"\n'),
             422, "actors[0].type = 'T\\n'"),
    "env var": (lambda h, key: _ship(h, key, wat("static_ok"), '[env_vars]\n"K\\n" = "v"\n'),
                422, "env_vars key 'K\\n'"),
    "class": (lambda h, key: _ship(h, key, counter_with_section(
        '{"version":1,"classes":[{"name":"Counter\\n","methods":[' + COUNTER_METHODS + ']}]}'),
        COUNTER_BINDINGS), 422, "class name 'Counter\\n' is not an identifier"),
    "method": (lambda h, key: _ship(h, key, counter_with_section(
        '{"version":1,"classes":[{"name":"Counter","methods":["incr\\n",' + COUNTER_METHODS +
        ']}]}'), COUNTER_BINDINGS), 422, "class Counter: methods must be public identifiers"),
}


@pytest.mark.parametrize("kind", TRAILING_NEWLINE)
def test_a_trailing_newline_is_refused_in_every_kind_of_name(live_host: LiveHost, kind):
    victim = deploy_counter(live_host)
    seed_victim(live_host, victim)
    key = live_host.admin("POST", "/accounts", json={"name": "mallory"}).json()["api_key"]
    attack, status, message = TRAILING_NEWLINE[kind]
    result = run_attack(live_host, lambda: attack(live_host, key))
    r = result.attack_response
    assert r.status_code == status, r.text
    assert message in (r.json()["message"] if status == 400 else "\n".join(r.json()["details"]))
    # Nothing was stored under the name: no such function, account or revision.
    functions = live_host.admin("GET", "/functions", key=key).json()["functions"]
    assert all(f["current_revision"] is None for f in functions)
    assert "named\n" not in [f["name"] for f in functions]
    assert live_host.admin("POST", "/accounts", json={"name": "named"}).status_code == 201
    result.assert_bystander_kept_answering()
    assert_victim_intact(live_host, victim)
