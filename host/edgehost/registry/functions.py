"""Functions, shipping, and the slug -> deployment lookup for request routing.

LMDB layout (named databases):
    functions       func_id                      -> FunctionRecord JSON   (see records.py)
    function_names  account_id "/" name          -> func_id   (names are unique per account)
    function_slugs  name "-" func_id[:10]         -> func_id   (what a Host header names)
    revisions       func_id "/" %08d revision    -> Revision JSON         (see records.py)
    actor_owners    account_id "/" type          -> func_id   (see actor_types.py)
Modules themselves live in the BundleStore, compiled forms in the sandbox's cache.

A ship is three steps: `check_bundle` (bundle_check.py: everything decidable without LMDB or a
compiler), the compile (the Sandbox), and `_record_revision` (one write transaction: the
revision, the function's current revision and the actor types it owns). Only routing loads
modules (`deployment_by_id`); the reads the admin views use (`current_revision`,
`owned_types`, `owner`...) never do.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from edgehost.config import SandboxLimits
from edgehost.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidBundle,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
)
from edgehost.metrics import Metrics
from edgehost.registry import actor_types
from edgehost.registry.accounts import Account
from edgehost.registry.bundle_check import BundleRules, CheckedBundle, check_bundle
from edgehost.registry.bundles import BundleStore
from edgehost.registry.manifest import Manifest, check_function_name
from edgehost.registry.records import (
    FUNCTION_RECORDS,
    REVISIONS,
    FunctionRecord,
    Revision,
    function_key,
    revision_key,
    revisions_prefix,
)
from edgehost.sandbox.compile_queue import CompileBusy
from edgehost.sandbox.engine import CompiledModule, ModuleRejected, Sandbox
from edgehost.storage.lmdb_env import LmdbEnv, delete_prefix, scan_prefix


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


class Functions:
    def __init__(self, env: LmdbEnv, bundles: BundleStore, sandbox: Sandbox,
                 limits: SandboxLimits, metrics: Metrics, max_nesting_depth: int) -> None:
        self._env = env
        self._bundles = bundles
        self._sandbox = sandbox
        self._limits = limits
        self._rules = BundleRules(limits, sandbox.shape, max_nesting_depth)
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

    def _record_in(self, txn, func_id: str) -> FunctionRecord | None:
        return FUNCTION_RECORDS.get(txn, self._functions, function_key(func_id))

    def _revision_in(self, txn, func_id: str, number: int | None) -> Revision | None:
        if not number:
            return None
        return REVISIONS.get(txn, self._revisions, revision_key(func_id, number))

    def create(self, account: Account, name: str) -> FunctionRecord:
        if (problem := check_function_name(name)) is not None:
            raise BadRequest(problem)
        name_key = f"{account.account_id}/{name}".encode()
        with self._env.writing() as txn:
            existing = txn.get(name_key, db=self._names)
            if existing is not None:
                raise Conflict(f"function name {name!r} is already used by function "
                               f"{existing.decode()} on this account")
            while True:  # a 10-hex-char slug prefix must be unique across all accounts
                record = FunctionRecord(str(uuid.uuid4()), account.account_id, name, time.time())
                if txn.get(record.slug.encode(), db=self._slugs) is None:
                    break
            FUNCTION_RECORDS.put(txn, self._functions, function_key(record.func_id), record)
            txn.put(name_key, record.func_id.encode(), db=self._names)
            txn.put(record.slug.encode(), record.func_id.encode(), db=self._slugs)
        return record

    def get(self, func_id: str) -> FunctionRecord | None:
        """A function by id, whoever owns it (for ids taken from the account's own data)."""
        with self._env.reading() as txn:
            return self._record_in(txn, func_id)

    def owned(self, account: Account, func_id: str) -> FunctionRecord:
        """The function if `account` owns it: 404 when it does not exist, 403 when foreign."""
        try:
            func_id = str(uuid.UUID(func_id))
        except ValueError:
            raise NotFound(f"func_id {func_id!r} is not a UUID") from None
        record = self.get(func_id)
        if record is None:
            raise NotFound(f"no function {func_id}")
        if record.account_id != account.account_id:
            raise Forbidden(f"function {func_id} does not belong to this account")
        return record

    def of_account(self, account: Account) -> list[FunctionRecord]:
        prefix = f"{account.account_id}/".encode()
        with self._env.reading() as txn:
            records = (self._record_in(txn, func_id.decode())
                       for _, func_id in scan_prefix(txn, self._names, prefix))
            return [record for record in records if record is not None]

    def delete(self, account: Account, func_id: str) -> FunctionRecord:
        record = self.owned(account, func_id)
        current = self.current_revision(record)
        with self._env.writing() as txn:
            for type_ in current.owned_types if current else ():
                actor_types.release_owner(txn, self._owners, record.account_id, type_,
                                          record.func_id)
            txn.delete(function_key(record.func_id), db=self._functions)
            txn.delete(f"{record.account_id}/{record.name}".encode(), db=self._names)
            txn.delete(record.slug.encode(), db=self._slugs)
            delete_prefix(txn, self._revisions, revisions_prefix(record.func_id))
        self._changed(record.func_id)
        return record

    def revisions(self, record: FunctionRecord) -> list[Revision]:
        with self._env.reading() as txn:
            return [REVISIONS.decode(raw) for _, raw in
                    scan_prefix(txn, self._revisions, revisions_prefix(record.func_id))]

    def revision(self, record: FunctionRecord, number: int) -> Revision | None:
        with self._env.reading() as txn:
            return self._revision_in(txn, record.func_id, number)

    def current_revision(self, record: FunctionRecord) -> Revision | None:
        """The revision `record` names as current (None before its first ship)."""
        return self.revision(record, record.current_revision) \
            if record.current_revision else None

    # ------------------------------------------------------------------ actor types

    def owned_types(self, account_id: str) -> dict[str, str]:
        """type -> owner func_id, for every actor type owned on an account."""
        with self._env.reading() as txn:
            return dict(actor_types.owned_types(txn, self._owners, account_id))

    def owner(self, account_id: str, type_: str) -> FunctionRecord | None:
        """The function that owns `type_` on an account, if any."""
        with self._env.reading() as txn:
            func_id = actor_types.owner_of(txn, self._owners, account_id, type_)
            return self._record_in(txn, func_id) if func_id else None

    def actor_types_bound(self) -> set[tuple[str, str]]:
        """(account_id, type) for every actor type some stored revision binds."""
        accounts: dict[str, str | None] = {}  # func_id -> its account
        out: set[tuple[str, str]] = set()
        with self._env.reading() as txn:
            for _, raw in scan_prefix(txn, self._revisions, b""):
                revision = REVISIONS.decode(raw)
                func_id = revision.func_id
                if func_id not in accounts:
                    record = self._record_in(txn, func_id)
                    accounts[func_id] = record.account_id if record else None
                account_id = accounts[func_id]
                if account_id is not None:
                    out.update((account_id, binding.type)
                               for binding in revision.manifest.actors)
        return out

    # ------------------------------------------------------------------ ship

    def ship(self, account: Account, func_id: str, wasm: bytes, manifest_text: str) -> Revision:
        """Check and compile a bundle, then record it as the function's next revision.

        Nothing is recorded unless every check passes; all problems are reported together.
        """
        record = self.owned(account, func_id)
        checked = check_bundle(record, wasm, manifest_text, self._rules)
        compiled, compile_problems = self._compile(checked, account.account_id)
        problems = checked.problems + compile_problems
        if problems:
            self._metrics.inc("edgehost_ships_total", {"result": "refused"})
            raise InvalidBundle(f"bundle refused: {len(problems)} problem(s)", details=problems)
        assert compiled is not None
        self._bundles.put(checked.module_hash, wasm)
        try:
            revision = self._record_revision(record, checked)
        except InvalidBundle:
            self._metrics.inc("edgehost_ships_total", {"result": "refused"})
            raise
        self._sandbox.keep(compiled)
        self._changed(record.func_id)
        self._metrics.inc("edgehost_ships_total", {"result": "ok"})
        return revision

    def _compile(self, checked: CheckedBundle, account_id: str
                 ) -> tuple[CompiledModule | None, list[str]]:
        """The compiled module, or the problems the compile and the ABI check found. A full
        compile queue is no problem of the bundle's: 429 (the account's queue) or 503."""
        if not checked.compilable:
            return None, []
        try:
            return self._sandbox.compile(checked.wasm,
                                         memory_limit_bytes=checked.memory_limit_bytes,
                                         required_exports=checked.required_exports,
                                         account_id=account_id), []
        except ModuleRejected as e:
            return None, [f"module: {p}" for p in e.problems]
        except CompileBusy as e:
            self._metrics.inc("edgehost_ships_total", {"result": "busy"})
            error = TooManyRequests if e.account_full else ServiceUnavailable
            raise error(f"cannot compile now: {e.message}; retry in {e.retry_after_s} s",
                        retry_after_s=e.retry_after_s) from None

    def _record_revision(self, record: FunctionRecord, checked: CheckedBundle) -> Revision:
        """Record a checked, compiled bundle as the function's next revision, with the actor
        types it owns, in one write transaction: two ships racing for one type cannot both
        own it. Raises InvalidBundle if another function owns one of them."""
        manifest, owned = checked.manifest, checked.owned_types
        assert manifest is not None
        with self._env.writing() as txn:
            current = self._record_in(txn, record.func_id)
            if current is None:
                raise NotFound(f"function {record.func_id} was deleted while shipping")
            self._refuse_owned_elsewhere(txn, record, owned)
            warnings = [*manifest.warnings,
                        *self._unowned_binding_warnings(txn, record, manifest, owned)]
            previous = self._revision_in(txn, record.func_id, current.current_revision)
            self._move_ownership(txn, record, previous.owned_types if previous else [], owned)
            number = (current.current_revision or 0) + 1
            revision = Revision(record.func_id, number, checked.module_hash, len(checked.wasm),
                                checked.manifest_text, replace(manifest, warnings=()),
                                time.time(), warnings, checked.actors.classes,
                                checked.actors.signatures, owned)
            REVISIONS.put(txn, self._revisions, revision_key(record.func_id, number), revision)
            FUNCTION_RECORDS.put(txn, self._functions, function_key(record.func_id),
                                 replace(current, current_revision=number))
        return revision

    def _refuse_owned_elsewhere(self, txn, record: FunctionRecord, owned: list[str]) -> None:
        for type_ in owned:
            holder = actor_types.owner_of(txn, self._owners, record.account_id, type_)
            if holder is not None and holder != record.func_id:
                holder_record = self._record_in(txn, holder)
                holder_name = holder_record.name if holder_record else "?"
                raise InvalidBundle("bundle refused: 1 problem(s)", details=[
                    f"telnyx.toml: actor type {type_!r} is already owned by function "
                    f"{holder_name!r} ({holder}) on this account; a type has one owner"])

    def _unowned_binding_warnings(self, txn, record: FunctionRecord, manifest: Manifest,
                                  owned: list[str]) -> list[str]:
        return [f"binding {binding.binding!r}: actor type {binding.type!r} has no owner "
                f"on this account yet; its calls fail with ActorUnresolvedBindingError "
                f"until the function exporting the class ships"
                for binding in manifest.actors
                if binding.type not in owned and actor_types.owner_of(
                    txn, self._owners, record.account_id, binding.type) is None]

    def _move_ownership(self, txn, record: FunctionRecord, previously: list[str],
                        owned: list[str]) -> None:
        """Release the types the previous revision owned and this one does not; claim
        `owned`."""
        for type_ in previously:
            if type_ not in owned:
                actor_types.release_owner(txn, self._owners, record.account_id, type_,
                                          record.func_id)
        for type_ in owned:
            actor_types.set_owner(txn, self._owners, record.account_id, type_, record.func_id)

    # ------------------------------------------------------------------ routing

    def cached_deployment(self, slug: str) -> Deployment | None:
        """The deployment if it is already loaded, from memory only: the event loop calls it
        for every request, and an LMDB read there would let go of the GIL (py-lmdb drops it),
        which under load costs a wait for the worker threads to hand it back."""
        func_id = self._slug_ids.get(slug)
        return self._deployments.get(func_id) if func_id else None

    def deployment(self, slug: str) -> Deployment | None:
        """The live deployment a Host label names, or None (unknown, or never shipped)."""
        with self._env.reading() as txn:
            raw = txn.get(slug.encode(), db=self._slugs)
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
        with self._env.reading() as txn:
            func_id = actor_types.owner_of(txn, self._owners, account_id, type_)
        if func_id is None:
            return None
        with self._deployments_lock:
            if self._generation == generation:  # no ship or delete since the read
                self._owner_ids[(account_id, type_)] = func_id
        return self.deployment_by_id(func_id)

    def deployment_by_id(self, func_id: str) -> Deployment | None:
        """The deployment of a function's current revision, loading its module (from memory,
        the compiled cache, or compiled anew). Blocking: call it off the event loop."""
        deployment = self._deployments.get(func_id)
        if deployment is not None:
            return deployment
        with self._env.reading() as txn:
            record = self._record_in(txn, func_id)
            revision = self._revision_in(txn, func_id, record.current_revision) \
                if record else None
        if record is None or revision is None:
            return None
        manifest = revision.manifest
        memory_limit = self._limits.function_memory_bytes(manifest.memory_mib)
        compiled = self._sandbox.load(revision.module_hash,
                                      lambda: self._bundles.read(revision.module_hash),
                                      memory_limit_bytes=memory_limit,
                                      account_id=record.account_id)
        deployment = Deployment(
            record, revision, compiled, memory_limit,
            self._limits.function_timeout_ms(manifest.timeout_ms),
            dict(manifest.env_vars),
            {a.binding: a.type for a in manifest.actors},
            {c: frozenset(m) for c, m in revision.actor_classes.items()
             if c in revision.owned_types})
        with self._deployments_lock:
            # Only cache if the function was not shipped or deleted meanwhile.
            if self.get(func_id) == record:
                self._deployments[func_id] = deployment
        return deployment

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
