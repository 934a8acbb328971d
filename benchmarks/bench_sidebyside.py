"""edgehost side by side with the peer (Cloudflare workerd), measured in one run, interleaved.

    .venv/bin/python benchmarks/bench_sidebyside.py [--quick] [--json PATH] [--duration S]
        [--connections N] [--rounds N] [--peer-dir DIR] [--workers N]

Both sides serve the same functions: edgehost `examples/account` (the Account actor's owner),
workerd the peer harness's `bank` worker (the same Account actor as a Durable Object on local
disk; see peer.py). Both run at once on 127.0.0.1, each with a fresh temp data dir, and every
comparison alternates between them, so that whatever else the machine does hits both:

1. process start -> first 200  restarts, peer then edgehost, each polling
                               `GET /health/liveness` of the owner on new connections
2. first touch                 sequential deposits on one keep-alive connection to never-touched
                               names, and to one warm name, alternating sides request by request
3. memory                      RSS growth while 1,000 names are activated (a deposit each)
4. load                        for each workload, an unmeasured warm-up on both sides, then
                               rounds of (peer run, edgehost run) with the SAME wrk script
                               (the peer's bench/wrk.lua), connections, threads and duration:
                               - plain fetch: GET /health/liveness (WRK_MODE=get)
                               - deposits to one hot actor (WRK_MODE=post_one)
                               - deposits over 1,000 names (WRK_MODE=post_spread)
                               each figure is the median over rounds; ours / peer's is /peer

Every figure's value is edgehost's and its `peer` is workerd's, measured in the same phase.
After the hot runs, each side's hot balance must have grown by every deposit wrk counted as
answered (plus at most one in flight per connection per wrk run): the `hot_balance` check.

When the peer cannot run here (no harness, workerd not installed, no wrk) this benchmark is
skipped and says why (`peer.find_peer`). Only 127.0.0.1 is ever loaded; every run stops by
itself.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import peer
from bench_actors import Check, Client, CpuSnapshot, function_hosts
from common import (
    BASE_DOMAIN,
    REPO,
    Report,
    add_workers_option,
    host_process,
    http_request,
    machine_info,
    print_table,
    rss_mib,
    ship_into,
    table_header,
    wait_until_serving,
    worker_settings,
    workers_flag,
    write_json,
)

JSON_SCHEMA = "edgehost-bench-sidebyside/1"
OWNER_DIR = REPO / "examples" / "account"
HOT_NAME = "hot"
WARM_NAME = "warm"
FRESH_PREFIX = "first-"
SPREAD_PREFIX = "acct"  # wrk.lua names them "<prefix>-<i>"
DEPOSIT_BODY = '{"amount":1}'
FIRST_200_POLL_S = 0.001
ACTIVATION_CLIENTS = 8
SIDES = ("workerd", "edgehost")  # the order of every alternation: the peer first


@dataclass(frozen=True)
class Settings:
    quick: bool
    duration_s: float  # one measured wrk run
    warmup_s: float  # the unmeasured run on each side before a workload's rounds
    connections: int
    threads: int  # wrk threads: 1, as the peer's harness runs it on this 2-core machine
    rounds: int  # (peer run, edgehost run) pairs per workload; figures are medians over them
    restarts: int  # per side, for process start -> first 200
    first_touch_samples: int  # never-touched names per side, and as many warm deposits
    names: int  # the spread workload's names, activated before it
    workers: int | None = None  # `edgehost serve --workers N`; None: flag not passed


def settings_for(quick: bool, duration_s: float, connections: int, rounds: int | None = None,
                 workers: int | None = None) -> Settings:
    if quick:
        return Settings(True, duration_s, 1.0, connections, 1, rounds or 1, restarts=2,
                        first_touch_samples=20, names=1000, workers=workers)
    return Settings(False, duration_s, 2.0, connections, 1, rounds or 2, restarts=5,
                    first_touch_samples=100, names=1000, workers=workers)


def missing_modules() -> list[Path]:
    module = OWNER_DIR / "build" / f"{OWNER_DIR.name}.wasm"
    return [] if module.is_file() else [module]


# ----------------------------------------------------------------------------- the two sides


@dataclass
class Side:
    """One server under test, spoken to the same way whichever it is."""

    name: str  # "workerd" | "edgehost"
    port: int  # the owner's port (workerd's bank worker; edgehost's only port)
    host_header: str  # edgehost routes by Host; workerd ignores it
    pid: int
    client: Client  # one keep-alive connection for the sequential phases

    def deposit(self, account: str) -> int:
        return self._balance(self.client.call("POST", f"/accounts/{account}/deposit",
                                              self.host_header, DEPOSIT_BODY), account)

    def balance(self, account: str) -> int:
        return self._balance(self.client.call("GET", f"/accounts/{account}/balance",
                                              self.host_header), account)

    def _balance(self, answer: tuple[int, bytes], account: str) -> int:
        # Both answer JSON with an integer "balance" (edgehost adds "account", workerd "ok").
        status, body = answer
        try:
            balance = json.loads(body).get("balance")
        except (ValueError, AttributeError):
            balance = None
        if status != 200 or not isinstance(balance, int):
            raise RuntimeError(f"{self.name}: {account}: expected 200 with a balance, got "
                               f"{status} {body[:300]!r}")
        return balance

    def check_liveness(self) -> None:
        status, body = self.client.call("GET", peer.LIVENESS_PATH, self.host_header)
        if status != 200 or body.strip() != b"ok":
            raise RuntimeError(f"{self.name}: {peer.LIVENESS_PATH} answered {status} "
                               f"{body[:200]!r}")


@contextmanager
def both_sides(setup: peer.PeerSetup, settings: Settings, workdir: Path) -> Iterator[dict]:
    """workerd and `edgehost serve --ship examples/account`, both serving; the two Sides."""
    with ExitStack() as stack:
        workerd_log = workdir / "workerd.log"
        workerd = stack.enter_context(peer.workerd_process(setup, workdir / "workerd-data",
                                                           workerd_log))
        host = stack.enter_context(host_process(
            workdir / "edgehost-data", workdir / "edgehost", ["--ship", str(OWNER_DIR)],
            workers=settings.workers))
        peer.wait_until_live(workerd, workerd_log)
        wait_until_serving(host)  # the shipped functions' URLs are printed by then
        account_host = function_hosts(host, ("account",))["account"]
        sides = {
            "workerd": Side("workerd", workerd.bank_port, f"127.0.0.1:{workerd.bank_port}",
                            workerd.process.pid, Client(workerd.bank_port)),
            "edgehost": Side("edgehost", host.port, account_host, host.process.pid,
                             Client(host.port)),
        }
        for side in sides.values():
            stack.callback(side.client.close)
        yield sides


# ----------------------------------------------------------------------------- phase 1


def first_200(port: int, host_header: str | None, started: float,
              alive: Callable[[], bool]) -> float:
    """Poll GET /health/liveness (new connection each) until 200; seconds since `started`."""
    deadline = started + peer.START_TIMEOUT_S
    while time.perf_counter() < deadline:
        try:
            if http_request(port, "GET", peer.LIVENESS_PATH, host_header, timeout_s=2)[0] == 200:
                return time.perf_counter() - started
        except OSError:  # not listening yet
            pass
        if not alive():
            raise RuntimeError("the server exited before its first 200")
        time.sleep(FIRST_200_POLL_S)
    raise RuntimeError(f"no 200 from {peer.LIVENESS_PATH} within {peer.START_TIMEOUT_S} s")


def bench_restarts(report: Report, settings: Settings, setup: peer.PeerSetup,
                   workdir: Path) -> None:
    section = "1. process start -> first 200 (GET /health/liveness of the owner, interleaved)"
    data_dir = workdir / "restart-edgehost-data"
    slug = ship_into(data_dir, OWNER_DIR)
    samples: dict[str, list[float]] = {name: [] for name in SIDES}
    for i in range(settings.restarts):
        report.progress(f"process start -> first 200: restart {i + 1}/{settings.restarts}, "
                        "workerd then edgehost")
        log = workdir / f"restart-workerd-{i}.log"
        with peer.workerd_process(setup, workdir / "restart-workerd-data", log) as workerd:
            samples["workerd"].append(first_200(
                workerd.bank_port, None, workerd.started,
                lambda p=workerd.process: p.poll() is None))
        with host_process(data_dir, workdir / f"restart-edgehost-{i}",
                          workers=settings.workers) as host:
            samples["edgehost"].append(first_200(
                host.port, f"{slug}.{BASE_DOMAIN}:{host.port}", host.started,
                lambda p=host.process: p.poll() is None))
    add_paired(report, "start_to_first_200_ms", section, "host process start -> first 200",
               samples, f"{settings.restarts} restarts each; spawn to the end of the first 200")


def add_paired(report: Report, key: str, section: str, label: str,
               samples: dict[str, list[float]], note: str) -> None:
    """A timing figure (median, ms) with the peer's median of the same samples beside it."""
    ours = report.timed(key, section, label, samples["edgehost"], "ms", note)
    ours.peer = statistics.median(samples["workerd"]) * 1e3


