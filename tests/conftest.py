"""Shared fixtures: WAT guests compiled at test time, and a real host on 127.0.0.1.

`live_host` runs the real app under a real uvicorn server in a thread, on an ephemeral
loopback port, with LMDB in a temp dir. Tests talk to it over HTTP only.
"""

from __future__ import annotations

import gc
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
import wasmtime
from edgehost.app import build_host, create_app
from edgehost.config import ActorLimits, HostConfig, SandboxLimits, ShipLimits
from edgehost.http.server import uvicorn_config

ROOT = Path(__file__).resolve().parent.parent
WAT_DIR = ROOT / "tests" / "wat"
EXAMPLES = ROOT / "examples"
TEST_KEY = "ehk_test_admin_key_0123456789"


def example_bundle(name: str) -> tuple[bytes, str]:
    """A built example's module and manifest (scripts/setup builds them from source)."""
    module = EXAMPLES / name / "build" / f"{name}.wasm"
    if not module.exists():
        pytest.fail(f"{module} is missing: run scripts/setup (it builds the examples)")
    return module.read_bytes(), (EXAMPLES / name / "telnyx.toml").read_text()


def wat(name: str) -> bytes:
    """A test guest from tests/wat/, compiled to a module."""
    return bytes(wasmtime.wat2wasm((WAT_DIR / f"{name}.wat").read_text()))


def manifest(name: str, extra: str = "") -> str:
    return f'name = "{name}"\nmain = "src/index.ts"\ncompatibility_date = "2026-05-01"\n{extra}'


@dataclass
class LiveHost:
    base_url: str
    port: int
    key: str
    client: httpx.Client
    host: object  # edgehost.app.Host, for tests that inspect metrics

    def admin(self, method: str, path: str, key: str | None = "default", **kw) -> httpx.Response:
        headers = kw.pop("headers", {})
        use = self.key if key == "default" else key
        if use is not None:
            headers["authorization"] = f"Bearer {use}"
        return self.client.request(method, f"/__edgehost/v1{path}", headers=headers, **kw)

    def create_function(self, name: str, key: str | None = "default") -> dict:
        r = self.admin("POST", "/functions", key=key, json={"name": name})
        assert r.status_code == 201, r.text
        return r.json()

    def ship(self, func_id: str, module: bytes, manifest_text: str,
             key: str | None = "default") -> httpx.Response:
        return self.admin("POST", f"/functions/{func_id}/revisions", key=key,
                          files={"module": ("m.wasm", module, "application/wasm"),
                                 "manifest": ("telnyx.toml", manifest_text, "text/plain")})

    def deploy_example(self, name: str, key: str | None = "default") -> dict:
        module, manifest_text = example_bundle(name)
        func = self.create_function(name, key=key)
        r = self.ship(func["func_id"], module, manifest_text, key=key)
        assert r.status_code == 201, r.text
        return r.json()

    def deploy(self, name: str, module: bytes, extra_manifest: str = "",
               key: str | None = "default") -> dict:
        """Create a function and ship a module to it; returns the function JSON."""
        func = self.create_function(name, key=key)
        r = self.ship(func["func_id"], module, manifest(name, extra_manifest), key=key)
        assert r.status_code == 201, r.text
        return r.json()

    def call_actor(self, slug: str, binding: str, name: str, method: str,
                   args: str = "[]") -> httpx.Response:
        """Make one actor call through a function running tests/wat/actor_caller.wat."""
        return self.call(slug, "/", "POST", content=f"{binding}\n{name}\n{method}\n{args}")

    def call(self, slug: str, path: str = "/", method: str = "GET", **kw) -> httpx.Response:
        """Reach a function by Host header, as a browser or curl would via *.localhost."""
        headers = {"host": f"{slug}.localhost:{self.port}", **kw.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kw)


