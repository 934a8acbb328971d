"""Benchmark the hello example from ship to steady load.

    .venv/bin/python benchmarks/bench_hello.py [--quick] [--json PATH] [--duration S]
                                               [--connections N] [--generator auto|wrk|python]

Phases, each explained in benchmarks/README.md:

1. compile at ship      `Sandbox.compile` + `keep` on hello.wasm, compile processes warm
2. load after restart   `Sandbox.load` from the on-disk compiled cache in a fresh Sandbox
3. per request          new Store (`Sandbox.new_instance`) + instantiate (the instance's first
                        run), `Sandbox.invoke`, and a full in-process request (encode -> guest
                        -> decode)
4. first call           `edgehost serve` restarted on a data dir where hello was shipped before:
                        process start to first 200, first request vs warm request
5. throughput           wrk (or the Python fallback, loadgen.py) at N connections against the
                        hello function and against the host's own health route; host RSS after

The peer (workerd) is measured beside edgehost by bench_sidebyside.py, not here.

The table goes to stdout, progress to stderr; `--json PATH` also writes every figure with
machine info. Only 127.0.0.1 is ever loaded, and every load run stops by itself.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import wasmtime
from common import (
    BASE_DOMAIN,
    HEALTH_PATH,
    REPO,
    LoadResult,
    LoadTarget,
    Report,
    add_load_options,
    checked_duration,
    fmt,
    generator_description,
    host_process,
    http_get,
    machine_info,
    pick_generator,
    print_table,
    rss_mib,
    run_load,
    ship_into,
    table_header,
    wait_until_serving,
    worker_settings,
    workers_flag,
    write_json,
)
from edgehost.config import SandboxLimits
from edgehost.metrics import Metrics
from edgehost.projects import load_project
from edgehost.sandbox import wasmtime_ffi
from edgehost.sandbox.abi import FETCH_EXPORT, MEMORY_EXPORT
from edgehost.sandbox.engine import CompiledModule, Sandbox, module_hash
from edgehost.sandbox.invocation import Invocation
from edgehost.sandbox.wire import GuestRequest, decode_response, encode_request

HELLO_DIR = REPO / "examples" / "hello"
JSON_SCHEMA = "edgehost-bench-hello/1"
HELLO_BODY = b"hello from edgehost\n"
IN_PROCESS_SLUG = "hello-0123456789"  # any function-shaped name: hello ignores the Host header


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    quick: bool
    duration_s: float  # one measured load run
    warmup_s: float  # an unmeasured load run first: fills thread pool, caches, connections
    connections: int
    generator: str  # auto | wrk | python
    compile_runs: int
    load_runs: int
    instantiate_runs: int
    invoke_runs: int
    restarts: int  # host restarts with a warm compiled cache (plus one without it)
    warm_requests: int  # per restart, to compare the first request with
    workers: int | None = None  # `edgehost serve --workers N`; None: flag not passed


def parse_args(argv: list[str] | None) -> tuple[Settings, Path | None]:
    parser = argparse.ArgumentParser(
        description="Benchmark the hello example: compile, restart, per-request cost, first "
                    "call and throughput. See benchmarks/README.md.")
    add_load_options(parser, "fewer samples and 2 s load runs (finishes in well under 20 s)")
    args = parser.parse_args(argv)
    duration = checked_duration(parser, args)
    return settings_for(args.quick, duration, args.connections, args.generator,
                        workers_flag(worker_settings(args.workers))), args.json


def settings_for(quick: bool, duration_s: float, connections: int, generator: str,
                 workers: int | None = None) -> Settings:
    if quick:
        return Settings(True, duration_s, 0.5, connections, generator,
                        compile_runs=5, load_runs=7, instantiate_runs=500, invoke_runs=300,
                        restarts=2, warm_requests=15, workers=workers)
    return Settings(False, duration_s, 2.0, connections, generator,
                    compile_runs=15, load_runs=25, instantiate_runs=3000,
                    invoke_runs=2000, restarts=5, warm_requests=50, workers=workers)


def missing_modules() -> list[Path]:
    """The built modules this benchmark needs that are not there."""
    return [p for p in (load_project(HELLO_DIR).module_path,) if not p.is_file()]


# ----------------------------------------------------------------------------- phases 1-3:
# in-process, through the host's own Sandbox class


def default_memory_limit(limits: SandboxLimits) -> int:
    # The limit the host gives hello, whose manifest sets no [limits] memory_mib.
    return limits.function_memory_bytes(None)


def bench_compile_and_load(report: Report, settings: Settings, wasm: bytes,
                           workdir: Path) -> None:
    section = "1-2. ship and restart (in-process, Sandbox)"
    limits = SandboxLimits()
    memory_limit = default_memory_limit(limits)
    digest = module_hash(wasm)

    report.progress(f"compile at ship: {settings.compile_runs} runs, one started Sandbox (its "
                    "compile processes warm, as in a running host)")
    new_sandbox_s = []
    for i in range(settings.compile_runs):
        started = time.perf_counter()
        Sandbox(limits, workdir / f"new-{i}", Metrics()).close()
        new_sandbox_s.append(time.perf_counter() - started)
    cache_dir = workdir / "compile-0"
    sandbox = Sandbox(limits, cache_dir, Metrics())
    sandbox.start()
    try:
        sandbox.compile(wasm, memory_limit_bytes=memory_limit)  # waits for the processes
        compile_s = []
        for _ in range(settings.compile_runs):
            started = time.perf_counter()
            # What ship does: shape check, compile in a compile process, deserialize, the
            # ABI checks, then keep (write the disk cache).
            sandbox.keep(sandbox.compile(wasm, memory_limit_bytes=memory_limit))
            compile_s.append(time.perf_counter() - started)
    finally:
        sandbox.close()
    compiled_fig = report.timed("compile_ms", section, "compile at ship (Sandbox.compile)",
                                compile_s, "ms",
                                "shape+compile process+deserialize+checks+write cache")
    cwasm = next(cache_dir.glob("*.cwasm"))

    # The same work without the host around it, to show what the host adds to wasmtime: on the
    # Sandbox's own engine (engine_config.py), so with the host's compile settings exactly.
    engine = sandbox.engine
    raw_compile_s = []
    for _ in range(settings.compile_runs):
        started = time.perf_counter()
        wasmtime.Module(engine, wasm)
        raw_compile_s.append(time.perf_counter() - started)
    report.timed("raw_compile_ms", section, "  wasmtime Module() compile alone",
                 raw_compile_s, "ms")

    report.progress(f"load after restart: {settings.load_runs} runs, fresh Sandbox, same "
                    "cache dir")

    def must_not_recompile() -> bytes:  # so a cache miss fails instead of timing a compile
        raise RuntimeError("compiled cache missed: Sandbox.load asked for the wasm source")

    load_s = []
    for _ in range(settings.load_runs):
        sandbox = Sandbox(limits, cache_dir, Metrics())
        started = time.perf_counter()
        sandbox.load(digest, must_not_recompile, memory_limit_bytes=memory_limit)
        load_s.append(time.perf_counter() - started)
        sandbox.close()
    load_fig = report.timed("load_ms", section, "load after restart (Sandbox.load, disk cache)",
                            load_s, "ms", "deserialize+checks+InstancePre")
    raw_load_s = []
    for _ in range(settings.load_runs):
        started = time.perf_counter()
        wasmtime.Module.deserialize_file(engine, str(cwasm))
        raw_load_s.append(time.perf_counter() - started)
    report.timed("raw_deserialize_ms", section, "  Module.deserialize_file alone",
                 raw_load_s, "ms")
    report.ratio("load_vs_compile", section, "load after restart / compile at ship", load_fig,
                 compiled_fig, "how much a restart saves by caching",
                 better="lower")
    report.timed("new_sandbox_ms", section, "new Sandbox (engine + linker), once per process",
                 new_sandbox_s, "ms")
    report.add("wasm_kib", section, "hello.wasm size", len(wasm) / 1024, "KiB")
    report.add("cwasm_kib", section, "compiled cache file size", cwasm.stat().st_size / 1024,
               "KiB")


def hello_invoker(sandbox: Sandbox, compiled: CompiledModule, limits: SandboxLimits,
                  memory_limit: int) -> Callable[[bytes], bytes]:
    """A function running hello's entry point on an encoded request; the guest's output."""

    def invoke(payload: bytes) -> bytes:
        result = sandbox.invoke(compiled, FETCH_EXPORT,
                                Invocation(input=payload, limits=limits, env_vars={}),
                                memory_limit_bytes=memory_limit, timeout_ms=limits.timeout_ms)
        return result.output

    return invoke


def hello_request(slug: str, port: int = 8787) -> GuestRequest:
    host = f"{slug}.{BASE_DOMAIN}:{port}"
    # The headers wrk sends, lower-cased as the host passes them on.
    return GuestRequest("GET", f"http://{host}/", [("host", host)], b"")


def bench_per_request(report: Report, settings: Settings, wasm: bytes, workdir: Path) -> None:
    section = "3. per request (in-process)"
    limits = SandboxLimits()
    memory_limit = default_memory_limit(limits)

    report.progress(f"instantiate: {settings.instantiate_runs} runs in a Sandbox")
    sandbox = Sandbox(limits, workdir / "compile-0", Metrics())
    sandbox.start()  # the epoch ticker runs in a real host, so let it run here too
    store_s, instantiate_s, exports_s = [], [], []
    try:
        # Load through the Sandbox's own cache file, as a restarted host does.
        compiled = sandbox.load(module_hash(wasm), lambda: wasm, memory_limit_bytes=memory_limit)
        for _ in range(settings.instantiate_runs):
            t0 = time.perf_counter()
            instance = sandbox.new_instance(compiled, memory_limit)
            t1 = time.perf_counter()
            run = instance.start(FETCH_EXPORT, Invocation(input=b"", limits=limits))
            while not run.poll():  # instantiation, then the guest (which fails on no input)
                pass
            t2 = time.perf_counter()
            # What each run looks up by name (never enumerating the exports).
            for name in (MEMORY_EXPORT, FETCH_EXPORT):
                wasmtime_ffi.export(instance.store, instance.instance, name.encode())
            t3 = time.perf_counter()
            instance.close()
            store_s.append(t1 - t0)
            instantiate_s.append(run.instantiate_s)
            exports_s.append(t3 - t2)
    finally:
        sandbox.close()
    store_fig = report.timed("store_us", section, "new Store + limits", store_s, "us")
    inst_fig = report.timed("instantiate_us", section, "instantiate (async, from the pool)",
                            instantiate_s, "us")
    report.timed("exports_us", section, "export lookups by name (memory, entry point)",
                 exports_s, "us")
    both = report.add("store_instantiate_us", section, "instantiate (new Store + instantiate)",
                      store_fig.value + inst_fig.value, "us", better="lower",
                      note=f"sum of the medians: Store {fmt(store_fig.value)} + instantiate "
                           f"{fmt(inst_fig.value)} us")

    report.progress(f"invoke: {settings.invoke_runs} runs of Sandbox.invoke(edgehost_fetch)")
    sandbox = Sandbox(limits, workdir / "compile-0", Metrics())
    sandbox.start()  # the epoch ticker runs in a real host, so let it run here too
    try:
        compiled = sandbox.load(module_hash(wasm), lambda: wasm, memory_limit_bytes=memory_limit)
        run_hello = hello_invoker(sandbox, compiled, limits, memory_limit)
        payload = encode_request(hello_request(IN_PROCESS_SLUG))

        def invoke() -> bytes:
            return run_hello(payload)

        def full_request() -> None:
            response = decode_response(run_hello(encode_request(hello_request(IN_PROCESS_SLUG))))
            if response.status != 200 or response.body != HELLO_BODY:
                raise RuntimeError(f"hello answered {response.status} {response.body[:80]!r}")

        full_request()  # fail early (with the guest's answer) before timing anything
        invoke_s = time_calls(invoke, settings.invoke_runs)
        full_s = time_calls(full_request, settings.invoke_runs)
    finally:
        sandbox.close()
    invoke_fig = report.timed("invoke_us", section, "invoke (Sandbox.invoke, hello GET /)",
                              invoke_s, "us", "Store+instantiate+guest+host calls")
    report.timed("full_request_us", section, "full request: encode -> invoke -> decode",
                 full_s, "us")
    report.ratio("instantiate_share_of_invoke", section, "instantiate / invoke", both,
                 invoke_fig, "share of a request's sandbox time spent instantiating")


def time_calls(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


# ----------------------------------------------------------------------------- phases 4-5:
# a real `edgehost serve` process


def ship_hello(data_dir: Path) -> str:
    """Ship examples/hello into `data_dir` (in-process); the function's slug."""
    return ship_into(data_dir, HELLO_DIR)


