"""What a worker answers for the others, and what it asks of them.

- `invalidate`: a function was shipped or deleted on the primary; drop its cached deployment
  here. The primary's ship returns only after every worker has answered, so a ship is live
  on every worker when it returns.
- `metrics`: this worker's metrics text; any worker's /__edgehost/metrics shows every
  worker's samples, each labelled with its worker.
- `http` (primary only): an admin API request another worker received, run here through the
  admin app and answered with its status, headers and body.
- actor calls and deadlock walks: see ActorSystem.serve_peers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edgehost.workers.cluster import PRIMARY, Cluster
from edgehost.workers.peers import Header, PeerError

log = logging.getLogger("edgehost.workers")
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (.*)$")


def serve_metrics(cluster: Cluster, render: Callable[[], str]) -> None:
    async def metrics(_header: Header, _payload: bytes) -> tuple[Header, bytes]:
        return {}, render().encode()

    cluster.peers.handle("metrics", metrics)


async def all_metrics(cluster: Cluster, render: Callable[[], str]) -> str:
    """Every worker's metrics in one exposition, each sample labelled worker="N"."""
    texts: dict[int, str] = {cluster.index: render()}
    others = [i for i in range(cluster.count) if i != cluster.index]
    replies = await asyncio.gather(*(cluster.peers.request(i, "metrics", {}) for i in others),
                                   return_exceptions=True)
    for index, reply in zip(others, replies, strict=True):
        if not isinstance(reply, BaseException):
            texts[index] = reply[1].decode()
    seen_meta: set[str] = set()
    meta: list[str] = []
    samples: dict[str, list[str]] = {}
    for index in sorted(texts):
        for line in texts[index].splitlines():
            if line.startswith("#"):
                if line not in seen_meta:
                    seen_meta.add(line)
                    meta.append(line)
                continue
            m = _SAMPLE.match(line)
            if not m:
                continue
            name, labels, value = m.groups()
            inner = labels[1:-1] if labels else ""
            labelled = f'{name}{{worker="{index}"{"," + inner if inner else ""}}} {value}'
            samples.setdefault(_family(name), []).append(labelled)
    out: list[str] = []
    for line in meta:  # HELP/TYPE in order, each family's samples after its TYPE line
        out.append(line)
        if line.startswith("# TYPE "):
            out.extend(samples.pop(line.split()[2], []))
    for rest in samples.values():
        out.extend(rest)
    return "\n".join(out) + "\n"


def _family(sample_name: str) -> str:
    for suffix in ("_count", "_sum"):
        if sample_name.endswith(suffix):
            return sample_name[: -len(suffix)]
    return sample_name


def serve_invalidation(cluster: Cluster, forget: Callable[[str], None]) -> None:
    async def invalidate(header: Header, _payload: bytes) -> tuple[Header, bytes]:
        forget(header["func_id"])
        return {}, b""

    cluster.peers.handle("invalidate", invalidate)


def broadcast_invalidation(cluster: Cluster, loop: asyncio.AbstractEventLoop,
                           timeout_s: float) -> Callable[[str], None]:
    """A hook for the registry, called from an admin thread after a ship or delete: returns
    once every other worker has dropped its cached deployment of the function."""

    def changed(func_id: str) -> None:
        future = asyncio.run_coroutine_threadsafe(
            cluster.peers.broadcast("invalidate", {"func_id": func_id}), loop)
        try:
            future.result(timeout_s)
        except Exception as e:  # noqa: BLE001 - the change is committed; say who may lag
            # A worker that cannot answer is broken: the supervisor stops the host when it
            # dies. Until then it may serve the previous revision of this function.
            log.error("a worker did not confirm the change of function %s: %s", func_id, e)

    return changed


def serve_admin(cluster: Cluster, admin_app: Callable[[], Awaitable[ASGIApp]]) -> None:
    """On the primary: run admin requests forwarded by the other workers."""

    async def http(header: Header, body: bytes) -> tuple[Header, bytes]:
        app = await admin_app()
        scope: Scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": header["method"], "scheme": "http", "path": header["path"],
                 "raw_path": header["path"].encode("latin-1"), "root_path": "",
                 "query_string": header["query"].encode("latin-1"),
                 "headers": [(k.encode("latin-1"), v.encode("latin-1"))
                             for k, v in header["headers"]],
                 "client": tuple(header["client"]) if header.get("client") else None,
                 "server": tuple(header["server"]) if header.get("server") else None}
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        headers: list[list[str]] = []
        chunks: list[bytes] = []

        async def send(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [[k.decode("latin-1"), v.decode("latin-1")]
                           for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, send)
        return {"status": status, "headers": headers}, b"".join(chunks)

    cluster.peers.handle("http", http)


async def forward_admin(cluster: Cluster, scope: Scope, receive: Receive, send: Send,
                        max_body: int) -> None:
    """On another worker: read the request (bounded), have the primary run it, answer."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        if len(body) > max_body:
            await _answer(send, 413, json.dumps({
                "error": "payload_too_large",
                "message": f"request body exceeds the admin API limit of {max_body} bytes"
            }).encode())
            return
        if not message.get("more_body", False):
            break
    header = {"method": scope["method"], "path": scope["path"],
              "query": scope.get("query_string", b"").decode("latin-1"),
              "headers": [[k.decode("latin-1"), v.decode("latin-1")]
                          for k, v in scope["headers"]],
              "client": list(scope["client"]) if scope.get("client") else None,
              "server": list(scope["server"]) if scope.get("server") else None}
    try:
        reply, payload = await cluster.peers.request(PRIMARY, "http", header, bytes(body))
    except PeerError as e:
        await _answer(send, 503, json.dumps({
            "error": "unavailable",
            "message": f"the admin API worker did not answer: {e}"}).encode())
        return
    await send({"type": "http.response.start", "status": reply["status"],
                "headers": [(k.encode("latin-1"), v.encode("latin-1"))
                            for k, v in reply["headers"]]})
    await send({"type": "http.response.body", "body": payload})


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
