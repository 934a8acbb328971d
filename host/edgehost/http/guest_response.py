"""What of a guest's HTTP response the host sends, and how.

A guest speaks for itself only, but what it answers travels on things it shares with other
tenants. The connection: a keep-alive client, or a reverse proxy pooling its connections to the
host, sends its next request on the same connection (maybe for another tenant's function or for
the admin API) and finds the next response by HTTP/1.1's framing rules. The browser: it keeps
cookies per domain, and every function lives under one base domain. And the client's trust: the
host marks its own answers with `x-edgehost-error`. So a guest chooses its status, headers and
body within these rules, checked here on every response:

- **Framing is the host's.** The guest's `content-length`, `transfer-encoding` and `connection`
  headers are dropped; the host sets `content-length` from the body it sends.
- **No interim (1xx) status.** A client reads past a 1xx to the final response, which would
  then be the guest's body, and a 101 hands the connection over (there are no WebSockets).
  A 1xx is a malformed response.
- **No body where HTTP has none.** After a 204 or 304 status, or any answer to HEAD, a client
  reads no body whatever `content-length` says (RFC 9112 section 6.3), so a body sent there
  would be read as the response to the next request. The body is dropped, the headers kept.
  `content-length` (RFC 9110 section 8.6): none on 204 (forbidden) nor on 304 (allowed only
  with the size a 200 would have had, which the host does not know). On HEAD, the size of the
  body the guest produced when it is not empty: a guest that ignores the method (as the SDK's
  do) produces the body GET would get, and RFC 9110 lets a HEAD response announce only that
  size. When it is empty the guest may have left the body out because the method is HEAD, so
  the GET size is unknown and none is sent rather than a wrong 0.
- **The `x-edgehost-` namespace is the host's.** Such headers are dropped, not refused: like
  the framing headers they are the host's to set, and a guest that copies headers from
  elsewhere still answers, while no client ever sees the mark on a guest's answer.
- **Cookies stay on the function's own host.** A `Domain` attribute naming anything but the
  function's own host name is dropped from `Set-Cookie`; what remains is a host-only cookie.
  Otherwise `Domain={base domain}` would reach every tenant and the host's own routes.
- **Header syntax is HTTP's.** A name must be an RFC 9110 `token`, a value a `field-value`:
  no control character but HTAB. obs-text (bytes 0x80-0xFF) is allowed: the grammar allows it,
  recipients treat it as opaque, it cannot end a line or a message, and a guest's UTF-8 (a
  file name, say) goes out byte for byte as it always has. Spaces around a value are let
  through too: recipients strip them. Anything else is a malformed response, named in the
  function's log, where the server would otherwise fail mid-response.
"""

from __future__ import annotations

import re

from edgehost.sandbox.wire import MalformedResponse, decode_response

# (status, headers ready for the ASGI server, body)
OutgoingResponse = tuple[int, list[tuple[bytes, bytes]], bytes]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_NOT_IN_FIELD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # CTLs but HTAB
_TOKEN_RULE = "is not an RFC 9110 token (letters, digits and !#$%&'*+-.^_`|~ only)"
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
_HOST_NAMESPACE = "x-edgehost-"
_BODYLESS_STATUSES = frozenset({204, 304})
_SHOWN_CHARACTERS = 64  # of a bad name or value, in the function's log


def outgoing_response(output: bytes, request_method: str, own_host: str) -> OutgoingResponse:
    """The response to send for a guest's encoded output. `own_host` is the function's host
    name (`{slug}.{base_domain}`), the one cookie domain it may name. Raises
    MalformedResponse, naming the field and the rule, for an output that may not be sent."""
    guest = decode_response(output)
    status = guest.status
    if not 200 <= status <= 599:
        raise MalformedResponse(f"status {status} is outside 200-599 (a guest may not send an "
                                "interim 1xx response, 101 included)")
    headers = []
    for index, (name, value) in enumerate(guest.headers):
        if _TOKEN.fullmatch(name) is None:
            raise MalformedResponse(f"header {index} name {_shown(name)} {_TOKEN_RULE}")
        if (bad := _NOT_IN_FIELD_VALUE.search(value)) is not None:
            raise MalformedResponse(
                f"header {index} value {_shown(value)} ({_shown(name)}) has the control "
                f"character {bad.group()!r} at offset {bad.start()}: an RFC 9110 field-value "
                "allows no control character but HTAB")
        name = name.lower()
        if name in _FRAMING_HEADERS or name.startswith(_HOST_NAMESPACE):
            continue
        if name == "set-cookie":
            value = _without_foreign_domains(value, own_host)
        headers.append((name.encode(), value.encode()))
    body = guest.body
    if status in _BODYLESS_STATUSES:
        return status, headers, b""
    if request_method == "HEAD":
        if body:
            headers.append((b"content-length", b"%d" % len(body)))
        return status, headers, b""
    headers.append((b"content-length", b"%d" % len(body)))
    return status, headers, body


def _without_foreign_domains(set_cookie: str, own_host: str) -> str:
    """`set_cookie` without its Domain attributes that name a domain other than `own_host`.
    Attributes follow the first ';', their names are case-insensitive, white space around
    names and values and a leading '.' of the domain do not count (RFC 6265 section 5.2)."""
    pair, separator, attributes = set_cookie.partition(";")
    if not separator:
        return set_cookie
    kept = [a for a in attributes.split(";") if not _names_foreign_domain(a, own_host)]
    return ";".join((pair, *kept))


def _names_foreign_domain(attribute: str, own_host: str) -> bool:
    name, _, value = attribute.partition("=")
    if name.strip(" \t").lower() != "domain":
        return False
    return value.strip(" \t").removeprefix(".").lower() != own_host


def _shown(text: str) -> str:
    if len(text) <= _SHOWN_CHARACTERS:
        return repr(text)
    return f"{text[:_SHOWN_CHARACTERS]!r} (the first {_SHOWN_CHARACTERS} of {len(text)} characters)"
