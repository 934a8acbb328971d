"""Issue 9, item 3: re-shipping an actor's owner while its instances are busy.

Every ship makes new activations for the new revision while the old ones finish their calls.
A caller that had resolved the owner before a ship used to re-check with a directory call that
*created* an activation of the stale revision, so two activations of one name ran turns at
once: about 24 of 150 acknowledged increments were lost while the owner was re-shipped six
times. Now two activations of one name never overlap: every acknowledged increment is in the
final state and no value is handed out twice.
"""

from __future__ import annotations

import threading
import time

from tests.conftest import COUNTER_BINDINGS, LiveHost, deploy_counter, manifest, wat
from tests.isolation.containment import run_attack

SHIPS = 6
CALLERS = 8


def test_reshipping_the_owner_under_load_loses_no_update(roomy_host: LiveHost):
    live_host = roomy_host
    app = deploy_counter(live_host)
    owner_module = wat("actor_counter")
    acknowledged: list[int] = []
    failures: list[str] = []
    stop = threading.Event()

    def increment() -> None:
        while not stop.is_set():
            r = app.call(live_host, "shared", "incr")
            if r.status_code == 200:
                acknowledged.append(r.json())
            else:
                failures.append(r.text[:200])

    def reship() -> object:
        callers = [threading.Thread(target=increment) for _ in range(CALLERS)]
        for t in callers:
            t.start()
        try:
            for _ in range(SHIPS):
                time.sleep(0.15)
                r = live_host.ship(app.owner["func_id"], owner_module,
                                   manifest("counter", COUNTER_BINDINGS))
                assert r.status_code == 201, r.text
            time.sleep(0.15)
        finally:
            stop.set()
            for t in callers:
                t.join()
        return r

    result = run_attack(live_host, reship)
    result.assert_bystander_kept_answering()
    assert not failures, failures[:3]
    assert len(acknowledged) > SHIPS * CALLERS, "too little load to mean anything"
    assert len(set(acknowledged)) == len(acknowledged), "a value was handed out twice"
    final = app.call(live_host, "shared", "get").json()
    assert final == len(acknowledged), f"{len(acknowledged)} acknowledged, {final} stored"
    assert sorted(acknowledged) == list(range(1, final + 1))
    # One activation per revision at most (each ship replaces the activation once).
    assert app.call(live_host, "shared", "inits").json() <= SHIPS + 1