# ----------------------------------------------------------------------------- phases 2-3


def bench_first_touch(report: Report, settings: Settings, sides: dict[str, Side]) -> None:
    section = "2. first touch vs warm deposit (one keep-alive connection, sequential, interleaved)"
    n = settings.first_touch_samples
    report.progress(f"first touch: {n} deposits to new names and {n} to a warm one, per side, "
                    "alternating sides")
    fresh: dict[str, list[float]] = {name: [] for name in SIDES}
    warm: dict[str, list[float]] = {name: [] for name in SIDES}
    for name in SIDES:
        sides[name].deposit(WARM_NAME)
    for i in range(n):
        for name in SIDES:
            side = sides[name]
            started = time.perf_counter()
            balance = side.deposit(f"{FRESH_PREFIX}{i}")
            fresh[name].append(time.perf_counter() - started)
            if balance != 1:
                raise RuntimeError(f"{name}: {FRESH_PREFIX}{i} was not new: balance {balance}")
            started = time.perf_counter()
            side.deposit(WARM_NAME)
            warm[name].append(time.perf_counter() - started)
    add_paired(report, "first_touch_ms", section, "deposit to a never-touched name", fresh,
               "activation + the deposit, durable before the answer")
    add_paired(report, "warm_call_ms", section, "deposit to a warm name", warm,
               "the deposit, durable before the answer")
    first, warm_fig = report.get("first_touch_ms"), report.get("warm_call_ms")
    report.ratio("first_vs_warm", section, "first touch / warm", first, warm_fig,
                 better="lower", note="what an activation adds",
                 peer=first.peer / warm_fig.peer if warm_fig.peer else None)


