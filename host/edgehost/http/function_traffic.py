"""Function traffic: find the function a request names, run it in the sandbox, answer.

A function is addressed either by Host header, `{name}-{func_id[:10]}.{base_domain}`, or by the
path form `/fn/{name}-{func_id[:10]}/...` on the host's own address (the prefix is stripped
before the guest sees the path). Paths under `/__edgehost/` always belong to the host.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import cast

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from edgehost.actors.system import ActorSystem
from edgehost.config import HostConfig
from edgehost.function_logs import FunctionLogs
from edgehost.http.admission import Admission
from edgehost.http.guest_response import outgoing_response
from edgehost.metrics import Metrics
from edgehost.registry.functions import Deployment, Functions
from edgehost.sandbox.abi import FETCH_EXPORT
from edgehost.sandbox.compile_queue import CompileBusy
from edgehost.sandbox.engine import ModuleRejected, Sandbox
from edgehost.sandbox.guest import InvocationResult, Outcome
from edgehost.sandbox.invocation import Invocation
from edgehost.sandbox.wire import MalformedResponse, encode_raw_request, http_bytes_to_utf8

log = logging.getLogger("edgehost.traffic")

PATH_FORM_PREFIX = "/fn/"

# What Metrics.gauge_family reads. Its dict[str, float] refuses a dict[str, int] (a dict is
# invariant) until it takes a Mapping (metrics.py, typed after the issue-11 refactors land).
_CountsByAccount = Callable[[], dict[str, float]]


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header `name` (lower-case) in an ASGI scope."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for key, value in headers:
        if key == name:
            return value
    return None


@dataclass(frozen=True)
class FunctionRoute:
    slug: str
    guest_path: str


def host_error(status: int, code: str, message: str, **extra: str) -> Response:
    """A response made by the host, never by a guest: marked with `x-edgehost-error`."""
    body = json.dumps({"error": code, "message": message, **extra}).encode()
    return Response(body, status_code=status, media_type="application/json",
                    headers={"x-edgehost-error": code})


def load_failure(slug: str, error: CompileBusy | ModuleRejected) -> Response:
    """The answer when a function's module must be recompiled (after a restart or a wasmtime
    upgrade) and cannot be: the compile queue is full (503, retry), or the module no longer
    compiles within the host's limits (500; the reason goes to the host's log)."""
    if isinstance(error, CompileBusy):
        response = host_error(503, "unavailable", f"the function is waiting to be compiled; "
                              f"retry in {error.retry_after_s} s")
        response.headers["retry-after"] = str(error.retry_after_s)
        return response
    log.warning("function %s cannot be loaded: %s", slug, "; ".join(error.problems))
    return host_error(500, "function_unavailable",
                      "the function's module cannot be compiled within the host's limits")


def resolve_target(host_header: str, path: str, base_domain: str) -> FunctionRoute | None | str:
    """FunctionRoute for a function request; None for the host's own address; a str when the Host
    header names a function-shaped address that cannot be one (the message to 404 with)."""
    host = host_header.strip().lower()
    if host.startswith("["):  # IPv6 literal: the host's own address
        host = ""
    host = host.rsplit(":", 1)[0] if ":" in host else host
    suffix = "." + base_domain
    if host.endswith(suffix):
        label = host[: -len(suffix)]
        if not label or "." in label:
            return f"no function at {host!r}"
        return FunctionRoute(label, path)
    if path.startswith(PATH_FORM_PREFIX):
        slug, _, rest = path[len(PATH_FORM_PREFIX):].partition("/")
        return FunctionRoute(slug, "/" + rest)
    return None


class FunctionTraffic:
    """Runs function requests. This is the hot path, so it works on the ASGI messages
    directly (no framework objects), and the guest runs as a task of the sandbox's scheduler
    on this same event loop: no thread hand-off per request. The host path never reaches
    HTTP/1.1's request target with non-ASCII bytes: the parser answers 400 first."""

    def __init__(self, config: HostConfig, functions: Functions, sandbox: Sandbox,
                 actors: ActorSystem, logs: FunctionLogs, metrics: Metrics,
                 loader: Executor) -> None:
        self._config = config
        self._actors = actors
        self._functions = functions
        self._sandbox = sandbox
        self._scheduler = sandbox.scheduler
        self._logs = logs
        self._metrics = metrics
        self._admission = Admission(config.scheduling.max_inflight_per_account,
                                    config.scheduling.max_queued_per_account)
        self._loader = loader
        metrics.gauge_family("edgehost_account_inflight_invocations", "account",
                             cast(_CountsByAccount, self._admission.inflight_by_account))
        metrics.gauge_family("edgehost_account_queued_invocations", "account",
                             cast(_CountsByAccount, self._admission.queued_by_account))
        metrics.gauge_family("edgehost_account_runnable_guests", "account",
                             cast(_CountsByAccount, self._scheduler.runnable_by_account))
        metrics.gauge("edgehost_guest_tasks", lambda: self._scheduler.tasks)

    async def handle(self, scope: Scope, receive: Receive, send: Send,
                     target: FunctionRoute) -> None:
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        deployment = self._functions.cached_deployment(target.slug) if target.slug else None
        if deployment is None and target.slug:
            # First request after start or ship: loading the module blocks, keep it off the loop.
            try:
                deployment = await loop.run_in_executor(self._loader,
                                                        self._functions.deployment, target.slug)
            except (CompileBusy, ModuleRejected) as e:
                await load_failure(target.slug, e)(scope, receive, send)
                return
        if deployment is None:
            self._metrics.inc("edgehost_requests_total", {"outcome": "not_found"})
            answer = host_error(404, "not_found", f"no function named {target.slug!r}")
            await answer(scope, receive, send)
            return
        limit = self._config.http.max_request_body_bytes
        declared = header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(limit)(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client is gone: nothing to answer
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await self._too_large(limit)(scope, receive, send)
                return
        account = deployment.function.account_id
        deadline = loop.time() + deployment.timeout_ms / 1000
        if not await self._admission.enter(account, deadline - loop.time()):
            await self._overloaded()(scope, receive, send)
            return
        try:
            result = await self._run(deployment, scope, target, bytes(body), deadline)
        finally:
            self._admission.leave(account)
        if result.outcome is Outcome.OVERLOADED:  # no instance slot free on this worker
            await self._overloaded("the host has no room for another guest instance right "
                                   "now")(scope, receive, send)
            return
        await self._respond(deployment, result, scope, receive, send)
        self._metrics.observe("edgehost_request_seconds", time.perf_counter() - started)

    async def _run(self, deployment: Deployment, scope: Scope, target: FunctionRoute, body: bytes,
                   deadline: float) -> InvocationResult:
        headers = [(name, http_bytes_to_utf8(value)) for name, value in scope["headers"]]
        query = scope.get("query_string", b"")
        url = b"".join((b"http://", http_bytes_to_utf8(header(scope, b"host") or b""),
                        target.guest_path.encode("latin-1"), b"?" if query else b"", query))
        payload = encode_raw_request(scope["method"].encode(), url, headers, body)
        invocation = Invocation(
            input=payload, limits=self._sandbox.limits, env_vars=deployment.env_vars,
            actors=self._actors.caller_for(deployment, deadline) if deployment.bindings
            else None)
        result = await self._run_once(deployment, invocation, deadline)
        if result.outcome is Outcome.OVERLOADED and self._actors.free_instance_slot():
            # No instance slot was free, and an idle actor activation gave its up (memory is
            # a cache): one more try.
            result = await self._run_once(deployment, invocation, deadline)
        return result

    async def _run_once(self, deployment: Deployment, invocation: Invocation,
                        deadline: float) -> InvocationResult:
        instance = self._sandbox.new_instance(deployment.compiled, deployment.memory_limit_bytes)
        try:
            return await self._scheduler.run(
                deployment.function.account_id, deployment.function.func_id,
                instance.start(FETCH_EXPORT, invocation), deployment.timeout_ms, deadline)
        finally:
            instance.close()

    def _overloaded(self, why: str = "this account has too many requests in flight") -> Response:
        self._metrics.inc("edgehost_requests_total", {"outcome": "overloaded"})
        response = host_error(503, "overloaded", f"{why}; retry shortly")
        response.headers["retry-after"] = "1"
        return response

    def _too_large(self, limit: int) -> Response:
        self._metrics.inc("edgehost_requests_total", {"outcome": "too_large"})
        response = host_error(413, "payload_too_large", f"the request body exceeds the limit "
                              f"of {limit} bytes (http.max_request_body_bytes)")
        # Close the connection: the rest of the body (maybe endless) is not worth reading.
        response.headers["connection"] = "close"
        return response

    async def _respond(self, deployment: Deployment, result: InvocationResult, scope: Scope,
                       receive: Receive, send: Send) -> None:
        inv = result.invocation
        outcome = result.outcome.value
        answer: tuple[int, list[tuple[bytes, bytes]], bytes] | None = None
        failure = result.detail
        if result.outcome is Outcome.OK:
            if inv.output_overflowed:
                outcome, failure = "bad_response", "response exceeds the output limit"
            else:
                try:
                    answer = outgoing_response(
                        result.output, scope["method"],
                        f"{deployment.function.slug}.{self._config.base_domain}")
                except MalformedResponse as e:
                    outcome, failure = "bad_response", f"malformed response: {e}"
        func_id = deployment.function.func_id
        if answer is not None:
            self._logs.record(func_id, inv, failure=None)
            self._metrics.inc("edgehost_requests_total", {"outcome": outcome})
            status, raw_headers, body = answer
            await send({"type": "http.response.start", "status": status, "headers": raw_headers})
            await send({"type": "http.response.body", "body": body})
            return
        error_id = self._logs.record(func_id, inv, failure={
            "outcome": outcome, "revision": deployment.revision.number, "detail": failure})
        self._metrics.inc("edgehost_requests_total", {"outcome": outcome})
        if result.outcome is Outcome.TIMEOUT:
            response = host_error(504, "timeout", "the function exceeded its time budget",
                                  error_id=error_id)
        else:
            response = host_error(500, "function_failed",
                                  "the function failed; see its log for details",
                                  error_id=error_id)
        await response(scope, receive, send)
