"""Many tenants on one host: what one tenant's guests cost the others, and what grows with a
tenant's own module.

    .venv/bin/python benchmarks/bench_tenants.py [--quick] [--json PATH] [--workers N]

Three phases, each on its own `edgehost serve` (127.0.0.1, ephemeral port, fresh temp data
dir), each explained in benchmarks/README.md:

1. bystander  the default account's hello, sequential `GET /` (a new connection each): idle,
              then while ANOTHER account keeps 2 x cores runaway requests in flight
              (tests/wat/infinite_loop.wat, shipped with `[limits] timeout_ms`, re-sent as
              each one runs out its budget). Its p50 and p99 both ways, and loaded / idle.
2. mailbox    one call holds an actor (benchmarks/wat/slow_actor.wat `hold`) while 1,000
              concurrent callers (tests/wat/actor_caller.wat, one connection each) queue on
              it; the host's threads (/proc/<pid>/status, worker processes included) sampled
              meanwhile.
3. exports    a hello-like guest with 10, 1,000 and 16,000 extra exports (WAT generated here):
              ship time and per-request latency of each, bounded in time and requests; a run
              with no answer within its bound is reported "timed out", a module the host
              refuses at ship is reported as that refusal.

No figure here has a peer. The table goes to stdout, progress to stderr. Only 127.0.0.1 is
ever contacted; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import wasmtime
from bench_actors import Check, function_hosts
from bench_cold import Admin, admin_key
from common import (
    BASE_DOMAIN,
    BENCH_DIR,
    REPO,
    HostProcess,
    Report,
    add_workers_option,
    fmt,
    host_process,
    http_request,
    kill_tree,
    machine_info,
    print_table,
    table_header,
    thread_count,
    wait_until_serving,
    worker_settings,
    workers_flag,
    write_json,
)

JSON_SCHEMA = "edgehost-bench-tenants/1"
HELLO_DIR = REPO / "examples" / "hello"
HELLO_BODY = b"hello from edgehost\n"
RUNAWAY_WAT = REPO / "tests" / "wat" / "infinite_loop.wat"
CALLER_WAT = REPO / "tests" / "wat" / "actor_caller.wat"
SLOW_ACTOR_WAT = BENCH_DIR / "wat" / "slow_actor.wat"
SLOW_BINDINGS = '[[actors]]\nbinding = "SLOW"\ntype = "Slow"\n'
HELD_NAME = "held"
RUNAWAY_ACCOUNT = "runaway-tenant"
THREAD_SAMPLE_S = 0.05
GRACE_S = 30.0  # on top of a guest's own budget, before the client gives up on an answer


@dataclass(frozen=True)
class Settings:
    quick: bool
    runaways: int  # runaway requests kept in flight: 2 x cores
    runaway_budget_ms: int  # the runaway function's [limits] timeout_ms
    idle_requests: int  # bystander requests with nothing else running
    loaded_window_s: float  # bystander requests are sent for this long while runaways run
    waiting_callers: int  # callers queued on the held actor
    hold_ms: int  # how long the first call holds the actor
    export_counts: tuple[int, ...]  # extra exports of the hello-like guest
    export_window_s: float  # per export count: requests for this long ...
    export_max_requests: int  # ... or this many, whichever comes first
    export_timeout_s: float  # one request with no answer by then: "timed out"
    workers: int | None = None  # `edgehost serve --workers N`; None: flag not passed


def settings_for(quick: bool, workers: int | None = None) -> Settings:
    runaways = 2 * (os.cpu_count() or 1)
    # 990 extra (992 in all) is just under the host's export cap (ShipLimits.max_exports, 1,000);
    # 16,000 shows the refusal at ship that keeps larger counts out.
    exports = (10, 990, 16_000)
    if quick:
        return Settings(True, runaways, runaway_budget_ms=1500, idle_requests=30,
                        loaded_window_s=1.5, waiting_callers=1000, hold_ms=1500,
                        export_counts=exports, export_window_s=1.0, export_max_requests=20,
                        export_timeout_s=2.0, workers=workers)
    return Settings(False, runaways, runaway_budget_ms=5000, idle_requests=200,
                    loaded_window_s=10.0, waiting_callers=1000, hold_ms=4000,
                    export_counts=exports, export_window_s=5.0, export_max_requests=100,
                    export_timeout_s=20.0, workers=workers)


def missing_modules() -> list[Path]:
    module = HELLO_DIR / "build" / f"{HELLO_DIR.name}.wasm"
    return [] if module.is_file() else [module]


def manifest(name: str, extra: str = "") -> str:
    return f'name = "{name}"\nmain = "src/index.ts"\ncompatibility_date = "2026-05-01"\n{extra}'


def compile_wat(text: str) -> bytes:
    return bytes(wasmtime.wat2wasm(text))


def deploy(admin: Admin, name: str, module: bytes, manifest_extra: str = "") -> str:
    """A new function with `module` shipped to it; its slug. A refused ship raises."""
    created = admin.create_function(name)
    status, answer, _elapsed = admin.ship_module(created["func_id"], module,
                                                 manifest(name, manifest_extra))
    if status >= 300:
        raise RuntimeError(f"shipping {name} answered {status}: {answer[:500]!r}")
    return created["slug"]


def percentile(samples: list[float], q: float) -> float:
    """The nearest-rank q-th percentile (q in (0, 100])."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def timed_get(port: int, host_header: str, timeout_s: float) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    status, body = http_request(port, "GET", "/", host_header, timeout_s=timeout_s)
    return status, body, time.perf_counter() - started