def activate_names(report: Report, settings: Settings, sides: dict[str, Side]) -> None:
    """Deposit once to every spread name on each side (so the load runs are of warm actors);
    RSS per activated name from the RSS growth meanwhile."""
    section = f"3. memory ({settings.names:,} names activated, one deposit each)"
    per_actor: dict[str, float] = {}
    notes = []
    for name in SIDES:
        side = sides[name]
        report.progress(f"{name}: activating {settings.names:,} names ({ACTIVATION_CLIENTS} "
                        "clients, one deposit each)")
        before = rss_mib(side.pid)
        deposit_to_each(side, [f"{SPREAD_PREFIX}-{i}" for i in range(settings.names)])
        after = rss_mib(side.pid)
        per_actor[name] = (after - before) / settings.names
        notes.append(f"{name} RSS {before:.1f} -> {after:.1f} MiB")
    report.add("rss_per_actor_mib", section, "RSS per live actor", per_actor["edgehost"], "MiB",
               better="lower", peer=per_actor["workerd"],
               note="RSS growth / names activated; " + ", ".join(notes))


def deposit_to_each(side: Side, accounts: list[str]) -> None:
    """One deposit to every account, from ACTIVATION_CLIENTS keep-alive clients at once: a
    first touch costs the peer a new SQLite file and its fsyncs (~20 ms on a busy machine),
    which one client would pay 1,000 times in a row."""
    def deposit_all(chunk: list[str]) -> None:
        client = Client(side.port)
        mine = Side(side.name, side.port, side.host_header, side.pid, client)
        try:
            for account in chunk:
                mine.deposit(account)
        finally:
            client.close()

    chunks = [accounts[i::ACTIVATION_CLIENTS] for i in range(ACTIVATION_CLIENTS)]
    with ThreadPoolExecutor(ACTIVATION_CLIENTS) as pool:
        for done in [pool.submit(deposit_all, chunk) for chunk in chunks]:
            done.result()  # raises the first failed deposit


# ----------------------------------------------------------------------------- phase 4


@dataclass(frozen=True)
class Workload:
    key: str
    label: str
    mode: str  # WRK_MODE of the peer's wrk.lua
    path: str  # the URL's path (post_spread builds its own paths)
    env: dict[str, str] = field(default_factory=dict)


def workloads(settings: Settings) -> tuple[Workload, ...]:
    return (
        Workload("fetch", f"plain fetch (GET {peer.LIVENESS_PATH})", "get", peer.LIVENESS_PATH),
        Workload("hot", "deposits to one hot actor", "post_one", f"/accounts/{HOT_NAME}/deposit"),
        Workload("spread", f"deposits over {settings.names:,} names", "post_spread", "/",
                 {"WRK_NAMES": str(settings.names), "WRK_PREFIX": SPREAD_PREFIX}),
    )


