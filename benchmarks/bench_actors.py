"""Benchmark stateful actors: durable deposits, reads through a reference, first touch, memory.

    .venv/bin/python benchmarks/bench_actors.py [--quick] [--json PATH] [--duration S]
                                                [--connections N] [--generator auto|wrk|python]

One `edgehost serve` process (127.0.0.1, ephemeral port) ships examples/account (the owner of
the Account actor type) and examples/account-readonly (a class-free reference to that type).
Phases, each explained in benchmarks/README.md:

1. first touch   sequential deposits on one keep-alive connection: to never-touched names (each
                 a fresh activation: instantiate + init + storage) vs to one warm name
2. load          wrk (or loadgen.py) at N connections, an unmeasured warm-up then a measured run:
                 - deposits to one hot actor: POST /accounts/hot/deposit {"amount":1}; after it
                   the balance must have grown by exactly the deposits made
                 - the same deposit, each request to one of 1000 names
                 - GET /accounts/<name>/balance through account-readonly over the same names
3. group commit  durable turns per fsync during each deposit run, from the host's own counters
4. memory        VmRSS of the host process before load and around the 1000-name run; per
                 live activation

The peer (workerd) is measured beside edgehost by bench_sidebyside.py, not here. The
table goes to stdout, progress to stderr; `--json PATH` also writes every figure with machine
info. Only 127.0.0.1 is ever loaded, and every load run stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import (
    METRICS_PATH,
    REPO,
    HostProcess,
    LoadResult,
    LoadTarget,
    Report,
    add_load_options,
    checked_duration,
    cpu_seconds,
    generator_description,
    host_process,
    http_get,
    machine_info,
    pick_generator,
    print_table,
    rss_mib,
    run_load,
    table_header,
    wait_until_serving,
    worker_settings,
    workers_flag,
    write_json,
)
from edgehost.projects import load_project

JSON_SCHEMA = "edgehost-bench-actors/1"
OWNER_DIR = REPO / "examples" / "account"
REFERENCE_DIR = REPO / "examples" / "account-readonly"
HOT_NAME = "hot"
WARM_NAME = "warm"  # phase 1's already-active name
FRESH_PREFIX = "first-"  # phase 1's never-touched names
SPREAD_PREFIX = "acct-"  # the 1000 names: acct-0 .. acct-999
DEPOSIT_BODY = '{"amount":1}'
REFERENCE_VIA = "READONLY->Account(shared)"  # what account-readonly adds to its answers
SETTLE_QUIET_S = 0.25  # no function request finished for this long: the host is idle
SETTLE_TIMEOUT_S = 15.0
IDLE_RECONNECT_S = 1.0  # well under uvicorn's keep-alive timeout (5 s)
OTHERS_WARN_CORES = 0.25  # CPU used by unrelated processes during a run that deserves a warning



# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    quick: bool
    duration_s: float  # one measured load run
    warmup_s: float  # an unmeasured load run first: thread pool, connections, activations
    connections: int
    generator: str  # auto | wrk | python
    names: int  # the spread runs' names
    first_touch_samples: int  # phase 1: fresh names, and as many warm deposits
    workers: int | None = None  # `edgehost serve --workers N`; None: flag not passed


def parse_args(argv: list[str] | None) -> tuple[Settings, Path | None]:
    parser = argparse.ArgumentParser(
        description="Benchmark stateful actors: durable deposits to one hot actor and over "
                    "1000 names, reads through a reference, first touch, memory per actor. "
                    "See benchmarks/README.md.")
    add_load_options(parser, "fewer samples and 2 s load runs (finishes in under 25 s)")
    args = parser.parse_args(argv)
    duration = checked_duration(parser, args)
    return settings_for(args.quick, duration, args.connections, args.generator,
                        workers_flag(worker_settings(args.workers))), args.json


def settings_for(quick: bool, duration_s: float, connections: int, generator: str,
                 workers: int | None = None) -> Settings:
    if quick:
        return Settings(True, duration_s, 0.5, connections, generator, names=1000,
                        first_touch_samples=20, workers=workers)
    return Settings(False, duration_s, 2.0, connections, generator, names=1000,
                    first_touch_samples=100, workers=workers)


def missing_modules() -> list[Path]:
    """The built modules this benchmark needs that are not there."""
    return [p for p in (load_project(d).module_path for d in (OWNER_DIR, REFERENCE_DIR))
            if not p.is_file()]


# ----------------------------------------------------------------------------- talking to the host


class Client:
    """One keep-alive connection to the host, for sequential requests (not for load)."""

    def __init__(self, port: int) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self._last_used = time.perf_counter()

    def call(self, method: str, path: str, host_header: str,
             body: str | None = None) -> tuple[int, bytes]:
        # uvicorn closes a keep-alive connection after 5 s idle, and a request sent on it as
        # it closes fails in a way that cannot tell whether a deposit happened. So after a
        # pause (a load run) start a new connection rather than retry.
        if time.perf_counter() - self._last_used > IDLE_RECONNECT_S:
            self._conn.close()  # http.client reconnects on the next request
        headers = {"Host": host_header}
        if body is not None:
            headers["Content-Type"] = "application/json"
        self._conn.request(method, path, body=body, headers=headers)
        response = self._conn.getresponse()
        answer = response.status, response.read()
        self._last_used = time.perf_counter()
        return answer

    def close(self) -> None:
        self._conn.close()


@dataclass(frozen=True)
class Accounts:
    """The account API of section 9 of the spec, checked answer by answer.

    Every method raises unless the answer is the 200 and the exact JSON the spec gives, so a
    wrong Host header (fast 404s from the host) or a broken guest fails before any load runs.
    """

    client: Client
    owner: str  # Host header of the account function
    reference: str  # Host header of account-readonly

    def deposit(self, name: str) -> int:
        """Deposit 1 to `name` through the owner; the new balance."""
        status, body = self.client.call("POST", f"/accounts/{name}/deposit", self.owner,
                                        DEPOSIT_BODY)
        return _balance_from(status, body, name, {})

    def balance(self, name: str) -> int:
        status, body = self.client.call("GET", f"/accounts/{name}/balance", self.owner)
        return _balance_from(status, body, name, {})

    def balance_via_reference(self, name: str) -> int:
        status, body = self.client.call("GET", f"/accounts/{name}/balance", self.reference)
        return _balance_from(status, body, name, {"via": REFERENCE_VIA})


def _balance_from(status: int, body: bytes, name: str, extra: dict[str, str]) -> int:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    balance = answer.get("balance") if isinstance(answer, dict) else None
    expected = {"account": name, "balance": balance, **extra}
    if status != 200 or not isinstance(balance, int) or answer != expected:
        raise RuntimeError(f"expected 200 {json.dumps(expected)}, got {status} {body[:300]!r}")
    return balance


def function_hosts(host: HostProcess, names: tuple[str, ...]) -> dict[str, str]:
    """The Host header of each shipped function, from the URLs `edgehost serve --ship` prints
    (`  account   http://account-0123456789.localhost:PORT/  (or ...)  [shipped ...]`)."""
    out = host.out_path.read_text()
    hosts = {}
    for name in names:
        match = re.search(rf"^\s+{re.escape(name)}\s+http://([^/\s]+)/", out, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"edgehost serve printed no URL for {name!r}:\n{out[-2000:]}")
        hosts[name] = match.group(1)
    return hosts


def read_metrics(port: int) -> dict[str, float]:
    """The host's metrics: `name{labels}` -> value (the Prometheus text format, unparsed)."""
    status, body = http_get(port, METRICS_PATH)
    if status != 200:
        raise RuntimeError(f"{METRICS_PATH} answered {status}")
    series = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            series[key] = float(value)
    return series


