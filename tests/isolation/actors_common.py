"""A well-behaved actor app beside the attack, a check that its stored state is unchanged, and
the Counter owner's module with a different `edgehost.actors` section."""

import re

import wasmtime

from tests.conftest import WAT_DIR, CounterApp, LiveHost, wat


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


def counter_with_section(section: str) -> bytes:
    """tests/wat/actor_counter.wat with its `edgehost.actors` section replaced by `section`."""
    source = (WAT_DIR / "actor_counter.wat").read_text()
    escaped = section.replace("\\", "\\\\").replace('"', '\\"')
    source, found = re.subn(r'\(@custom "edgehost\.actors"\s+"(?:[^"\\]|\\.)*"\)',
                            lambda _: f'(@custom "edgehost.actors" "{escaped}")', source)
    assert found == 1
    return bytes(wasmtime.wat2wasm(source))