@dataclass(frozen=True)
class Run:
    """One wrk run of one workload on one side, for report.json."""

    workload: str
    side: str
    round: int  # 0: the warm-up
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    failed: int
    server_cpu_ms_per_request: float
    server_cores: float  # the server's CPU time / the run's duration
    others_cores: float  # CPU of every other process (not the server, this benchmark or wrk)


def one_run(settings: Settings, setup: peer.PeerSetup, side: Side, work: Workload,
            round_: int, duration_s: float) -> Run:
    before = CpuSnapshot.now(side.pid)
    result = peer.run_wrk_script(setup, side.port, work.path, work.mode, duration_s=duration_s,
                                 connections=settings.connections, threads=settings.threads,
                                 host_header=side.host_header, env=work.env)
    after = CpuSnapshot.now(side.pid)
    server_s = after.host - before.host
    return Run(work.key, side.name, round_, result.requests, result.rps, result.p50_ms,
               result.p99_ms, result.failed,
               server_s * 1e3 / result.requests if result.requests else float("nan"),
               server_s / result.duration_s if result.duration_s else 0.0,
               after.others_cores(before, result.duration_s))


def bench_load(report: Report, settings: Settings, setup: peer.PeerSetup,
               sides: dict[str, Side]) -> tuple[list[Run], list[Check]]:
    c, t, d, r = settings.connections, settings.threads, settings.duration_s, settings.rounds
    section = (f"4. load (the peer's wrk.lua, wrk -t{t} -c{c} -d{d:g}s; median of {r} "
               f"interleaved round{'s' if r > 1 else ''}: workerd, edgehost, ...)")
    runs: list[Run] = []
    checks: list[Check] = []
    for work in workloads(settings):
        hot_before = {name: sides[name].balance(HOT_NAME) for name in SIDES} \
            if work.key == "hot" else {}
        for name in SIDES:
            report.progress(f"{work.label}: {name} warm-up {settings.warmup_s:g} s")
            runs.append(one_run(settings, setup, sides[name], work, 0, settings.warmup_s))
        for round_ in range(1, r + 1):
            for name in SIDES:
                report.progress(f"{work.label}: round {round_}/{r}, {name}, {d:g} s")
                run = one_run(settings, setup, sides[name], work, round_, d)
                runs.append(run)
                if run.failed:
                    report.progress(f"WARNING: {name}: {run.failed} failed requests")
        if work.key == "hot":
            checks.append(hot_balance_check(settings, sides, hot_before,
                                            [x for x in runs if x.workload == "hot"]))
        add_load_figures(report, section, work, [x for x in runs if x.workload == work.key])
    return runs, checks


def hot_balance_check(settings: Settings, sides: dict[str, Side], before: dict[str, int],
                      runs: list[Run]) -> Check:
    """Did each side's hot balance grow by the deposits wrk saw answered?

    Every 2xx answer is a durable deposit of 1; wrk leaves at most one request per connection
    in flight when it stops, which the server may still complete. So the gain lies between
    the answers counted and that plus connections x wrk runs.
    """
    details, ok = [], True
    for name in SIDES:
        mine = [x for x in runs if x.side == name]
        answered = sum(x.requests - x.failed for x in mine)
        slack = settings.connections * len(mine)
        gained = sides[name].balance(HOT_NAME) - before[name]
        fits = answered <= gained <= answered + slack
        ok = ok and fits
        details.append(f"{name} +{gained:,} for {answered:,} answered deposits (+ up to "
                       f"{slack:,} in flight){'' if fits else ': DOES NOT MATCH'}")
    return Check("hot_balance", ok, "; ".join(details))


