"""Functions, their immutable revisions, shipping, and lookup for request routing.

LMDB layout (named databases):
    functions       func_id                      -> FunctionRecord JSON
    function_names  account_id "/" name          -> func_id   (names are unique per account)
    function_slugs  name "-" func_id[:10]         -> func_id   (what a Host header names)
    revisions       func_id "/" %08d revision    -> Revision JSON
    actor_owners    account_id "/" type          -> func_id   (see actor_types.py)
Modules themselves live in the BundleStore, compiled forms in the sandbox's cache.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Callable

from edgehost.config import MIB, SandboxLimits
from edgehost.errors import (BadRequest, Conflict, Forbidden, InvalidBundle, NotFound,
                             ServiceUnavailable, TooManyRequests)
from edgehost.metrics import Metrics
from edgehost.registry import actor_types
from edgehost.registry.accounts import Account
from edgehost.registry.bundles import BundleStore
from edgehost.registry.manifest import Manifest, ManifestError, check_function_name, parse_manifest
from edgehost.sandbox.abi import ACTOR_CALL_EXPORT, ACTOR_INIT_EXPORT, FETCH_EXPORT
from edgehost.sandbox.compile_queue import CompileBusy
from edgehost.sandbox.engine import CompiledModule, ModuleRejected, Sandbox, module_hash
from edgehost.storage.lmdb_env import LmdbEnv

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
    manifest: dict
    shipped_at: float
    warnings: list[str] = field(default_factory=list)
    actor_classes: dict[str, list[str]] = field(default_factory=dict)  # from the module
    actor_signatures: dict[str, dict] = field(default_factory=dict)  # class -> method -> sig
    owned_types: list[str] = field(default_factory=list)  # declared in [[actors]] and exported


@dataclass(frozen=True)
class Deployment:
    """Everything needed to serve a request for a function's current revision."""

    function: FunctionRecord
    revision: Revision
    compiled: CompiledModule
    memory_limit_bytes: int
    timeout_ms: int
    env_vars: dict[str, str]
    bindings: dict[str, str]  # binding -> actor type, from this function's own manifest
    actor_classes: dict[str, frozenset[str]]  # class -> public methods, for owners


def function_urls(record: FunctionRecord, base_domain: str, host: str, port: int | None
                  ) -> dict[str, str]:
    """Both addresses of a function: by Host name, and by path on the host's own address."""
    port_part = f":{port}" if port else ""
    return {"url": f"http://{record.slug}.{base_domain}{port_part}/",
            "path_url": f"http://{host}{port_part}/fn/{record.slug}/"}


def _rev_key(func_id: str, number: int) -> bytes:
    return f"{func_id}/{number:08d}".encode()