def serve_in_thread(app, timeout: float = 10.0) -> tuple[uvicorn.Server, threading.Thread, int]:
    """Serve `app` (a HostApp) as `edgehost serve` does: same uvicorn configuration."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, app.host.config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return server, thread, port


COUNTER_BINDINGS = '[[actors]]\nbinding = "COUNTER"\ntype = "Counter"\n' \
                   '[[actors]]\nbinding = "PEER"\ntype = "Counter"\n'


# Smaller instance pools than a production worker's: each host's engine reserves its guest
# stacks up front, one kernel mapping per stack guard page, and a test process builds many
# hosts (vm.max_map_count is 65,530).
TEST_POOLS = {"instance_pool_slots": 512, "guest_stack_slots": 256}


def test_config(data_dir: Path, **actor_limits) -> HostConfig:
    # Short budgets keep the hostile-guest tests quick (the defaults are 30 s). Actor calls get
    # less than the functions that make them, so a caller sees the timeout as a value. One
    # compile process, not two: each costs ~0.15 s of CPU to start, for every test's host.
    return HostConfig(data_dir=data_dir,
                      sandbox=SandboxLimits(timeout_ms=2000, memory_bytes=32 * 1024 * 1024,
                                           memory_cap_bytes=64 * 1024 * 1024, **TEST_POOLS),
                      actors=ActorLimits(**{"call_timeout_ms": 1000, "init_timeout_ms": 1000,
                                            **actor_limits}),
                      ship=ShipLimits(compile_processes=1))


@pytest.fixture
def host_config(tmp_path: Path) -> HostConfig:
    return test_config(tmp_path / "data")


@contextmanager
def serve_host(config: HostConfig) -> Iterator[LiveHost]:
    """A host on `config`, served until the block ends (then shut down, LMDB closed), so a
    test can start another on the same data dir."""
    host = build_host(config, env_key=TEST_KEY)
    server, thread, port = serve_in_thread(create_app(config, host))
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            yield LiveHost(base, port, TEST_KEY, client, host)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        # The host is closed: collect it now, so its engine's reserved instance pools are
        # returned before the next test builds another. FastAPI keeps route callables (our
        # admin routes close over the host's parts) in module-level LRU caches: one admin app
        # per process in production, but a test process builds hundreds.
        del host
        _forget_fastapi_route_caches()
        gc.collect()


def _forget_fastapi_route_caches() -> None:
    models = sys.modules.get("fastapi.dependencies.models")
    for value in vars(models).values() if models else ():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


@pytest.fixture
def make_live_host(tmp_path: Path) -> Iterator[Callable[..., LiveHost]]:
    """Start a host with some actor limits changed: make_live_host(mailbox_depth=2)."""
    with ExitStack() as running:
        started = 0

        def start(config: HostConfig | None = None, **actor_limits) -> LiveHost:
            nonlocal started
            config = config or test_config(tmp_path / f"data{started}", **actor_limits)
            started += 1
            return running.enter_context(serve_host(config))

        yield start


@pytest.fixture
def live_host(make_live_host, host_config: HostConfig) -> LiveHost:
    return make_live_host(host_config)


@pytest.fixture
def roomy_host(make_live_host, tmp_path: Path) -> LiveHost:
    """A host with the default 30 s budgets, for tests that queue hundreds of calls on one
    actor: their correctness must not depend on how busy the machine is."""
    return make_live_host(HostConfig(data_dir=tmp_path / "roomy",
                                     sandbox=SandboxLimits(**TEST_POOLS)))


@dataclass
class CounterApp:
    """The Counter owner plus a class-free caller function on one account."""

    owner: dict
    caller: dict

    def call(self, live_host: LiveHost, name: str, method: str, args: str = "[]",
             binding: str = "COUNTER") -> httpx.Response:
        return live_host.call_actor(self.caller["slug"], binding, name, method, args)


def deploy_counter(live_host: LiveHost, key: str | None = "default",
                   suffix: str = "") -> CounterApp:
    owner = live_host.deploy(f"counter{suffix}", wat("actor_counter"), COUNTER_BINDINGS, key=key)
    caller = live_host.deploy(f"client{suffix}", wat("actor_caller"), COUNTER_BINDINGS, key=key)
    return CounterApp(owner, caller)
