"""Threat: request heads and bodies sized to make the host hold them in memory.

One connection streams endless header fields, one endless field, an endless URL, endless trailer
fields, or a chunked body (which declares no length) far over its limit, to a function, to the
admin API, or as a bundle upload. The host must answer 414/431/413 naming the bound, stop
reading (close the connection), and its memory must not grow with the stream. A bystander
function is polled throughout, and an actor app on another account keeps its stored state.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.conftest import LiveHost, deploy_counter, wat
from tests.isolation.actors_common import assert_victim_intact, seed_victim
from tests.isolation.containment import run_attack

MIB = 1 << 20
KEY_HEADER = "authorization: Bearer {key}\r\n"


@dataclass
class Streamed:
    sent: int  # bytes of the endless part the host let us send before closing the connection
    status: int | None  # of the host's answer; None when there was none
    headers: dict[str, str]
    body: bytes

    def error(self) -> dict:
        return json.loads(self.body)


def stream(port: int, head: bytes, piece: bytes, cap: int, tail: bytes = b"") -> Streamed:
    """Send `head`, then `piece` over and over until the host closes the connection or `cap`
    bytes are sent (then `tail`, which completes the request), and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sent = 0
        try:
            sock.sendall(head)
            while sent < cap:
                sock.sendall(piece)
                sent += len(piece)
            sock.sendall(tail)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the host stopped reading: what a bounded host does
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    head_part, _, body = data.partition(b"\r\n\r\n")
    lines = head_part.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1]) if lines[0].startswith("HTTP/1.1 ") else None
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    return Streamed(sent, status, headers, body)