def hello_get(port: int, slug: str) -> float:
    """GET / on the hello function; its latency in seconds. Anything but hello's 200 raises."""
    started = time.perf_counter()
    status, body = http_get(port, "/", f"{slug}.{BASE_DOMAIN}:{port}")
    elapsed = time.perf_counter() - started
    if status != 200 or body != HELLO_BODY:
        raise RuntimeError(f"hello answered {status} {body[:200]!r}")
    return elapsed


@dataclass
class RestartSample:
    serving_s: float  # process start -> health route answers 200
    first_200_s: float  # process start -> first 200 from the hello function
    first_latency_s: float  # that first hello request alone
    warm_latency_s: list[float]  # later hello requests, each on a new connection


def one_restart(data_dir: Path, run_dir: Path, slug: str, warm_requests: int,
                workers: int | None) -> RestartSample:
    with host_process(data_dir, run_dir, workers=workers) as host:
        # Health first, so "first request" measures the function's cold path (LMDB lookup,
        # compiled module from disk, InstancePre) and not the server still starting up.
        serving = wait_until_serving(host)
        first = hello_get(host.port, slug)
        first_done = time.perf_counter()
        warm = [hello_get(host.port, slug) for _ in range(warm_requests)]
    return RestartSample(serving - host.started, first_done - host.started, first, warm)


