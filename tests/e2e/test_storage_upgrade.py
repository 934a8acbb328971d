"""A data dir written by an older host (storage layout 1: long keys in a side table, no usage
records) is upgraded when the host opens it, with the registry's actor types attributing the
existing data to its account."""

from __future__ import annotations

import hashlib
import struct

from edgehost.app import LMDB_DATABASES, build_host
from edgehost.storage import actor_storage, layout_upgrade
from edgehost.storage.actor_storage import InstanceId
from edgehost.storage.lmdb_env import LmdbEnv

from tests import conftest
from tests.conftest import COUNTER_BINDINGS, TEST_KEY, manifest, wat


def test_an_old_data_dir_is_upgraded_when_the_host_opens_it(make_live_host, tmp_path):
    config = conftest.test_config(tmp_path / "data")
    host = build_host(config, env_key=TEST_KEY)
    account = host.default_account.account
    slugs = {}
    for name, module in (("counter", "actor_counter"), ("client", "actor_caller")):
        record = host.functions.create(account, name)
        host.functions.ship(account, record.func_id, wat(module), manifest(name, COUNTER_BINDINGS))
        slugs[name] = record.slug
    host.close()

    # What an older host left: an instance with "n" = 41 and a 1,000-byte key, no usage
    # records, no layout version.
    old = InstanceId(account.account_id, "Counter", "old")
    long_key, long_value = b"L" * 1000, b'"kept"'
    env = LmdbEnv(config.data_dir / "lmdb", map_size=config.lmdb_map_size,
                  databases=[*LMDB_DATABASES, layout_upgrade.LEGACY_LONG_KV_DB])

    def write_layout1(txn) -> None:
        txn.delete(layout_upgrade.LAYOUT_KEY, db=env.db(actor_storage.META_DB))
        txn.put(old.prefix + b"n", b"41", db=env.db(actor_storage.KV_DB))
        txn.put(old.prefix + hashlib.sha256(long_key).digest(),
                struct.pack("<H", len(long_key)) + long_key + long_value,
                db=env.db(layout_upgrade.LEGACY_LONG_KV_DB))
        txn.put(old.index_key, b"old", db=env.db(actor_storage.INSTANCES_DB))

    env.write(write_layout1)
    env.close()

    live = make_live_host(config)
    stored = {"bytes": 1 + 2 + len(long_key) + len(long_value), "keys": 2}
    assert live.admin("GET", "/storage").json()["used"] == stored
    call = lambda method: live.call_actor(slugs["client"], "COUNTER", "old", method)  # noqa: E731
    assert call("get").json() == 41
    assert call("incr").json() == 42
    # The activation's constructor counted itself in "inits" = 1: one key more.
    assert live.admin("GET", "/storage").json()["used"] == \
        {"bytes": stored["bytes"] + len(b"inits1"), "keys": 3}
    assert live.admin("GET", "/actors/Counter/instances").json()["instances"] == \
        [{"name": "old", "live": True}]
