"""What the benchmarks share: figures and their table/JSON, the command line options of a load
benchmark, an `edgehost serve` subprocess, HTTP helpers, and the load generators.

Imported as a sibling module (`from common import ...`): the benchmarks run as scripts (alone,
or through run.py), so their own directory is first on sys.path.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.metadata
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import edgehost
from edgehost.config import HostConfig

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WRK_REPORT = BENCH_DIR / "wrk_report.lua"
WRK_ACTORS = BENCH_DIR / "wrk_actors.lua"
LOADGEN = BENCH_DIR / "loadgen.py"
JSON_MARKER = "EDGEHOST_BENCH_JSON"  # the line both generators print their summary on
HEALTH_PATH = "/__edgehost/health"
METRICS_PATH = "/__edgehost/metrics"
BASE_DOMAIN = HostConfig().base_domain  # what `edgehost serve` uses unless told otherwise
HOST_START_TIMEOUT_S = 30.0


# ----------------------------------------------------------------------------- figures


@dataclass
class Figure:
    key: str  # stable identifier, used to match figures between two JSON runs
    section: str
    label: str
    value: float
    unit: str  # ms, us, req/s, KiB, MiB, count, x (a ratio within this run)
    better: str | None = None  # "lower" | "higher" | None (informational)
    note: str = ""
    stats: dict[str, float] = field(default_factory=dict)  # n/min/max of the samples
    peer: float | None = None  # the same figure measured on the peer (workerd) in this run
    # Why there is no value (e.g. "timed out: ..." or "refused at ship: ..."); None: measured.
    status: str | None = None
    # Why the peer has no value for a figure it is compared on ("not measured (reason)").
    peer_status: str | None = None


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def add(self, key: str, section: str, label: str, value: float, unit: str, *,
            better: str | None = None, note: str = "",
            stats: dict[str, float] | None = None, peer: float | None = None,
            status: str | None = None, peer_status: str | None = None) -> Figure:
        figure = Figure(key, section, label, value, unit, better, note, stats or {}, peer,
                        status, peer_status)
        self.figures.append(figure)
        return figure

    def timed(self, key: str, section: str, label: str, samples_s: list[float], unit: str,
              note: str = "", peer: float | None = None) -> Figure:
        """A median of timing samples (given in seconds), converted to `unit`."""
        scale = {"ms": 1e3, "us": 1e6}[unit]
        stats = {"n": len(samples_s), "min": min(samples_s) * scale,
                 "max": max(samples_s) * scale}
        spread = f"median of {len(samples_s)}, min {fmt(stats['min'])}"
        return self.add(key, section, label, statistics.median(samples_s) * scale, unit,
                        better="lower", note=f"{spread}; {note}" if note else spread,
                        stats=stats, peer=peer)

    def ratio(self, key: str, section: str, label: str, numerator: Figure,
              denominator: Figure, note: str = "", better: str | None = None,
              peer: float | None = None) -> Figure:
        value = numerator.value / denominator.value if denominator.value else math.nan
        return self.add(key, section, label, value, "x", better=better, note=note, peer=peer)

    def get(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)

    def progress(self, message: str) -> None:
        print(f"[bench {time.perf_counter() - self.started:6.1f}s] {message}", file=sys.stderr,
              flush=True)


def fmt(value: float | None, unit: str = "") -> str:
    if value is None or math.isnan(value):
        return "n/a"
    if unit == "count":
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"


def vs_peer(figure: Figure) -> float | None:
    """Ours / the peer's; None when the peer has no such figure."""
    if figure.peer is None or not figure.peer or math.isnan(figure.value):
        return None
    return figure.value / figure.peer


def print_table(report: Report, header: list[str]) -> None:
    print(format_table(report, header))


