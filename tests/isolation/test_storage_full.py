"""Threat: a tenant filling the host's LMDB map. The host used to grow the map while other
threads had read transactions open (LMDB forbids it: py-lmdb then invalidates every open read,
and another process on the file gets MapResizedError). Now the map is fixed: the write that
does not fit fails with StorageFullError, and everyone else's reads and stored data are
untouched."""

import threading
from dataclasses import replace

from edgehost.config import MIB

from tests import conftest
from tests.conftest import LiveHost, deploy_counter
from tests.isolation.actors_common import assert_victim_intact, deploy_hog, seed_victim
from tests.isolation.containment import run_attack

VALUE = 128 * 1024


def test_a_full_map_fails_the_filler_cleanly_and_disturbs_no_one(make_live_host, tmp_path):
    live: LiveHost = make_live_host(replace(conftest.test_config(tmp_path / "data"),
                                            lmdb_map_size=16 * MIB))
    victim = deploy_counter(live)
    seed_victim(live, victim)
    reader = deploy_hog(live, suffix="-reader")  # a bystander that lists while the map fills
    assert reader.call(live, "shelf", "fill", "[50,100,600,0]", binding="HOG").json() == 50
    key_b = live.admin("POST", "/accounts", json={"name": "filler"}).json()["api_key"]
    hog = deploy_hog(live, key=key_b)
    listings: list[tuple[int, str]] = []
    stop = threading.Event()

    def keep_listing() -> None:
        while not stop.is_set():
            r = reader.call(live, "shelf", "list", '[{"limit":1000,"reverse":true}]',
                            binding="HOG")
            listings.append((r.status_code, r.text))

    def attack():
        lister = threading.Thread(target=keep_listing)
        lister.start()
        try:
            for first in range(0, 200 * 8, 8):  # 1 MiB per call, up to 200 MiB
                r = hog.call(live, "filler", "fill", f"[8,{VALUE},8,{first}]", binding="HOG")
                if r.status_code != 200:
                    return r
            return r
        finally:
            stop.set()
            lister.join(60)

    result = run_attack(live, attack)
    assert result.attack_response.status_code == 500, result.attack_response.text
    error = result.attack_response.json()
    assert error["name"] == "StorageFullError"
    assert "Hog('filler')" in error["message"] and "lmdb_map_size" in error["message"]
    assert listings and set(listings) == {(200, "50")}, set(listings)
    # Freeing space makes room for everyone again; nothing stored was lost.
    assert hog.call(live, "filler", "delete_all", "[]", binding="HOG").status_code == 200
    result.assert_bystander_kept_answering()
    assert_victim_intact(live, victim)
    assert reader.call(live, "shelf", "list", '[{"limit":1000}]', binding="HOG").json() == 50
