"""Which function owns each actor type on an account, and the actor section of a module.

    actor_owners   account_id "/" type  ->  func_id

A type has at most one owner per account. Ownership is written in the same LMDB transaction
as the revision that claims or releases it, so two concurrent ships cannot both own a type.
"""

from __future__ import annotations

import json

from edgehost.registry.manifest import IDENTIFIER
from edgehost.sandbox.abi import ACTORS_SECTION
from edgehost.sandbox.custom_sections import custom_sections

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


def read_actor_classes(wasm: bytes) -> tuple[dict[str, list[str]], list[str]]:
    """The classes a module's `edgehost.actors` section declares, and any problems with it."""
    try:
        sections = custom_sections(wasm, ACTORS_SECTION)
    except ValueError as e:
        return {}, [f"cannot read custom sections: {e}"]
    if not sections:
        return {}, []
    if len(sections) > 1:
        return {}, [f"module has {len(sections)} '{ACTORS_SECTION}' sections; at most one"]
    try:
        data = json.loads(sections[0].decode("utf-8"))
        if data.get("version") != 1 or not isinstance(data.get("classes"), list):
            raise ValueError("expected {\"version\": 1, \"classes\": [...]}")
        classes: dict[str, list[str]] = {}
        for entry in data["classes"]:
            name, methods = entry["name"], entry["methods"]
            if not isinstance(name, str) or not IDENTIFIER.match(name):
                raise ValueError(f"class name {name!r} is not an identifier")
            if not isinstance(methods, list) or not all(
                    isinstance(m, str) and IDENTIFIER.match(m) and not m.startswith("_")
                    for m in methods):
                raise ValueError(f"class {name}: methods must be public identifiers")
            classes[name] = sorted(set(methods))
        return classes, []
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as e:
        return {}, [f"'{ACTORS_SECTION}' section is malformed: {e}"]