def format_table(report: Report, header: list[str]) -> str:
    """The figures by section; with `peer` and `/peer` columns when any figure has a peer."""
    lines = list(header)
    width = max(len(f.label) for f in report.figures)
    with_peer = any(f.peer is not None or f.peer_status for f in report.figures)
    peer_width = 12 if any(f.peer_status for f in report.figures) else 8
    section = None
    for f in report.figures:
        if f.section != section:
            section = f.section
            lines.append(f"\n{section}")
            peer_head = f"  {'peer':>{peer_width}}  {'/peer':>6}" if with_peer else ""
            lines.append(f"  {'phase':<{width}}  {'value':>10}  {'unit':<6}{peer_head} note")
        peer_cols = ""
        if with_peer:
            ratio = vs_peer(f)
            peer_cell = fmt(f.peer, f.unit) if f.peer is not None else (
                "not measured" if f.peer_status else "")
            peer_cols = (f"  {peer_cell:>{peer_width}}"
                         f"  {f'{ratio:.2f}' if ratio is not None else '':>6}")
        value = fmt(f.value, f.unit) if f.status is None else "-"
        # A figure without a value says why first. (Why the peer was not measured is said
        # once, above the table, rather than on every row.)
        note = "; ".join(x for x in (f.status, f.note) if x)
        lines.append(f"  {f.label:<{width}}  {value:>10}  {f.unit:<6}{peer_cols} "
                     f"{note}".rstrip())
    return "\n".join(lines)


def table_header(title: str, *, quick: bool, elapsed_s: float, machine: dict,
                 generator_text: str | None, extra: Sequence[str] = ()) -> list[str]:
    """The lines above a benchmark's table: what ran, where, with which load generator."""
    lines = [f"{title} ({'quick' if quick else 'full'}, {elapsed_s:.1f} s)",
             f"machine: {machine['cores']} cores ({machine['cpu_model'] or 'unknown cpu'}), "
             f"Python {machine['python']}, wasmtime {machine['wasmtime']}"]
    if generator_text:
        lines.append(f"load generator: {generator_text}")
    return [*lines, *extra,
            "Noisy shared machine: compare ratios (unit x) within one run; absolute figures "
            "only between runs on the same machine."]


def figure_json(figure: Figure) -> dict:
    out = {k: v for k, v in asdict(figure).items() if k != "key"}
    if math.isnan(figure.value):  # a ratio with a zero denominator; JSON has no NaN
        out["value"] = None
    if figure.peer is None:  # most figures have no peer: keep their JSON as it always was
        del out["peer"]
    else:
        out["vs_peer"] = vs_peer(figure)
    for optional in ("status", "peer_status"):  # present only when they say something
        if out[optional] is None:
            del out[optional]
    return out


def write_json(path: Path, schema: str, report: Report, *, quick: bool, elapsed_s: float,
               settings: object, machine: dict, **extra: object) -> None:
    document = {"schema": schema, "created_unix": time.time(),
                "mode": "quick" if quick else "full", "elapsed_s": elapsed_s,
                "settings": asdict(settings), "machine": machine, **extra,
                "figures": {f.key: figure_json(f) for f in report.figures}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    report.progress(f"wrote {path}")


# ----------------------------------------------------------------------------- command line


def add_load_options(parser: argparse.ArgumentParser, quick_help: str) -> None:
    """The options every load benchmark takes (see benchmarks/README.md)."""
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="seconds per measured load run [10; 2 with --quick]")
    parser.add_argument("--connections", type=int, default=32, metavar="N",
                        help="concurrent connections for the throughput runs [32]")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto",
                        help="load generator: wrk if installed (auto), or force one [auto]")
    add_workers_option(parser)


def add_workers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, metavar="N",
                        help="worker processes of `edgehost serve --workers N`, passed only when "
                             "the host has that flag [number of cores]")


def checked_duration(parser: argparse.ArgumentParser, args: argparse.Namespace) -> float:
    """The measured-run duration; exits through `parser.error` on bad load options."""
    duration = args.duration if args.duration is not None else (2.0 if args.quick else 10.0)
    if not 0 < duration <= 300:
        parser.error("--duration must be in (0, 300] seconds")
    if not 1 <= args.connections <= 1024:
        parser.error("--connections must be in [1, 1024]")
    if args.workers is not None and not 1 <= args.workers <= 64:
        parser.error("--workers must be in [1, 64]")
    if args.generator == "wrk" and shutil.which("wrk") is None:
        parser.error("--generator wrk: wrk is not installed (apt-get install -y wrk)")
    return duration