def _proc_status_bytes(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_rss_growth(action: Callable[[], object]) -> tuple[object, int]:
    """Run `action` (the host runs in this process); return its result and how far the
    process's peak RSS rose above its RSS at the start."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # Linux: reset the peak (VmHWM) to the current RSS
    before = _proc_status_bytes("VmRSS")
    result = action()
    return result, _proc_status_bytes("VmHWM") - before


@pytest.fixture
def victim(live_host: LiveHost):
    """An actor app on another account with stored state, to check after each attack."""
    key = live_host.admin("POST", "/accounts", json={"name": "victim"}).json()["api_key"]
    app = deploy_counter(live_host, key=key)
    seed_victim(live_host, app)
    return app


def _attack(live_host: LiveHost, victim, attack: Callable[[], Streamed],
            max_growth: int) -> Streamed:
    """Run the attack beside the polled bystander; check the bystander, the victim's state and
    the host's memory."""
    result, growth = peak_rss_growth(lambda: run_attack(live_host, attack))
    result.assert_bystander_kept_answering()
    assert_victim_intact(live_host, victim)
    assert growth < max_growth, f"host memory grew {growth / MIB:.0f} MiB during the attack"
    return result.attack_response


def _get_head(target: str = "/__edgehost/health") -> bytes:
    return f"GET {target} HTTP/1.1\r\nhost: 127.0.0.1\r\n".encode()


# ---------------------------------------------------------------------------- request head


def test_endless_header_fields_get_431_and_host_memory_stays_bounded(live_host: LiveHost,
                                                                       victim, host_config):
    field = b"x-filler: " + b"a" * 1000 + b"\r\n"
    answer = _attack(live_host, victim, lambda: stream(live_host.port, _get_head(), field * 64,
                                                        cap=64 * MIB), max_growth=16 * MIB)
    assert answer.status == 431, answer
    assert answer.headers["connection"] == "close"
    assert answer.error()["error"] == "headers_too_large"
    assert str(host_config.http.max_header_bytes) in answer.error()["message"]
    assert answer.sent < 16 * MIB, "the host kept reading header fields"


def test_one_endless_header_field_gets_431(live_host: LiveHost, victim, host_config):
    answer = _attack(live_host, victim,
                     lambda: stream(live_host.port, _get_head() + b"x-big: ", b"a" * 65536,
                                    cap=64 * MIB), max_growth=16 * MIB)
    assert answer.status == 431, answer
    assert "a header field is longer than" in answer.error()["message"]
    assert str(host_config.http.max_header_bytes) in answer.error()["message"]
    assert answer.sent < 16 * MIB


def test_an_endless_request_target_gets_414(live_host: LiveHost, victim, host_config):
    answer = _attack(live_host, victim,
                     lambda: stream(live_host.port, b"GET /", b"a" * 65536, cap=64 * MIB),
                     max_growth=16 * MIB)
    assert answer.status == 414, answer
    assert answer.error()["error"] == "uri_too_long"
    assert str(host_config.http.max_request_line_bytes) in answer.error()["message"]
    assert answer.sent < 16 * MIB


def test_too_many_header_fields_get_431(live_host: LiveHost, victim, host_config):
    limit = host_config.http.max_header_count
    fields = b"".join(b"x-h%d: 1\r\n" % i for i in range(limit))  # plus host: one too many
    answer = _attack(live_host, victim,
                     lambda: stream(live_host.port, _get_head() + fields + b"\r\n", b"", cap=0),
                     max_growth=16 * MIB)
    assert answer.status == 431, answer
    assert f"more than {limit} header fields" in answer.error()["message"]


def test_requests_within_the_head_limits_reach_the_function(live_host: LiveHost, host_config):
    limits = host_config.http
    func = live_host.deploy("inlimits", wat("static_ok"))
    path = "/" + "p" * (limits.max_request_line_bytes - 1)  # the target is exactly the limit
    assert live_host.call(func["slug"], path).status_code == 200
    # exactly max_header_count fields, totalling just under max_header_bytes
    fixed = [("host", f"{func['slug']}.localhost"), ("connection", "close")]
    budget = limits.max_header_bytes - sum(len(k) + len(v) + 4 for k, v in fixed)
    count = limits.max_header_count - len(fixed)
    value = "v" * (budget // count - len("x-000") - 4)
    fields = fixed + [(f"x-{i:03d}", value) for i in range(count)]
    assert limits.max_header_bytes - count < sum(len(k) + len(v) + 4 for k, v in fields) \
        <= limits.max_header_bytes
    head = b"GET / HTTP/1.1\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in fields)
    answer = stream(live_host.port, head + b"\r\n", b"", cap=0)
    assert answer.status == 200 and answer.body == b"ok", answer


def test_endless_trailer_fields_are_cut_off(live_host: LiveHost, victim):
    func = live_host.deploy("trailers", wat("echo_input"))
    head = (f"POST / HTTP/1.1\r\nhost: {func['slug']}.localhost\r\n"
            "transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n").encode()
    answer = _attack(live_host, victim,
                     lambda: stream(live_host.port, head, b"x-trailer: " + b"t" * 1000 + b"\r\n",
                                    cap=64 * MIB), max_growth=16 * MIB)
    assert answer.sent < 16 * MIB, "the host kept reading trailer fields"
    # The function was mid-request: the host closes the connection without an answer.
    assert answer.status is None


# ---------------------------------------------------------------------------- request body


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def test_chunked_upload_over_the_bundle_limit_gets_413_while_streaming(live_host: LiveHost,
                                                                       victim, host_config):
    key = live_host.admin("POST", "/accounts", json={"name": "uploader"}).json()["api_key"]
    func = live_host.deploy("uploader", wat("static_ok"), key=key)
    boundary = "edgehostboundary"
    head = (f"POST /__edgehost/v1/functions/{func['func_id']}/revisions HTTP/1.1\r\n"
            f"host: 127.0.0.1\r\n" + KEY_HEADER.format(key=key) +
            f"content-type: multipart/form-data; boundary={boundary}\r\n"
            "transfer-encoding: chunked\r\n\r\n").encode()
    head += _chunk(f'--{boundary}\r\ncontent-disposition: form-data; name="module"; '
                   f'filename="m.wasm"\r\ncontent-type: application/wasm\r\n\r\n'.encode())
    # The whole request, if the host read it: a 200 MiB module, the manifest, the end.
    tail = _chunk(f'\r\n--{boundary}\r\ncontent-disposition: form-data; name="manifest"; '
                  f'filename="telnyx.toml"\r\n\r\nname = "uploader"\r\nmain = "x.ts"\r\n'
                  f'--{boundary}--\r\n'.encode()) + b"0\r\n\r\n"
    answer = _attack(live_host, victim,
                     lambda: stream(live_host.port, head, _chunk(b"\0" * 65536), cap=200 * MIB,
                                    tail=tail), max_growth=32 * MIB)
    assert answer.status == 413, answer
    assert answer.headers["connection"] == "close"
    limit = host_config.max_module_bytes + host_config.max_manifest_bytes + \
        host_config.http.multipart_overhead_bytes
    assert str(limit) in answer.error()["message"]
    assert answer.sent < limit + 32 * MIB, "the host kept reading the upload"
    # The function's shipped revision is untouched and serving.
    inspected = live_host.admin("GET", f"/functions/{func['func_id']}", key=key).json()
    assert [r["revision"] for r in inspected["revisions"]] == [1]
    assert live_host.call(func["slug"]).text == "ok"


def test_chunked_admin_body_over_the_limit_gets_413_while_streaming(live_host: LiveHost,
                                                                    victim, host_config):
    head = ("POST /__edgehost/v1/functions HTTP/1.1\r\nhost: 127.0.0.1\r\n" +
            KEY_HEADER.format(key=live_host.key) + "content-type: application/json\r\n"
            "transfer-encoding: chunked\r\n\r\n").encode() + _chunk(b'{"name": "')
    answer = _attack(live_host, victim,
                     lambda: stream(live_host.port, head, _chunk(b"a" * 65536), cap=100 * MIB,
                                    tail=_chunk(b'"}') + b"0\r\n\r\n"), max_growth=16 * MIB)
    assert answer.status == 413, answer
    assert answer.headers["connection"] == "close"
    assert str(host_config.http.max_admin_body_bytes) in answer.error()["message"]
    assert answer.sent < 16 * MIB
    names = {f["name"] for f in live_host.admin("GET", "/functions").json()["functions"]}
    assert not any(n.startswith("aaaa") for n in names)


def test_admin_body_declared_over_the_limit_gets_413_unread(live_host: LiveHost, host_config):
    limit = host_config.http.max_admin_body_bytes
    r = live_host.admin("POST", "/functions", content=b"{" + b" " * limit + b"}",
                        headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert f"a request body of {limit + 2} bytes exceeds the limit of {limit}" in \
        r.json()["message"]


def test_chunked_function_body_over_the_limit_gets_413_and_the_connection_closes(
        live_host: LiveHost, victim, host_config):
    func = live_host.deploy("sink", wat("echo_input"))
    head = (f"POST / HTTP/1.1\r\nhost: {func['slug']}.localhost\r\n"
            "transfer-encoding: chunked\r\n\r\n").encode()
    limit = host_config.http.max_request_body_bytes
    answer = _attack(live_host, victim,
                     lambda: stream(live_host.port, head, _chunk(b"b" * 65536), cap=200 * MIB,
                                    tail=b"0\r\n\r\n"), max_growth=4 * limit)
    assert answer.status == 413, answer
    assert answer.headers["x-edgehost-error"] == "payload_too_large"
    assert answer.headers["connection"] == "close"
    assert str(limit) in answer.error()["message"]
    assert answer.sent < limit + 32 * MIB, "the host kept reading the body"