# ----------------------------------------------------------------------------- phase 1


class Runaways:
    """`count` threads, each keeping one runaway request in flight until `send_until` (a
    perf_counter) or until stopped, whichever comes first."""

    def __init__(self, port: int, host_header: str, count: int, timeout_s: float,
                 send_until: float) -> None:
        self._send_until = send_until
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.answers: Counter[str] = Counter()  # status (or error) -> how many
        self._threads = [threading.Thread(target=self._loop, args=(port, host_header, timeout_s),
                                          name=f"runaway-{i}", daemon=True)
                         for i in range(count)]

    def _loop(self, port: int, host_header: str, timeout_s: float) -> None:
        # Past the window no new runaway is sent, so a bystander request stalled behind them
        # waits at most for those in flight to run out their budget.
        while not self._stop.is_set() and time.perf_counter() < self._send_until:
            try:
                answer = str(http_request(port, "GET", "/", host_header, timeout_s=timeout_s)[0])
            except OSError as e:  # a client timeout included: counted, not raised
                answer = type(e).__name__
            with self._lock:
                if not self._stop.is_set():  # not the host being killed under it
                    self.answers[answer] += 1

    def stop(self) -> None:
        """Send no more, and count no answer from now on."""
        with self._lock:
            self._stop.set()

    def __enter__(self) -> Runaways:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        """Stop; wait for the threads (their requests end by budget, or as the host dies)."""
        self.stop()
        for thread in self._threads:
            thread.join()


def bystander_samples(port: int, host_header: str, *, count: int | None, window_s: float | None,
                      timeout_s: float) -> tuple[list[float], Counter[str]]:
    """Sequential hello requests: `count` of them, or as many as start within `window_s`.
    The latencies of hello's 200s, and how many answered otherwise (by status or error)."""
    latencies, failures = [], Counter()
    started = time.perf_counter()
    while (count is None or len(latencies) + sum(failures.values()) < count) and \
            (window_s is None or time.perf_counter() - started < window_s):
        try:
            status, body, elapsed = timed_get(port, host_header, timeout_s)
        except OSError as e:
            failures[type(e).__name__] += 1
            continue
        if status == 200 and body == HELLO_BODY:
            latencies.append(elapsed)
        else:
            failures[str(status)] += 1
    return latencies, failures


