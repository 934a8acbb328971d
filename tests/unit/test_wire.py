"""The ABI v1 response decoder: what it accepts, and the field each refusal names."""

from __future__ import annotations

import struct

import pytest
from edgehost.sandbox.wire import (
    MAX_RESPONSE_HEADERS,
    GuestResponse,
    MalformedResponse,
    decode_response,
    encode_response,
)

RESPONSE = GuestResponse(201, [("content-type", "text/plain"), ("x-\u00e9", "caf\u00e9")],
                         b"\x00body\xff")


def u32(n: int) -> bytes:
    return struct.pack("<I", n)


def test_a_response_round_trips():
    assert decode_response(encode_response(RESPONSE)) == RESPONSE


@pytest.mark.parametrize("data, message", [
    (b"", "response ends inside the status"),
    (u32(200) + b"\x01", "response ends inside the header count"),
    (u32(200) + u32(1), "response ends inside the length of header 0 name"),
    (u32(200) + u32(1) + u32(5) + b"ab", "header 0 name claims 5 bytes but only 2 remain"),
    (u32(200) + u32(1) + u32(1) + b"a" + u32(9), "header 0 value claims 9 bytes but only 0 remain"),
    (u32(200) + u32(2) + u32(1) + b"a" + u32(0) + u32(1) + b"\xff" + u32(0),
     "header 1 name is not valid UTF-8"),
    (u32(200) + u32(1) + u32(1) + b"a" + u32(1) + b"\xc3" + u32(0),
     "header 0 value is not valid UTF-8"),
    (u32(200) + u32(0), "response ends inside the length of the body"),
    (u32(200) + u32(0) + u32(3) + b"ab", "the body claims 3 bytes but only 2 remain"),
    (u32(200) + u32(0) + u32(0) + b"!", "trailing bytes after the body"),
    (u32(200) + u32(MAX_RESPONSE_HEADERS + 1),
     f"{MAX_RESPONSE_HEADERS + 1} headers exceeds the limit of {MAX_RESPONSE_HEADERS}"),
])
def test_each_refusal_names_the_field(data: bytes, message: str):
    with pytest.raises(MalformedResponse) as refused:
        decode_response(data)
    assert str(refused.value) == message
