"""Issue 9, item 1: a chain of actor calls whose methods each use most of their wasm stack.

Before the execution core ran guests as futures, a nested actor call ran the callee's turn on
the caller's native thread, and each store's 512 KiB wasm stack limit counted from its own
first frame: ~32 hops of stack-hungry methods overflowed the 8 MiB thread stack and the whole
host died (SIGSEGV). Now every guest run has its own stack, and the chain's depth is bounded
(`max_call_depth`): a chain that would go deeper fails with ActorCallDepthError as a value,
and the host and its other tenants carry on.
"""

from __future__ import annotations

import json

from tests.conftest import LiveHost, wat
from tests.isolation.containment import run_attack

CHAIN = '[[actors]]\nbinding = "CHAIN"\ntype = "Chain"\n' \
        '[[actors]]\nbinding = "PEER"\ntype = "Chain"\n'


def _deploy(live_host: LiveHost) -> dict:
    live_host.deploy("chain", wat("actor_stack_chain"), CHAIN)
    return live_host.deploy("diver", wat("actor_caller"), CHAIN)


def test_a_chain_deeper_than_the_limit_fails_cleanly_and_the_host_lives(live_host: LiveHost):
    caller = _deploy(live_host)
    depth = live_host.host.config.actors.max_call_depth
    names = [f"n{i}" for i in range(48)]  # three times the limit; each hop holds ~420 KiB
    result = run_attack(live_host, lambda: live_host.call_actor(
        caller["slug"], "CHAIN", names[0], "dive", json.dumps(names[1:])))
    response = result.attack_response
    assert response.status_code == 200, response.text  # the error travels back as a value
    error = response.json()
    assert error["name"] == "ActorCallDepthError", error
    assert f"the limit is {depth}" in error["message"], error
    result.assert_bystander_kept_answering()
    health = live_host.client.get("/__edgehost/health")
    assert health.status_code == 200


def test_a_chain_at_the_limit_completes(live_host: LiveHost):
    caller = _deploy(live_host)
    depth = live_host.host.config.actors.max_call_depth
    names = [f"m{i}" for i in range(depth)]  # exactly max_call_depth instances deep
    response = live_host.call_actor(caller["slug"], "CHAIN", names[0], "dive",
                                    json.dumps(names[1:]))
    assert response.status_code == 200, response.text
    assert response.json() == "end"
