"""kill -9 the host: every acknowledged write survives the restart (durable before reply)."""

from __future__ import annotations

import threading

import httpx

from tests.conftest import COUNTER_BINDINGS, manifest, wat
from tests.process_host import ProcessHost

KEY = "ehk_durability_test_key"
ROUNDS = 4


def _deploy(host: ProcessHost) -> str:
    with host.client() as c:
        for name, module in (("counter", wat("actor_counter")), ("client", wat("actor_caller"))):
            func = c.post("/__edgehost/v1/functions", json={"name": name}).json()
            r = c.post(f"/__edgehost/v1/functions/{func['func_id']}/revisions",
                       files={"module": ("m.wasm", module),
                              "manifest": ("telnyx.toml", manifest(name, COUNTER_BINDINGS))})
            assert r.status_code == 201, r.text
        return func["slug"]  # the client's


def _incr(client: httpx.Client, slug: str, name: str) -> int:
    r = client.post("/", headers={"host": f"{slug}.localhost"},
                    content=f"COUNTER\n{name}\nincr\n[]")
    assert r.status_code == 200, r.text
    return r.json()


def _get(host: ProcessHost, slug: str, name: str) -> int:
    with httpx.Client(base_url=host.base_url, timeout=30) as c:
        r = c.post("/", headers={"host": f"{slug}.localhost"}, content=f"COUNTER\n{name}\nget\n[]")
        return r.json()


def test_acknowledged_writes_survive_kill_9_quiet_and_in_flight(tmp_path):
    data = tmp_path / "data"
    host = ProcessHost(data, KEY).start()
    slug = _deploy(host)
    acked_quiet = 0
    acked_in_flight: list[int] = []
    attempted_in_flight = 0
    try:
        for round_ in range(ROUNDS):
            # Quiet: acknowledged writes, then kill -9 at once.
            with httpx.Client(base_url=host.base_url, timeout=30) as c:
                for _ in range(20):
                    acked_quiet = _incr(c, slug, "quiet")
            host.kill9()
            host = ProcessHost(data, KEY).start()
            assert _get(host, slug, "quiet") == acked_quiet, f"round {round_}: lost writes"

            # In flight: 8 threads writing as fast as they can while the host is killed.
            stop = threading.Event()
            lock = threading.Lock()

            def writer(base_url: str, stop: threading.Event, lock: threading.Lock) -> None:
                nonlocal attempted_in_flight
                with httpx.Client(base_url=base_url, timeout=30) as c:
                    while not stop.is_set():
                        with lock:
                            attempted_in_flight += 1
                        try:
                            value = _incr(c, slug, "busy")
                        except (httpx.HTTPError, AssertionError):
                            return  # the host died under this request: not acknowledged
                        with lock:
                            acked_in_flight.append(value)

            threads = [threading.Thread(target=writer, args=(host.base_url, stop, lock))
                       for _ in range(8)]
            for t in threads:
                t.start()
            while len(acked_in_flight) < 50 * (round_ + 1):
                threading.Event().wait(0.01)
            host.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=30)
            host = ProcessHost(data, KEY).start()
            final = _get(host, slug, "busy")
            assert final >= max(acked_in_flight), \
                f"round {round_}: acknowledged {max(acked_in_flight)} but found {final}"
            assert final <= attempted_in_flight
            # every acknowledged value is distinct: no two turns saw the same state
            assert len(set(acked_in_flight)) == len(acked_in_flight)
    finally:
        host.stop()
