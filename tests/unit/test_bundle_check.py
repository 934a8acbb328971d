"""check_bundle judges a bundle with no LMDB and no compiler: manifest against the function,
the module's shape before anything else reads it, the actor section, the types it owns, and
what the compile must check (exports, memory limit)."""

from __future__ import annotations

import hashlib

import wasmtime
from edgehost.config import MIB, SandboxLimits, ShipLimits
from edgehost.registry.bundle_check import BundleRules, check_bundle
from edgehost.registry.records import FunctionRecord
from edgehost.sandbox.abi import ACTOR_CALL_EXPORT, ACTOR_INIT_EXPORT, FETCH_EXPORT
from edgehost.sandbox.module_shape import ShapeCheck

from tests.conftest import COUNTER_BINDINGS, manifest, wat

FUNC_ID = "0b7c8a38-6a47-4b2e-9b3c-1f0e2d3c4b5a"
RECORD = FunctionRecord(FUNC_ID, "acct", "hello", 0.0)
LIMITS = SandboxLimits(memory_bytes=32 * MIB, memory_cap_bytes=64 * MIB)


def rules(ship: ShipLimits | None = None) -> BundleRules:
    return BundleRules(LIMITS, ShapeCheck(ship or ShipLimits(), LIMITS), max_nesting_depth=64)


def test_an_owner_of_an_actor_type_needs_the_actor_entry_points():
    wasm = wat("actor_counter")
    checked = check_bundle(RECORD, wasm, manifest("hello", COUNTER_BINDINGS), rules())
    assert checked.problems == [] and checked.compilable
    assert checked.owned_types == ["Counter"]  # declared in [[actors]] and exported
    assert "incr" in checked.actors.classes["Counter"]
    assert checked.required_exports == (FETCH_EXPORT, ACTOR_INIT_EXPORT, ACTOR_CALL_EXPORT)
    assert checked.module_hash == hashlib.sha256(wasm).hexdigest()
    assert checked.manifest is not None and checked.manifest.name == "hello"


def test_a_type_bound_but_not_exported_is_only_referenced():
    checked = check_bundle(RECORD, wat("actor_caller"), manifest("hello", COUNTER_BINDINGS),
                           rules())
    assert checked.problems == [] and checked.owned_types == []
    assert checked.required_exports == (FETCH_EXPORT,)


def test_a_class_exported_but_not_declared_is_not_owned():
    checked = check_bundle(RECORD, wat("actor_counter"), manifest("hello"), rules())
    assert checked.owned_types == [] and "Counter" in checked.actors.classes


def test_the_memory_limit_is_the_manifests_else_the_default():
    assert check_bundle(RECORD, wat("echo_input"), manifest("hello"),
                        rules()).memory_limit_bytes == 32 * MIB
    assert check_bundle(RECORD, wat("echo_input"),
                        manifest("hello", "[limits]\nmemory_mib = 3\n"),
                        rules()).memory_limit_bytes == 3 * MIB


def test_the_manifest_must_name_the_function_being_shipped():
    text = manifest("other", f'[edge_compute]\nfunc_id = "{"1" * 8}-1111-1111-1111-{"1" * 12}"\n')
    checked = check_bundle(RECORD, wat("echo_input"), text, rules())
    assert checked.problems == [
        "telnyx.toml: name = 'other': must equal the name of the function being shipped "
        "('hello')",
        "telnyx.toml: edge_compute.func_id = '11111111-1111-1111-1111-111111111111': must "
        f"equal the function being shipped ({FUNC_ID})"]


def test_manifest_and_module_problems_come_together_manifest_first():
    bad_section = bytes(wasmtime.wat2wasm(
        '(module (@custom "edgehost.actors" "not json") (memory (export "memory") 1))'))
    checked = check_bundle(RECORD, bad_section, 'name = "hello"\nmain = 5\n', rules())
    assert checked.manifest is None
    assert checked.problems[0] == \
        "telnyx.toml: main = 5: must be a relative path inside the project"
    assert checked.problems[1].startswith(
        "module: 'edgehost.actors' section is malformed: ")
    assert len(checked.problems) == 2
    # A bad manifest does not stop the module being judged: it compiles with the default.
    assert checked.compilable and checked.memory_limit_bytes == 32 * MIB


def test_bytes_that_are_not_a_module_are_not_read_further():
    checked = check_bundle(RECORD, b"\0asm\x01\0\0\0\x63", manifest("hello", COUNTER_BINDINGS),
                           rules())
    assert not checked.compilable and checked.owned_types == []
    assert len(checked.problems) == 1
    assert checked.problems[0].startswith("module: module is not valid WebAssembly: ")


def test_a_module_over_a_shape_cap_is_refused_before_its_actor_section_is_read():
    checked = check_bundle(RECORD, wat("actor_counter"), manifest("hello", COUNTER_BINDINGS),
                           rules(ShipLimits(max_functions=2)))
    assert not checked.compilable
    assert checked.owned_types == [] and checked.actors.classes == {}
    assert len(checked.problems) == 1 and "above the host's limit of 2" in checked.problems[0]
    assert checked.problems[0].startswith("module: ")
