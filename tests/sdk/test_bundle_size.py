"""Built sizes of the examples, and that a reference ships no code of the class it uses.

Targets (issue 4): owner under 12 KiB, reference under 3 KiB (the peer's JavaScript: 3.2 KB
and 0.9 KB). benchmarks/bench_sizes.py prints the same figures, raw and gzipped.
"""

from __future__ import annotations

from edgehost.registry.actor_types import read_actor_classes

from tests.conftest import example_bundle

KIB = 1024


def test_owner_bundle_is_under_12_kib():
    module, _ = example_bundle("account")
    assert len(module) < 12 * KIB, f"account.wasm is {len(module)} bytes"


def test_reference_bundle_contains_no_code_of_the_class():
    reference, _ = example_bundle("account-readonly")
    section, problems = read_actor_classes(reference)
    assert problems == [] and section.classes == {}
    for marker in (b"edgehost_actor_init", b"edgehost_actor_call", b"storage_put",
                   b"storage_get", b"deposit", b"debit"):
        assert marker not in reference, f"the reference carries {marker!r}"


def test_reference_bundle_is_far_smaller_than_the_owner():
    owner, _ = example_bundle("account")
    reference, _ = example_bundle("account-readonly")
    assert len(reference) < len(owner) * 0.6


def test_reference_bundle_is_under_3_kib():
    module, _ = example_bundle("account-readonly")
    assert len(module) < 3 * KIB, f"account-readonly.wasm is {len(module)} bytes"


def test_the_runtimes_allocation_throws_are_plain_traps():
    """transform/literals.js turns the stub runtime's "Allocation too large" throws into traps,
    so that no module carries the abort handler for them (see the SDK README, "The build
    transform"): neither the message nor the runtime's file name is in the modules."""
    for name in ("hello", "account-readonly", "account"):
        module, _ = example_bundle(name)
        for text in ("Allocation too large", "~lib/rt/stub.ts"):
            assert text.encode("utf-16-le") not in module, (name, text)
