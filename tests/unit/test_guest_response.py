"""What of a guest's response the host sends (http/guest_response.py), without HTTP around it:
interim statuses refused, no body where HTTP has none, framing and the x-edgehost- namespace
kept for the host, Set-Cookie domains kept to the function's own host, header syntax checked.
(tests/isolation/ shows the same rules holding on a live connection.)"""

from __future__ import annotations

import struct

import pytest
from edgehost.http.guest_response import outgoing_response
from edgehost.sandbox.wire import MalformedResponse

OWN_HOST = "shop-0a1b2c3d4e.localhost"


def encoded(status: int, headers: list[tuple[str, str]] = (), body: bytes = b"") -> bytes:
    """A response as a guest encodes it (guest-sdk/ABI.md), written out here so the test does
    not depend on a host-side encoder."""
    def field(data: bytes) -> bytes:
        return struct.pack("<I", len(data)) + data

    out = struct.pack("<II", status, len(headers))
    for name, value in headers:
        out += field(name.encode()) + field(value.encode())
    return out + field(body)


def send(status: int, headers: list[tuple[str, str]] = (), body: bytes = b"",
         method: str = "GET") -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return outgoing_response(encoded(status, headers, body), method, OWN_HOST)


def header_values(headers: list[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    return [value for key, value in headers if key == name]


# ------------------------------------------------------------------ status

@pytest.mark.parametrize("status", [0, 100, 101, 103, 199, 600, 999, 2**32 - 1])
def test_a_status_outside_200_599_is_malformed(status: int):
    with pytest.raises(MalformedResponse, match=f"^status {status} is outside 200-599"):
        send(status, body=b"x")


@pytest.mark.parametrize("status", [200, 201, 299, 404, 599])
def test_final_statuses_are_sent_with_their_body(status: int):
    sent_status, headers, body = send(status, [("content-type", "text/plain")], b"hello")
    assert (sent_status, body) == (status, b"hello")
    assert headers == [(b"content-type", b"text/plain"), (b"content-length", b"5")]


# ------------------------------------------------------------------ bodies HTTP does not have

@pytest.mark.parametrize("status", [204, 304])
def test_204_and_304_go_out_without_body_or_content_length(status: int):
    sent_status, headers, body = send(status, [("etag", '"v1"'), ("content-length", "4")],
                                      b"next")
    assert (sent_status, body) == (status, b"")
    assert headers == [(b"etag", b'"v1"')]  # the guest's other headers are kept


@pytest.mark.parametrize("status", [204, 304])
def test_204_and_304_answer_head_without_content_length(status: int):
    assert send(status, body=b"next", method="HEAD") == (status, [], b"")


def test_head_gets_no_body_but_the_size_get_would_have():
    status, headers, body = send(200, [("content-type", "text/plain")], b"hello", "HEAD")
    assert (status, body) == (200, b"")
    assert headers == [(b"content-type", b"text/plain"), (b"content-length", b"5")]


def test_head_with_an_empty_body_announces_no_size():
    # The guest may have left the body out because the method is HEAD: the GET size is
    # unknown, and a wrong "0" is worse than none.
    assert send(200, [("content-length", "123")], b"", "HEAD") == (200, [], b"")


def test_an_empty_body_on_get_is_announced_as_zero():
    assert send(200) == (200, [(b"content-length", b"0")], b"")


# ------------------------------------------------------------------ headers that are the host's

def test_framing_headers_are_the_hosts_whatever_their_case():
    _, headers, body = send(200, [("Content-Length", "999"), ("TRANSFER-ENCODING", "chunked"),
                                  ("connection", "close"), ("Connection", "keep-alive"),
                                  ("x-kept", "1")], b"abc")
    assert body == b"abc"
    assert headers == [(b"x-kept", b"1"), (b"content-length", b"3")]


def test_the_x_edgehost_namespace_is_dropped_in_any_case():
    _, headers, _ = send(500, [("x-edgehost-error", "function_failed"),
                               ("X-Edgehost-Error", "not_found"), ("X-EDGEHOST-Request-Id", "1"),
                               ("x-edgehost-", "empty suffix"),
                               ("x-edgehostile", "not the namespace"), ("x-edgehost", "nor this")])
    assert [name for name, _ in headers] == [b"x-edgehostile", b"x-edgehost", b"content-length"]


def test_header_names_go_out_lower_case_and_repeated_headers_stay_in_order():
    _, headers, _ = send(200, [("X-Trace", "a"), ("Vary", "accept"), ("x-trace", "b")])
    assert headers == [(b"x-trace", b"a"), (b"vary", b"accept"), (b"x-trace", b"b"),
                       (b"content-length", b"0")]


# ------------------------------------------------------------------ cookies

@pytest.mark.parametrize("sent, kept", [
    ("plain=1", "plain=1"),
    ("shared=1; Domain=localhost; Path=/", "shared=1; Path=/"),
    ("dotted=1; domain=.LOCALHOST", "dotted=1"),
    ("spaced=1;  DOMAIN = localhost ;Path=/", "spaced=1;Path=/"),
    ("tabbed=1;\tDomain\t=\tlocalhost", "tabbed=1"),
    ("neighbour=1; Path=/; Domain=other-0000000000.localhost; HttpOnly",
     "neighbour=1; Path=/; HttpOnly"),
    (f"sub=1; Domain=www.{OWN_HOST}", "sub=1"),
    (f"lookalike=1; Domain=x{OWN_HOST}", "lookalike=1"),
    ("empty=1; Domain=", "empty=1"),
    ("bare=1; Domain", "bare=1"),
    (f"own=1; Domain={OWN_HOST}; Secure", f"own=1; Domain={OWN_HOST}; Secure"),
    (f"owndot=1; Domain=.{OWN_HOST.upper()}", f"owndot=1; Domain=.{OWN_HOST.upper()}"),
    (f"last=1; Domain={OWN_HOST}; Domain=localhost", f"last=1; Domain={OWN_HOST}"),
    ("trick=Domain=localhost", "trick=Domain=localhost"),  # the cookie's value, not an attribute
    ("x=1; Path=/Domain=localhost", "x=1; Path=/Domain=localhost"),  # a Path, not a Domain
])
def test_set_cookie_keeps_only_the_functions_own_domain(sent: str, kept: str):
    _, headers, _ = send(200, [("Set-Cookie", sent)])
    assert header_values(headers, b"set-cookie") == [kept.encode()]


def test_each_set_cookie_header_is_judged_on_its_own():
    _, headers, _ = send(200, [("set-cookie", "a=1; Domain=localhost"),
                               ("set-cookie", f"b=2; Domain={OWN_HOST}")])
    assert header_values(headers, b"set-cookie") == [b"a=1", f"b=2; Domain={OWN_HOST}".encode()]


def test_domain_is_only_filtered_in_set_cookie():
    _, headers, _ = send(200, [("x-note", "a=1; Domain=localhost")])
    assert header_values(headers, b"x-note") == [b"a=1; Domain=localhost"]


# ------------------------------------------------------------------ header syntax

@pytest.mark.parametrize("name", ["bad name", "x:y", "", "x-tab\t", "(x)", "na\u00efve", "a/b",
                                  "a\nb", "@at", "{x}"])
def test_a_name_that_is_not_a_token_is_malformed(name: str):
    with pytest.raises(MalformedResponse) as refused:
        send(200, [("content-type", "text/plain"), (name, "1")])
    assert str(refused.value).startswith(f"header 1 name {name!r} is not an RFC 9110 token")


@pytest.mark.parametrize("name", ["x", "X-Custom_1", "!#$%&'*+-.^_`|~", "0abc"])
def test_every_token_character_is_allowed_in_a_name(name: str):
    _, headers, _ = send(200, [(name, "1")])
    assert headers[0] == (name.lower().encode(), b"1")


@pytest.mark.parametrize("value, bad, offset", [
    ("a\rb", "\r", 1), ("a\nInjected: 1", "\n", 1), ("\x00", "\x00", 0), ("ab\x7f", "\x7f", 2),
    ("\x1b[31m", "\x1b", 0), ("ok\x1f", "\x1f", 2),
])
def test_a_value_with_a_control_character_is_malformed(value: str, bad: str, offset: int):
    with pytest.raises(MalformedResponse) as refused:
        send(200, [("x-v", value)])
    message = str(refused.value)
    assert message.startswith(f"header 0 value {value!r} ('x-v') has the control character "
                              f"{bad!r} at offset {offset}")
    assert "allows no control character but HTAB" in message


@pytest.mark.parametrize("value", ["a\tb", " padded ", "caf\u00e9 \u2713", "", "\x80\u00ff"])
def test_htab_obs_text_and_surrounding_spaces_are_allowed(value: str):
    _, headers, _ = send(200, [("x-v", value)])
    assert headers[0] == (b"x-v", value.encode())  # UTF-8 goes out byte for byte


def test_a_long_bad_name_or_value_is_shown_truncated():
    with pytest.raises(MalformedResponse) as refused:
        send(200, [("x-v", "x" * 1000 + "\x01")])
    message = str(refused.value)
    assert "'" + "x" * 64 + "' (the first 64 of 1001 characters)" in message
    assert len(message) < 400


def test_an_encoding_error_is_reported_as_malformed():
    with pytest.raises(MalformedResponse, match="trailing bytes after the body"):
        outgoing_response(encoded(200) + b"!", "GET", OWN_HOST)