def add_load_figures(report: Report, section: str, work: Workload, runs: list[Run]) -> None:
    measured = {name: [x for x in runs if x.side == name and x.round > 0] for name in SIDES}

    def median(name: str, attribute: str) -> float:
        return statistics.median(getattr(x, attribute) for x in measured[name])

    def each(name: str, attribute: str, fmt: str) -> str:
        return ", ".join(format(getattr(x, attribute), fmt) for x in measured[name])

    others = statistics.median(x.others_cores for x in runs if x.round > 0)
    report.add(f"{work.key}_rps", section, f"{work.label}: req/s", median("edgehost", "rps"),
               "req/s", better="higher", peer=median("workerd", "rps"),
               note=f"rounds: edgehost {each('edgehost', 'rps', ',.0f')}; workerd "
                    f"{each('workerd', 'rps', ',.0f')}; other processes busy {others:.2f} "
                    "cores (median)")
    for quantile in ("p50", "p99"):
        report.add(f"{work.key}_{quantile}_ms", section, f"{work.label}: {quantile}",
                   median("edgehost", f"{quantile}_ms"), "ms", better="lower",
                   peer=median("workerd", f"{quantile}_ms"),
                   note=f"rounds: edgehost {each('edgehost', f'{quantile}_ms', '.1f')}; "
                        f"workerd {each('workerd', f'{quantile}_ms', '.1f')}")
    report.add(f"{work.key}_cpu_ms", section, f"{work.label}: server CPU per request",
               median("edgehost", "server_cpu_ms_per_request"), "ms", better="lower",
               peer=median("workerd", "server_cpu_ms_per_request"),
               note=f"cores busy: edgehost {median('edgehost', 'server_cores'):.2f}, "
                    f"workerd {median('workerd', 'server_cores'):.2f} (medians)")
    report.add(f"{work.key}_errors", section,
               f"{work.label}: failed requests (socket errors, status > 399)",
               sum(x.failed for x in measured["edgehost"]), "count", better="lower",
               peer=sum(x.failed for x in measured["workerd"]))


# ----------------------------------------------------------------------------- main


def run(report: Report, settings: Settings, setup: peer.PeerSetup) -> tuple[list[Check], dict]:
    """Every phase, adding figures to `report`; the checks, and the raw runs for report.json."""
    with tempfile.TemporaryDirectory(prefix="edgehost-bench-sidebyside-") as tmp:
        workdir = Path(tmp)
        bench_restarts(report, settings, setup, workdir)
        report.progress("starting workerd and edgehost serve (account shipped) side by side")
        with both_sides(setup, settings, workdir) as sides:
            for side in sides.values():
                side.check_liveness()
                if side.deposit(HOT_NAME) < 1:  # a real, durable deposit on each side first
                    raise RuntimeError(f"{side.name}: the first deposit left no balance")
            bench_first_touch(report, settings, sides)
            activate_names(report, settings, sides)
            runs, checks = bench_load(report, settings, setup, sides)
    return checks, {"workerd": setup.version(), "directory": str(setup.directory),
                    "wrk_script": str(setup.wrk_script), "runs": [asdict(x) for x in runs]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="edgehost and the peer (workerd) side by side: start -> first 200, first "
                    "touch, RSS per actor, and load with the peer's wrk script, interleaved. "
                    "See benchmarks/README.md.")
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s runs, fewer samples")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="seconds per measured wrk run [10; 2 with --quick]")
    parser.add_argument("--connections", type=int, default=32, metavar="N",
                        help="wrk connections, both sides [32]")
    add_rounds_option(parser)
    add_peer_dir_option(parser)
    add_workers_option(parser)
    args = parser.parse_args(argv)
    duration = args.duration if args.duration is not None else (2.0 if args.quick else 10.0)
    settings = settings_for(args.quick, duration, args.connections, args.rounds,
                            workers_flag(worker_settings(args.workers)))
    for missing in missing_modules():
        print(f"{missing} is missing: run `npm run build:examples` in {REPO}", file=sys.stderr)
        return 2
    setup = peer.find_peer(args.peer_dir)
    if isinstance(setup, str):
        print(f"peer not measured ({setup})", file=sys.stderr)
        return 0
    report = Report()
    machine = machine_info("wrk", f"the peer's {peer.WRK_SCRIPT}")
    checks, details = run(report, settings, setup)
    elapsed = time.perf_counter() - report.started
    print_table(report, table_header(
        "edgehost side by side with workerd", quick=settings.quick, elapsed_s=elapsed,
        machine=machine, generator_text=None,
        extra=[f"peer: {details['workerd']} ({setup.directory}); /peer = edgehost / workerd"]))
    print()
    for check in checks:
        print(f"check {check.name}: {'ok' if check.ok else 'FAILED'}: {check.detail}")
    if args.json is not None:
        write_json(args.json, JSON_SCHEMA, report, quick=settings.quick, elapsed_s=elapsed,
                   settings=settings, machine=machine, peer=details,
                   checks=[asdict(c) for c in checks])
    return 0 if all(c.ok for c in checks) else 1


def add_rounds_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, metavar="N",
                        help="interleaved (peer, edgehost) rounds per load [2; 1 with --quick]")


def add_peer_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--peer-dir", type=Path, metavar="DIR",
                        help=f"the peer harness (workerd) [{peer.DEFAULT_PEER_DIR}]")


if __name__ == "__main__":
    raise SystemExit(main())
