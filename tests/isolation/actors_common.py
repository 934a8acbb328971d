"""A well-behaved actor app beside the attack, and a check that its stored state is unchanged."""

from tests.conftest import CounterApp, LiveHost


def seed_victim(live_host: LiveHost, app: CounterApp, name: str = "victim", n: int = 3) -> None:
    for _ in range(n):
        app.call(live_host, name, "incr")


def assert_victim_intact(live_host: LiveHost, app: CounterApp, name: str = "victim",
                         n: int = 3) -> None:
    assert app.call(live_host, name, "get").json() == n, "the victim's stored state changed"
    assert app.call(live_host, name, "incr").json() == n + 1, "the victim stopped working"