def bench_bystander(report: Report, settings: Settings, workdir: Path) -> list[Check]:
    section = (f"1. bystander: hello on one account while another runs {settings.runaways} "
               f"runaway guests ({settings.runaway_budget_ms:,} ms budget)")
    data_dir = workdir / "bystander-data"
    with host_process(data_dir, workdir / "bystander", ["--ship", str(HELLO_DIR)],
                      workers=settings.workers) as host:
        wait_until_serving(host)
        hello = function_hosts(host, ("hello",))["hello"]
        created = Admin(host.port, admin_key(data_dir)).call(
            "POST", "/accounts", json.dumps({"name": RUNAWAY_ACCOUNT}).encode())
        runaway = deploy(Admin(host.port, created["api_key"]), "runaway",
                         compile_wat(RUNAWAY_WAT.read_text()),
                         f"[limits]\ntimeout_ms = {settings.runaway_budget_ms}\n")
        runaway_host = f"{runaway}.{BASE_DOMAIN}:{host.port}"
        timeout_s = GRACE_S + settings.runaway_budget_ms / 1e3

        report.progress(f"bystander: {settings.idle_requests} hello requests, idle")
        bystander_samples(host.port, hello, count=5, window_s=None, timeout_s=timeout_s)  # warm
        idle, idle_failed = bystander_samples(host.port, hello, count=settings.idle_requests,
                                              window_s=None, timeout_s=timeout_s)
        report.progress(f"bystander: hello for {settings.loaded_window_s:g} s while "
                        f"{settings.runaways} runaway requests of another account run")
        head_start_s = 0.2  # the runaways reach their guests before the first bystander request
        with Runaways(host.port, runaway_host, settings.runaways, timeout_s,
                      time.perf_counter() + head_start_s + settings.loaded_window_s) as runaways:
            time.sleep(head_start_s)
            loaded, loaded_failed = bystander_samples(
                host.port, hello, count=None, window_s=settings.loaded_window_s,
                timeout_s=timeout_s)
            # Runaways still queued would take up to (runaways / cores) budgets to run out;
            # nothing more is measured on this host, so end it (and them) now.
            runaways.stop()
            kill_tree(host.process)
    if not idle or not loaded:
        raise RuntimeError(f"the bystander got no 200 (idle failures {dict(idle_failed)}, "
                           f"loaded failures {dict(loaded_failed)})")
    answers = ", ".join(f"{n} x {status}" for status, n in sorted(runaways.answers.items()))
    idle_fig = report.timed("bystander_idle_p50_ms", section, "bystander hello p50, idle", idle,
                            "ms", "sequential GET /, new connection each")
    report.add("bystander_idle_p99_ms", section, "  p99, idle", percentile(idle, 99) * 1e3, "ms",
               better="lower")
    loaded_fig = report.timed(
        "bystander_loaded_p50_ms", section, "bystander hello p50, runaways running", loaded,
        "ms", f"{len(loaded)} answered in {settings.loaded_window_s:g} s, max "
              f"{max(loaded) * 1e3:,.0f} ms")
    report.add("bystander_loaded_p99_ms", section, "  p99, runaways running",
               percentile(loaded, 99) * 1e3, "ms", better="lower")
    report.ratio("bystander_slowdown", section, "bystander p50: runaways running / idle",
                 loaded_fig, idle_fig, better="lower",
                 note="issue 10 target: <= 3x")
    failed = idle_failed + loaded_failed
    report.add("bystander_failures", section, "bystander requests not answered 200",
               sum(failed.values()), "count", better="lower",
               note=", ".join(f"{n} x {k}" for k, n in failed.items()) or "none")
    report.add("runaway_answers", section, "runaway requests answered meanwhile",
               sum(runaways.answers.values()), "count",
               note=f"{answers or 'none'} (504: stopped at its budget)")
    # The runaways must have run (and been stopped) for the figure to mean anything: an answer
    # other than a budget stop (504) or an overload refusal (503) means they did not.
    stopped = {"503", "504"}
    ok = bool(runaways.answers) and set(runaways.answers) <= stopped
    return [Check("runaways_ran", ok, f"runaway answers: {answers or 'none'}; expected only "
                                      "504 (budget) or 503 (overloaded)")]