# ----------------------------------------------------------------------------- host process


@dataclass
class HostProcess:
    port: int
    started: float  # perf_counter just before the process was spawned
    process: subprocess.Popen
    out_path: Path  # its stdout: the listening line and, with --ship, the function URLs
    log_path: Path


def serve_command() -> list[str]:
    return [sys.executable, "-m", "edgehost", "serve"]


def serve_env() -> dict[str, str]:
    """The environment for `edgehost serve`: it imports the same edgehost package as this
    process (machine_info's `edgehost_path`), even when that came from a relative PYTHONPATH
    that the server's own working directory would not resolve."""
    package_root = str(Path(edgehost.__file__).resolve().parent.parent)
    inherited = os.environ.get("PYTHONPATH")
    return {**os.environ,
            "PYTHONPATH": package_root + (os.pathsep + inherited if inherited else "")}


def serve_takes_workers() -> bool:
    """Whether this host's `edgehost serve` has `--workers N` (worker processes behind one
    port); read from its --help, so the benchmarks pass the flag only to a host that has it."""
    done = subprocess.run([*serve_command(), "--help"], capture_output=True, text=True,
                          timeout=60, env=serve_env())
    return re.search(r"--workers\b", done.stdout) is not None


def worker_settings(requested: int | None) -> dict:
    """The worker count the benchmarks run `edgehost serve` with, for report.json.

    `requested` None means the number of cores. A host without `--workers` runs one process
    whatever was asked (count 1, `flag` False), as it always has.
    """
    wanted = requested if requested is not None else (os.cpu_count() or 1)
    supported = serve_takes_workers()
    return {"requested": wanted, "flag": supported, "count": wanted if supported else 1}


def ship_into(data_dir: Path, project_dir: Path) -> str:
    """Ship a built project into `data_dir` in-process, as `edgehost serve --ship` would; the
    function's slug. Done in-process because a whole host process just to ship is slower."""
    from edgehost.app import build_host  # the whole host: only the benchmarks that ship need it
    from edgehost.cli.serve import ship_project
    from edgehost.projects import load_project

    host = build_host(HostConfig(data_dir=data_dir), env_key=None)
    try:
        record, _status = ship_project(host, load_project(project_dir))
    finally:
        host.close()
    return record.slug


def workers_flag(workers: dict) -> int | None:
    """host_process's `workers` for a worker_settings() result: None when the host has no flag."""
    return workers["count"] if workers["flag"] else None


@contextmanager
def host_process(data_dir: Path, run_dir: Path, extra_args: Sequence[str] = (),
                 workers: int | None = None) -> Iterator[HostProcess]:
    """`edgehost serve --port 0` on `data_dir`; yields once its port is known; always stops it.

    `workers`: pass `--workers N` (only for a host that has the flag; see worker_settings).
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    out_path, log_path = run_dir / "stdout.txt", run_dir / "stderr.txt"
    worker_args = ["--workers", str(workers)] if workers is not None else []
    # Files, not pipes: nobody has to drain them while the load runs.
    with open(out_path, "w") as out, open(log_path, "w") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*serve_command(), "--host", "127.0.0.1", "--port", "0",
             "--data-dir", str(data_dir), "--log-level", "warning", *worker_args, *extra_args],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=run_dir, env=serve_env())
    failure: Exception | None = None
    try:
        port = _wait_for_port(process, out_path, log_path, started)
        yield HostProcess(port, started, process, out_path, log_path)
    except Exception as e:
        failure = e
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if failure is not None:
        # The work dir is deleted on exit, so the host's log goes into the error; read only
        # now, once the host has exited, because it may log a failure after answering 500.
        raise RuntimeError(f"{failure}\n--- edgehost serve stderr (tail) ---\n"
                           f"{log_path.read_text()[-3000:]}") from failure


def _wait_for_port(process: subprocess.Popen, out_path: Path, log_path: Path,
                   started: float) -> int:
    pattern = re.compile(r"edgehost listening on http://127\.0\.0\.1:(\d+)")
    while time.perf_counter() - started < HOST_START_TIMEOUT_S:
        match = pattern.search(out_path.read_text())
        if match:
            return int(match.group(1))
        if process.poll() is not None:
            raise RuntimeError(f"edgehost serve exited with {process.returncode}:\n"
                               f"{log_path.read_text()[-2000:]}")
        time.sleep(0.002)
    raise RuntimeError(f"edgehost serve did not print its port within {HOST_START_TIMEOUT_S} s")


def http_get(port: int, path: str, host_header: str | None = None) -> tuple[int, bytes]:
    """One request on a new connection (as a first visitor would make it)."""
    return http_request(port, "GET", path, host_header)


def http_request(port: int, method: str, path: str, host_header: str | None = None,
                 body: bytes | None = None, headers: dict[str, str] | None = None,
                 timeout_s: float = 10.0) -> tuple[int, bytes]:
    """One request to 127.0.0.1:port on a new connection; the status and the body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    all_headers = dict(headers or {})
    if host_header:
        all_headers["Host"] = host_header
    try:
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants: a host with worker processes is all of them."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # exited meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, ()))
    return tree


def kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL a host and its worker processes at once: for a host still busy with requests
    the benchmark gave up on, which a graceful stop would wait for."""
    # The tree is listed before any kill; the host goes first so it cannot start new workers.
    for member in process_tree(process.pid):
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()


def _status_field(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {name} for process {pid}")


def _tree_sum(pid: int, read) -> float:
    total = 0.0
    for member in process_tree(pid):
        try:
            total += read(member)
        except (OSError, RuntimeError):
            if member == pid:  # the host itself must be readable; a worker may just have exited
                raise
    return total


def rss_mib(pid: int) -> float:
    """VmRSS of a process and its children (worker processes), in MiB."""
    return _tree_sum(pid, lambda p: _status_field(p, "VmRSS")) / 1024  # the kernel says kB


def thread_count(pid: int) -> int:
    """Threads of a process and its children (worker processes), from /proc/<pid>/status."""
    return int(_tree_sum(pid, lambda p: _status_field(p, "Threads")))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process and its children have used so far."""
    def one(p: int) -> float:
        # Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return _tree_sum(pid, one)


def wait_until_serving(host: HostProcess) -> float:
    """Poll the health route until it answers 200; the perf_counter at that moment."""
    while time.perf_counter() - host.started < HOST_START_TIMEOUT_S:
        try:
            if http_get(host.port, HEALTH_PATH)[0] == 200:
                return time.perf_counter()
        except OSError:  # not listening yet
            pass
        if host.process.poll() is not None:
            raise RuntimeError(f"edgehost serve exited with {host.process.returncode}:\n"
                               f"{host.log_path.read_text()[-2000:]}")
        time.sleep(0.002)
    raise RuntimeError(f"edgehost serve did not answer within {HOST_START_TIMEOUT_S} s")


# ----------------------------------------------------------------------------- load generators


@dataclass(frozen=True)
class LoadTarget:
    """What every request of a load run asks for."""

    path: str  # may contain "{name}" when `names` > 1
    host_header: str | None = None  # None: the generator's default, 127.0.0.1:PORT
    method: str = "GET"
    body: str = ""
    names: int = 1  # each request replaces {name} with name_prefix + a random i < names
    name_prefix: str = ""

    @property
    def plain(self) -> bool:
        """A fixed GET: wrk can send it without calling Lua per request (its fastest mode)."""
        return self.method == "GET" and not self.body and "{name}" not in self.path


@dataclass(frozen=True)
class LoadResult:
    requests: int  # answered
    duration_s: float
    errors: int  # socket errors and timeouts
    bad_status: int  # wrk: status > 399; loadgen.py: not 2xx/3xx
    p50_ms: float
    p99_ms: float
    # Counted by wrk_actors.lua and loadgen.py only (None for plain wrk runs):
    sent: int | None = None  # requests written; sent - requests were cut off by the stop
    ok_2xx: int | None = None  # answers with a 2xx status

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0