class Functions:
    def __init__(self, env: LmdbEnv, bundles: BundleStore, sandbox: Sandbox,
                 limits: SandboxLimits, metrics: Metrics, max_nesting_depth: int) -> None:
        self._env = env
        self._bundles = bundles
        self._sandbox = sandbox
        self._limits = limits
        self._max_nesting_depth = max_nesting_depth  # of the manifest and the actors section
        self._metrics = metrics
        self._functions = env.db("functions")
        self._names = env.db("function_names")
        self._slugs = env.db("function_slugs")
        self._revisions = env.db("revisions")
        self._owners = env.db(actor_types.OWNERS_DB)
        # func_id -> Deployment; dropped whenever that function is shipped or deleted.
        self._deployments: dict[str, Deployment] = {}
        # slug -> func_id of functions routed to since start. A slug embeds its function's id,
        # so an entry never goes stale: a deleted function just has no deployment.
        self._slug_ids: dict[str, str] = {}
        self._deployments_lock = threading.Lock()
        # (account, type) -> the owning func_id, for actor calls; emptied by every ship and
        # delete (any of which may move ownership), which also bump the generation.
        self._owner_ids: dict[tuple[str, str], str] = {}
        self._generation = 0
        # Called after a ship or delete has changed a function, with its id; with several
        # workers it returns once every worker has dropped its cached deployment.
        self.on_changed: Callable[[str], None] | None = None

    # ------------------------------------------------------------------ records

    def _get(self, txn, func_id: str) -> FunctionRecord | None:
        raw = txn.get(func_id.encode(), db=self._functions)
        return FunctionRecord(**json.loads(raw)) if raw else None

    def _put(self, txn, record: FunctionRecord) -> None:
        txn.put(record.func_id.encode(), json.dumps(asdict(record)).encode(), db=self._functions)

    def create(self, account: Account, name: str) -> FunctionRecord:
        if (problem := check_function_name(name)) is not None:
            raise BadRequest(problem)

        def txn_fn(txn) -> FunctionRecord:
            name_key = f"{account.account_id}/{name}".encode()
            existing = txn.get(name_key, db=self._names)
            if existing is not None:
                raise Conflict(f"function name {name!r} is already used by function "
                               f"{existing.decode()} on this account")
            while True:  # a 10-hex-char slug prefix must be unique across all accounts
                record = FunctionRecord(str(uuid.uuid4()), account.account_id, name, time.time())
                if txn.get(record.slug.encode(), db=self._slugs) is None:
                    break
            self._put(txn, record)
            txn.put(name_key, record.func_id.encode(), db=self._names)
            txn.put(record.slug.encode(), record.func_id.encode(), db=self._slugs)
            return record

        return self._env.write(txn_fn)

    def owned(self, account: Account, func_id: str) -> FunctionRecord:
        """The function if `account` owns it: 404 when it does not exist, 403 when foreign."""
        try:
            func_id = str(uuid.UUID(func_id))
        except ValueError:
            raise NotFound(f"func_id {func_id!r} is not a UUID") from None
        record = self._env.read(lambda txn: self._get(txn, func_id))
        if record is None:
            raise NotFound(f"no function {func_id}")
        if record.account_id != account.account_id:
            raise Forbidden(f"function {func_id} does not belong to this account")
        return record

    def list(self, account: Account) -> list[FunctionRecord]:
        prefix = f"{account.account_id}/".encode()

        def txn_fn(txn) -> list[FunctionRecord]:
            out = []
            cursor = txn.cursor(db=self._names)
            if cursor.set_range(prefix):
                for key, func_id in cursor:
                    if not key.startswith(prefix):
                        break
                    record = self._get(txn, func_id.decode())
                    if record is not None:
                        out.append(record)
            return out

        return self._env.read(txn_fn)

    def delete(self, account: Account, func_id: str) -> FunctionRecord:
        record = self.owned(account, func_id)

        current = self.revision(record, record.current_revision) \
            if record.current_revision else None

        def txn_fn(txn) -> None:
            for type_ in current.owned_types if current else ():
                actor_types.release_owner(txn, self._owners, record.account_id, type_,
                                          record.func_id)
            txn.delete(record.func_id.encode(), db=self._functions)
            txn.delete(f"{record.account_id}/{record.name}".encode(), db=self._names)
            txn.delete(record.slug.encode(), db=self._slugs)
            cursor = txn.cursor(db=self._revisions)
            prefix = f"{record.func_id}/".encode()
            if cursor.set_range(prefix):
                while cursor.key().startswith(prefix):
                    if not cursor.delete():
                        break

        self._env.write(txn_fn)
        self._changed(record.func_id)
        return record

    def revisions(self, record: FunctionRecord) -> list[Revision]:
        prefix = f"{record.func_id}/".encode()

        def txn_fn(txn) -> list[Revision]:
            cursor = txn.cursor(db=self._revisions)
            out = []
            if cursor.set_range(prefix):
                for key, raw in cursor:
                    if not key.startswith(prefix):
                        break
                    out.append(Revision(**json.loads(raw)))
            return out

        return self._env.read(txn_fn)

    def revision(self, record: FunctionRecord, number: int) -> Revision | None:
        raw = self._env.read(lambda txn: txn.get(_rev_key(record.func_id, number),
                                                 db=self._revisions))
        return Revision(**json.loads(raw)) if raw else None

    # ------------------------------------------------------------------ ship

    def ship(self, account: Account, func_id: str, wasm: bytes, manifest_text: str) -> Revision:
        """Validate and compile a bundle, then record it as the function's next revision.

        Nothing is recorded unless every check passes; all problems are reported together.
        """
        record = self.owned(account, func_id)
        problems: list[str] = []
        manifest: Manifest | None = None
        try:
            manifest = parse_manifest(manifest_text,
                                      memory_cap_mib=self._limits.memory_cap_bytes // MIB,
                                      timeout_cap_ms=self._limits.timeout_cap_ms,
                                      max_nesting_depth=self._max_nesting_depth)
        except ManifestError as e:
            problems.extend(f"telnyx.toml: {p}" for p in e.problems)
        if manifest is not None:
            if manifest.name != record.name:
                problems.append(f"telnyx.toml: name = {manifest.name!r}: must equal the name of "
                                f"the function being shipped ({record.name!r})")
            if manifest.func_id is not None and manifest.func_id != record.func_id:
                problems.append(f"telnyx.toml: edge_compute.func_id = {manifest.func_id!r}: "
                                f"must equal the function being shipped ({record.func_id})")
        memory_limit = self._memory_limit(manifest)
        digest = module_hash(wasm)
        compiled = None
        try:
            # First, before any other reading of the module: its shape bounds the cost of it.
            self._sandbox.check_shape(wasm)
            section, section_problems = actor_types.read_actor_classes(
                wasm, self._max_nesting_depth)
            classes = section.classes
            problems.extend(f"module: {p}" for p in section_problems)
            declared = {a.type for a in manifest.actors} if manifest else set()
            owned = sorted(declared & classes.keys())
            required = (FETCH_EXPORT,) + ((ACTOR_INIT_EXPORT, ACTOR_CALL_EXPORT) if owned
                                          else ())
            compiled = self._sandbox.compile(wasm, memory_limit_bytes=memory_limit,
                                             required_exports=required,
                                             account_id=account.account_id)
        except ModuleRejected as e:
            problems.extend(f"module: {p}" for p in e.problems)
        except CompileBusy as e:
            self._metrics.inc("edgehost_ships_total", {"result": "busy"})
            error = TooManyRequests if e.account_full else ServiceUnavailable
            raise error(f"cannot compile now: {e.message}; retry in {e.retry_after_s} s",
                        retry_after_s=e.retry_after_s) from None
        if problems:
            self._metrics.inc("edgehost_ships_total", {"result": "refused"})
            raise InvalidBundle(f"bundle refused: {len(problems)} problem(s)", details=problems)
        assert manifest is not None and compiled is not None
        self._bundles.put(digest, wasm)

        def txn_fn(txn) -> Revision:
            current = self._get(txn, record.func_id)
            if current is None:
                raise NotFound(f"function {record.func_id} was deleted while shipping")
            warnings = list(manifest.warnings)
            for type_ in owned:
                holder = actor_types.owner_of(txn, self._owners, record.account_id, type_)
                if holder is not None and holder != record.func_id:
                    holder_record = self._get(txn, holder)
                    holder_name = holder_record.name if holder_record else "?"
                    raise InvalidBundle("bundle refused: 1 problem(s)", details=[
                        f"telnyx.toml: actor type {type_!r} is already owned by function "
                        f"{holder_name!r} ({holder}) on this account; a type has one owner"])
            for binding in manifest.actors:
                if binding.type not in owned and actor_types.owner_of(
                        txn, self._owners, record.account_id, binding.type) is None:
                    warnings.append(
                        f"binding {binding.binding!r}: actor type {binding.type!r} has no owner "
                        f"on this account yet; its calls fail with ActorUnresolvedBindingError "
                        f"until the function exporting the class ships")
            previous = self._revision_in(txn, record.func_id, current.current_revision)
            for type_ in (previous.owned_types if previous else []):
                if type_ not in owned:
                    actor_types.release_owner(txn, self._owners, record.account_id, type_,
                                              record.func_id)
            for type_ in owned:
                actor_types.set_owner(txn, self._owners, record.account_id, type_,
                                      record.func_id)
            number = (current.current_revision or 0) + 1
            revision = Revision(record.func_id, number, digest, len(wasm), manifest_text,
                                manifest.to_json(), time.time(), warnings, classes,
                                section.signatures, owned)
            txn.put(_rev_key(record.func_id, number), json.dumps(asdict(revision)).encode(),
                    db=self._revisions)
            self._put(txn, FunctionRecord(**{**asdict(current), "current_revision": number}))
            return revision

        try:
            revision = self._env.write(txn_fn)
        except InvalidBundle:
            self._metrics.inc("edgehost_ships_total", {"result": "refused"})
            raise
        self._sandbox.keep(compiled)
        self._changed(record.func_id)
        self._metrics.inc("edgehost_ships_total", {"result": "ok"})
        return revision

    def _revision_in(self, txn, func_id: str, number: int | None) -> Revision | None:
        raw = txn.get(_rev_key(func_id, number), db=self._revisions) if number else None
        return Revision(**json.loads(raw)) if raw else None

    def _memory_limit(self, manifest: Manifest | None) -> int:
        if manifest is not None and manifest.memory_mib is not None:
            return manifest.memory_mib * MIB
        return min(self._limits.memory_bytes, self._limits.memory_cap_bytes)

    # ------------------------------------------------------------------ routing

    def cached_deployment(self, slug: str) -> Deployment | None:
        """The deployment if it is already loaded, from memory only: the event loop calls it
        for every request, and an LMDB read there would let go of the GIL (py-lmdb drops it),
        which under load costs a wait for the worker threads to hand it back."""
        func_id = self._slug_ids.get(slug)
        return self._deployments.get(func_id) if func_id else None

    def deployment(self, slug: str) -> Deployment | None:
        """The live deployment a Host label names, or None (unknown, or never shipped)."""
        raw = self._env.read(lambda txn: txn.get(slug.encode(), db=self._slugs))
        if raw is None:
            return None
        func_id = raw.decode()
        self._slug_ids[slug] = func_id
        return self.deployment_by_id(func_id)

    def cached_owner_deployment(self, account_id: str, type_: str) -> Deployment | None:
        """The owner's deployment if both are already in memory (a cheap check for the event
        loop, which every actor call makes); None means "ask `owner_deployment`"."""
        func_id = self._owner_ids.get((account_id, type_))
        return self._deployments.get(func_id) if func_id else None

    def owner_deployment(self, account_id: str, type_: str) -> Deployment | None:
        """The deployment of the function that owns `type_` on this account, if any.
        Blocking (LMDB, maybe loading a module): call it off the event loop."""
        generation = self._generation
        func_id = self._env.read(
            lambda txn: actor_types.owner_of(txn, self._owners, account_id, type_))
        if func_id is None:
            return None
        with self._deployments_lock:
            if self._generation == generation:  # no ship or delete since the read
                self._owner_ids[(account_id, type_)] = func_id
        return self.deployment_by_id(func_id)

    def deployment_by_id(self, func_id: str) -> Deployment | None:
        deployment = self._deployments.get(func_id)
        if deployment is not None:
            return deployment

        def txn_fn(txn):
            record = self._get(txn, func_id)
            return record, self._revision_in(txn, func_id, record.current_revision if record
                                             else None)

        record, revision = self._env.read(txn_fn)
        if record is None or revision is None:
            return None
        manifest = revision.manifest
        memory_mib = manifest["limits"]["memory_mib"]
        memory_limit = memory_mib * MIB if memory_mib else self._memory_limit(None)
        compiled = self._sandbox.load(revision.module_hash,
                                      lambda: self._bundles.read(revision.module_hash),
                                      memory_limit_bytes=memory_limit,
                                      account_id=record.account_id)
        deployment = Deployment(
            record, revision, compiled, memory_limit,
            manifest["limits"]["timeout_ms"] or self._limits.timeout_ms,
            dict(manifest["env_vars"]),
            {a["binding"]: a["type"] for a in manifest["actors"]},
            {c: frozenset(m) for c, m in revision.actor_classes.items()
             if c in revision.owned_types})
        with self._deployments_lock:
            # Only cache if the function was not shipped or deleted meanwhile.
            if self._env.read(lambda txn: self._get(txn, func_id)) == record:
                self._deployments[func_id] = deployment
        return deployment

    def actor_types(self, account: Account) -> list[dict]:
        """Every actor type on the account: its owner, methods, and the functions bound to it."""
        owned = self._env.read(
            lambda txn: actor_types.owned_types(txn, self._owners, account.account_id))
        bound: dict[str, list[dict]] = {}
        for record in self.list(account):
            revision = self.revision(record, record.current_revision) \
                if record.current_revision else None
            for binding in revision.manifest["actors"] if revision else []:
                bound.setdefault(binding["type"], []).append(
                    {"func_id": record.func_id, "name": record.name,
                     "binding": binding["binding"],
                     "role": "owner" if binding["type"] in revision.owned_types
                     else "reference"})
        out = []
        for type_ in sorted(set(bound) | {t for t, _ in owned}):
            owner_id = dict(owned).get(type_)
            deployment = self.deployment_by_id(owner_id) if owner_id else None
            revision = deployment.revision if deployment else None
            out.append({
                "type": type_,
                "owner": {"func_id": deployment.function.func_id,
                          "name": deployment.function.name, "revision": revision.number}
                if deployment else None,
                "methods": revision.actor_classes.get(type_, []) if revision else [],
                "signatures": revision.actor_signatures.get(type_, {}) if revision else {},
                "bindings": bound.get(type_, []),
            })
        return out

    def actor_types_bound(self) -> set[tuple[str, str]]:
        """(account_id, type) for every actor type some stored revision binds."""
        def txn_fn(txn) -> set[tuple[str, str]]:
            accounts: dict[str, str | None] = {}  # func_id -> its account
            out: set[tuple[str, str]] = set()
            for _, raw in txn.cursor(db=self._revisions):
                revision = json.loads(raw)
                func_id = revision["func_id"]
                if func_id not in accounts:
                    record = self._get(txn, func_id)
                    accounts[func_id] = record.account_id if record else None
                if accounts[func_id] is not None:
                    out.update((accounts[func_id], binding["type"])
                               for binding in revision["manifest"]["actors"])
            return out

        return self._env.read(txn_fn)

    def bindings_status(self, record: FunctionRecord, revision: Revision) -> list[dict]:
        """Each binding of a revision: its role (owner/reference) and whether it resolves."""
        out = []
        for binding in revision.manifest["actors"]:
            type_ = binding["type"]
            owner_id = self._env.read(
                lambda txn, t=type_: actor_types.owner_of(txn, self._owners, record.account_id, t))
            owner = self._env.read(lambda txn, o=owner_id: self._get(txn, o)) if owner_id else None
            out.append({"binding": binding["binding"], "type": type_,
                        "role": "owner" if type_ in revision.owned_types else "reference",
                        "resolved": owner is not None,
                        "owner": {"func_id": owner.func_id, "name": owner.name}
                        if owner else None})
        return out

    def forget(self, func_id: str) -> None:
        """Drop the cached deployment of a function (shipped or deleted elsewhere), and every
        cached actor-type owner (a ship or delete may have moved one)."""
        with self._deployments_lock:
            self._deployments.pop(func_id, None)
            self._owner_ids.clear()
            self._generation += 1

    def _changed(self, func_id: str) -> None:
        self.forget(func_id)
        if self.on_changed is not None:
            self.on_changed(func_id)
