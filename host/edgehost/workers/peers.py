"""The links between worker processes: requests and replies over local socket pairs.

The supervisor makes one socket pair per pair of workers before it starts them, and each
worker inherits its ends, so nothing else on the machine can reach these sockets and no
handshake is needed. Each link carries requests both ways, multiplexed by id, on the worker's
event loop: a worker awaiting a reply (an actor call forwarded to the instance's home worker,
a ship waiting for every worker to load the new revision) parks a future, not a thread.

A frame is: u32 length of the rest, u8 type (request, reply, failure), u64 id, u32 length of
a JSON header, the header, then a payload of raw bytes (actor arguments and results, HTTP
bodies) that is never re-encoded.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("edgehost.workers")

_HEAD = struct.Struct("<IBQI")  # length of the rest, type, id, header length
REQUEST, REPLY, FAILURE = 0, 1, 2
MAX_FRAME_BYTES = 128 * 1024 * 1024  # above the largest bundle upload a worker may forward

Header = dict[str, Any]  # a frame's JSON header
Handler = Callable[[Header, bytes], Awaitable[tuple[Header, bytes]]]


class PeerError(Exception):
    """The other worker could not answer (its handler failed, or the link is gone)."""


class PeerLink:
    """One socket to one other worker."""

    def __init__(self, peer: int, sock: socket.socket, handlers: dict[str, Handler]) -> None:
        self.peer = peer
        self._sock = sock
        self._handlers = handlers
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[tuple[Header, bytes]]] = {}
        self._writer: asyncio.StreamWriter | None = None  # set by start()
        self._reader_task: asyncio.Task[None] | None = None
        self._handler_tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        reader, self._writer = await asyncio.open_unix_connection(sock=self._sock)
        self._reader_task = asyncio.create_task(self._read(reader),
                                                name=f"edgehost-peer-{self.peer}")

    async def request(self, kind: str, header: Header, payload: bytes = b""
                      ) -> tuple[Header, bytes]:
        writer = self._connected()
        request_id = next(self._ids)
        reply: asyncio.Future[tuple[Header, bytes]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = reply
        try:
            self._send(writer, REQUEST, request_id, {**header, "kind": kind}, payload)
            return await reply
        finally:
            self._waiting.pop(request_id, None)

    def _connected(self) -> asyncio.StreamWriter:
        if self._writer is None:
            raise PeerError(f"worker {self.peer} is not connected")
        return self._writer

    @staticmethod
    def _send(writer: asyncio.StreamWriter, frame_type: int, request_id: int, header: Header,
              payload: bytes) -> None:
        raw = json.dumps(header, separators=(",", ":")).encode()
        length = _HEAD.size - 4 + len(raw) + len(payload)
        writer.write(_HEAD.pack(length, frame_type, request_id, len(raw)))
        writer.write(raw)
        if payload:
            writer.write(payload)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                head = await reader.readexactly(_HEAD.size)
                length, frame_type, request_id, header_len = _HEAD.unpack(head)
                if length > MAX_FRAME_BYTES:
                    raise PeerError(f"frame of {length} bytes from worker {self.peer}")
                body = await reader.readexactly(length - (_HEAD.size - 4))
                header: Header = json.loads(body[:header_len])
                payload = body[header_len:]
                if frame_type == REQUEST:
                    task = asyncio.create_task(self._serve(request_id, header, payload))
                    self._handler_tasks.add(task)
                    task.add_done_callback(self._handler_tasks.discard)
                else:
                    reply = self._waiting.get(request_id)
                    if reply is not None and not reply.done():
                        if frame_type == REPLY:
                            reply.set_result((header, payload))
                        else:
                            reply.set_exception(PeerError(header.get("error", "failed")))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the other worker is gone (shutdown, or it died: the supervisor acts)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a broken link fails its callers, never the worker
            log.exception("link to worker %d failed", self.peer)
        finally:
            for reply in self._waiting.values():
                if not reply.done():
                    reply.set_exception(PeerError(f"worker {self.peer} went away"))

    async def _serve(self, request_id: int, header: Header, payload: bytes) -> None:
        kind = header.get("kind", "")
        handler = self._handlers.get(kind)
        try:
            if handler is None:
                raise PeerError(f"no handler for {kind!r}")
            reply_header, reply_payload = await handler(header, payload)
        except Exception as e:  # noqa: BLE001 - reported to the requester
            if not isinstance(e, PeerError):
                log.exception("handling %s from worker %d failed", kind, self.peer)
            self._send_safely(FAILURE, request_id, {"error": f"{type(e).__name__}: {e}"}, b"")
            return
        self._send_safely(REPLY, request_id, reply_header, reply_payload)

    def _send_safely(self, frame_type: int, request_id: int, header: Header,
                     payload: bytes) -> None:
        try:
            self._send(self._connected(), frame_type, request_id, header, payload)
        except (ConnectionError, RuntimeError):
            pass  # the requester is gone

    async def close(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
        if self._writer is not None:
            self._writer.close()


class Peers:
    """This worker's links to every other worker, by worker index."""

    def __init__(self, index: int, count: int, socks: dict[int, socket.socket]) -> None:
        self.index = index
        self.count = count
        self.handlers: dict[str, Handler] = {}
        self._links = {peer: PeerLink(peer, sock, self.handlers) for peer, sock in socks.items()}

    def handle(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    async def start(self) -> None:
        for link in self._links.values():
            await link.start()

    async def request(self, peer: int, kind: str, header: Header,
                      payload: bytes = b"") -> tuple[Header, bytes]:
        return await self._links[peer].request(kind, header, payload)

    async def broadcast(self, kind: str, header: Header) -> list[tuple[Header, bytes]]:
        """Ask every other worker; returns once all have answered."""
        return list(await asyncio.gather(*(link.request(kind, header)
                                           for link in self._links.values())))

    async def close(self) -> None:
        for link in self._links.values():
            await link.close()