def pick_generator(choice: str) -> str:
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    return choice


def generator_description(generator: str, connections: int) -> str:
    if generator == "wrk":
        version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
        first = version.splitlines()[0].split(" [")[0] if version else "wrk"
        return f"{first}, {wrk_threads(connections)} threads, {connections} connections"
    return (f"benchmarks/loadgen.py (Python asyncio, keep-alive), {connections} connections; "
            "wrk not used: expect lower, generator-bound figures")


def wrk_threads(connections: int) -> int:
    return min(2, connections)  # wrk's default; on 2 cores more threads only steal server CPU


def load_command(generator: str, port: int, target: LoadTarget, connections: int,
                 duration_s: float) -> list[str]:
    if generator == "wrk":
        script = WRK_REPORT if target.plain else WRK_ACTORS
        cmd = ["wrk", f"-t{wrk_threads(connections)}", f"-c{connections}",
               f"-d{max(1, round(duration_s))}s", "--timeout", "5s", "--latency",
               "-s", str(script)]
        if target.host_header:
            cmd += ["-H", f"Host: {target.host_header}"]
        if target.plain:
            return [*cmd, f"http://127.0.0.1:{port}{target.path}"]
        # wrk_actors.lua builds every request from these; the URL only gives the address.
        return [*cmd, f"http://127.0.0.1:{port}/", "--", target.method, target.path,
                str(target.names), target.name_prefix, target.body]
    cmd = [sys.executable, str(LOADGEN), "--port", str(port), "--path", target.path,
           "--connections", str(connections), "--duration", str(duration_s),
           "--method", target.method, "--names", str(target.names),
           "--name-prefix", target.name_prefix]
    if target.body:
        cmd += ["--body", target.body]
    if target.host_header:
        cmd += ["--host-header", target.host_header]
    return cmd


def run_load(generator: str, port: int, target: LoadTarget, connections: int,
             duration_s: float) -> LoadResult:
    """One bounded load run against 127.0.0.1:port; stops by itself after `duration_s`."""
    cmd = load_command(generator, port, target, connections, duration_s)
    # The generator stops itself; the timeout is only a backstop against a hung generator.
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(JSON_MARKER)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"load generator failed ({done.returncode}): {done.stderr[-2000:]}"
                           f"{done.stdout[-2000:]}")
    data = json.loads(line[len(JSON_MARKER):])
    errors = data["errors"]
    counts = data.get("counts", {})
    return LoadResult(int(data["requests"]), data["duration_us"] / 1e6,
                      int(errors["connect"] + errors["read"] + errors["write"]
                          + errors["timeout"]),
                      int(errors["status"]), data["latency_us"]["p50"] / 1e3,
                      data["latency_us"]["p99"] / 1e3, counts.get("sent"), counts.get("ok_2xx"))


# ----------------------------------------------------------------------------- machine info


def machine_info(generator: str, generator_text: str) -> dict:
    def version(dist: str) -> str | None:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    cpu_model = None
    try:
        cpu_model = next((line.split(":", 1)[1].strip()
                          for line in Path("/proc/cpuinfo").read_text().splitlines()
                          if line.startswith("model name")), None)
    except OSError:
        pass
    git = {}
    try:
        git["commit"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO,
                                       capture_output=True, text=True).stdout.strip() or None
        git["dirty"] = bool(subprocess.run(["git", "status", "--porcelain", "--", "host"],
                                           cwd=REPO, capture_output=True,
                                           text=True).stdout.strip())
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu_model": cpu_model,
        "loadavg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "wasmtime": version("wasmtime"),
        "edgehost": version("edgehost"),
        # Which host code ran (e.g. a checkout on PYTHONPATH instead of the editable install).
        "edgehost_path": str(Path(edgehost.__file__).parent),
        "uvicorn": version("uvicorn"),
        "fastapi": version("fastapi"),
        "generator": generator,
        "generator_detail": generator_text,
        "git": git,
    }
