"""Host cost of two storage attacks by one actor (issue 9, items 5 and 9), measured on a real
`edgehost serve` subprocess with the hostile guest tests/wat/actor_hog.wat.

    PYTHONPATH=host .venv/bin/python benchmarks/bench_storage_attacks.py [--keys N] [--fill N]

1. turn buffer: ONE call that puts --fill values of 128 KiB (default 6,000): the host's RSS and
   LMDB file growth, and what the guest was told.
2. long keys: --keys keys of 2,000 bytes with 64 KiB values (default 3,000, about 190 MiB),
   stored 100 per call; then four `list {"limit": 1}` calls: each one's latency and the RSS
   growth they cause.

Which host code runs is whatever `edgehost` PYTHONPATH resolves to, so the same script measures
a tree before and after a change.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import wasmtime
from common import REPO, host_process, http_request, rss_mib, wait_until_serving

WAT = REPO / "tests" / "wat"
BINDINGS = '[[actors]]\nbinding = "HOG"\ntype = "Hog"\n'
VALUE = 128 * 1024
LONG_KEY = 2000
LONG_VALUE = 64 * 1024


def manifest(name: str) -> str:
    return f'name = "{name}"\nmain = "src/index.ts"\ncompatibility_date = "2026-05-01"\n{BINDINGS}'


class Client:
    def __init__(self, port: int, key: str) -> None:
        self.port, self.key = port, key

    def admin(self, method: str, path: str, body: bytes | None = None,
              content_type: str = "application/json") -> dict:
        status, raw = http_request(self.port, method, f"/__edgehost/v1{path}", body=body,
                                   headers={"authorization": f"Bearer {self.key}",
                                            "content-type": content_type}, timeout_s=600)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {raw[:300]!r}")
        return json.loads(raw)

    def deploy(self, name: str, wat_name: str) -> str:
        func = self.admin("POST", "/functions", json.dumps({"name": name}).encode())
        module = bytes(wasmtime.wat2wasm((WAT / f"{wat_name}.wat").read_text()))
        boundary = "bench-boundary"
        parts = []
        for field, filename, data in (("module", "m.wasm", module),
                                      ("manifest", "telnyx.toml", manifest(name).encode())):
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                         f'filename="{filename}"\r\n\r\n'.encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        self.admin("POST", f"/functions/{func['func_id']}/revisions", body,
                   f"multipart/form-data; boundary={boundary}")
        return func["slug"]

    def call(self, slug: str, name: str, method: str, args: str) -> tuple[int, str, float]:
        started = time.perf_counter()
        status, raw = http_request(self.port, "POST", "/", f"{slug}.localhost",
                                   f"HOG\n{name}\n{method}\n{args}".encode(), timeout_s=600)
        return status, raw.decode(errors="replace"), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fill", type=int, default=6000)
    parser.add_argument("--keys", type=int, default=3000)
    args = parser.parse_args()
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "data"
        with host_process(data, Path(work) / "run") as host:
            wait_until_serving(host)
            client = Client(host.port, (data / "default-account.key").read_text().strip())
            client.deploy("hog", "actor_hog")
            caller = client.deploy("hogcaller", "actor_caller")
            pid = host.process.pid
            lmdb_file = data / "lmdb" / "data.mdb"

            # 1. one turn buffering --fill values of 128 KiB
            rss0, disk0 = rss_mib(pid), lmdb_file.stat().st_size
            status, body, took = client.call(caller, "buffer", "fill",
                                             f"[{args.fill},{VALUE},8,0]")
            out["turn_buffer"] = {
                "values": args.fill, "status": status, "answer": body[:300],
                "seconds": round(took, 2), "rss_growth_mib": round(rss_mib(pid) - rss0, 1),
                "lmdb_growth_mib": round((lmdb_file.stat().st_size - disk0) / 2**20, 1)}
            print(json.dumps({"turn_buffer": out["turn_buffer"]}), flush=True)

            # 2. many long keys, then list {"limit": 1}
            for first in range(0, args.keys, 100):
                count = min(100, args.keys - first)
                status, body, _ = client.call(caller, "longkeys", "fill",
                                              f"[{count},{LONG_VALUE},{LONG_KEY},{first}]")
                if status != 200:
                    raise RuntimeError(f"storing long keys failed: {status} {body[:300]}")
            rss0 = rss_mib(pid)
            lists = [client.call(caller, "longkeys", "list", '[{"limit":1}]')
                     for _ in range(4)]
            out["long_keys"] = {
                "keys": args.keys, "stored_mib": round(args.keys * (LONG_KEY + LONG_VALUE)
                                                       / 2**20, 1),
                "answers": sorted({f"{s} {b[:80]}" for s, b, _ in lists}),
                "list_ms": [round(t * 1000, 1) for _, _, t in lists],
                "rss_growth_mib": round(rss_mib(pid) - rss0, 1)}
            print(json.dumps({"long_keys": out["long_keys"]}), flush=True)
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
