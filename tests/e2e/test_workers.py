"""Issue 10: `edgehost serve --workers N`: the actor guarantees hold across worker processes.

Each actor instance lives on one worker (chosen by a stable hash); calls arriving on another
worker are forwarded there. These tests run real multi-process hosts and check, from the
outside, that a name has one activation, that concurrent debits never overdraw, that a kill -9
of the whole host loses nothing acknowledged, and that one data dir has one owner.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import COUNTER_BINDINGS, example_bundle, manifest, wat
from tests.process_host import ProcessHost

KEY = "ehk_workers_test_key"
WORKERS = "3"  # more workers than cores is allowed, and spreads names over three homes


def _ship(host: ProcessHost, name: str, module: bytes, manifest_text: str) -> str:
    with host.client() as c:
        func = c.post("/__edgehost/v1/functions", json={"name": name}).json()
        r = c.post(f"/__edgehost/v1/functions/{func['func_id']}/revisions",
                   files={"module": ("m.wasm", module), "manifest": ("t.toml", manifest_text)})
        assert r.status_code == 201, r.text
        return func["slug"]


def _counter_host(tmp_path) -> tuple[ProcessHost, str]:
    host = ProcessHost(tmp_path / "data", KEY, "--workers", WORKERS).start()
    _ship(host, "counter", wat("actor_counter"), manifest("counter", COUNTER_BINDINGS))
    return host, _ship(host, "client", wat("actor_caller"), manifest("client", COUNTER_BINDINGS))


def _call(base_url: str, slug: str, name: str, method: str) -> httpx.Response:
    # A new connection each time: the kernel spreads connections over the workers.
    with httpx.Client(base_url=base_url, timeout=60) as c:
        return c.post("/", headers={"host": f"{slug}.localhost"},
                      content=f"COUNTER\n{name}\n{method}\n[]")


def test_a_name_has_one_activation_whichever_worker_the_calls_arrive_on(tmp_path):
    host, slug = _counter_host(tmp_path)
    try:
        names = [f"n{i}" for i in range(12)]
        with ThreadPoolExecutor(48) as pool:
            responses = list(pool.map(lambda n: _call(host.base_url, slug, n, "incr"),
                                      [n for n in names for _ in range(20)]))
        assert all(r.status_code == 200 for r in responses), \
            {r.text[:100] for r in responses if r.status_code != 200}
        by_name: dict[str, list[int]] = {}
        for n, r in zip([n for n in names for _ in range(20)], responses, strict=True):
            by_name.setdefault(n, []).append(r.json())
        for n in names:
            assert sorted(by_name[n]) == list(range(1, 21)), n  # one call at a time, no loss
            assert _call(host.base_url, slug, n, "inits").json() == 1, n  # one activation
        with host.client() as c:
            metrics = c.get("/__edgehost/metrics").text
        homes = {line.split('worker="')[1].split('"')[0] for line in metrics.splitlines()
                 if line.startswith("edgehost_actor_activations_total{")}
        assert len(homes) > 1, "every name landed on one worker: nothing was forwarded"
    finally:
        host.stop()


def test_200_concurrent_debits_of_1_on_100_with_workers(tmp_path):
    host = ProcessHost(tmp_path / "data", KEY, "--workers", WORKERS).start()
    try:
        owner = _ship(host, "account", *example_bundle("account"))
        reference = _ship(host, "account-readonly", *example_bundle("account-readonly"))

        def debit(name: str) -> int:
            with httpx.Client(base_url=host.base_url, timeout=60) as c:
                return c.post(f"/fn/{owner}/accounts/{name}/debit",
                              json={"amount": 1}).status_code

        for round_ in range(3):
            name = f"race{round_}"
            with httpx.Client(base_url=host.base_url, timeout=60) as c:
                r = c.post(f"/fn/{owner}/accounts/{name}/deposit", json={"amount": 100})
                assert r.json()["balance"] == 100
            with ThreadPoolExecutor(48) as pool:
                statuses = list(pool.map(debit, [name] * 200))
            assert statuses.count(200) == 100 and statuses.count(409) == 100, \
                sorted(set(statuses))
            with httpx.Client(base_url=host.base_url, timeout=60) as c:
                assert c.get(f"/fn/{reference}/accounts/{name}/balance").json()["balance"] == 0
    finally:
        host.stop()


def test_kill_9_of_every_worker_under_load_loses_nothing_acknowledged(tmp_path):
    host, slug = _counter_host(tmp_path)
    names = [f"k{i}" for i in range(6)]
    acknowledged: dict[str, list[int]] = {n: [] for n in names}
    stop = threading.Event()
    lock = threading.Lock()

    def writer(name: str) -> None:
        while not stop.is_set():
            try:
                r = _call(host.base_url, slug, name, "incr")
            except httpx.HTTPError:
                return  # the host died under this request: not acknowledged
            if r.status_code != 200:
                return
            with lock:
                acknowledged[name].append(r.json())

    threads = [threading.Thread(target=writer, args=(n,)) for n in names for _ in range(3)]
    try:
        for t in threads:
            t.start()
        while sum(len(v) for v in acknowledged.values()) < 150:
            threading.Event().wait(0.01)
        host.kill9()
        stop.set()
        for t in threads:
            t.join(timeout=30)
        host = ProcessHost(tmp_path / "data", KEY, "--workers", WORKERS).start()
        for name in names:
            stored = _call(host.base_url, slug, name, "get").json()
            assert isinstance(stored, int), stored
            assert stored >= max(acknowledged[name], default=0), name
            assert len(set(acknowledged[name])) == len(acknowledged[name]), name
    finally:
        stop.set()
        host.stop()


@pytest.mark.parametrize("workers", ["1", WORKERS])
def test_a_second_serve_on_the_same_data_dir_refuses(tmp_path, workers):
    host = ProcessHost(tmp_path / "data", KEY, "--workers", workers).start()
    try:
        second = subprocess.run(
            [sys.executable, "-m", "edgehost", "serve", "--port", "0", "--data-dir",
             str(tmp_path / "data"), "--workers", workers],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "EDGEHOST_API_KEY": KEY})
        assert second.returncode != 0
        assert f"data dir {tmp_path / 'data'} is in use by pid {host.proc.pid}" in \
            second.stderr, second.stderr
        with host.client() as c:  # the first host is untouched
            assert c.get("/__edgehost/health").status_code == 200
    finally:
        host.stop()
