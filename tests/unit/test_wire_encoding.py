"""The ABI v1 wire format from the host's side (guest-sdk/ABI.md): the request bytes a guest
reads, and the edges of the response decoder that tests/unit/test_wire.py does not reach
(header counts at the limit, lengths near 2**32, bytes no UTF-8 decoder accepts)."""

from __future__ import annotations

import struct

import pytest
from edgehost.sandbox.wire import (
    MAX_RESPONSE_HEADERS,
    GuestRequest,
    GuestResponse,
    MalformedResponse,
    decode_response,
    encode_raw_request,
    encode_request,
    http_bytes_to_utf8,
)


def u32(n: int) -> bytes:
    return struct.pack("<I", n)


def field(data: bytes) -> bytes:
    return u32(len(data)) + data


def read_request(data: bytes) -> tuple[bytes, bytes, list[tuple[bytes, bytes]], bytes]:
    """The request layout as a guest reads it: method, url, headers, body."""
    pos = 0

    def take() -> bytes:
        nonlocal pos
        (length,) = struct.unpack_from("<I", data, pos)
        value = data[pos + 4:pos + 4 + length]
        assert len(value) == length
        pos += 4 + length
        return value

    method, url = take(), take()
    (count,) = struct.unpack_from("<I", data, pos)
    pos += 4
    headers = [(take(), take()) for _ in range(count)]
    body = take()
    assert pos == len(data), "nothing may follow the body"
    return method, url, headers, body


def test_a_request_is_encoded_in_the_documented_layout():
    request = GuestRequest("POST", "http://shop.localhost/cart?id=7",
                           [("Content-Type", "application/json"), ("X-Name", "caf\u00e9")],
                           b'{"n":\x001}')
    assert read_request(encode_request(request)) == (
        b"POST", b"http://shop.localhost/cart?id=7",
        [(b"content-type", b"application/json"), (b"x-name", "caf\u00e9".encode())],
        b'{"n":\x001}')


def test_an_empty_request_has_every_length_present():
    assert encode_request(GuestRequest("GET", "", [], b"")) == \
        field(b"GET") + field(b"") + u32(0) + field(b"")


def test_raw_request_bytes_are_passed_through_as_given():
    raw = encode_raw_request(b"GET", b"http://h/", [(b"a", b"1"), (b"a", b"2")], b"body")
    assert read_request(raw) == (b"GET", b"http://h/", [(b"a", b"1"), (b"a", b"2")], b"body")


@pytest.mark.parametrize("raw, utf8", [
    (b"plain ascii", b"plain ascii"),
    (b"caf\xe9", "caf\u00e9".encode()),  # ISO-8859-1 obs-text
    (b"\xff\x80", "\u00ff\u0080".encode()),
    (b"", b""),
])
def test_http_header_bytes_become_the_utf8_the_abi_promises(raw: bytes, utf8: bytes):
    assert http_bytes_to_utf8(raw) == utf8
    utf8.decode("utf-8")  # always valid


def encoded_response(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    out = u32(status) + u32(len(headers))
    for name, value in headers:
        out += field(name) + field(value)
    return out + field(body)


def test_a_response_with_headers_at_the_limit_is_accepted():
    headers = [(f"x-{i}".encode(), str(i).encode()) for i in range(MAX_RESPONSE_HEADERS)]
    decoded = decode_response(encoded_response(200, headers, b"ok"))
    assert len(decoded.headers) == MAX_RESPONSE_HEADERS
    assert decoded.headers[-1] == (f"x-{MAX_RESPONSE_HEADERS - 1}", str(MAX_RESPONSE_HEADERS - 1))


def test_the_decoder_keeps_status_headers_and_body_exactly():
    data = encoded_response(2**32 - 1, [(b"a", b""), (b"", b"v"), ("\u00e9".encode(), b"\t")],
                            bytes(range(256)))
    assert decode_response(data) == GuestResponse(
        2**32 - 1, [("a", ""), ("", "v"), ("\u00e9", "\t")], bytes(range(256)))


@pytest.mark.parametrize("data, message", [
    (u32(200) + u32(0) + u32(2**32 - 1), "the body claims 4294967295 bytes but only 0 remain"),
    (u32(200) + u32(1) + u32(2**32 - 1) + b"abc",
     "header 0 name claims 4294967295 bytes but only 3 remain"),
    (u32(200) + u32(2**32 - 1), "4294967295 headers exceeds the limit of 256"),
    (u32(200) + u32(1) + field(b"\xed\xa0\x80") + field(b""),  # a UTF-16 surrogate
     "header 0 name is not valid UTF-8"),
    (u32(200) + u32(1) + field(b"n") + field(b"\xc0\xaf") + field(b""),  # overlong '/'
     "header 0 value is not valid UTF-8"),
])
def test_lengths_near_2_32_and_invalid_utf8_are_named(data: bytes, message: str):
    with pytest.raises(MalformedResponse) as refused:
        decode_response(data)
    assert str(refused.value) == message
