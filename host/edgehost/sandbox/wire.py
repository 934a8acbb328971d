"""ABI v1 wire encoding of HTTP requests and responses (see guest-sdk/ABI.md).

    request  = method:str url:str headers body:bytes
    response = status:u32 headers body:bytes
    headers  = count:u32 (name:str value:str){count}

Responses come from untrusted guests, so decoding checks every length against what is left.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_U32 = struct.Struct("<I")
_FORBIDDEN_HEADER_CHARS = frozenset("\r\n\0")
MAX_RESPONSE_HEADERS = 256


class MalformedResponse(Exception):
    """The guest's output is not a valid encoded response."""


@dataclass(frozen=True)
class GuestRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class GuestResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _put(out: list[bytes], data: bytes) -> None:
    out.append(_U32.pack(len(data)))
    out.append(data)


def encode_request(request: GuestRequest) -> bytes:
    out: list[bytes] = []
    _put(out, request.method.encode())
    _put(out, request.url.encode())
    out.append(_U32.pack(len(request.headers)))
    for name, value in request.headers:
        _put(out, name.lower().encode("utf-8", "surrogateescape"))
        _put(out, value.encode("utf-8", "surrogateescape"))
    _put(out, request.body)
    return b"".join(out)


def encode_response(response: GuestResponse) -> bytes:
    """Used by tests and tools that play the guest's side."""
    out: list[bytes] = [_U32.pack(response.status), _U32.pack(len(response.headers))]
    for name, value in response.headers:
        _put(out, name.encode())
        _put(out, value.encode())
    _put(out, response.body)
    return b"".join(out)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def u32(self, what: str) -> int:
        if self._pos + 4 > len(self._data):
            raise MalformedResponse(f"response ends inside {what}")
        (value,) = _U32.unpack_from(self._data, self._pos)
        self._pos += 4
        return value

    def bytes(self, what: str) -> bytes:
        length = self.u32(f"the length of {what}")
        if self._pos + length > len(self._data):
            raise MalformedResponse(
                f"{what} claims {length} bytes but only {len(self._data) - self._pos} remain")
        value = bytes(self._data[self._pos:self._pos + length])
        self._pos += length
        return value

    def header_text(self, what: str) -> str:
        raw = self.bytes(what)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedResponse(f"{what} is not valid UTF-8") from None
        if _FORBIDDEN_HEADER_CHARS.intersection(text):
            raise MalformedResponse(f"{what} {text[:64]!r} contains CR, LF or NUL")
        return text

    def at_end(self) -> bool:
        return self._pos == len(self._data)


def decode_response(data: bytes) -> GuestResponse:
    reader = _Reader(data)
    status = reader.u32("the status")
    if not 100 <= status <= 599:
        raise MalformedResponse(f"status {status} is outside 100-599")
    count = reader.u32("the header count")
    if count > MAX_RESPONSE_HEADERS:
        raise MalformedResponse(f"{count} headers exceeds the limit of {MAX_RESPONSE_HEADERS}")
    headers = []
    for i in range(count):
        name = reader.header_text(f"header {i} name")
        if not name:
            raise MalformedResponse(f"header {i} has an empty name")
        headers.append((name, reader.header_text(f"header {i} value")))
    body = reader.bytes("the body")
    if not reader.at_end():
        raise MalformedResponse("trailing bytes after the body")
    return GuestResponse(status, headers, body)
