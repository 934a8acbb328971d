"""Threat: names built to escape paths, break parsers or confuse routing."""

import pytest

from tests.conftest import LiveHost, manifest, wat

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
    extra = f'[[actors]]\n{field} = "{toml_value}"\n{other} = "{"Ok" if other == "type" else "OK"}"\n'
    r = live_host.ship(func["func_id"], wat("static_ok"), manifest("named", extra))
    assert r.status_code == 422, r.text
    assert any(f"actors[0].{field}" in d for d in r.json()["details"])