def bench_first_call(report: Report, settings: Settings, data_dir: Path, slug: str,
                     workdir: Path) -> None:
    section = "4. first call after restart (edgehost serve process)"
    samples = []
    for i in range(settings.restarts):
        report.progress(f"first call: restart {i + 1}/{settings.restarts} on a shipped data dir")
        samples.append(one_restart(data_dir, workdir / f"restart-{i}", slug,
                                   settings.warm_requests, settings.workers))
    # Once more with the compiled cache removed, as after a wasmtime upgrade or a wiped cache:
    # the first request then compiles from the stored bundle. (The cache layout is the host's:
    # data_dir/compiled, see app.build_host.)
    report.progress("first call: restart with the compiled cache removed")
    for cached in (data_dir / "compiled").glob("*.cwasm"):
        cached.unlink()
    uncached = one_restart(data_dir, workdir / "restart-nocache", slug, settings.warm_requests,
                           settings.workers)
    if not any((data_dir / "compiled").glob("*.cwasm")):
        raise RuntimeError("the uncached first request did not rewrite the compiled cache")

    n = len(samples)
    report.timed("start_to_serving_ms", section, "process start -> serving (health 200)",
                 [s.serving_s for s in samples], "ms", f"{n} restarts")
    report.timed("start_to_first_200_ms", section, "process start -> first hello 200",
                 [s.first_200_s for s in samples], "ms", f"{n} restarts")
    first = report.timed("first_request_ms", section, "first hello request (module from disk)",
                         [s.first_latency_s for s in samples], "ms", f"{n} restarts")
    warm = report.timed("warm_request_ms", section, "warm hello request (new connection)",
                        [x for s in samples for x in s.warm_latency_s], "ms",
                        f"{settings.warm_requests} per restart")
    report.ratio("first_vs_warm", section, "first request / warm request", first, warm,
                 better="lower")
    # The in-process request (phase 3, in us) against the same request over HTTP: how much of
    # a warm request's latency is the sandbox, and how much the HTTP/ASGI path around it.
    in_process = report.get("full_request_us")
    report.add("sandbox_share_of_warm", section, "in-process request / warm HTTP request",
               in_process.value / 1e3 / warm.value, "x",
               note="share of a warm request spent in encode+invoke+decode")
    nocache = report.add("first_request_nocache_ms", section,
                         "first hello request, compiled cache removed",
                         uncached.first_latency_s * 1e3, "ms", better="lower",
                         note="1 restart; recompiles from the bundle")
    report.ratio("first_nocache_vs_cached", section, "  uncached first / cached first",
                 nocache, first, better="lower")


