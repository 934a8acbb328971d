"""Threat: an instance full of long keys (over LMDB's 511-byte key limit) making every
`storage.list` copy and sort all of them (four `limit: 1` lists over 190 MiB of long keys cost
717 MiB of heap). A list must cost what it returns, not what the instance stores."""

import tracemalloc

from tests.conftest import LiveHost, deploy_counter
from tests.isolation.actors_common import assert_victim_intact, deploy_hog, seed_victim
from tests.isolation.containment import run_attack

KEYS, KEY_BYTES, VALUE_BYTES = 300, 2000, 64 * 1024  # about 19 MiB of long keys


def test_listing_many_long_keys_costs_only_what_it_returns(live_host: LiveHost):
    victim = deploy_counter(live_host)
    seed_victim(live_host, victim)
    hog = deploy_hog(live_host)

    def call(method: str, args: str):
        return hog.call(live_host, "longkeys", method, args, binding="HOG")

    for first in range(0, KEYS, 100):
        assert call("fill", f"[100,{VALUE_BYTES},{KEY_BYTES},{first}]").json() == 100
    peaks = []

    def attack():
        answers = []
        for options in ('{"limit":1}', '{"limit":1,"reverse":true}',
                        '{"limit":1,"startAfter":"k"}', '{"limit":2,"end":"l"}'):
            tracemalloc.start()
            try:
                answers.append(call("list", f"[{options}]"))
                peaks.append(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
        return answers

    result = run_attack(live_host, attack)
    assert [r.json() for r in result.attack_response] == [1, 1, 1, 2]
    # A listed entry is one 2,000-byte key and one 64 KiB value; copying the instance's
    # long keys would take over 19 MiB.
    assert max(peaks) < 4 * 1024 * 1024, f"a list of 1-2 entries allocated {max(peaks):,} bytes"
    assert call("list", '[{"limit":1000}]').json() == KEYS
    result.assert_bystander_kept_answering()
    assert_victim_intact(live_host, victim)
