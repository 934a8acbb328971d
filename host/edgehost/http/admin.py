"""The admin API under /__edgehost/v1: accounts, functions, shipping, logs.

Every route needs the account's API key (`Authorization: Bearer <key>`); an account sees and
changes only its own functions. The JSON of functions, revisions and actor types is built in
admin_views.py, from stored records only: no GET loads or compiles a module.

(No `from __future__ import annotations` here: FastAPI resolves the route signatures at
runtime, including the `Caller` alias defined inside `admin_router`.)
"""


from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from edgehost import nesting
from edgehost.actors.system import ActorSystem
from edgehost.config import HostConfig
from edgehost.errors import BadRequest, Forbidden, InvalidRequest, NotFound, PayloadTooLarge
from edgehost.function_logs import FunctionLogs
from edgehost.http import admin_views
from edgehost.http.admin_views import revision_json
from edgehost.http.body_limit import allow_body
from edgehost.registry.accounts import Account, Accounts
from edgehost.registry.functions import Functions
from edgehost.registry.records import FunctionRecord
from edgehost.routes import ADMIN_PREFIX
from edgehost.storage.actor_storage import ActorStorage


class CreateFunction(BaseModel):
    name: str


class CreateAccount(BaseModel):
    name: str


def _function_json(request: Request, config: HostConfig, record: FunctionRecord) -> dict:
    """A function as the admin API shows it, with its URLs as the client reached the host."""
    return admin_views.function_json(record, config.base_domain,
                                     request.url.hostname or config.host, request.url.port)


def _nesting_checked_route(max_depth: int) -> type[APIRoute]:
    """A route class that measures a JSON body's nesting before FastAPI parses it: `json.loads`
    recurses, so a deep body would otherwise be a vague 400 (or, echoed back in a validation
    error, worse)."""

    class NestingCheckedRoute(APIRoute):
        def get_route_handler(self):
            handle = super().get_route_handler()
            if self.body_field is None:
                return handle  # no JSON body (the upload route reads its own form)

            async def checked(request: Request):
                try:
                    nesting.check_json(await request.body(), "the request body", max_depth)
                except nesting.TooDeep as e:
                    raise InvalidRequest(f"{e} (documents.max_nesting_depth)") from None
                return await handle(request)  # FastAPI reuses the body read here

            return checked

    return NestingCheckedRoute


