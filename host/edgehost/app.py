"""create_app(config): the only place the host's parts are built and wired together.

    HTTP front (http/) -> registry (registry/) -> sandbox (sandbox/) ; state in storage/
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from edgehost.actors.system import ActorSystem
from edgehost.config import HostConfig
from edgehost.errors import EdgehostError
from edgehost.function_logs import FunctionLogs
from edgehost.http.admin import admin_router
from edgehost.http.function_traffic import FunctionTraffic, host_error, resolve_target
from edgehost.metrics import Metrics
from edgehost.registry import actor_types
from edgehost.registry.accounts import Accounts
from edgehost.registry.bootstrap import DefaultAccount, ensure_default_account
from edgehost.registry.bundles import BundleStore
from edgehost.registry.functions import Functions
from edgehost.sandbox.engine import Sandbox
from edgehost.sandbox.slots import ExecutionSlots
from edgehost.storage import actor_storage
from edgehost.storage.actor_storage import ActorStorage
from edgehost.storage.group_commit import GroupCommitter
from edgehost.storage.lmdb_env import LmdbEnv

HOST_PREFIX = "/__edgehost"
LMDB_DATABASES = ("accounts", "account_names", "api_keys", "functions", "function_names",
                  "function_slugs", "revisions", actor_types.OWNERS_DB,
                  *actor_storage.DATABASES)


@dataclass
class Host:
    """The host's parts, built once per process (or per test)."""

    config: HostConfig
    metrics: Metrics
    env: LmdbEnv
    sandbox: Sandbox
    accounts: Accounts
    functions: Functions
    logs: FunctionLogs
    committer: GroupCommitter
    slots: ExecutionSlots
    actors: ActorSystem
    default_account: DefaultAccount

    def start(self) -> None:
        self.sandbox.start()
        self.committer.start()
        self.actors.start()

    def close(self) -> None:
        self.actors.close()
        self.committer.close()  # every queued turn is made durable before LMDB closes
        self.sandbox.close()
        self.env.close()


class FunctionRouter:
    """The outermost ASGI app: function traffic goes straight to the sandbox, everything else
    (and lifespan) to the FastAPI app. Function requests skip Starlette's middleware stack,
    which is per-request cost they do not need.

    Paths under /__edgehost/ go to the host's own routes whatever the Host header says, so no
    function can shadow them.
    """

    def __init__(self, app, traffic: FunctionTraffic, base_domain: str) -> None:
        self._app = app
        self._traffic = traffic
        self._base_domain = base_domain

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == HOST_PREFIX or path.startswith(HOST_PREFIX + "/"):
            await self._app(scope, receive, send)
            return
        request = Request(scope, receive)
        # The guest gets the path as the client sent it, still percent-encoded (ABI.md):
        # decoding here would turn "a%2Fb" into two segments and decode "%252F" twice.
        raw_path = (scope.get("raw_path") or path.encode()).decode("latin-1")
        target = resolve_target(request.headers.get("host", ""), raw_path, self._base_domain)
        if target is None:
            response = host_error(
                404, "not_found", f"no route {path!r}: address a function by Host header "
                f"'{{name}}-{{id10}}.{self._base_domain}' or by path '/fn/{{name}}-{{id10}}/'")
        elif isinstance(target, str):
            response = host_error(404, "not_found", target)
        else:
            response = await self._traffic.handle(request, target)
        await response(scope, receive, send)


def build_host(config: HostConfig, env_key: str | None = None) -> Host:
    data_dir = Path(config.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    metrics = Metrics()
    env = LmdbEnv(data_dir / "lmdb", map_size=config.lmdb_map_size, databases=LMDB_DATABASES)
    sandbox = Sandbox(config.limits, data_dir / "compiled", metrics)
    accounts = Accounts(env)
    functions = Functions(env, BundleStore(data_dir / "bundles"), sandbox, config.limits, metrics)
    logs = FunctionLogs(data_dir / "logs", config.function_log_max_bytes)
    committer = GroupCommitter(env, metrics, config.actors.group_commit_max_turns)
    slots = ExecutionSlots(config.execution_slots)
    actors = ActorSystem(config.actors, functions, sandbox, ActorStorage(env), committer, slots,
                         logs, metrics)
    default = ensure_default_account(accounts, data_dir, env_key)
    return Host(config, metrics, env, sandbox, accounts, functions, logs, committer, slots,
                actors, default)


def create_app(config: HostConfig, host: Host | None = None) -> FunctionRouter:
    if host is None:
        host = build_host(config, os.environ.get("EDGEHOST_API_KEY"))
    traffic = FunctionTraffic(config, host.functions, host.sandbox, host.actors, host.slots,
                              host.logs, host.metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Guest work runs on worker threads; a caller waiting in an actor mailbox holds one.
        anyio.to_thread.current_default_thread_limiter().total_tokens = config.worker_threads
        host.start()
        try:
            yield
        finally:
            host.close()

    app = FastAPI(title="edgehost", lifespan=lifespan, docs_url=f"{HOST_PREFIX}/docs",
                  openapi_url=f"{HOST_PREFIX}/openapi.json", redoc_url=None)
    app.state.host = host


    @app.exception_handler(EdgehostError)
    async def edgehost_error(request: Request, exc: EdgehostError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content=exc.to_json())

    # async: these answer on the event loop, with no thread hop.
    @app.get(f"{HOST_PREFIX}/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.get(f"{HOST_PREFIX}/metrics", response_class=PlainTextResponse)
    async def metrics() -> str:
        return host.metrics.render()

    app.include_router(admin_router(config, host.accounts, host.functions, host.actors,
                                    host.logs))
    return FunctionRouter(app, traffic, config.base_domain)