# ----------------------------------------------------------------------------- phase 2


async def _post(port: int, host_header: str, body: bytes, timeout_s: float) -> tuple[int, bytes,
                                                                                     float]:
    """One POST / on its own connection (Connection: close); status, body, when answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"POST / HTTP/1.1\r\nHost: {host_header}\r\nContent-Length: {len(body)}\r\n"
                     "Connection: close\r\n\r\n".encode() + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout_s)  # until the server closes
    finally:
        writer.close()
    head, _, answer = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), answer, time.perf_counter()


async def _callers_while_sampling(port: int, host_header: str, settings: Settings,
                                  holder: threading.Thread, pid: int
                                  ) -> tuple[list, list[int]]:
    """The waiting callers, all at once; the host's threads sampled while the holder runs."""
    body = f"SLOW\n{HELD_NAME}\nping\n[]".encode()
    timeout_s = GRACE_S + settings.hold_ms / 1e3
    calls = [asyncio.ensure_future(_post(port, host_header, body, timeout_s))
             for _ in range(settings.waiting_callers)]
    samples = []
    while holder.is_alive():
        samples.append(thread_count(pid))
        await asyncio.sleep(THREAD_SAMPLE_S)
    return await asyncio.gather(*calls, return_exceptions=True), samples


def bench_mailbox(report: Report, settings: Settings, workdir: Path) -> None:
    n = settings.waiting_callers
    section = (f"2. mailbox: {n:,} callers waiting on one actor held by a "
               f"{settings.hold_ms:,} ms call")
    data_dir = workdir / "mailbox-data"
    with host_process(data_dir, workdir / "mailbox", workers=settings.workers) as host:
        wait_until_serving(host)
        admin = Admin(host.port, admin_key(data_dir))
        deploy(admin, "slow", compile_wat(SLOW_ACTOR_WAT.read_text()), SLOW_BINDINGS)
        caller = deploy(admin, "caller", compile_wat(CALLER_WAT.read_text()), SLOW_BINDINGS)
        caller_host = f"{caller}.{BASE_DOMAIN}:{host.port}"
        call = http_request(host.port, "POST", "/", caller_host, f"SLOW\n{HELD_NAME}\nping\n[]"
                            .encode())
        if call != (200, b"0"):  # activates the name, and proves the route works
            raise RuntimeError(f"a ping through the caller answered {call[0]} {call[1][:300]!r}")
        threads_idle = thread_count(host.process.pid)

        held: dict[str, object] = {}

        def hold() -> None:
            held["answer"] = http_request(
                host.port, "POST", "/", caller_host,
                f"SLOW\n{HELD_NAME}\nhold\n[{settings.hold_ms}]".encode(),
                timeout_s=GRACE_S + settings.hold_ms / 1e3)
            held["done"] = time.perf_counter()

        report.progress(f"mailbox: holding the actor {settings.hold_ms:,} ms, {n:,} callers "
                        "queued on it, threads sampled")
        holder = threading.Thread(target=hold, name="holder")
        holder.start()
        time.sleep(0.2)  # the hold's turn has begun before the first caller arrives
        results, samples = asyncio.run(_callers_while_sampling(
            host.port, caller_host, settings, holder, host.process.pid))
        holder.join()
    if held.get("answer") != (200, b"0"):
        raise RuntimeError(f"the holding call answered {held.get('answer')!r}")
    answered = [r for r in results if not isinstance(r, BaseException)]
    ok = [r for r in answered if r[0] == 200 and r[1] == b"0"]
    early = sum(1 for r in ok if r[2] < held["done"])
    failures = Counter(type(r).__name__ if isinstance(r, BaseException) else str(r[0])
                       for r in results if isinstance(r, BaseException) or r not in ok)
    if not samples:
        raise RuntimeError("the hold ended before any thread count was taken")
    report.add("mailbox_threads", section, f"host threads, {n:,} calls waiting on one actor",
               max(samples), "count", better="lower",
               note=f"peak of {len(samples)} samples during the hold (median "
                    f"{statistics.median(samples):,.0f}); idle {threads_idle}; issue 10 target: "
                    "<= 50")
    report.add("mailbox_threads_idle", section, "  host threads, idle", threads_idle, "count")
    report.add("mailbox_callers_ok", section, "  callers answered 200", len(ok), "count",
               note=f"{early} of them before the hold ended")
    report.add("mailbox_callers_not_ok", section, "  callers answered otherwise",
               sum(failures.values()), "count",
               note=", ".join(f"{c} x {k}" for k, c in failures.items()) or "none")