def admin_router(config: HostConfig, accounts: Accounts, functions: Functions,
                 actors: ActorSystem, logs: FunctionLogs, storage: ActorStorage) -> APIRouter:
    router = APIRouter(prefix=ADMIN_PREFIX,
                       route_class=_nesting_checked_route(config.documents.max_nesting_depth))

    def authenticate(request: Request) -> Account:
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        return accounts.authenticate(key.strip() if scheme.lower() == "bearer" else None)

    Caller = Annotated[Account, Depends(authenticate)]

    @router.get("/whoami")
    def whoami(account: Caller) -> dict:
        return {"account_id": account.account_id, "name": account.name,
                "is_admin": account.is_admin}

    @router.get("/storage")
    def storage_usage(account: Caller) -> dict:
        """What the caller's account stores in actor storage, against its quota. The quota
        belongs to the account (all its functions' actors share it), so the route is the
        account's own, like /whoami, rather than under a function or an actor type."""
        used, limits = storage.usage(account.account_id), config.storage
        return {"account_id": account.account_id,
                "used": {"bytes": used.bytes, "keys": used.keys},
                "quota": {"bytes": limits.account_max_bytes, "keys": limits.account_max_keys}}

    @router.post("/accounts", status_code=201)
    def create_account(body: CreateAccount, account: Caller) -> dict:
        if not account.is_admin:
            raise Forbidden("only the host's admin account may create accounts")
        created, key = accounts.create(body.name)
        return {"account_id": created.account_id, "name": created.name, "api_key": key}

    @router.post("/functions", status_code=201)
    def create_function(body: CreateFunction, request: Request, account: Caller) -> dict:
        return _function_json(request, config, functions.create(account, body.name))

    @router.get("/functions")
    def list_functions(request: Request, account: Caller) -> dict:
        return {"functions": [_function_json(request, config, r)
                              for r in functions.of_account(account)]}

    @router.get("/functions/{func_id}")
    def inspect_function(func_id: str, request: Request, account: Caller) -> dict:
        record = functions.owned(account, func_id)
        return {**_function_json(request, config, record),
                **admin_views.function_revisions(functions, record)}

    @router.delete("/functions/{func_id}")
    def delete_function(func_id: str, account: Caller) -> dict:
        record = functions.delete(account, func_id)
        logs.delete(record.func_id)
        return {"deleted": record.func_id, "name": record.name}

    @router.post("/functions/{func_id}/revisions", status_code=201)
    async def ship(func_id: str, request: Request, account: Caller) -> JSONResponse:
        record = functions.owned(account, func_id)
        wasm, manifest_text = await _read_bundle(request, config)
        # Compiling takes milliseconds to seconds: keep it off the event loop.
        revision = await anyio.to_thread.run_sync(
            functions.ship, account, record.func_id, wasm, manifest_text)
        return JSONResponse(status_code=201, content={
            **_function_json(request, config, functions.owned(account, record.func_id)),
            **revision_json(revision)})

    @router.get("/functions/{func_id}/logs")
    def function_logs(func_id: str, account: Caller,
                      limit: Annotated[int, Query(ge=1, le=10_000)] = 200) -> dict:
        record = functions.owned(account, func_id)
        return {"func_id": record.func_id, "entries": logs.tail(record.func_id, limit)}

    @router.get("/actors")
    def list_actor_types(account: Caller) -> dict:
        return {"types": admin_views.actor_types(functions, account)}

    @router.get("/actors/{type_}")
    def inspect_actor_type(type_: str, account: Caller) -> dict:
        entry = _actor_type(functions, account, type_)
        live = actors.live_names(account.account_id, type_)
        return {**entry, "live_activations": len(live),
                "stored_instances_sample": actors.instance_names(account.account_id, type_,
                                                                 after=None, limit=20)}

    @router.get("/actors/{type_}/instances")
    def actor_instances(type_: str, account: Caller,
                        after: Annotated[str | None, Query(max_length=1024)] = None,
                        limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict:
        _actor_type(functions, account, type_)
        return _instances_json(actors, account.account_id, type_, after, limit)

    return router


def _actor_type(functions: Functions, account: Account, type_: str) -> dict:
    """An actor type owned or bound on the account (404 if neither)."""
    entry = admin_views.actor_type(functions, account, type_)
    if entry is None:
        raise NotFound(f"no actor type {type_!r} is owned or bound on this account")
    return entry


def _instances_json(actors: ActorSystem, account_id: str, type_: str, after: str | None,
                    limit: int) -> dict:
    """A page of a type's instances by name, each marked live or not."""
    live = set(actors.live_names(account_id, type_))
    names = actors.instance_names(account_id, type_, after=after, limit=limit)
    # Instances that are live but have never stored anything are listed too.
    names = sorted(set(names) | (live if after is None else set()))[:limit]
    return {"type": type_, "instances": [{"name": n, "live": n in live} for n in names],
            "next_after": names[-1] if len(names) == limit else None}


async def _read_bundle(request: Request, config: HostConfig) -> tuple[bytes, str]:
    """The module and the manifest text of a ship's multipart form, each within its limit."""
    allow_body(request, config.max_module_bytes + config.max_manifest_bytes
               + config.http.multipart_overhead_bytes,
               "max_module_bytes + max_manifest_bytes + http.multipart_overhead_bytes")
    try:
        form = await request.form(max_files=2, max_fields=2,
                                  max_part_size=config.max_manifest_bytes)
    except Exception as e:  # starlette raises its own parse errors
        raise BadRequest(
            f"expected multipart/form-data with 'module' and 'manifest': {e}") from None
    try:
        wasm = await _read_part(form.get("module"), "module", config.max_module_bytes)
        manifest_raw = await _read_part(form.get("manifest"), "manifest",
                                        config.max_manifest_bytes)
    finally:
        await form.close()  # the parts' spooled temporary files, at once, not at GC
    try:
        return wasm, manifest_raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("manifest: telnyx.toml is not valid UTF-8") from None


async def _read_part(part: Any, name: str, limit: int) -> bytes:
    if part is None:
        raise BadRequest(f"{name}: missing form field '{name}'")
    data = await part.read() if isinstance(part, UploadFile) else str(part).encode()
    if len(data) > limit:
        raise PayloadTooLarge(f"{name}: {len(data)} bytes exceeds the limit of {limit}")
    if not data:
        raise BadRequest(f"{name}: the '{name}' field is empty")
    return data
