"""An activation's init hook (the constructor) runs under its own budget (`init_timeout_ms`,
the platform's 30 s `blockConcurrencyWhile` limit) and under the call's: whichever ends first
names the error. A constructor over its own limit is `BlockConcurrencyTimeoutError`, and the
activation is dropped and tried again by the next call; a call whose own budget runs out while
the constructor runs is that call's `ActorMethodTimeoutError`."""

from __future__ import annotations

import re
import time

from tests import conftest
from tests.conftest import LiveHost, wat

SLOW = '[[actors]]\nbinding = "SLOW"\ntype = "SlowInit"\n'


def _deploy(live_host: LiveHost) -> dict:
    live_host.deploy("slow-owner", wat("actor_slow_init"), SLOW)
    return live_host.deploy("slow-caller", wat("actor_caller"), SLOW)


def _call(live_host: LiveHost, caller: dict) -> tuple[dict, float]:
    started = time.monotonic()
    r = live_host.call_actor(caller["slug"], "SLOW", "a", "get")
    assert r.status_code == 500, r.text  # the caller guest passes the error on as a 500
    return r.json(), time.monotonic() - started


def _activations(live_host: LiveHost) -> int:
    text = live_host.client.get("/__edgehost/metrics").text
    found = re.search(r"^edgehost_actor_activations_total (\d+)", text, re.M)
    assert found, text
    return int(found.group(1))


def test_a_constructor_over_its_own_limit_is_block_concurrency_timeout_and_retried(
        make_live_host, tmp_path):
    live_host = make_live_host(conftest.test_config(tmp_path / "d", init_timeout_ms=300,
                                           call_timeout_ms=1500))
    caller = _deploy(live_host)
    activations = []
    for _ in range(2):
        error, took = _call(live_host, caller)
        assert error["name"] == "BlockConcurrencyTimeoutError", error
        assert "did not finish initialising within 300 ms" in error["message"], error
        assert took < 1.2, took  # ended at the init limit, not at the call's 1.5 s
        activations.append(_activations(live_host))
        assert len(live_host.host.actors.directory) == 0  # dropped after the failure
    # ... and the next call activated (and initialised) again.
    assert activations[1] == activations[0] + 1


def test_a_call_whose_budget_ends_during_the_constructor_is_the_calls_timeout(
        make_live_host, tmp_path):
    live_host = make_live_host(conftest.test_config(tmp_path / "d", init_timeout_ms=1500,
                                           call_timeout_ms=300))
    caller = _deploy(live_host)
    error, took = _call(live_host, caller)
    assert error["name"] == "ActorMethodTimeoutError", error
    assert "SlowInit('a').constructor did not finish within" in error["message"], error
    assert took < 1.2, took