def metric(series: dict[str, float], name: str) -> float:
    """A metric summed over its labels (0 if the host has not reported it yet)."""
    return sum(v for k, v in series.items() if k == name or k.startswith(name + "{"))


def settle(port: int) -> dict[str, float]:
    """Wait until no function request finishes for SETTLE_QUIET_S; then the metrics.

    When a load generator stops, requests it had in flight are still running in the host (a
    deposit already in an actor's mailbox completes and commits even though nobody reads its
    answer), so counters and balances are read only once the host has gone quiet.
    """
    deadline = time.perf_counter() + SETTLE_TIMEOUT_S
    series = read_metrics(port)
    while time.perf_counter() < deadline:
        time.sleep(SETTLE_QUIET_S)
        latest = read_metrics(port)
        if metric(latest, "edgehost_requests_total") == metric(series, "edgehost_requests_total"):
            return latest
        series = latest
    raise RuntimeError(f"the host was still finishing requests after {SETTLE_TIMEOUT_S} s")


def machine_busy_seconds() -> float:
    """CPU time all cores have spent busy so far (user, nice, system, irq, softirq, steal)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:3]) + sum(ticks[5:8])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the load generators)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), \
        resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU used so far by the host, by the benchmark and its generators, and by everything."""

    host: float
    bench: float
    machine: float

    @classmethod
    def now(cls, host_pid: int) -> CpuSnapshot:
        return cls(cpu_seconds(host_pid), own_cpu_seconds(), machine_busy_seconds())

    def others_seconds(self, earlier: CpuSnapshot) -> float:
        """CPU time used since `earlier` by processes other than the host and the benchmark."""
        others = (self.machine - earlier.machine) - (self.host - earlier.host) \
            - (self.bench - earlier.bench)
        return max(others, 0.0)  # the three are sampled at slightly different moments

    def others_cores(self, earlier: CpuSnapshot, elapsed_s: float) -> float:
        return self.others_seconds(earlier) / elapsed_s if elapsed_s > 0 else 0.0