def bench_throughput(report: Report, settings: Settings, data_dir: Path, slug: str,
                     generator: str, workdir: Path) -> None:
    c, d = settings.connections, settings.duration_s
    tool = "wrk" if generator == "wrk" else "Python loadgen.py"
    section = f"5. throughput ({tool}, {c} connections, {d:g} s per run, 127.0.0.1)"
    with host_process(data_dir, workdir / "throughput", workers=settings.workers) as host:
        wait_until_serving(host)
        hello_get(host.port, slug)  # a wrong slug or broken guest fails here, not as 404 load
        targets = {"hello": LoadTarget("/", f"{slug}.{BASE_DOMAIN}:{host.port}"),
                   "health": LoadTarget(HEALTH_PATH)}
        results: dict[str, LoadResult] = {}
        for name, target in targets.items():
            report.progress(f"throughput: {name}, warm-up {settings.warmup_s:g} s")
            run_load(generator, host.port, target, c, settings.warmup_s)
            report.progress(f"throughput: {name}, {generator}, {c} connections, {d:g} s")
            results[name] = run_load(generator, host.port, target, c, d)
        rss_after = rss_mib(host.process.pid)
    figures = {}
    for name, result in results.items():
        what = "hello GET /" if name == "hello" else f"host {HEALTH_PATH}"
        problems = []
        if result.bad_status:
            problems.append(f"{result.bad_status} non-2xx/3xx answers")
        if result.errors:
            problems.append(f"{result.errors} socket errors/timeouts")
        if problems:
            report.progress(f"WARNING: {name}: " + ", ".join(problems))
        note = f"{result.requests:,} requests" + ("; " + ", ".join(problems) if problems else "")
        figures[name] = report.add(f"{name}_rps", section, f"{what}: throughput", result.rps,
                                   "req/s", better="higher", note=note)
        report.add(f"{name}_p50_ms", section, f"{what}: p50 latency", result.p50_ms, "ms",
                   better="lower")
        report.add(f"{name}_p99_ms", section, f"{what}: p99 latency", result.p99_ms, "ms",
                   better="lower")
        report.add(f"{name}_errors", section, f"{what}: errors (socket + non-2xx)",
                   result.errors + result.bad_status, "count", better="lower")
    report.ratio("hello_vs_health_rps", section, "hello req/s / health req/s", figures["hello"],
                 figures["health"], "function path vs the host's own (async) route",
                 better="higher")
    report.add("throughput_rss_mib", section, "host RSS after the load runs", rss_after, "MiB",
               note="VmRSS of the edgehost process, hello shipped, after both runs")


