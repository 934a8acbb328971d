"""Guests that answer a response the test chooses, and a client that reads raw HTTP/1.1."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from edgehost.sandbox.wire import GuestResponse, encode_response

from tests.conftest import LiveHost, manifest, wat


def deploy_scripted(live_host: LiveHost, name: str, status: int,
                    headers: list[tuple[str, str]], body: bytes = b"",
                    key: str | None = "default") -> dict:
    """A function running tests/wat/scripted_response.wat: every request gets exactly this
    response from the guest (what the host then sends is the point of the tests)."""
    func = live_host.create_function(name, key=key)
    ship_scripted(live_host, func, status, headers, body, key=key)
    return func


def ship_scripted(live_host: LiveHost, func: dict, status: int, headers: list[tuple[str, str]],
                  body: bytes = b"", key: str | None = "default") -> None:
    """Ships the scripted guest to a function that exists already (so that the response may
    name the function's own address)."""
    encoded = encode_response(GuestResponse(status, headers, body)).hex()
    r = live_host.ship(func["func_id"], wat("scripted_response"),
                       manifest(func["name"], f'[env_vars]\nRESPONSE = "{encoded}"\n'), key=key)
    assert r.status_code == 201, r.text


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]  # names lower-case, in the order sent
    body: bytes

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]


@dataclass
class KeepAliveConnection:
    """One TCP connection to the host, used for many requests, read the way a keep-alive
    client or a reverse proxy pooling upstream connections reads it (RFC 9112 section 6.3):
    no body after a response to HEAD or a 1xx/204/304 status, else `content-length` bytes.
    Bytes a server sends beyond that stay in the buffer and are read as the NEXT response,
    which is exactly what a desync does to whoever sent the next request."""

    port: int
    timeout: float = 10.0
    _buffer: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self._sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> KeepAliveConnection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def encode(method: str, target: str, host: str, extra_headers: str = "") -> bytes:
        return (f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n{extra_headers}\r\n").encode()

    def send(self, *requests: bytes) -> None:
        """Writes the requests in one go (pipelined when there are several)."""
        self._sock.sendall(b"".join(requests))

    def read_response(self, method: str) -> RawResponse:
        head = self._read_until(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        version, status, *_ = status_line.split(" ", 2)
        assert version == "HTTP/1.1", f"not a status line: {status_line!r}"
        headers = []
        for line in lines:
            name, _, value = line.partition(":")
            headers.append((name.lower(), value.strip(" \t")))
        response = RawResponse(int(status), headers, b"")
        if method == "HEAD" or response.status < 200 or response.status in (204, 304):
            return response
        assert not response.values("transfer-encoding"), "this client reads content-length only"
        lengths = response.values("content-length")
        assert len(lengths) == 1, f"no single content-length in {headers}"
        response.body = self._read_exactly(int(lengths[0]))
        return response

    def _read_until(self, marker: bytes) -> bytes:
        while (end := self._buffer.find(marker)) < 0:
            self._fill()
        head = bytes(self._buffer[:end])
        del self._buffer[:end + len(marker)]
        return head

    def _read_exactly(self, n: int) -> bytes:
        while len(self._buffer) < n:
            self._fill()
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    def _fill(self) -> None:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError(
                f"the server closed the connection; unread: {bytes(self._buffer)!r}")
        self._buffer += chunk

    @property
    def buffered(self) -> bytes:
        """Bytes received that no response read so far accounted for."""
        return bytes(self._buffer)