# ----------------------------------------------------------------------------- phase 1


def bench_first_touch(report: Report, settings: Settings, host: HostProcess,
                      accounts: Accounts) -> None:
    section = "1. first touch vs warm call (deposits, one keep-alive connection, sequential)"
    n = settings.first_touch_samples
    report.progress(f"first touch: {n} deposits to fresh names, {n} to a warm one")
    accounts.deposit(WARM_NAME)  # now active
    fresh_s, warm_s = [], []
    cpu_before, started_all = CpuSnapshot.now(host.process.pid), time.perf_counter()
    # Interleaved, so both kinds see the same machine state (a neighbour's burst, GC).
    for i in range(n):
        started = time.perf_counter()
        balance = accounts.deposit(f"{FRESH_PREFIX}{i}")
        fresh_s.append(time.perf_counter() - started)
        if balance != 1:
            raise RuntimeError(f"{FRESH_PREFIX}{i} was not new: balance {balance}")
        started = time.perf_counter()
        accounts.deposit(WARM_NAME)
        warm_s.append(time.perf_counter() - started)
    others = CpuSnapshot.now(host.process.pid).others_cores(cpu_before,
                                                            time.perf_counter() - started_all)
    if others > OTHERS_WARN_CORES:
        report.progress(f"WARNING: first touch: other processes kept {others:.2f} cores busy")
    first = report.timed("first_touch_ms", section, "deposit to a never-touched name", fresh_s,
                         "ms", "new activation: instantiate + init + read + commit")
    warm = report.timed("warm_call_ms", section, "deposit to a warm name", warm_s, "ms",
                        "read + commit")
    report.ratio("first_vs_warm", section, "first touch / warm", first, warm, better="lower",
                 note=f"the cost of activation; other processes busy {others:.2f} cores")


# ----------------------------------------------------------------------------- phases 2-4


@dataclass(frozen=True)
class Measured:
    """One measured load run with the host's counters and CPU time around it."""

    result: LoadResult
    before: dict[str, float]  # metrics once the host had settled after the warm-up
    after: dict[str, float]  # ... and after the measured run
    host_cpu_s: float
    # CPU used meanwhile by processes that are neither the host nor this benchmark and its
    # generator: on a shared machine, the usual reason a run comes out slow.
    others_cpu_s: float

    def delta(self, name: str) -> float:
        return metric(self.after, name) - metric(self.before, name)

    @property
    def others_cores(self) -> float:
        duration = self.result.duration_s
        return self.others_cpu_s / duration if duration else 0.0


