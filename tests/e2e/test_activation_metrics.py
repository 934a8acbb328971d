"""The host publishes how long activations and guest instantiations take, as Prometheus
summaries on /__edgehost/metrics (the seam benchmarks/bench_cold.py reads its split from)."""

from __future__ import annotations

import asyncio
import re

from edgehost.app import build_host

from tests import conftest
from tests.conftest import COUNTER_BINDINGS, TEST_KEY, LiveHost, deploy_counter, manifest, wat

TIMINGS = ("edgehost_actor_activation_seconds", "edgehost_actor_init_seconds",
           "edgehost_guest_store_seconds", "edgehost_guest_instantiate_seconds")


def _summaries(live_host: LiveHost) -> dict[str, tuple[float, float]]:
    """(count, sum) of each timing, parsed from the Prometheus text the host serves."""
    text = live_host.client.get("/__edgehost/metrics").text
    found = {}
    for name in TIMINGS:
        assert f"# TYPE {name} summary" in text, text
        assert re.search(rf"^# HELP {name} \S", text, re.M), text
        count = re.search(rf"^{name}_count (\S+)$", text, re.M)
        total = re.search(rf"^{name}_sum (\S+)$", text, re.M)
        assert count and total, (name, text)
        found[name] = (float(count.group(1)), float(total.group(1)))
    return found


def _grew(before: dict, after: dict, name: str) -> tuple[float, float]:
    return after[name][0] - before[name][0], after[name][1] - before[name][1]


def test_an_activation_is_timed_step_by_step(live_host: LiveHost):
    app = deploy_counter(live_host)
    assert app.call(live_host, "warm", "incr").json() == 1

    before = _summaries(live_host)
    assert app.call(live_host, "fresh", "incr").json() == 1  # a never-touched name
    after = _summaries(live_host)
    activation = _grew(before, after, "edgehost_actor_activation_seconds")
    init = _grew(before, after, "edgehost_actor_init_seconds")
    assert activation[0] == 1 and init[0] == 1
    assert 0 < init[1] <= activation[1] < 5, (init, activation)
    # Two stores and instances: the caller function's request, and the new activation's.
    for name in ("edgehost_guest_store_seconds", "edgehost_guest_instantiate_seconds"):
        count, seconds = _grew(before, after, name)
        assert count == 2 and 0 < seconds < activation[1], (name, count, seconds)

    before = after
    assert app.call(live_host, "warm", "incr").json() == 2  # active: no activation
    after = _summaries(live_host)
    assert _grew(before, after, "edgehost_actor_activation_seconds") == (0, 0)
    assert _grew(before, after, "edgehost_actor_init_seconds") == (0, 0)
    assert _grew(before, after, "edgehost_guest_instantiate_seconds")[0] == 1  # the request's

    # In-process readers (bench_cold.py) see the same series through the Metrics object.
    for name in TIMINGS:
        count, total = live_host.host.metrics.summary(name).read()
        assert count == after[name][0] and round(total, 6) == after[name][1], name


def test_the_steps_of_one_activation_add_up_in_process(tmp_path):
    """Calls made in-process (as the guest's actor_call import makes them, and as bench_cold
    makes them): one activation is exactly one store, one instantiation, one init turn, and
    the init turn is what follows the store."""
    host = build_host(conftest.test_config(tmp_path / "data"), env_key=TEST_KEY)
    try:
        account = host.default_account.account
        record = host.functions.create(account, "counter")
        host.functions.ship(account, record.func_id, wat("actor_counter"),
                            manifest("counter", COUNTER_BINDINGS))
        host.start()
        deployment = host.functions.deployment(record.slug)
        series = {name: host.metrics.summary(name) for name in TIMINGS}

        async def timed_call(name: str) -> dict[str, tuple[int, float]]:
            before = {n: s.read() for n, s in series.items()}
            caller = host.actors.caller_for(deployment, asyncio.get_running_loop().time() + 10)
            await host.actors.call(caller, b"COUNTER", name.encode(), b"incr", b"[]")
            return {n: (s.read()[0] - before[n][0], s.read()[1] - before[n][1])
                    for n, s in series.items()}

        async def calls() -> tuple[dict, dict]:
            return await timed_call("fresh"), await timed_call("fresh")

        first, again = asyncio.run(calls())
    finally:
        host.close()
    counts = {name: count for name, (count, _) in first.items()}
    assert counts == dict.fromkeys(TIMINGS, 1), first
    seconds = {name: total for name, (_, total) in first.items()}
    activation, init = seconds["edgehost_actor_activation_seconds"], \
        seconds["edgehost_actor_init_seconds"]
    assert 0 < seconds["edgehost_guest_instantiate_seconds"] < init
    assert init + seconds["edgehost_guest_store_seconds"] <= activation
    assert again == dict.fromkeys(TIMINGS, (0, 0)), "an active name was activated again"
