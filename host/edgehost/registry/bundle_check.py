"""What a shipped bundle is, judged without LMDB and without compiling it.

`check_bundle` reads the manifest and matches it to the function being shipped, checks the
module's shape (its caps bound every later reading of the module, so nothing reads it before
they pass), reads its actor section, and works out what the compile must check: the exports
the guest needs and the memory limit. A bad bundle is not an exception here: every problem is
collected, in the order the client sees them, so one round trip shows them all.

Shipping is three steps, each its own: this check; the compile (`Functions.ship`, in the
Sandbox's compile processes, which adds the ABI's problems); and recording the revision
(`Functions`, one LMDB transaction, where actor-type ownership is decided).
"""

from __future__ import annotations

from dataclasses import dataclass

from edgehost.config import MIB, SandboxLimits
from edgehost.registry import actor_types
from edgehost.registry.actor_types import ActorSection
from edgehost.registry.manifest import Manifest, ManifestError, parse_manifest
from edgehost.registry.records import FunctionRecord
from edgehost.sandbox.abi import ACTOR_CALL_EXPORT, ACTOR_INIT_EXPORT, FETCH_EXPORT
from edgehost.sandbox.engine import module_hash
from edgehost.sandbox.module_shape import ShapeCheck


@dataclass(frozen=True)
class BundleRules:
    """The host's rules a bundle is checked against."""

    limits: SandboxLimits
    shape: ShapeCheck
    max_nesting_depth: int  # of the manifest and of the actor section


@dataclass(frozen=True)
class CheckedBundle:
    """A bundle as far as it can be judged before compiling it."""

    wasm: bytes
    manifest_text: str
    manifest: Manifest | None  # None when telnyx.toml is not a valid manifest
    module_hash: str
    actors: ActorSection  # the classes the module's actor section declares
    owned_types: list[str]  # declared in [[actors]] and exported by the module: it owns them
    memory_limit_bytes: int
    problems: list[str]  # each prefixed with where it is: "telnyx.toml: " or "module: "
    compilable: bool  # within the shape caps, so compiling it is bounded

    @property
    def required_exports(self) -> tuple[str, ...]:
        """The entry points the compile must find: fetch, and the actor hooks if it owns a
        type."""
        actor_hooks = (ACTOR_INIT_EXPORT, ACTOR_CALL_EXPORT) if self.owned_types else ()
        return (FETCH_EXPORT, *actor_hooks)


def check_bundle(record: FunctionRecord, wasm: bytes, manifest_text: str,
                 rules: BundleRules) -> CheckedBundle:
    """Everything about a bundle for `record` decidable without LMDB or a compiler."""
    problems: list[str] = []
    manifest = _check_manifest(record, manifest_text, rules, problems)
    memory_limit = rules.limits.function_memory_bytes(manifest.memory_mib if manifest else None)
    section = ActorSection({}, {})
    owned: list[str] = []
    # First, before any other reading of the module: its shape bounds the cost of it.
    shape_problems = rules.shape.refusals(wasm)
    problems.extend(f"module: {p}" for p in shape_problems)
    if not shape_problems:
        section, section_problems = actor_types.read_actor_classes(wasm,
                                                                   rules.max_nesting_depth)
        problems.extend(f"module: {p}" for p in section_problems)
        declared = {a.type for a in manifest.actors} if manifest else set()
        owned = sorted(declared & section.classes.keys())
    return CheckedBundle(wasm, manifest_text, manifest, module_hash(wasm), section, owned,
                         memory_limit, problems, compilable=not shape_problems)


def _check_manifest(record: FunctionRecord, manifest_text: str, rules: BundleRules,
                    problems: list[str]) -> Manifest | None:
    """The manifest, if valid and for this function; its problems otherwise."""
    try:
        manifest = parse_manifest(manifest_text,
                                  memory_cap_mib=rules.limits.memory_cap_bytes // MIB,
                                  timeout_cap_ms=rules.limits.timeout_cap_ms,
                                  max_nesting_depth=rules.max_nesting_depth)
    except ManifestError as e:
        problems.extend(f"telnyx.toml: {p}" for p in e.problems)
        return None
    if manifest.name != record.name:
        problems.append(f"telnyx.toml: name = {manifest.name!r}: must equal the name of "
                        f"the function being shipped ({record.name!r})")
    if manifest.func_id is not None and manifest.func_id != record.func_id:
        problems.append(f"telnyx.toml: edge_compute.func_id = {manifest.func_id!r}: "
                        f"must equal the function being shipped ({record.func_id})")
    return manifest