def warm_up(report: Report, settings: Settings, generator: str, host: HostProcess,
            target: LoadTarget, what: str) -> None:
    report.progress(f"{what}: warm-up {settings.warmup_s:g} s")
    run_load(generator, host.port, target, settings.connections, settings.warmup_s)


def measure(report: Report, settings: Settings, generator: str, host: HostProcess,
            target: LoadTarget, what: str) -> Measured:
    before = settle(host.port)  # so nothing of the warm-up is counted
    cpu_before = CpuSnapshot.now(host.process.pid)
    report.progress(f"{what}: {generator}, {settings.connections} connections, "
                    f"{settings.duration_s:g} s")
    result = run_load(generator, host.port, target, settings.connections, settings.duration_s)
    cpu_after = CpuSnapshot.now(host.process.pid)
    after = settle(host.port)
    run = Measured(result, before, after, cpu_after.host - cpu_before.host,
                   cpu_after.others_seconds(cpu_before))
    # Said now, next to the run's progress line, rather than after all runs.
    failed = failed_requests(result)
    if failed:
        report.progress(f"WARNING: {what}: {failed} failed requests (socket errors, timeouts "
                        "or non-2xx answers)")
    if run.others_cores > OTHERS_WARN_CORES:
        report.progress(f"WARNING: {what}: other processes kept {run.others_cores:.2f} cores "
                        "busy during the run; its figures are low by an unknown amount")
    return run


def failed_requests(result: LoadResult) -> int:
    """Socket errors, timeouts and answers that were not 2xx."""
    not_2xx = result.requests - result.ok_2xx if result.ok_2xx is not None else result.bad_status
    return result.errors + not_2xx


def add_load_figures(report: Report, section: str, key: str, what: str, run: Measured) -> None:
    result = run.result
    report.add(f"{key}_rps", section, f"{what}: throughput", result.rps, "req/s",
               better="higher", note=f"{result.requests:,} requests; other processes busy "
               f"{run.others_cores:.2f} cores")
    report.add(f"{key}_p50_ms", section, f"{what}: p50 latency", result.p50_ms, "ms",
               better="lower")
    report.add(f"{key}_p99_ms", section, f"{what}: p99 latency", result.p99_ms, "ms",
               better="lower")
    report.add(f"{key}_errors", section, f"{what}: errors (socket + non-2xx)",
               failed_requests(result), "count", better="lower")
    # Whether a run was CPU-bound: on 2 cores shared with the generator, ~1 core busy in the
    # host with low throughput points at Python work per request, not at the disk.
    cores_busy = run.host_cpu_s / result.duration_s if result.duration_s else 0.0
    report.add(f"{key}_host_cpu_ms", section, f"{what}: host CPU per request",
               run.host_cpu_s * 1e3 / result.requests if result.requests else float("nan"),
               "ms", better="lower", note=f"host busy {cores_busy:.2f} cores on average")


