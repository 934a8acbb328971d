"""The JSON the admin API answers with: functions, revisions, bindings and actor types.

Views read only what the registry stores (function records, revisions, actor-type owners).
None of them loads or compiles a module: an admin GET costs LMDB reads, whatever the state of
the compiled cache, and never waits on the compile processes.
"""

from __future__ import annotations

from typing import Any

from edgehost.registry.accounts import Account
from edgehost.registry.functions import Functions, function_urls
from edgehost.registry.records import FunctionRecord, Revision


def function_json(record: FunctionRecord, base_domain: str, host: str,
                  port: int | None) -> dict[str, Any]:
    return {"func_id": record.func_id, "name": record.name, "slug": record.slug,
            "current_revision": record.current_revision, "created_at": record.created_at,
            **function_urls(record, base_domain, host, port)}


def revision_json(revision: Revision, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"revision": revision.number, "module_hash": revision.module_hash,
                           "module_size": revision.module_size,
                           "shipped_at": revision.shipped_at, "warnings": revision.warnings}
    if full:
        out["manifest"] = revision.manifest.to_json()
        out["actor_classes"] = revision.actor_classes
        out["owned_types"] = revision.owned_types
    return out


def function_revisions(functions: Functions, record: FunctionRecord) -> dict[str, Any]:
    """A function's current revision in full, its bindings' status, and every revision."""
    revisions = functions.revisions(record)
    current = next((r for r in revisions if r.number == record.current_revision), None)
    if current is None:
        return {"current": None, "bindings": [],
                "revisions": [revision_json(r) for r in revisions]}
    return {"current": revision_json(current, full=True),
            "bindings": bindings_status(functions, record, current),
            "revisions": [revision_json(r) for r in revisions]}


def _role(type_: str, revision: Revision) -> str:
    return "owner" if type_ in revision.owned_types else "reference"


def bindings_status(functions: Functions, record: FunctionRecord,
                    revision: Revision) -> list[dict[str, Any]]:
    """Each binding of a revision: its role (owner/reference) and whether it resolves."""
    out = []
    for binding in revision.manifest.actors:
        owner = functions.owner(record.account_id, binding.type)
        out.append({"binding": binding.binding, "type": binding.type,
                    "role": _role(binding.type, revision),
                    "resolved": owner is not None,
                    "owner": {"func_id": owner.func_id, "name": owner.name} if owner else None})
    return out


def actor_types(functions: Functions, account: Account) -> list[dict[str, Any]]:
    """Every actor type on the account: its owner, methods, and the functions bound to it."""
    owners = functions.owned_types(account.account_id)
    bound: dict[str, list[dict[str, Any]]] = {}
    for record in functions.of_account(account):
        revision = functions.current_revision(record)
        if revision is None:
            continue
        for binding in revision.manifest.actors:
            bound.setdefault(binding.type, []).append(
                {"func_id": record.func_id, "name": record.name, "binding": binding.binding,
                 "role": _role(binding.type, revision)})
    return [_actor_type_json(functions, type_, owners.get(type_), bound.get(type_, []))
            for type_ in sorted(set(bound) | set(owners))]


def _actor_type_json(functions: Functions, type_: str, owner_id: str | None,
                     bindings: list[dict[str, Any]]) -> dict[str, Any]:
    """One type: its owner's current revision supplies the methods and signatures."""
    owner = functions.get(owner_id) if owner_id else None
    revision = functions.current_revision(owner) if owner else None
    return {
        "type": type_,
        "owner": {"func_id": owner.func_id, "name": owner.name, "revision": revision.number}
        if owner and revision else None,
        "methods": revision.actor_classes.get(type_, []) if revision else [],
        "signatures": revision.actor_signatures.get(type_, {}) if revision else {},
        "bindings": bindings,
    }


def actor_type(functions: Functions, account: Account, type_: str) -> dict[str, Any] | None:
    """One actor type owned or bound on the account, as `actor_types` lists it; else None."""
    return next((entry for entry in actor_types(functions, account) if entry["type"] == type_),
                None)
