"""Threat: out-of-range and negative (ptr, len) pairs passed to every host import."""

import struct

from edgehost.sandbox.abi import HOST_IMPORTS, Status

from tests.conftest import WAT_DIR, LiveHost, wat
from tests.isolation.containment import run_attack

POINTER_IMPORTS = [name for name, sig in HOST_IMPORTS.items() if len(sig.params) >= 2]
RANGES_PER_IMPORT = 4


def test_guest_covers_every_import_that_takes_a_pointer():
    source = (WAT_DIR / "bad_pointers.wat").read_text()
    for name in POINTER_IMPORTS:
        assert f'"edgehost_v1" "{name}"' in source, f"bad_pointers.wat does not attack {name}"


def test_every_bad_range_gets_out_of_bounds_and_no_host_exception(live_host: LiveHost):
    func = live_host.deploy("pointers", wat("bad_pointers"))
    result = run_attack(live_host, lambda: live_host.call(func["slug"], "/"))
    response = result.attack_response
    assert response.status_code == 200, response.text
    statuses = struct.unpack(f"<{len(response.content) // 4}i", response.content)
    assert len(statuses) == len(POINTER_IMPORTS) * RANGES_PER_IMPORT
    assert set(statuses) == {Status.OUT_OF_BOUNDS}, statuses
    result.assert_bystander_kept_answering()
    # No host import raised: a raise would have been counted as an INTERNAL fault.
    assert "edgehost_requests_total{outcome=\"ok\"}" in \
        live_host.client.get("/__edgehost/metrics").text
