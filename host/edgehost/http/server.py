"""How uvicorn serves edgehost: one server configuration, used by `edgehost serve` and by the
tests alike, whose HTTP parser bounds the request head.

uvicorn's httptools protocol keeps the request target and every header field in memory with no
limit: 300 MiB of header fields on one unauthenticated connection grew the host by 349 MiB
(one 300 MiB field: 606 MiB at its peak).
`BoundedHttpToolsProtocol` counts them as the parser hands them over and, past a bound
(`HttpLimits`), answers 414 (request target) or 431 (header fields) and closes the connection.
httptools itself holds a header field until the field is complete, so the bytes fed to it
without the parser handing anything on are counted too: one endless field is cut off as well.
Trailer fields of a chunked body count as header fields (uvicorn adds them to the request's
headers). What stays in memory per connection is at most the limits plus one socket read.

The subclass relies on uvicorn's parser callbacks (`on_url`, `on_header`, `on_body`,
`on_message_begin`) and on `send_400_response`, which it calls when the parser stops.
uvicorn makes one protocol object per connection from the class it is given, so each
configuration gets its own subclass carrying its limits (`bounded_protocol`).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from edgehost.config import HostConfig, HttpLimits


class _HeadTooLarge(Exception):
    """Raised in a parser callback to stop httptools at once; it reaches uvicorn as a parser
    error, and uvicorn then calls `send_400_response`."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    limits: ClassVar[HttpLimits]  # set on the subclass made by bounded_protocol()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = self.limits
        # Read on every header field: plain attributes are the cheapest lookup.
        self._max_header_bytes = limits.max_header_bytes
        self._max_header_count = limits.max_header_count
        self._target_bytes = 0
        self._header_bytes = 0
        self._header_count = 0
        self._unparsed_bytes = 0  # fed since the parser last handed anything on
        self._refusal: tuple[int, str, str] | None = None

    def data_received(self, data: bytes) -> None:
        self._unparsed_bytes += len(data)  # any callback in this feed sets it back to 0
        super().data_received(data)
        if self._unparsed_bytes > self._max_header_bytes and \
                not self.transport.is_closing():
            self._refusal = (431, "headers_too_large", "a header field is longer than "
                             f"{self._max_header_bytes} bytes (http.max_header_bytes)")
            self._send_refusal()

    def on_message_begin(self) -> None:
        self._target_bytes = self._header_bytes = self._header_count = 0
        self._unparsed_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:  # called with each piece of the target as it arrives
        self._unparsed_bytes = 0
        self._target_bytes += len(url)
        if self._target_bytes > self.limits.max_request_line_bytes:
            self._stop(414, "uri_too_long", "the request target is longer than "
                       f"{self.limits.max_request_line_bytes} bytes "
                       "(http.max_request_line_bytes)")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._unparsed_bytes = 0
        self._header_count += 1
        self._header_bytes += len(name) + len(value) + 4  # ": " and CRLF
        if self._header_count > self._max_header_count:
            self._stop(431, "headers_too_large", "the request has more than "
                       f"{self._max_header_count} header fields (http.max_header_count)")
        if self._header_bytes > self._max_header_bytes:
            self._stop(431, "headers_too_large", "the request's header fields total more than "
                       f"{self._max_header_bytes} bytes (http.max_header_bytes)")
        super().on_header(name, value)

    def on_body(self, body: bytes) -> None:
        self._unparsed_bytes = 0
        super().on_body(body)

    def _stop(self, status: int, code: str, message: str) -> None:
        self._refusal = (status, code, message)
        raise _HeadTooLarge(message)

    def send_400_response(self, msg: str) -> None:
        if self._refusal is None:
            super().send_400_response(msg)
        else:
            self._send_refusal()

    def _send_refusal(self) -> None:
        assert self._refusal is not None
        status, code, message = self._refusal
        self.logger.info("refused a request from %s: %s", self.client, message)
        if self.cycle is not None and not self.cycle.response_complete:
            # The app is still answering an earlier request on this connection (pipelining),
            # or this one (trailer fields): an answer of ours would interleave with its.
            self.transport.close()
            return
        body = json.dumps({"error": code, "message": message}).encode()
        head = [STATUS_LINE[status]]
        head += [name + b": " + value + b"\r\n"
                 for name, value in self.server_state.default_headers]
        head += [b"content-type: application/json\r\n",
                 b"content-length: %d\r\n" % len(body),
                 b"x-edgehost-error: %s\r\n" % code.encode(),
                 b"connection: close\r\n\r\n"]
        self.transport.write(b"".join(head) + body)
        self.transport.close()


def bounded_protocol(http_limits: HttpLimits) -> type[BoundedHttpToolsProtocol]:
    """The protocol class for uvicorn, bounding every connection by `http_limits`."""

    class Bounded(BoundedHttpToolsProtocol):
        limits = http_limits

    return Bounded


def uvicorn_config(app: ASGIApp, config: HostConfig, *, log_level: str | None = None,
                   access_log: bool = False) -> uvicorn.Config:
    """The uvicorn configuration edgehost runs with, in production and in tests."""
    # proxy_headers off: a host facing clients directly must not trust X-Forwarded-* headers.
    return uvicorn.Config(app, http=bounded_protocol(config.http),
                          log_config=None, proxy_headers=False, access_log=access_log,
                          log_level=log_level, lifespan="on")
