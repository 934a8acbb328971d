"""A small HTTP/1.1 keep-alive load generator: the benchmarks' fallback when wrk is missing.

    python benchmarks/loadgen.py --port P [--path /] [--host-header NAME] \
        [--connections 32] [--duration 10] [--method GET] [--body TEXT] \
        [--names 1 --name-prefix P]

It always targets 127.0.0.1 (there is no option to aim it elsewhere) and stops by itself after
`--duration` seconds. It prints one line, `EDGEHOST_BENCH_JSON {...}`, with the same fields as
wrk_report.lua plus the counts wrk_actors.lua adds, so the benchmarks read both generators the
same way. With `--names N`, each request replaces `{name}` in the path with the prefix and a
random i < N (as wrk_actors.lua does). At the deadline each connection finishes the request it
has in flight, so every request sent is answered or counted as an error: `sent` is exact.

It runs as its own process so that its CPU use is not counted against the benchmark process,
but on a 2-core machine it still competes with the server for CPU, and one Python process
tops out at a few thousand requests/s: treat its figures as a lower bound. It uses raw asyncio
streams rather than an HTTP client library because the per-request client overhead is
exactly what must stay small here; uvloop is used when installed, for the same reason.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from dataclasses import dataclass, field

TARGET = "127.0.0.1"  # load is only ever aimed at this machine
MARKER = "EDGEHOST_BENCH_JSON"


@dataclass
class Tally:
    """What all connections of one run observed (one event loop, so no locking needed)."""

    latencies_s: list[float] = field(default_factory=list)
    bytes_read: int = 0
    sent: int = 0
    ok_2xx: int = 0
    status_errors: int = 0  # answers that were not 2xx/3xx, as wrk counts them
    connect_errors: int = 0
    read_errors: int = 0


def build_request(path: str, host_header: str, method: str = "GET", body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: edgehost-bench\r\n"
    if body or method not in ("GET", "HEAD"):
        head += f"Content-Length: {len(body)}\r\n"
    return (head + "\r\n").encode("latin-1") + body


def content_length(head: bytes) -> tuple[int, bool]:
    """The body length and whether the server will close the connection after it."""
    length, close = -1, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    return length, close


async def one_connection(port: int, requests: list[bytes], seed: int, deadline: float,
                         tally: Tally) -> None:
    choose = random.Random(seed).choice  # its own seed, so connections do not move in lockstep
    writer = None
    while time.perf_counter() < deadline:
        if writer is None:
            try:
                reader, writer = await asyncio.open_connection(TARGET, port)
            except OSError:
                tally.connect_errors += 1
                await asyncio.sleep(0.01)  # do not spin on a refused port
                continue
        started = time.perf_counter()
        try:
            tally.sent += 1
            writer.write(choose(requests))
            head = await reader.readuntil(b"\r\n\r\n")
            length, close = content_length(head)
            if length < 0:  # the host always sends content-length; anything else is an error
                raise ValueError("response without content-length")
            await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            tally.read_errors += 1
            writer.close()
            writer = None
            continue
        tally.latencies_s.append(time.perf_counter() - started)
        tally.bytes_read += len(head) + length
        status = int(head[9:12])
        if not 200 <= status < 400:
            tally.status_errors += 1
        if 200 <= status < 300:
            tally.ok_2xx += 1
        if close:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def run(port: int, requests: list[bytes], connections: int, duration_s: float) -> dict:
    tally = Tally()
    started = time.perf_counter()
    deadline = started + duration_s
    await asyncio.gather(*(one_connection(port, requests, seed, deadline, tally)
                           for seed in range(connections)))
    elapsed = time.perf_counter() - started
    lat_us = sorted(x * 1e6 for x in tally.latencies_s)
    return {
        "requests": len(lat_us), "duration_us": elapsed * 1e6, "bytes": tally.bytes_read,
        "errors": {"connect": tally.connect_errors, "read": tally.read_errors, "write": 0,
                   "status": tally.status_errors, "timeout": 0},
        "latency_us": {"p50": percentile(lat_us, 50), "p90": percentile(lat_us, 90),
                       "p99": percentile(lat_us, 99),
                       "mean": sum(lat_us) / len(lat_us) if lat_us else 0.0,
                       "max": lat_us[-1] if lat_us else 0.0},
        "counts": {"sent": tally.sent, "answered": len(lat_us), "ok_2xx": tally.ok_2xx},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--host-header", default=None, help="[127.0.0.1:PORT]")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds [10]")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default="", help="request body (UTF-8)")
    parser.add_argument("--names", type=int, default=1,
                        help="spread requests over this many values of {name} in the path [1]")
    parser.add_argument("--name-prefix", default="", help="{name} is this prefix + i")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 600 or not 0 < args.connections <= 1024:
        parser.error("--duration must be in (0, 600] and --connections in [1, 1024]")
    if not 1 <= args.names <= 1_000_000:
        parser.error("--names must be in [1, 1000000]")
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    host_header = args.host_header or f"{TARGET}:{args.port}"
    requests = [build_request(args.path.replace("{name}", f"{args.name_prefix}{i}"),
                              host_header, args.method, args.body.encode())
                for i in range(args.names)]
    result = runner(run(args.port, requests, args.connections, args.duration))
    print(MARKER, json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
