"""The peer, run live: Cloudflare workerd serving the same Account actor, and the wrk script
both sides are loaded with.

The peer's harness lives outside this repository, in `<repo>/../shared/peer/workerd` (see its
README.md): `config.capnp` (the `bank` worker owning the `Account` Durable Object, and the
class-free `reference` worker), `src/bank.js`, `src/reference.js`, `bench/wrk.lua` (the wrk
script: `WRK_MODE=get|post_one|post_spread`) and, once `npm ci` has run there, the workerd
binary under `node_modules`. Nothing here changes that folder (it may be read-only): workerd
gets a fresh temp data dir and ephemeral ports on 127.0.0.1.

`find_peer` says whether the peer can be measured on this machine, and if not, why; the
benchmarks then report "not measured (reason)" instead of failing.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common import REPO

DEFAULT_PEER_DIR = REPO.parent / "shared" / "peer" / "workerd"
WORKERD_BINARY = Path("node_modules/@cloudflare/workerd-linux-64/bin/workerd")
CONFIG = Path("config.capnp")
WRK_SCRIPT = Path("bench/wrk.lua")
# The peer's scripts of the functions edgehost's examples implement (bundle-size comparison).
SCRIPTS = {"account": Path("src/bank.js"), "account-readonly": Path("src/reference.js")}
LIVENESS_PATH = "/health/liveness"  # the cheapest route of both workers
START_TIMEOUT_S = 20.0
WRK_JSON_PREFIX = "JSON "  # the line bench/wrk.lua prints its summary on


@dataclass(frozen=True)
class PeerSetup:
    """Everything needed to run the peer and to load either side with its wrk script."""

    directory: Path
    workerd: Path
    config: Path
    wrk_script: Path

    def version(self) -> str:
        done = subprocess.run([str(self.workerd), "--version"], capture_output=True, text=True,
                              timeout=30)
        return done.stdout.strip() or done.stderr.strip() or "workerd (version unknown)"


def find_peer(directory: Path | None) -> PeerSetup | str:
    """The peer's setup, or the reason it cannot be measured here (a short sentence)."""
    directory = (directory or DEFAULT_PEER_DIR).resolve()
    if not (directory / CONFIG).is_file():
        return f"no peer harness at {directory}"
    if not (directory / WRK_SCRIPT).is_file():
        return f"no {WRK_SCRIPT} in {directory}"
    workerd = directory / WORKERD_BINARY
    if not os.access(workerd, os.X_OK):
        return workerd_missing(directory)
    if shutil.which("wrk") is None:
        return "wrk is not installed (apt-get install -y wrk)"
    return PeerSetup(directory, workerd, directory / CONFIG, directory / WRK_SCRIPT)


def workerd_missing(directory: Path) -> str:
    """Why the peer cannot run when the harness has no workerd, and what works instead."""
    if is_writable(directory):
        return f"workerd is not installed (run `npm ci` in {directory})"
    copy = f"~/{directory.name}-peer"
    return (f"workerd is not installed, and {directory} is read-only: copy the harness to a "
            f"writable folder (`cp -r {directory} {copy}`), run `npm ci` there and pass "
            f"`--peer-dir {copy}`")


def is_writable(directory: Path) -> bool:
    """Whether `npm ci` may add node_modules to `directory`. A folder with no write bit at all
    is meant to stay as it is, so it counts as read-only even for root (who could write)."""
    return bool(directory.stat().st_mode & 0o222) and os.access(directory, os.W_OK)


def script_sizes(directory: Path | None) -> dict[str, int] | str:
    """Raw bytes of the peer's scripts by example name, or why they cannot be read.

    Only the harness's files are needed (not workerd or wrk): a size is a file's size.
    """
    directory = (directory or DEFAULT_PEER_DIR).resolve()
    sizes = {}
    for example, script in SCRIPTS.items():
        path = directory / script
        if not path.is_file():
            return f"no peer script {script} in {directory}"
        sizes[example] = path.stat().st_size
    return sizes


# ----------------------------------------------------------------------------- workerd process


@dataclass
class PeerProcess:
    bank_port: int  # the `bank` worker: the owner's routes (deposit, balance, liveness)
    reference_port: int  # the class-free `reference` worker
    started: float  # perf_counter just before the process was spawned
    process: subprocess.Popen


def free_port() -> int:
    """A port no one listens on right now (workerd takes explicit ports, not port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def workerd_process(setup: PeerSetup, data_dir: Path, log_path: Path) -> Iterator[PeerProcess]:
    """`workerd serve` of the peer's config on free 127.0.0.1 ports with its Durable Object
    storage in `data_dir`; yields once it has started; always stops it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    bank_port, reference_port = free_port(), free_port()
    with open(log_path, "ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(setup.workerd), "serve", str(setup.config), "config",
             "--directory-path", f"do-disk={data_dir}",
             "--socket-addr", f"bank-http=127.0.0.1:{bank_port}",
             "--socket-addr", f"reference-http=127.0.0.1:{reference_port}"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=setup.directory)
    try:
        yield PeerProcess(bank_port, reference_port, started, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_live(peer: PeerProcess, log_path: Path) -> float:
    """Poll GET /health/liveness (new connection each) until 200; the perf_counter then."""
    while time.perf_counter() - peer.started < START_TIMEOUT_S:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", peer.bank_port, timeout=2)
            try:
                conn.request("GET", LIVENESS_PATH)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    return time.perf_counter()
            finally:
                conn.close()
        except OSError:  # not listening yet
            pass
        if peer.process.poll() is not None:
            raise RuntimeError(f"workerd exited with {peer.process.returncode}:\n"
                               f"{log_path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.001)
    raise RuntimeError(f"workerd did not answer {LIVENESS_PATH} within {START_TIMEOUT_S} s")


# ----------------------------------------------------------------------------- the wrk script


@dataclass(frozen=True)
class WrkRun:
    """One run of the peer's wrk script (against either side)."""

    requests: int
    duration_s: float
    errors: int  # socket errors and timeouts
    bad_status: int  # answers with a status > 399
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def failed(self) -> int:
        return self.errors + self.bad_status


def run_wrk_script(setup: PeerSetup, port: int, path: str, mode: str, *, duration_s: float,
                   connections: int, threads: int, host_header: str | None = None,
                   env: Mapping[str, str] | None = None) -> WrkRun:
    """One bounded run of bench/wrk.lua (WRK_MODE=mode) against 127.0.0.1:port."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
           "--timeout", "5s", "-s", str(setup.wrk_script)]
    if host_header:
        # wrk.format() copies this Host into the requests the script builds itself.
        cmd += ["-H", f"Host: {host_header}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    # wrk stops itself; the timeout is only a backstop against a hung generator.
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 60,
                          env={**os.environ, "WRK_MODE": mode, **(env or {})})
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(WRK_JSON_PREFIX)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk ({mode}) failed ({done.returncode}): {done.stderr[-2000:]}"
                           f"{done.stdout[-2000:]}")
    data = json.loads(line[len(WRK_JSON_PREFIX):])
    return WrkRun(int(data["requests"]), float(data["duration_s"]),
                  int(data["err_connect"] + data["err_read"] + data["err_write"]
                      + data["err_timeout"]),
                  int(data["err_status"]), data["lat_p50_us"] / 1e3, data["lat_p99_us"] / 1e3)
