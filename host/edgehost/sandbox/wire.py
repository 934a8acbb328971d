"""ABI v1 wire encoding of HTTP requests and responses (see guest-sdk/ABI.md).

    request  = method:str url:str headers body:bytes
    response = status:u32 headers body:bytes
    headers  = count:u32 (name:str value:str){count}

Responses come from untrusted guests, so decoding checks every length against what is left.
This module checks the encoding only; what HTTP allows a guest to send (status, header syntax,
framing) is http/guest_response.py's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_U32 = struct.Struct("<I")
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
    return encode_raw_request(
        request.method.encode(), request.url.encode(),
        [(name.lower().encode("utf-8", "surrogateescape"), value.encode("utf-8", "surrogateescape"))
         for name, value in request.headers],
        request.body)


def encode_raw_request(method: bytes, url: bytes, headers: list[tuple[bytes, bytes]],
                       body: bytes) -> bytes:
    """The request as bytes already: header names lower-case, everything UTF-8 (see
    `http_bytes_to_utf8` for bytes as an HTTP server has them)."""
    out: list[bytes] = []
    _put(out, method)
    _put(out, url)
    out.append(_U32.pack(len(headers)))
    for name, value in headers:
        _put(out, name)
        _put(out, value)
    _put(out, body)
    return b"".join(out)


def http_bytes_to_utf8(raw: bytes) -> bytes:
    """HTTP/1.1 header bytes (ISO-8859-1, RFC 9110 obs-text) as the UTF-8 the ABI promises."""
    return raw if raw.isascii() else raw.decode("latin-1").encode("utf-8")


def encode_response(response: GuestResponse) -> bytes:
    """Used by tests and tools that play the guest's side."""
    out: list[bytes] = [_U32.pack(response.status), _U32.pack(len(response.headers))]
    for name, value in response.headers:
        _put(out, name.encode())
        _put(out, value.encode())
    _put(out, response.body)
    return b"".join(out)


class _Reader:
    """Reads an untrusted encoded response. `what` names the field for the error message, and
    `header` the index of the header it belongs to; the message is made only on an error, so
    that the hot path formats no strings."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def u32(self, what: str) -> int:
        if self._pos + 4 > len(self._data):
            raise MalformedResponse(f"response ends inside {what}")
        value: int  # an annotation only: nothing runs for it
        (value,) = _U32.unpack_from(self._data, self._pos)
        self._pos += 4
        return value

    def bytes(self, what: str, header: int | None = None) -> bytes:
        data, start = self._data, self._pos + 4
        if start > len(data):
            raise MalformedResponse(f"response ends inside the length of {_name(what, header)}")
        (length,) = _U32.unpack_from(data, self._pos)
        end = start + length
        if end > len(data):
            raise MalformedResponse(f"{_name(what, header)} claims {length} bytes but only "
                                    f"{len(data) - start} remain")
        self._pos = end
        return data[start:end]

    def header_text(self, what: str, header: int) -> str:
        try:
            return self.bytes(what, header).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedResponse(f"{_name(what, header)} is not valid UTF-8") from None

    def at_end(self) -> bool:
        return self._pos == len(self._data)


def _name(what: str, header: int | None) -> str:
    return what if header is None else f"header {header} {what}"


def decode_response(data: bytes) -> GuestResponse:
    reader = _Reader(data)
    status = reader.u32("the status")
    count = reader.u32("the header count")
    if count > MAX_RESPONSE_HEADERS:
        raise MalformedResponse(f"{count} headers exceeds the limit of {MAX_RESPONSE_HEADERS}")
    headers = []
    for i in range(count):
        headers.append((reader.header_text("name", i), reader.header_text("value", i)))
    body = reader.bytes("the body")
    if not reader.at_end():
        raise MalformedResponse("trailing bytes after the body")
    return GuestResponse(status, headers, body)
