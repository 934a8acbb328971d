"""What the registry stores for a function: its record and its immutable revisions.

    functions   func_id                    -> FunctionRecord JSON   (FUNCTION_RECORDS)
    revisions   func_id "/" %08d revision  -> Revision JSON         (REVISIONS)

A revision's manifest is the typed `Manifest`, stored as `Manifest.to_json()`: the same JSON
every host so far has written, so revisions stored by older hosts load unchanged. Revisions
from before actors existed lack the actor fields and get their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from edgehost.registry.manifest import Manifest
from edgehost.storage.record_codec import JsonCodec, dataclass_codec

SLUG_ID_CHARS = 10


@dataclass(frozen=True)
class FunctionRecord:
    func_id: str
    account_id: str
    name: str
    created_at: float
    current_revision: int | None = None

    @property
    def slug(self) -> str:
        """The DNS label a function is addressed by: `{name}-{func_id[:10]}`."""
        return f"{self.name}-{self.func_id[:SLUG_ID_CHARS]}"


@dataclass(frozen=True)
class Revision:
    func_id: str
    number: int
    module_hash: str
    module_size: int
    manifest_text: str
    manifest: Manifest  # without warnings: those of the ship are the revision's `warnings`
    shipped_at: float
    warnings: list[str] = field(default_factory=list)
    actor_classes: dict[str, list[str]] = field(default_factory=dict)  # from the module
    actor_signatures: dict[str, dict] = field(default_factory=dict)  # class -> method -> sig
    owned_types: list[str] = field(default_factory=list)  # declared in [[actors]] and exported


def _revision_to_json(revision: Revision) -> dict[str, Any]:
    data = {f.name: getattr(revision, f.name) for f in fields(revision)}
    data["manifest"] = revision.manifest.to_json()
    return data


def _revision_from_json(data: dict[str, Any]) -> Revision:
    return Revision(**{**data, "manifest": Manifest.from_json(data["manifest"])})


FUNCTION_RECORDS: JsonCodec[FunctionRecord] = dataclass_codec(FunctionRecord)
REVISIONS: JsonCodec[Revision] = JsonCodec(_revision_to_json, _revision_from_json)


def function_key(func_id: str) -> bytes:
    return func_id.encode()


def revision_key(func_id: str, number: int) -> bytes:
    return f"{func_id}/{number:08d}".encode()


def revisions_prefix(func_id: str) -> bytes:
    """The keys of every revision of a function start with this."""
    return f"{func_id}/".encode()
