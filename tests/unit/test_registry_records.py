"""The registry's stored records: one codec per type, and revisions stored by older hosts
still load, their manifest read as the typed Manifest."""

from __future__ import annotations

import json

from edgehost.registry.accounts import ACCOUNTS, Account
from edgehost.registry.manifest import ActorBinding, Manifest
from edgehost.registry.records import FUNCTION_RECORDS, REVISIONS, FunctionRecord, Revision

FUNC_ID = "0b7c8a38-6a47-4b2e-9b3c-1f0e2d3c4b5a"
STORED_MANIFEST = {  # Manifest.to_json as every host so far has written it
    "name": "hello", "main": "src/index.ts", "compatibility_date": "2026-05-01",
    "actors": [{"binding": "COUNTER", "type": "Counter"}], "func_id": None,
    "env_vars": {"A": "1"}, "limits": {"memory_mib": 16, "timeout_ms": None}}


def test_a_revision_stored_before_actors_existed_loads_with_their_defaults():
    raw = json.dumps({"func_id": FUNC_ID, "number": 1, "module_hash": "ab" * 32,
                      "module_size": 10, "manifest_text": "name = \"hello\"",
                      "manifest": {**STORED_MANIFEST, "actors": []}, "shipped_at": 1.5,
                      "warnings": ["w"]}).encode()
    revision = REVISIONS.decode(raw)
    assert revision.manifest == Manifest("hello", "src/index.ts", "2026-05-01", (), None,
                                         {"A": "1"}, 16, None)
    assert (revision.actor_classes, revision.actor_signatures, revision.owned_types) == \
        ({}, {}, [])
    assert revision.warnings == ["w"]


def test_a_revision_is_stored_in_the_form_older_hosts_wrote_and_read():
    revision = Revision(FUNC_ID, 2, "cd" * 32, 20, "text", Manifest.from_json(STORED_MANIFEST),
                        2.5, [], {"Counter": ["incr"]}, {"Counter": {}}, ["Counter"])
    stored = json.loads(REVISIONS.encode(revision))
    assert stored == {"func_id": FUNC_ID, "number": 2, "module_hash": "cd" * 32,
                      "module_size": 20, "manifest_text": "text", "manifest": STORED_MANIFEST,
                      "shipped_at": 2.5, "warnings": [], "actor_classes": {"Counter": ["incr"]},
                      "actor_signatures": {"Counter": {}}, "owned_types": ["Counter"]}
    assert REVISIONS.decode(REVISIONS.encode(revision)) == revision
    assert revision.manifest.actors == (ActorBinding("COUNTER", "Counter"),)


def test_function_records_and_accounts_round_trip_as_their_fields():
    record = FunctionRecord(FUNC_ID, "acct", "hello", 1.0, current_revision=3)
    assert json.loads(FUNCTION_RECORDS.encode(record)) == {
        "func_id": FUNC_ID, "account_id": "acct", "name": "hello", "created_at": 1.0,
        "current_revision": 3}
    assert FUNCTION_RECORDS.decode(FUNCTION_RECORDS.encode(record)) == record
    account = Account("acct", "default", True, 1.0)
    assert ACCOUNTS.decode(ACCOUNTS.encode(account)) == account
