"""Actor calls over a real server: routing, storage, errors as values."""

from __future__ import annotations

from tests.conftest import LiveHost, deploy_counter


def test_calls_reach_one_instance_per_name_and_state_persists(live_host: LiveHost):
    app = deploy_counter(live_host)
    assert [app.call(live_host, "alice", "incr").json() for _ in range(3)] == [1, 2, 3]
    assert app.call(live_host, "bob", "incr").json() == 1
    assert app.call(live_host, "alice", "get").json() == 3
    # a second binding to the same type reaches the same instance
    assert app.call(live_host, "alice", "get", binding="PEER").json() == 3
    assert app.call(live_host, "alice", "inits").json() == 1


def test_arguments_and_results_travel_as_json(live_host: LiveHost):
    app = deploy_counter(live_host)
    args = '[1, "two", {"three": [3.5, true, null]}]'
    r = app.call(live_host, "x", "echo", args)
    assert r.status_code == 200 and r.json() == [1, "two", {"three": [3.5, True, None]}]


def test_errors_reach_the_caller_as_values(live_host: LiveHost):
    app = deploy_counter(live_host)
    cases = {
        ("COUNTER", "_secret"): "ActorPrivateMethodError",
        ("COUNTER", "nope"): "ActorUnknownMethodError",
        ("UNDECLARED", "get"): "ActorUnknownBindingError",
    }
    for (binding, method), name in cases.items():
        r = app.call(live_host, "x", method, binding=binding)
        assert r.status_code == 500, r.text
        assert r.json()["name"] == name, r.text
        assert r.json()["message"]
    r = app.call(live_host, "", "get")
    assert r.json()["name"] == "ActorNameError"


def test_arguments_that_are_not_a_json_array_are_a_codec_error(live_host: LiveHost):
    app = deploy_counter(live_host)
    for bad in ("not json", '{"a": 1}', "[NaN]"):
        r = app.call(live_host, "x", "echo", bad)
        assert r.status_code == 400, r.text  # the caller's mapping of a CODEC_ERROR status
        assert "JSON" in r.text and not r.text.startswith("CodecError")


def test_an_aborting_method_gives_the_caller_its_message(live_host: LiveHost):
    app = deploy_counter(live_host)
    r = app.call(live_host, "m", "fail")
    assert r.status_code == 500
    assert r.json() == {"name": "ActorMethodError", "message": "counter says no"}


def test_a_call_that_writes_then_traps_commits_nothing(live_host: LiveHost):
    app = deploy_counter(live_host)
    assert app.call(live_host, "t", "incr").json() == 1
    r = app.call(live_host, "t", "trap_after_write")
    assert r.status_code == 500 and r.json()["name"] == "ActorMethodError"
    assert app.call(live_host, "t", "get").json() == 1, "the trapped turn's write leaked"
    # the trap dropped the activation: the next call made a new one
    assert app.call(live_host, "t", "inits").json() == 2


def test_a_method_over_its_budget_times_out_and_is_dropped(live_host: LiveHost, host_config):
    import time
    app = deploy_counter(live_host)
    app.call(live_host, "s", "incr")
    started = time.monotonic()
    r = app.call(live_host, "s", "spin")
    elapsed = time.monotonic() - started
    assert r.json()["name"] == "ActorMethodTimeoutError", r.text
    assert elapsed < host_config.actors.call_timeout_ms / 1000 + 2
    assert app.call(live_host, "s", "get").json() == 1
    assert app.call(live_host, "s", "inits").json() == 2


def test_a_call_chain_that_reenters_an_instance_fails_at_once(live_host: LiveHost):
    import time
    app = deploy_counter(live_host)
    started = time.monotonic()
    # a -> b -> a
    r = app.call(live_host, "a", "relay", '["b", "a"]')
    assert time.monotonic() - started < 1.0, "deadlock detection waited"
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "ActorDeadlockError"
    # a chain that does not re-enter completes
    assert app.call(live_host, "a", "relay", '["b", "c"]').json() == "end"
