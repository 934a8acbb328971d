"""Threat: a module whose shape (how many functions, exports, tables... it declares) makes the
host pay for it: wasmtime-py wraps every export and import in Python, Cranelift compiles
every function, every instantiation initialises every global, segment and table element.

Each is refused at ship, before wasmtime sees it, with a 422 naming the section, the count
and the limit, while a bystander on another account keeps answering and keeps its state.
"""

import pytest
from edgehost.config import ShipLimits

from tests.conftest import LiveHost, deploy_counter, manifest
from tests.isolation.actors_common import assert_victim_intact, seed_victim
from tests.isolation.containment import assert_nothing_shipped, failure_entry, run_attack
from tests.wasm_encoder import guest

SHIP = ShipLimits()  # the host under test runs with the default shape caps
TABLE_LIMIT = 100_000  # SandboxLimits.max_table_elements, which the test config keeps


@pytest.fixture
def other_account(live_host: LiveHost) -> str:
    """The key of a second account, where the bystanders live."""
    r = live_host.admin("POST", "/accounts", json={"name": "bystanders"})
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


# (module, words the refusal must contain: the section, the count found, the limit)
HOSTILE_SHAPES = {
    "functions": (lambda: guest(functions=SHIP.max_functions),
                  ["function section", f"{SHIP.max_functions + 1:,} functions",
                   f"{SHIP.max_functions:,}"]),
    "exports": (lambda: guest(functions=SHIP.max_exports, exports=SHIP.max_exports),
                ["export section", f"{SHIP.max_exports + 2:,} exports", f"{SHIP.max_exports:,}"]),
    "imports": (lambda: guest(imports=SHIP.max_imports + 1),
                ["import section", f"{SHIP.max_imports + 1:,} imports", f"{SHIP.max_imports:,}"]),
    "types": (lambda: guest(types=SHIP.max_types),
              ["type section", f"{SHIP.max_types + 2:,} types", f"{SHIP.max_types:,}"]),
    "globals": (lambda: guest(globals_=SHIP.max_globals + 1),
                ["global section", f"{SHIP.max_globals + 1:,} globals", f"{SHIP.max_globals:,}"]),
    "data segments": (lambda: guest(data_segments=SHIP.max_data_segments + 1),
                      ["data section", f"{SHIP.max_data_segments + 1:,} segments",
                       f"{SHIP.max_data_segments:,}"]),
    "element segments": (lambda: guest(tables=((10, None),),
                                       element_segments=SHIP.max_element_segments + 1,
                                       element_items=SHIP.max_element_segments + 1),
                         ["element section", f"{SHIP.max_element_segments + 1:,} segments",
                          f"{SHIP.max_element_segments:,}"]),
    "element items": (lambda: guest(tables=((10, None),), element_segments=1,
                                    element_items=SHIP.max_element_items + 1),
                      ["element section", f"more than {SHIP.max_element_items:,} elements"]),
    "tags": (lambda: guest(tags=SHIP.max_tags + 1),
             ["tag section", f"{SHIP.max_tags + 1:,} tags", f"{SHIP.max_tags:,}"]),
    "custom sections": (lambda: guest(custom_sections=SHIP.max_custom_sections + 1),
                        [f"more than {SHIP.max_custom_sections:,} custom sections"]),
    "tables": (lambda: guest(tables=((1, 1),) * 5), ["table section", "5 tables", "limit of 4"]),
    "table initial size": (lambda: guest(tables=((TABLE_LIMIT + 1, None),)),
                           ["table section", f"initial size of {TABLE_LIMIT + 1:,} elements",
                            f"{TABLE_LIMIT:,}"]),
    "table maximum size": (lambda: guest(tables=((1, 2**32 - 1),)),
                           ["table section", f"maximum size of {2**32 - 1:,} elements",
                            f"{TABLE_LIMIT:,}"]),
    "memories": (lambda: guest(memories=2), ["memory section", "2 memories", "limit of 1"]),
}


@pytest.mark.parametrize("shape", HOSTILE_SHAPES)
def test_a_module_above_a_shape_cap_is_refused_naming_the_section_count_and_limit(
        live_host: LiveHost, other_account: str, shape: str):
    build, expected = HOSTILE_SHAPES[shape]
    victim = deploy_counter(live_host, key=other_account)
    seed_victim(live_host, victim)
    func = live_host.create_function("shaped")
    result = run_attack(live_host, lambda: live_host.ship(func["func_id"], build(),
                                                          manifest("shaped")),
                        key=other_account)
    assert result.attack_response.status_code == 422, result.attack_response.text
    details = result.attack_response.json()["details"]
    assert any(all(word in d for word in expected) for d in details), details
    assert_nothing_shipped(live_host, func)
    result.assert_bystander_kept_answering()
    assert_victim_intact(live_host, victim)


def test_a_module_at_every_shape_cap_ships_and_runs(live_host: LiveHost, other_account: str):
    """The caps are limits, not off-by-one traps: a module exactly at each one ships and
    instantiates."""
    at_caps = guest(functions=2_000, exports=SHIP.max_exports - 2, imports=SHIP.max_imports,
                    types=SHIP.max_types - 2, globals_=SHIP.max_globals,
                    data_segments=SHIP.max_data_segments, tags=SHIP.max_tags,
                    tables=((10, TABLE_LIMIT),) + ((1, 1),) * 3,
                    element_segments=SHIP.max_element_segments,
                    element_items=SHIP.max_element_segments * 10,
                    custom_sections=SHIP.max_custom_sections)
    func = live_host.create_function("atcaps")
    result = run_attack(live_host, lambda: live_host.ship(func["func_id"], at_caps,
                                                          manifest("atcaps")),
                        key=other_account)
    assert result.attack_response.status_code == 201, result.attack_response.text
    result.assert_bystander_kept_answering()
    # Its edgehost_fetch returns 0 without writing a response: it instantiated and ran.
    r = live_host.call(func["slug"], "/")
    assert r.status_code == 500
    assert failure_entry(live_host, func["func_id"], r.json()["error_id"])["outcome"] == \
        "bad_response"