# ----------------------------------------------------------------------------- main


def run(report: Report, settings: Settings, generator: str) -> None:
    """Every phase, adding its figures to `report`; raises if any phase fails."""
    wasm = load_project(HELLO_DIR).read_module()
    with tempfile.TemporaryDirectory(prefix="edgehost-bench-") as tmp:
        workdir = Path(tmp)
        bench_compile_and_load(report, settings, wasm, workdir)
        bench_per_request(report, settings, wasm, workdir)
        data_dir = workdir / "data"
        report.progress("shipping hello into a fresh data dir")
        slug = ship_hello(data_dir)
        bench_first_call(report, settings, data_dir, slug, workdir)
        bench_throughput(report, settings, data_dir, slug, generator, workdir)


def main(argv: list[str] | None = None) -> int:
    settings, json_path = parse_args(argv)
    report = Report()
    for missing in missing_modules():
        print(f"{missing} is missing: run `npm run build:examples` in {REPO}", file=sys.stderr)
        return 2
    generator = pick_generator(settings.generator)
    generator_text = generator_description(generator, settings.connections)
    machine = machine_info(generator, generator_text)
    report.progress(f"{'quick' if settings.quick else 'full'} run; load generator: "
                    f"{generator_text}")
    run(report, settings, generator)
    elapsed = time.perf_counter() - report.started
    report.progress(f"done in {elapsed:.1f} s")
    print_table(report, table_header(
        "edgehost hello benchmark", quick=settings.quick, elapsed_s=elapsed, machine=machine,
        generator_text=generator_text))
    if json_path is not None:
        write_json(json_path, JSON_SCHEMA, report, quick=settings.quick, elapsed_s=elapsed,
                   settings=settings, machine=machine)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