def add_group_commit_figure(report: Report, key: str, what: str, run: Measured) -> None:
    section = "3. group commit (host counters around each measured deposit run)"
    turns = run.delta("edgehost_storage_committed_turns_total")
    commits = run.delta("edgehost_storage_commits_total")
    report.add(f"{key}_turns_per_fsync", section, f"{what}: turns per fsync",
               turns / commits if commits else float("nan"), "x", better="higher",
               note=f"{turns:,.0f} turns in {commits:,.0f} commits, "
                    f"{commits / run.result.duration_s:,.0f} fsyncs/s")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def hot_balance_check(gained: int, run: Measured) -> Check:
    """Did the hot balance grow by exactly the deposits made during the measured run?

    Every deposit adds 1 and is durable before its answer, so the balance must grow by the 2xx
    answers the generator counted, plus those requests it had sent but not yet read when it
    stopped (the host still completes them; wrk counts them, loadgen.py never leaves any). The
    host's own count of committed turns must agree exactly.
    """
    result = run.result
    turns = int(run.delta("edgehost_storage_committed_turns_total"))
    host_agrees = f"host committed {turns:,} deposit turns"
    if result.ok_2xx is None or result.sent is None:
        ok = gained == turns
        return Check("hot_balance", ok, f"balance +{gained:,}; {host_agrees}; the generator "
                     "does not count 2xx answers")
    cut_off = result.sent - result.requests
    ok = result.ok_2xx <= gained <= result.ok_2xx + cut_off and gained == turns
    if not ok:
        detail = (f"balance +{gained:,}, but {result.ok_2xx:,} deposits answered 2xx and "
                  f"{cut_off:,} cut off in flight; {host_agrees}")
    elif gained == result.ok_2xx:
        detail = f"balance +{gained:,} = {gained:,} deposits answered 2xx; {host_agrees}"
    else:
        detail = (f"balance +{gained:,} = {result.ok_2xx:,} deposits answered 2xx + "
                  f"{gained - result.ok_2xx:,} of the {cut_off:,} in flight when the generator "
                  f"stopped (the host finished them); {host_agrees}")
    return Check("hot_balance", ok, detail)


def bench_load(report: Report, settings: Settings, generator: str, host: HostProcess,
               accounts: Accounts, rss_before_load: float) -> list[Check]:
    tool = "wrk" if generator == "wrk" else "Python loadgen.py"
    section = (f"2. load ({tool}, {settings.connections} connections, "
               f"{settings.duration_s:g} s per run, 127.0.0.1)")
    n = settings.names
    targets = {
        "hot": LoadTarget(f"/accounts/{HOT_NAME}/deposit", accounts.owner, "POST",
                          DEPOSIT_BODY),
        "spread": LoadTarget("/accounts/{name}/deposit", accounts.owner, "POST", DEPOSIT_BODY,
                             names=n, name_prefix=SPREAD_PREFIX),
        "reads": LoadTarget("/accounts/{name}/balance", accounts.reference, names=n,
                            name_prefix=SPREAD_PREFIX),
    }
    labels = {"hot": "deposits, one hot actor", "spread": f"deposits over {n:,} names",
              "reads": f"balance reads via reference, {n:,} names"}

    # One real request per target first: each must answer 200 with the right JSON, and the
    # reference must see the owner's state. (acct-0 is then active before the memory
    # baseline; one actor in 1000 does not matter.)
    accounts.deposit(HOT_NAME)
    first_spread = f"{SPREAD_PREFIX}0"
    deposited = accounts.deposit(first_spread)
    seen = accounts.balance_via_reference(first_spread)
    if seen != deposited:
        raise RuntimeError(f"account-readonly reads {first_spread} as {seen}, the owner "
                           f"answered {deposited}")

    warm_up(report, settings, generator, host, targets["hot"], labels["hot"])
    settle(host.port)
    hot_before = accounts.balance(HOT_NAME)
    hot = measure(report, settings, generator, host, targets["hot"], labels["hot"])
    hot_gained = accounts.balance(HOT_NAME) - hot_before
    check = hot_balance_check(hot_gained, hot)
    report.progress(f"hot balance check: {'matches' if check.ok else 'DOES NOT MATCH'}: "
                    f"{check.detail}")

    # The memory baseline is taken after the hot runs, so thread stacks, allocator arenas and
    # connection buffers that any load grows are in both readings and only activations differ.
    baseline = settle(host.port)
    live_before = metric(baseline, "edgehost_actor_live_activations")
    rss_before = rss_mib(host.process.pid)
    # Activate every name first, so the measured run is of warm actors (random picks in a
    # short warm-up would leave a third of them cold) and all of them count in the RSS.
    report.progress(f"activating all {n:,} names (one deposit each, sequential)")
    for i in range(n):
        accounts.deposit(f"{SPREAD_PREFIX}{i}")
    warm_up(report, settings, generator, host, targets["spread"], labels["spread"])
    spread = measure(report, settings, generator, host, targets["spread"], labels["spread"])
    live_after = metric(spread.after, "edgehost_actor_live_activations")
    rss_after = rss_mib(host.process.pid)
    evicted = (metric(spread.after, "edgehost_actor_evictions_total")
               - metric(baseline, "edgehost_actor_evictions_total"))
    if evicted:
        report.progress(f"WARNING: {evicted:.0f} activations were evicted: the live count "
                        "and RSS per actor understate what the 1000-name run activated")

    warm_up(report, settings, generator, host, targets["reads"], labels["reads"])
    reads = measure(report, settings, generator, host, targets["reads"], labels["reads"])

    for key, run in (("hot", hot), ("spread", spread), ("reads", reads)):
        add_load_figures(report, section, key, labels[key], run)
    report.add("hot_balance_gain", section, "hot balance gained in the measured run",
               hot_gained, "count",
               note=("matches: " if check.ok else "DOES NOT MATCH: ") + check.detail)
    add_group_commit_figure(report, "hot", labels["hot"], hot)
    add_group_commit_figure(report, "spread", labels["spread"], spread)
    add_memory_figures(report, rss_before_load, rss_before, rss_after, live_before, live_after)
    return [check]