# ----------------------------------------------------------------------------- phase 3


def exports_wat(extra: int) -> str:
    """A hello-like guest (200 "ok") whose one no-op function is also exported `extra` times."""
    exports = "\n".join(f'  (export "extra_{i}" (func $nop))' for i in range(extra))
    return f'''(module
  (import "edgehost_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; status 200, 1 header (content-type: text/plain), body "ok"
  (data (i32.const 64) "\\c8\\00\\00\\00" "\\01\\00\\00\\00" "\\0c\\00\\00\\00" "content-type"
    "\\0a\\00\\00\\00" "text/plain" "\\02\\00\\00\\00" "ok")
  (func $nop)
{exports}
  (func (export "edgehost_fetch") (result i32)
    (drop (call $output_write (i32.const 64) (i32.const 44)))
    (i32.const 0)))
'''


@dataclass
class ExportsRun:
    exports: int
    ship_status: int
    ship_s: float
    refusal: str = ""  # the host's answer when it refused the module
    latencies_s: list[float] | None = None
    timed_out: bool = False


def measure_exports(settings: Settings, host: HostProcess, admin: Admin, extra: int,
                    report: Report) -> ExportsRun:
    name = f"exports-{extra}"
    created = admin.create_function(name)
    status, answer, ship_s = admin.ship_module(created["func_id"],
                                               compile_wat(exports_wat(extra)), manifest(name))
    run = ExportsRun(extra, status, ship_s)
    if status >= 300:
        run.refusal = f"{status} {answer[:200].decode(errors='replace')}"
        return run
    target = f"{created['slug']}.{BASE_DOMAIN}:{host.port}"
    report.progress(f"exports: {extra:,} extra exports, up to {settings.export_max_requests} "
                    f"requests or {settings.export_window_s:g} s")
    latencies: list[float] = []
    try:
        timed_get(host.port, target, settings.export_timeout_s)  # unmeasured first request
        started = time.perf_counter()
        # At least one measured request, however slow; then until the window or the count ends.
        while not latencies or (len(latencies) < settings.export_max_requests and
                                time.perf_counter() - started < settings.export_window_s):
            status, body, elapsed = timed_get(host.port, target, settings.export_timeout_s)
            if status != 200 or body != b"ok":
                raise RuntimeError(f"{name} answered {status} {body[:200]!r}")
            latencies.append(elapsed)
    except TimeoutError:
        run.timed_out = True
    run.latencies_s = latencies
    return run


