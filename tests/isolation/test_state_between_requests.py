"""Threat: state from one request (or one actor name) visible to another."""

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import LiveHost, deploy_counter, wat


def test_globals_and_memory_never_carry_over_between_requests(live_host: LiveHost):
    func = live_host.deploy("counter", wat("global_counter"))
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: live_host.call(func["slug"], "/").text, range(40)))
    assert set(answers) == {"1,1"}, answers


def test_actor_names_do_not_share_memory_or_storage(live_host: LiveHost):
    app = deploy_counter(live_host)
    for _ in range(3):
        app.call(live_host, "one", "incr")
    assert app.call(live_host, "two", "get").json() == 0
    assert app.call(live_host, "two", "incr").json() == 1
    assert app.call(live_host, "one", "get").json() == 3
