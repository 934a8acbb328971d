"""Threat: a module within the shape caps that is slow or heavy to compile (a compile bomb),
and an account shipping many of them at once.

Cranelift has no bound of its own on time or memory, so the host compiles in separate
processes with a wall-clock limit, an address-space limit and a cap on the compiled size, one
compile per account at a time. Each bomb is refused with a 422 naming the limit it hit, while
a bystander account ships, serves and keeps its stored state, and the host's memory does not
grow. The limits are set low here so that small modules reach them.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import httpx
from edgehost.config import MIB, HostConfig, ShipLimits

from tests.conftest import LiveHost, deploy_counter, manifest, serve_host, wat
from tests.conftest import test_config as base_config  # (a test_ name would be collected)
from tests.isolation.actors_common import assert_victim_intact, seed_victim
from tests.isolation.containment import assert_nothing_shipped, host_rss_bytes, run_attack
from tests.wasm_encoder import guest

# 48,000 functions (under the 50,000 cap) with 10,000 locals each, which Cranelift
# zero-initialises one by one: 340 KB that takes about 100 s to compile on one core (1,000 of
# them take 2 s), in little memory.
SLOW_BOMB = dict(functions=48_000, locals_=10_000)
# One 40 MiB data segment: compiled in a fraction of a second (so even a starved compile
# process gets there), but read, copied and serialized it needs 330 MiB of address space.
HEAVY_BOMB = dict(data_segments=1, data_segment_bytes=40 * MIB)
# 5,000 empty functions: 20 KB that compiles to 1 MB (52 times its size).
SWELLING_BOMB = dict(functions=5_000)
SIZE_CAP = 512 * 1024


def _config(tmp_path: Path, name: str = "data", **ship) -> HostConfig:
    return dataclasses.replace(base_config(tmp_path / name), ship=ShipLimits(**ship))


def _bystander_account(live_host: LiveHost) -> str:
    r = live_host.admin("POST", "/accounts", json={"name": "bystanders"})
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


def _ship_refused(live_host: LiveHost, module: bytes, other_key: str, limit_words: str) -> None:
    """Ship `module` on the default account while a bystander on `other_key` is polled;
    expect a 422 naming the limit, nothing stored, the bystander unaffected."""
    func = live_host.create_function(f"bomb{time.monotonic_ns() % 10**9}")
    result = run_attack(live_host, lambda: live_host.ship(func["func_id"], module,
                                                          manifest(func["name"])), key=other_key)
    assert result.attack_response.status_code == 422, result.attack_response.text
    details = result.attack_response.json()["details"]
    # The limit is the only problem.
    assert len(details) == 1 and details[0].startswith("module: ") and \
        limit_words in details[0], details
    assert_nothing_shipped(live_host, func)
    result.assert_bystander_kept_answering()


def test_a_slow_compile_is_stopped_at_the_time_limit(make_live_host, tmp_path: Path):
    live = make_live_host(_config(tmp_path, compile_timeout_s=3.0, compile_threads=1))
    other = _bystander_account(live)
    victim = deploy_counter(live, key=other)
    seed_victim(live, victim)
    _ship_refused(live, guest(**SLOW_BOMB), other,
                  "compiling the module took longer than the host's limit of 3 s")
    # The killed compile process was replaced: the next ships compile.
    assert live.deploy("after", wat("static_ok"), key=other)
    assert_victim_intact(live, victim)


def test_a_compile_needing_too_much_memory_is_stopped_and_host_memory_stays_flat(
        make_live_host, tmp_path: Path):
    live = make_live_host(_config(tmp_path, compile_memory_bytes=256 * MIB, compile_threads=1))
    other = _bystander_account(live)
    victim = deploy_counter(live, key=other)
    seed_victim(live, victim)
    bomb = guest(**HEAVY_BOMB)
    before = host_rss_bytes()
    for _ in range(2):
        _ship_refused(live, bomb, other, "needed more memory than the host's limit of 256 MiB")
    grown = host_rss_bytes() - before
    # Compiled in the host, each of these takes 300 MiB, most of which malloc keeps.
    assert grown < 64 * MIB, f"host RSS grew {grown // MIB} MiB over two compile bombs"
    assert_victim_intact(live, victim)


def test_a_module_compiling_above_the_size_cap_is_refused(make_live_host, tmp_path: Path):
    live = make_live_host(_config(tmp_path, max_compiled_bytes=SIZE_CAP))
    other = _bystander_account(live)
    victim = deploy_counter(live, key=other)
    seed_victim(live, victim)
    _ship_refused(live, guest(**SWELLING_BOMB), other,
                  f"above the host's limit of {SIZE_CAP:,} bytes")
    assert not list((tmp_path / "data" / "compiled").glob("*.partial"))
    assert_victim_intact(live, victim)


def test_one_account_shipping_many_bombs_gets_429_and_never_blocks_another(
        make_live_host, tmp_path: Path):
    # Each bomb takes the full 2 s, so all five ships arrive while the first compiles.
    live = make_live_host(_config(tmp_path, compile_timeout_s=2.0, compile_threads=1,
                                  compile_processes=2, max_waiting_compiles_per_account=2))
    other = _bystander_account(live)
    victim = deploy_counter(live, key=other)
    seed_victim(live, victim)
    bomb = guest(**SLOW_BOMB)
    funcs = [live.create_function(f"bomb{i}") for i in range(5)]
    answers: list[httpx.Response] = []
    all_answered = threading.Event()

    def ship_all() -> None:
        def one(func: dict) -> None:
            with httpx.Client(base_url=live.base_url, timeout=60) as client:
                answers.append(client.post(
                    f"/__edgehost/v1/functions/{func['func_id']}/revisions",
                    headers={"authorization": f"Bearer {live.key}"},
                    files={"module": ("m.wasm", bomb), "manifest": ("t", manifest(func["name"]))}))
        threads = [threading.Thread(target=one, args=(f,)) for f in funcs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        all_answered.set()

    def other_account_ships_meanwhile() -> httpx.Response:
        shipper = threading.Thread(target=ship_all)
        shipper.start()
        # Wait for the account's first compile to hold a process and the rest to queue.
        while len(answers) < 2 and not all_answered.is_set():
            all_answered.wait(0.05)
        func = live.create_function("meanwhile", key=other)
        r = live.ship(func["func_id"], wat("static_ok"), manifest("meanwhile"), key=other)
        assert not all_answered.is_set(), "the other account's ship waited for the bombs"
        shipper.join()
        return r

    result = run_attack(live, other_account_ships_meanwhile, key=other)
    assert result.attack_response.status_code == 201, result.attack_response.text
    statuses = sorted(r.status_code for r in answers)
    # One compile running and two waiting (each stopped at the time limit); the rest refused.
    assert statuses == [422, 422, 422, 429, 429], [r.text for r in answers]
    busy = [r for r in answers if r.status_code == 429]
    assert all(r.headers["retry-after"].isdigit() for r in busy)
    assert all("2 compile(s) waiting" in r.json()["message"] for r in busy)
    result.assert_bystander_kept_answering()
    assert_victim_intact(live, victim)


def test_recompiling_after_a_restart_is_bounded_like_a_ship(tmp_path: Path):
    """A restart with the compiled cache gone (a wasmtime upgrade, a lost disk) recompiles
    each module on its first request through the same compile processes and limits."""
    data = tmp_path / "data"
    with serve_host(_config(tmp_path)) as first:
        other = _bystander_account(first)
        victim = deploy_counter(first, key=other)
        seed_victim(first, victim)
        swelling = first.deploy("swelling", guest(**SWELLING_BOMB))
        bystander = first.deploy("steady", wat("static_ok"), key=other)
    for compiled in (data / "compiled").glob("*.cwasm"):
        compiled.unlink()
    # The operator has since lowered the compiled-size cap below what `swelling` needs.
    with serve_host(_config(tmp_path, max_compiled_bytes=SIZE_CAP)) as second:
        r = second.call(swelling["slug"], "/")
        assert r.status_code == 500, r.text
        assert r.json()["error"] == "function_unavailable"
        assert r.headers["x-edgehost-error"] == "function_unavailable"
        ok = second.call(bystander["slug"], "/")
        assert (ok.status_code, ok.text) == (200, "ok")
        assert_victim_intact(second, victim)
        # Recompiled: the counter, its caller and the bystander; nothing for `swelling`.
        assert len(list((data / "compiled").glob("*.cwasm"))) == 3
