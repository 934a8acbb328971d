"""Run an attack while a well-behaved function is polled, and report both outcomes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from tests.conftest import LiveHost, wat


@dataclass
class Containment:
    attack_response: httpx.Response
    attack_seconds: float
    bystander_answers: list[tuple[int, str]] = field(default_factory=list)

    def assert_bystander_kept_answering(self) -> None:
        assert self.bystander_answers, "the bystander was never polled during the attack"
        bad = [a for a in self.bystander_answers if a != (200, "ok")]
        assert not bad, f"bystander answered wrongly during the attack: {bad[:5]}"


def run_attack(live_host: LiveHost, attack: Callable[[], httpx.Response],
               min_polls: int = 3, key: str | None = "default") -> Containment:
    """Deploy a bystander (on the account of `key`), poll it in a thread for the whole
    attack, return both results."""
    bystander = live_host.deploy(f"bystander{time.monotonic_ns() % 10**6}", wat("static_ok"),
                                 key=key)
    done = threading.Event()
    answers: list[tuple[int, str]] = []

    def poll() -> None:
        with httpx.Client(base_url=live_host.base_url, timeout=10) as client:
            while not done.is_set() or len(answers) < min_polls:
                r = client.get("/", headers={"host": f"{bystander['slug']}.localhost"})
                answers.append((r.status_code, r.text))

    poller = threading.Thread(target=poll)
    poller.start()
    started = time.monotonic()
    try:
        response = attack()
    finally:
        elapsed = time.monotonic() - started
        done.set()
        poller.join(timeout=30)
    return Containment(response, elapsed, answers)


def refused_details(live_host: LiveHost, name: str, module: bytes, manifest_text: str,
                    key: str | None = "default") -> list[str]:
    """Ship to a new function, expect 422 with nothing stored; return the problems listed."""
    func = live_host.create_function(name, key=key)
    r = live_host.ship(func["func_id"], module, manifest_text, key=key)
    assert r.status_code == 422, r.text
    assert_nothing_shipped(live_host, func, key)
    return r.json()["details"]


def assert_nothing_shipped(live_host: LiveHost, func: dict, key: str | None = "default") -> None:
    """Nothing half-shipped: the function has no revision and still 404s."""
    inspected = live_host.admin("GET", f"/functions/{func['func_id']}", key=key).json()
    assert inspected["current_revision"] is None and inspected["revisions"] == []
    assert live_host.call(func["slug"], "/").status_code == 404


def host_rss_bytes() -> int:
    """The resident memory of this process, which is the host's: tests serve it in a thread."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def function_log(live_host: LiveHost, func_id: str) -> list[dict]:
    r = live_host.admin("GET", f"/functions/{func_id}/logs", params={"limit": 10_000})
    assert r.status_code == 200, r.text
    return r.json()["entries"]


def raw_request(port: int, raw_path: bytes, host: bytes = b"127.0.0.1",
                extra_headers: bytes = b"") -> tuple[int, bytes]:
    """Send exactly these bytes (HTTP clients normalise paths; attackers do not)."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET " + raw_path + b" HTTP/1.1\r\nHost: " + host + b"\r\n" +
                     extra_headers + b"Connection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def failure_entry(live_host: LiveHost, func_id: str, error_id: str) -> dict:
    entries = [e for e in function_log(live_host, func_id) if e.get("error_id") == error_id]
    assert len(entries) == 1, f"no log entry for {error_id}"
    return entries[0]
