"""A well-behaved actor app beside the attack, and a check that its stored state is unchanged."""

from tests.conftest import CounterApp, LiveHost, wat


def seed_victim(live_host: LiveHost, app: CounterApp, name: str = "victim", n: int = 3) -> None:
    for _ in range(n):
        app.call(live_host, name, "incr")


def assert_victim_intact(live_host: LiveHost, app: CounterApp, name: str = "victim",
                         n: int = 3) -> None:
    assert app.call(live_host, name, "get").json() == n, "the victim's stored state changed"
    assert app.call(live_host, name, "incr").json() == n + 1, "the victim stopped working"


HOG_BINDINGS = '[[actors]]\nbinding = "HOG"\ntype = "Hog"\n'


def deploy_hog(live_host: LiveHost, key: str | None = "default", suffix: str = "") -> CounterApp:
    """tests/wat/actor_hog.wat (type Hog, a tenant that stores as much as it can) and a
    class-free caller; call it with binding="HOG"."""
    owner = live_host.deploy(f"hog{suffix}", wat("actor_hog"), HOG_BINDINGS, key=key)
    caller = live_host.deploy(f"hogcaller{suffix}", wat("actor_caller"), HOG_BINDINGS, key=key)
    return CounterApp(owner, caller)