def add_memory_figures(report: Report, rss_before_load: float, rss_before: float,
                       rss_after: float, live_before: float, live_after: float) -> None:
    section = "4. memory (VmRSS of the edgehost process)"
    report.add("rss_before_load_mib", section, "host RSS before load", rss_before_load, "MiB",
               note="serving, both functions shipped, no function request yet")
    report.add("rss_before_spread_mib", section, "host RSS before the 1000-name run",
               rss_before, "MiB", note=f"{live_before:,.0f} live activations")
    report.add("rss_after_spread_mib", section, "host RSS after the 1000-name run", rss_after,
               "MiB", note=f"{live_after:,.0f} live activations")
    new = live_after - live_before
    report.add("rss_per_actor_mib", section, "RSS per live actor", (rss_after - rss_before) / new
               if new > 0 else float("nan"), "MiB", better="lower",
               note=f"growth over the run / {new:,.0f} new activations; (after - before load) "
                    f"/ all live = {(rss_after - rss_before_load) / max(live_after, 1):.3f}")


# ----------------------------------------------------------------------------- main


def run(report: Report, settings: Settings, generator: str) -> list[Check]:
    """Every phase, adding its figures to `report`; the correctness checks' results."""
    with tempfile.TemporaryDirectory(prefix="edgehost-bench-actors-") as tmp:
        workdir = Path(tmp)
        ship = ["--ship", str(OWNER_DIR), "--ship", str(REFERENCE_DIR)]
        report.progress("starting edgehost serve, shipping account and account-readonly")
        with host_process(workdir / "data", workdir / "host", ship,
                          workers=settings.workers) as host:
            wait_until_serving(host)
            rss_before_load = rss_mib(host.process.pid)
            hosts = function_hosts(host, ("account", "account-readonly"))
            client = Client(host.port)
            try:
                accounts = Accounts(client, hosts["account"], hosts["account-readonly"])
                bench_first_touch(report, settings, host, accounts)
                return bench_load(report, settings, generator, host, accounts,
                                  rss_before_load)
            finally:
                client.close()


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
    checks = run(report, settings, generator)
    elapsed = time.perf_counter() - report.started
    report.progress(f"done in {elapsed:.1f} s")
    print_table(report, table_header(
        "edgehost actors benchmark", quick=settings.quick, elapsed_s=elapsed, machine=machine,
        generator_text=generator_text))
    print()
    for check in checks:
        print(f"check {check.name}: {'matches' if check.ok else 'DOES NOT MATCH'}: "
              f"{check.detail}")
    if json_path is not None:
        write_json(json_path, JSON_SCHEMA, report, quick=settings.quick, elapsed_s=elapsed,
                   settings=settings, machine=machine,
                   checks=[{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks])
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
