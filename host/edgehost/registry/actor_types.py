"""Which function owns each actor type on an account, and the actor section of a module.

    actor_owners   account_id "/" type  ->  func_id

A type has at most one owner per account. Ownership is written in the same LMDB transaction
as the revision that claims or releases it, so two concurrent ships cannot both own a type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from edgehost import nesting
from edgehost.config import DEFAULT_MAX_NESTING_DEPTH
from edgehost.registry.manifest import IDENTIFIER
from edgehost.sandbox.abi import ACTORS_SECTION
from edgehost.sandbox.custom_sections import custom_sections
from edgehost.storage.lmdb_env import scan_prefix

OWNERS_DB = "actor_owners"


def _key(account_id: str, type_: str) -> bytes:
    return f"{account_id}/{type_}".encode()


def owner_of(txn, db, account_id: str, type_: str) -> str | None:
    raw = txn.get(_key(account_id, type_), db=db)
    return raw.decode() if raw else None


def set_owner(txn, db, account_id: str, type_: str, func_id: str) -> None:
    txn.put(_key(account_id, type_), func_id.encode(), db=db)


def release_owner(txn, db, account_id: str, type_: str, func_id: str) -> None:
    if owner_of(txn, db, account_id, type_) == func_id:
        txn.delete(_key(account_id, type_), db=db)


def owned_types(txn, db, account_id: str) -> list[tuple[str, str]]:
    """(type, owner func_id) for every owned type on an account, by type name."""
    prefix = f"{account_id}/".encode()
    return [(key[len(prefix):].decode(), func_id.decode())
            for key, func_id in scan_prefix(txn, db, prefix)]


@dataclass(frozen=True)
class ActorSection:
    classes: dict[str, list[str]]  # class -> public method names
    signatures: dict[str, dict]  # class -> method -> {"params": [[name, type]], "result": type}


def read_actor_classes(wasm: bytes, max_nesting_depth: int = DEFAULT_MAX_NESTING_DEPTH
                       ) -> tuple[ActorSection, list[str]]:
    """The classes a module's `edgehost.actors` section declares, and any problems with it."""
    empty = ActorSection({}, {})
    try:
        sections = custom_sections(wasm, ACTORS_SECTION)
    except ValueError as e:
        return empty, [f"cannot read custom sections: {e}"]
    if not sections:
        return empty, []
    if len(sections) > 1:
        return empty, [f"module has {len(sections)} '{ACTORS_SECTION}' sections; at most one"]
    try:
        nesting.check_json(sections[0], f"the '{ACTORS_SECTION}' section", max_nesting_depth)
    except nesting.TooDeep as e:
        return empty, [f"{e} (documents.max_nesting_depth)"]
    try:
        data = json.loads(sections[0].decode("utf-8"))
        if data.get("version") != 1 or not isinstance(data.get("classes"), list):
            raise ValueError("expected {\"version\": 1, \"classes\": [...]}")
        classes: dict[str, list[str]] = {}
        signatures: dict[str, dict] = {}
        for entry in data["classes"]:
            name, methods = entry["name"], entry["methods"]
            if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
                raise ValueError(f"class name {name!r} is not an identifier")
            if not isinstance(methods, list) or not all(
                    isinstance(m, str) and IDENTIFIER.fullmatch(m) and not m.startswith("_")
                    for m in methods):
                raise ValueError(f"class {name}: methods must be public identifiers")
            classes[name] = sorted(set(methods))
            described = entry.get("signatures", {})
            if not isinstance(described, dict):
                raise ValueError(f"class {name}: signatures must be an object")
            # Signatures are documentation for typed stubs; keep only listed methods.
            signatures[name] = {m: described[m] for m in classes[name] if m in described}
        return ActorSection(classes, signatures), []
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as e:
        return empty, [f"'{ACTORS_SECTION}' section is malformed: {e}"]
