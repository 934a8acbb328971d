"""build_host / create_app: the only place the host's parts are built and wired together.

    HTTP front (http/) -> registry (registry/) -> sandbox (sandbox/) ; state in storage/
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from starlette.responses import JSONResponse, PlainTextResponse, Response

from edgehost.actors.system import ActorSystem
from edgehost.config import HostConfig
from edgehost.function_logs import FunctionLogs
from edgehost.http.function_traffic import FunctionTraffic, header, host_error, resolve_target
from edgehost.metrics import Metrics
from edgehost.registry import actor_types
from edgehost.registry.accounts import Accounts
from edgehost.registry.bootstrap import DefaultAccount, ensure_default_account
from edgehost.registry.bundles import BundleStore
from edgehost.registry.functions import Functions
from edgehost.routes import HEALTH_PATH, HOST_PREFIX, METRICS_PATH
from edgehost.sandbox.engine import Sandbox
from edgehost.storage import actor_storage, layout_upgrade
from edgehost.storage.actor_storage import ActorStorage
from edgehost.storage.group_commit import GroupCommitter
from edgehost.storage.lmdb_env import LmdbEnv
from edgehost.storage.output_gate import OutputGate
from edgehost.workers import glue
from edgehost.workers.cluster import Cluster

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
    # Threads for blocking loads on the request path (LMDB, a compiled module from disk): the
    # first request after a start or a ship, the first actor call to a type.
    loader: ThreadPoolExecutor
    actors: ActorSystem
    default_account: DefaultAccount
    storage: ActorStorage
    cluster: Cluster | None = None  # the other worker processes, when there are any

    def start(self) -> None:
        self.sandbox.start()
        self.committer.start()
        self.actors.start()

    async def join_cluster(self, admin_app) -> None:
        """Connect to the other workers and answer them (the lifespan calls this)."""
        cluster = self.cluster
        if cluster is None:
            return
        # Handlers first: requests may already be waiting on the links.
        glue.serve_metrics(cluster, self.metrics.render)
        glue.serve_invalidation(cluster, self.functions.forget)
        self.actors.serve_peers(cluster)
        if cluster.is_primary:
            glue.serve_admin(cluster, admin_app)
            self.functions.on_changed = glue.broadcast_invalidation(
                cluster, asyncio.get_running_loop(), self.config.scheduling.peer_timeout_s)
        await cluster.peers.start()

    def close(self) -> None:
        self.actors.close()
        self.committer.close()  # every queued turn is made durable before LMDB closes
        self.loader.shutdown(wait=True)
        self.logs.close()
        self.sandbox.close()
        self.env.close()


class HostApp:
    """The ASGI app uvicorn serves: lifespan, function traffic, and the host's own routes.

    Function traffic goes straight to the sandbox, with no framework in between. Paths under
    /__edgehost/ belong to the host whatever the Host header says, so no function can shadow
    them. Health and metrics are answered here; the rest of /__edgehost/ (the admin API) is a
    FastAPI app built on first use, and warmed in the background a moment after start-up
    (`admin_warmup_delay_s`), so that importing FastAPI neither delays start-up nor slows the
    first function requests after a restart.
    """

    def __init__(self, host: Host, traffic: FunctionTraffic) -> None:
        self.host = host
        self._traffic = traffic
        self._base_domain = host.config.base_domain
        self._admin = None
        self._admin_lock = threading.Lock()
        self._warmup: threading.Timer | None = None

    async def admin_app_async(self):
        return self._admin or await anyio.to_thread.run_sync(self.admin_app)

    def admin_app(self):
        with self._admin_lock:
            if self._admin is None:
                from edgehost.http.admin_app import build_admin_app

                self._admin = build_admin_app(self.host, HOST_PREFIX)
            return self._admin

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets
        path = scope.get("path", "")
        if path == HOST_PREFIX or path.startswith(HOST_PREFIX + "/"):
            await self._host_route(path, scope, receive, send)
            return
        # The guest gets the path as the client sent it, still percent-encoded (ABI.md):
        # decoding here would turn "a%2Fb" into two segments and decode "%252F" twice.
        raw_path = (scope.get("raw_path") or path.encode()).decode("latin-1")
        host_header = (header(scope, b"host") or b"").decode("latin-1")
        target = resolve_target(host_header, raw_path, self._base_domain)
        if target is None:
            response = host_error(
                404, "not_found", f"no route {path!r}: address a function by Host header "
                f"'{{name}}-{{id10}}.{self._base_domain}' or by path '/fn/{{name}}-{{id10}}/'")
        elif isinstance(target, str):
            response = host_error(404, "not_found", target)
        else:
            await self._traffic.handle(scope, receive, send, target)
            return
        await response(scope, receive, send)

    async def _host_route(self, path: str, scope, receive, send) -> None:
        cluster = self.host.cluster
        if path == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            response: Response = JSONResponse({"status": "ok"})
        elif path == METRICS_PATH and scope["method"] in ("GET", "HEAD"):
            render = self.host.metrics.render
            text = render() if cluster is None else await glue.all_metrics(cluster, render)
            response = PlainTextResponse(text, media_type="text/plain; version=0.0.4")
        elif cluster is not None and not cluster.is_primary:
            config = self.host.config
            await glue.forward_admin(cluster, scope, receive, send,
                                     config.max_module_bytes + config.max_manifest_bytes
                                     + config.http.multipart_overhead_bytes)
            return
        else:
            admin = await self.admin_app_async()
            await admin(scope, receive, send)
            return
        await response(scope, receive, send)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.host.start()
                    await self.host.join_cluster(self.admin_app_async)
                    self._warmup = threading.Timer(self.host.config.admin_warmup_delay_s,
                                                   self.admin_app)
                    self._warmup.name, self._warmup.daemon = "edgehost-admin-warmup", True
                    self._warmup.start()
                except BaseException as e:  # noqa: BLE001 - reported to uvicorn, which exits
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._warmup is not None:
                    self._warmup.cancel()
                self.host.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def build_host(config: HostConfig, env_key: str | None = None,
               cluster: Cluster | None = None) -> Host:
    data_dir = Path(config.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    metrics = Metrics()
    env = LmdbEnv(data_dir / "lmdb", map_size=config.lmdb_map_size, databases=LMDB_DATABASES)
    sandbox = Sandbox(config.sandbox, data_dir / "compiled", metrics, config.ship)
    accounts = Accounts(env)
    functions = Functions(env, BundleStore(data_dir / "bundles"), sandbox, config.sandbox, metrics,
                          config.documents.max_nesting_depth)
    logs = FunctionLogs(data_dir / "logs", config.function_log_max_bytes,
                        config.function_log_queue_bytes, metrics)
    layout_upgrade.upgrade(env, functions.actor_types_bound)  # once, for older data dirs
    committer = GroupCommitter(env, metrics, config.actors.group_commit_max_turns)
    loader = ThreadPoolExecutor(config.scheduling.loader_threads,
                                thread_name_prefix="edgehost-load")
    storage = ActorStorage(env, config.storage)
    actors = ActorSystem(config.actors, functions, sandbox, storage, OutputGate(committer), logs,
                         metrics, loader, cluster)
    default = ensure_default_account(accounts, data_dir, env_key)
    return Host(config, metrics, env, sandbox, accounts, functions, logs, committer, loader,
                actors, default, storage, cluster)


def create_app(config: HostConfig, host: Host | None = None) -> HostApp:
    if host is None:
        host = build_host(config, os.environ.get("EDGEHOST_API_KEY"))
    traffic = FunctionTraffic(config, host.functions, host.sandbox, host.actors, host.logs,
                              host.metrics, host.loader)
    return HostApp(host, traffic)