def bench_exports(report: Report, settings: Settings, workdir: Path) -> None:
    section = (f"3. per-request cost vs export count (hello-like guest, sequential GET /, "
               f"{settings.export_timeout_s:g} s bound per request)")
    data_dir = workdir / "exports-data"
    runs: list[ExportsRun] = []
    with host_process(data_dir, workdir / "exports", workers=settings.workers) as host:
        wait_until_serving(host)
        admin = Admin(host.port, admin_key(data_dir))
        for extra in settings.export_counts:
            if runs and runs[-1].timed_out:  # more exports would only time out too
                runs.append(ExportsRun(extra, 0, 0.0, timed_out=True))
                continue
            runs.append(measure_exports(settings, host, admin, extra, report))
        if any(r.timed_out for r in runs):
            # The host is still working on the request the client gave up on; a graceful stop
            # would wait for it.
            kill_tree(host.process)
    for r in runs:
        label = f"{r.exports:,} extra exports"
        key = f"exports_{r.exports}"
        if r.refusal:
            status = f"refused at ship: {r.refusal}"
            report.add(f"{key}_ship_ms", section, f"{label}: ship", r.ship_s * 1e3, "ms",
                       better="lower", note="until the refusal")
            report.add(f"{key}_request_ms", section, f"{label}: per request", math.nan, "ms",
                       better="lower", status=status)
            continue
        if r.ship_status:
            report.add(f"{key}_ship_ms", section, f"{label}: ship", r.ship_s * 1e3, "ms",
                       better="lower", note="POST bundle -> 201")
        if r.timed_out and not r.latencies_s:
            report.add(f"{key}_request_ms", section, f"{label}: per request", math.nan, "ms",
                       better="lower", status=f"timed out: no answer within "
                                              f"{settings.export_timeout_s:g} s")
        elif r.latencies_s:
            note = ("a later request timed out; " if r.timed_out else "") + "sequential, warm"
            report.timed(f"{key}_request_ms", section, f"{label}: per request", r.latencies_s,
                         "ms", note)
    # The ratio compares the most exports the host accepted with the fewest.
    smallest = runs[0]
    accepted = [r for r in runs if not r.refusal]
    largest = accepted[-1] if accepted else runs[-1]
    key = f"exports_{largest.exports}_vs_{smallest.exports}"
    label = f"per request: {largest.exports:,} / {smallest.exports:,} exports"
    refused = [r.exports for r in runs if r.refusal]
    refused_note = f"; {refused[0]:,} refused at ship" if refused else ""
    if largest is smallest:
        return
    if smallest.latencies_s and largest.latencies_s and not largest.timed_out:
        report.ratio(key, section, label, report.get(f"exports_{largest.exports}_request_ms"),
                     report.get(f"exports_{smallest.exports}_request_ms"), better="lower",
                     note="1.0: the cost does not depend on the export count" + refused_note)
    elif smallest.latencies_s and largest.timed_out:
        bound = settings.export_timeout_s / statistics.median(smallest.latencies_s)
        report.add(key, section, label, math.nan, "x", better="lower",
                   status=f"timed out: over {fmt(bound)}x")


# ----------------------------------------------------------------------------- main


def run(report: Report, settings: Settings) -> list[Check]:
    """Every phase, adding its figures to `report`; the correctness checks' results."""
    with tempfile.TemporaryDirectory(prefix="edgehost-bench-tenants-") as tmp:
        workdir = Path(tmp)
        checks = bench_bystander(report, settings, workdir)
        bench_mailbox(report, settings, workdir)
        bench_exports(report, settings, workdir)
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Many tenants on one host: a bystander's latency beside runaway guests, "
                    "threads with 1,000 calls waiting on one actor, per-request cost vs export "
                    "count. See benchmarks/README.md.")
    parser.add_argument("--quick", action="store_true", help="shorter budgets and windows")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    add_workers_option(parser)
    args = parser.parse_args(argv)
    settings = settings_for(args.quick, workers_flag(worker_settings(args.workers)))
    for missing in missing_modules():
        print(f"{missing} is missing: run `npm run build:examples` in {REPO}", file=sys.stderr)
        return 2
    report = Report()
    machine = machine_info("none", "none")
    checks = run(report, settings)
    elapsed = time.perf_counter() - report.started
    report.progress(f"done in {elapsed:.1f} s")
    print_table(report, table_header("edgehost tenants benchmark", quick=settings.quick,
                                     elapsed_s=elapsed, machine=machine, generator_text=None))
    print()
    for check in checks:
        print(f"check {check.name}: {'ok' if check.ok else 'FAILED'}: {check.detail}")
    if args.json is not None:
        write_json(args.json, JSON_SCHEMA, report, quick=settings.quick, elapsed_s=elapsed,
                   settings=settings, machine=machine, checks=[asdict(c) for c in checks])
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
