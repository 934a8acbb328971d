"""Run every benchmark: cold start by phase, bundle sizes, throughput and latency side by side
with the peer, and many tenants on one host.

    .venv/bin/python benchmarks/run.py [--quick] [--out DIR] [--generator auto|wrk|python]
                                       [--duration S] [--connections N] [--rounds N]
                                       [--peer-dir DIR] [--workers N]

Runs, in this process and one after the other, bench_sizes, bench_cold, bench_hello,
bench_actors, bench_tenants and bench_sidebyside (each also runs on its own; see
benchmarks/README.md), then writes to DIR (default benchmarks/results/<YYYY-MM-DD-HHMMSS>/):

    table.txt    the table printed on stdout: a summary by the issue's headings, then every figure
    report.json  every figure (unit, direction, samples, the peer's), machine info, generator,
                 the peer's runs, the worker count, checks
    chart.png    cold-start phases, req/s and latency vs the peer, bundle sizes, memory, tenants

The peer (workerd, from the harness at <repo>/../shared/peer/workerd or --peer-dir) is measured
live, interleaved with edgehost; when it cannot run here (no harness, workerd not installed, no
wrk), its columns say "not measured (reason)" and nothing fails. `edgehost serve` gets
`--workers N` (default: the number of cores) when its --help lists that flag.

Progress goes to stderr. The exit status is 0 when every benchmark ran and every correctness
check passed, 1 otherwise (the outputs are still written, with what was measured), 2 when a
prerequisite is missing (built examples, matplotlib). `--quick` takes fewer samples and 2 s load
runs: under a minute on 2 quiet cores without the peer. Only 127.0.0.1 is ever loaded; every
load run stops by itself.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

import bench_actors
import bench_cold
import bench_hello
import bench_sidebyside
import bench_sizes
import bench_tenants
import peer
from common import (
    BENCH_DIR,
    REPO,
    Figure,
    Report,
    add_load_options,
    checked_duration,
    figure_json,
    format_table,
    generator_description,
    machine_info,
    pick_generator,
    table_header,
    worker_settings,
    workers_flag,
)

JSON_SCHEMA = "edgehost-bench-run/2"
SIDE_BY_SIDE = "sidebyside."

# The summary table: the headings, each row (figure keys, label). A row shows the first
# of its keys that the run has. Rows whose first key is a side-by-side figure are compared with
# the peer; when the peer was not measured they show edgehost's own figure (the next key), with
# "not measured (reason)" in the peer column. Headings are formatted with the run's load texts.
SUMMARY: tuple[tuple[str, tuple[tuple[tuple[str, ...], str], ...]], ...] = (
    ("cold start, by phase (hello unless named)", (
        (("hello.compile_ms",), "compile at ship (Sandbox.compile)"),
        (("hello.load_ms",), "load of the compiled module after a restart"),
        (("hello.store_instantiate_us",), "instantiate (new Store + InstancePre.instantiate)"),
        (("hello.first_request_ms",), "first fetch after a restart (HTTP)"),
        (("hello.warm_request_ms",), "  warm fetch, for comparison (HTTP)"),
        (("cold.activation_ms",), "first actor activation: instantiate + init turn"),
        (("cold.first_call_ms",), "first call to a new actor, whole (in-process)"),
        (("sidebyside.first_touch_ms", "actors.first_touch_ms"),
         "first deposit to a new actor (HTTP)"),
        (("cold.ship_hello_ms",), "ship hello: POST bundle -> 201"),
        (("cold.ship_to_200_hello_ms",), "ship returned -> first 200, hello"),
        (("cold.ship_to_200_account_ms",), "ship returned -> first 200, account (new actor)"),
        (("sidebyside.start_to_first_200_ms", "hello.start_to_first_200_ms"),
         "host process start -> first 200"),
    )),
    ("bundle size, raw and gzip (peer: workerd JavaScript)", (
        (("sizes.account_raw_bytes",), "owner (account): raw"),
        (("sizes.account_gzip_bytes",), "owner (account): gzip"),
        (("sizes.account-readonly_raw_bytes",), "reference (account-readonly): raw"),
        (("sizes.account-readonly_gzip_bytes",), "reference (account-readonly): gzip"),
        (("sizes.hello_raw_bytes",), "hello: raw"),
        (("sizes.hello_gzip_bytes",), "hello: gzip"),
    )),
    ("throughput and latency vs the peer ({sidebyside})", (
        (("sidebyside.fetch_rps", "hello.hello_rps"), "plain fetch: req/s"),
        (("sidebyside.fetch_p50_ms", "hello.hello_p50_ms"), "  p50"),
        (("sidebyside.fetch_p99_ms", "hello.hello_p99_ms"), "  p99"),
        (("sidebyside.hot_rps", "actors.hot_rps"), "deposits to one hot actor: req/s"),
        (("sidebyside.hot_p50_ms", "actors.hot_p50_ms"), "  p50"),
        (("sidebyside.hot_p99_ms", "actors.hot_p99_ms"), "  p99"),
        (("sidebyside.spread_rps", "actors.spread_rps"), "deposits over 1,000 names: req/s"),
        (("sidebyside.spread_p50_ms", "actors.spread_p50_ms"), "  p50"),
        (("sidebyside.spread_p99_ms", "actors.spread_p99_ms"), "  p99"),
        (("sidebyside.rss_per_actor_mib", "actors.rss_per_actor_mib"), "RSS per live actor"),
    )),
    ("throughput and latency, edgehost alone ({load})", (
        (("hello.hello_rps",), "plain fetch (hello GET /): req/s"),
        (("hello.hello_p99_ms",), "  p99"),
        (("actors.reads_rps",), "balance via the reference, 1,000 names: req/s"),
        (("actors.reads_p50_ms",), "  p50"),
        (("actors.reads_p99_ms",), "  p99"),
        (("hello.throughput_rss_mib",), "host RSS after the plain-fetch runs"),
        (("actors.rss_after_spread_mib",), "host RSS with ~1,000 live actors"),
    )),
    ("many tenants on one host (issue 10 and 9 targets in the notes)", (
        (("tenants.bystander_idle_p50_ms",), "bystander hello p50, idle"),
        (("tenants.bystander_loaded_p50_ms",),
         "bystander hello p50, another account's runaways running"),
        (("tenants.bystander_loaded_p99_ms",), "  p99"),
        (("tenants.bystander_slowdown",), "  p50 runaways running / idle"),
        (("tenants.mailbox_threads",), "host threads, 1,000 calls waiting on one actor"),
        (("tenants.exports_10_request_ms",), "per request, hello-like guest, 10 exports"),
        (("tenants.exports_990_request_ms",), "  990 exports"),
        (("tenants.exports_16000_request_ms",), "  16,000 exports"),
        (("tenants.exports_990_vs_10",), "  990 / 10 exports"),
    )),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run every edgehost benchmark; write table.txt, report.json and chart.png. "
                    "See benchmarks/README.md.")
    add_load_options(parser, "fewer samples and 2 s load runs (under a minute without the peer)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="results folder [benchmarks/results/<YYYY-MM-DD-HHMMSS>]")
    bench_sidebyside.add_rounds_option(parser)
    bench_sidebyside.add_peer_dir_option(parser)
    args = parser.parse_args(argv)
    if args.json is not None:
        parser.error("--json is for the single benchmarks; run.py writes DIR/report.json")
    if args.rounds is not None and not 1 <= args.rounds <= 20:
        parser.error("--rounds must be in [1, 20]")
    args.duration = checked_duration(parser, args)
    return args


# ----------------------------------------------------------------------------- the run


@dataclass
class Plan:
    """What this run measures and how: decided before anything is measured."""

    args: argparse.Namespace
    started: float  # perf_counter at the start: every benchmark's progress clock
    created: datetime
    out: Path
    generator: str  # wrk | python
    generator_text: str
    machine: dict
    workers: dict  # worker_settings(): requested, count, flag
    peer_setup: peer.PeerSetup | str  # the harness, or why the peer cannot run here
    settings: dict[str, object]  # each benchmark's Settings (sizes has none)

    @property
    def peer_unavailable(self) -> str | None:
        return self.peer_setup if isinstance(self.peer_setup, str) else None


@dataclass
class Results:
    """What the benchmarks produced, filled in as they run."""

    reports: dict[str, Report]
    checks: list[dict] = field(default_factory=list)
    runs: dict[str, dict] = field(default_factory=dict)  # per benchmark: elapsed_s, error
    size_rows: list[dict] = field(default_factory=list)
    peer_details: dict = field(default_factory=dict)
    peer_reason: str | None = None  # why the peer has no figures in this run, if it has none

    def add_checks(self, benchmark: str, checks) -> None:
        self.checks += [{"name": f"{benchmark}.{c.name}", "ok": c.ok, "detail": c.detail}
                        for c in checks]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chart = import_chart()  # matplotlib; checked now rather than after a whole run
    if chart is None or not examples_built():
        return 2
    plan = plan_run(args)
    results = Results({name: Report(started=plan.started) for name in BENCHMARKS},
                      peer_reason=plan.peer_unavailable)
    announce(plan)
    for name in BENCHMARKS:
        run_benchmark(name, plan, results)
    if not results.peer_reason and results.runs["sidebyside"]["error"]:
        results.peer_reason = ("the side-by-side benchmark failed: "
                               f"{results.runs['sidebyside']['error']}")
    elapsed = time.perf_counter() - plan.started
    figures = run_figures(results.reports)
    texts = load_texts(plan, results)
    summary, summary_rows = summary_report(figures, texts, results.peer_reason)
    table = run_table(plan, results, figures, summary, elapsed)
    print(table)
    (plan.out / "table.txt").write_text(table + "\n")
    document = run_document(plan, results, figures, summary_rows, texts, elapsed)
    (plan.out / "report.json").write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    chart.draw(document, plan.out / "chart.png")
    return finish(plan, results)


def import_chart():
    """The chart module (it needs matplotlib), or None after saying what to install."""
    try:
        import chart
    except ImportError as e:
        print(f"run.py: {e}: install the test extra (pip install -e '.[test]') or matplotlib",
              file=sys.stderr)
        return None
    return chart


def examples_built() -> bool:
    """True if every module the benchmarks run is built; else False after saying how."""
    missing = sorted({*bench_sizes.missing_modules(), *bench_cold.missing_modules(),
                      *bench_hello.missing_modules(), *bench_actors.missing_modules(),
                      *bench_tenants.missing_modules(), *bench_sidebyside.missing_modules()})
    if missing:
        print("run.py: not built: " + ", ".join(map(str, missing))
              + f"; run `npm run build:examples` in {REPO}", file=sys.stderr)
    return not missing


def plan_run(args: argparse.Namespace) -> Plan:
    started = time.perf_counter()
    created = datetime.now()
    out = args.out or BENCH_DIR / "results" / created.strftime("%Y-%m-%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    generator = pick_generator(args.generator)
    generator_text = generator_description(generator, args.connections)
    workers = worker_settings(args.workers)
    flag = workers_flag(workers)
    settings = {
        "sizes": None,
        "cold": bench_cold.settings_for(args.quick, flag),
        "hello": bench_hello.settings_for(args.quick, args.duration, args.connections,
                                          args.generator, flag),
        "actors": bench_actors.settings_for(args.quick, args.duration, args.connections,
                                            args.generator, flag),
        "tenants": bench_tenants.settings_for(args.quick, flag),
        "sidebyside": bench_sidebyside.settings_for(args.quick, args.duration, args.connections,
                                                    args.rounds, flag),
    }
    return Plan(args, started, created, out, generator, generator_text,
                machine_info(generator, generator_text), workers, peer.find_peer(args.peer_dir),
                settings)


def announce(plan: Plan) -> None:
    reason = plan.peer_unavailable
    peer_text = f"not measured ({reason})" if reason else str(plan.peer_setup.directory)
    Report(started=plan.started).progress(
        f"{'quick' if plan.args.quick else 'full'} run of {', '.join(BENCHMARKS)}; load "
        f"generator: {plan.generator_text}; edgehost workers: {plan.workers['count']}; peer: "
        f"{peer_text}; results in {plan.out}")


# Each benchmark as run.py runs it: its figures go to `report`, its checks and side outputs to
# `results`; any exception is the benchmark failing (run_benchmark reports it and goes on).

def run_sizes(plan: Plan, report: Report, results: Results) -> None:
    results.size_rows = bench_sizes.measure(plan.args.peer_dir)
    bench_sizes.add_figures(report, results.size_rows)


def run_cold(plan: Plan, report: Report, results: Results) -> None:
    bench_cold.run(report, plan.settings["cold"])


def run_hello(plan: Plan, report: Report, results: Results) -> None:
    bench_hello.run(report, plan.settings["hello"], plan.generator)


def run_actors(plan: Plan, report: Report, results: Results) -> None:
    results.add_checks("actors", bench_actors.run(report, plan.settings["actors"],
                                                  plan.generator))


def run_tenants(plan: Plan, report: Report, results: Results) -> None:
    results.add_checks("tenants", bench_tenants.run(report, plan.settings["tenants"]))


def run_sidebyside(plan: Plan, report: Report, results: Results) -> None:
    checks, results.peer_details = bench_sidebyside.run(report, plan.settings["sidebyside"],
                                                        plan.peer_setup)
    results.add_checks("sidebyside", checks)


RUNNERS = {"sizes": run_sizes, "cold": run_cold, "hello": run_hello, "actors": run_actors,
           "tenants": run_tenants, "sidebyside": run_sidebyside}
BENCHMARKS = tuple(RUNNERS)  # the order they run in


def run_benchmark(name: str, plan: Plan, results: Results) -> None:
    """Run one benchmark, recording whether it ran (a `<name>.ran` check) and how long."""
    report, bench_started = results.reports[name], time.perf_counter()
    if name == "sidebyside" and plan.peer_unavailable:
        reason = plan.peer_unavailable
        report.progress(f"== {name}: skipped, the peer is not measured ({reason})")
        results.checks.append({"name": f"{name}.ran", "ok": True,
                               "detail": f"skipped: peer not measured ({reason})"})
        results.runs[name] = {"elapsed_s": 0.0, "error": None, "skipped": reason}
        return
    report.progress(f"== {name}")
    try:
        RUNNERS[name](plan, report, results)
        error = None
    except Exception as e:  # noqa: BLE001 - report it, then run the other benchmarks
        traceback.print_exc()
        error = f"{type(e).__name__}: {e}".splitlines()[0]
        report.progress(f"FAILED: {name}: {error}")
    results.checks.append({"name": f"{name}.ran", "ok": error is None,
                           "detail": error or f"{len(report.figures)} figures"})
    results.runs[name] = {"elapsed_s": time.perf_counter() - bench_started, "error": error}


def run_figures(reports: dict[str, Report]) -> dict[str, Figure]:
    """Every benchmark's figures under run-wide keys: <benchmark>.<key>."""
    return {f"{name}.{f.key}": replace(f, key=f"{name}.{f.key}", section=f"{name} {f.section}")
            for name in BENCHMARKS for f in reports[name].figures}


def load_texts(plan: Plan, results: Results) -> dict[str, str]:
    """How the load was generated, for the summary's headings: edgehost alone, side by side."""
    args, side = plan.args, plan.settings["sidebyside"]
    load = (f"{'wrk' if plan.generator == 'wrk' else 'Python loadgen.py'}, {args.connections} "
            f"connections, {args.duration:g} s runs, 127.0.0.1")
    if results.peer_reason:
        return {"load": load,
                "sidebyside": f"peer not measured: {results.peer_reason}; edgehost alone: {load}"}
    return {"load": load, "sidebyside": (
        f"the peer's wrk.lua, wrk -t{side.threads} -c{side.connections} -d{side.duration_s:g}s, "
        f"median of {side.rounds} interleaved round{'s' if side.rounds > 1 else ''}; plain "
        f"fetch: GET {peer.LIVENESS_PATH} of the owner on both")}


def run_table(plan: Plan, results: Results, figures: dict[str, Figure], summary: Report,
              elapsed: float) -> str:
    """table.txt: the summary, then every figure by benchmark, then the checks."""
    machine, reason = plan.machine, results.peer_reason
    peer_line = (f"peer: not measured ({reason})" if reason else
                 f"peer: {results.peer_details['workerd']} "
                 f"({results.peer_details['directory']}), measured in "
                 "this run, interleaved with edgehost; /peer = edgehost / workerd (req/s: "
                 "higher is better; ms, bytes and MiB: lower is better)")
    header = table_header(
        "edgehost benchmarks", quick=plan.args.quick, elapsed_s=elapsed, machine=machine,
        generator_text=plan.generator_text,
        extra=[f"run {plan.created:%Y-%m-%d %H:%M:%S}, git "
               f"{(machine['git'].get('commit') or '?')[:10]}"
               f"{' (host/ modified)' if machine['git'].get('dirty') else ''}",
               workers_line(plan.workers), peer_line])
    return "\n".join([
        format_table(summary, header) if summary.figures else "\n".join(header),
        "", "", "All figures, by benchmark (keys in report.json: <benchmark>.<key>)",
        format_table(Report(list(figures.values())), []),
        "", *(f"check {c['name']}: {'ok' if c['ok'] else 'FAILED'}: {c['detail']}"
              for c in results.checks)])


def run_document(plan: Plan, results: Results, figures: dict[str, Figure],
                 summary_rows: list[dict], texts: dict[str, str], elapsed: float) -> dict:
    """report.json: every figure, and everything needed to read and compare them."""
    args, created = plan.args, plan.created
    return {
        "schema": JSON_SCHEMA, "created_unix": created.timestamp(),
        "created": created.isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full", "elapsed_s": elapsed,
        "settings": {"duration_s": args.duration, "connections": args.connections,
                     "generator": args.generator,
                     "benchmarks": {k: asdict(v) if v else None
                                    for k, v in plan.settings.items()}},
        "machine": plan.machine,
        "generator": {"name": plan.generator, "detail": plan.generator_text},
        "workers": plan.workers,
        "peer": {"measured": results.peer_reason is None, "reason": results.peer_reason,
                 "source": {"harness": str(args.peer_dir or peer.DEFAULT_PEER_DIR),
                            "sizes": bench_sizes.PEER_SOURCE, "load": texts["sidebyside"],
                            **{k: v for k, v in results.peer_details.items() if k != "runs"}},
                 "runs": results.peer_details.get("runs", []),
                 "figures": {k: f.peer for k, f in figures.items() if f.peer is not None}},
        "checks": results.checks,
        "benchmarks": results.runs,
        "summary": summary_rows,
        "sizes": results.size_rows,
        "figures": {k: figure_json(f) for k, f in figures.items()},
    }


def finish(plan: Plan, results: Results) -> int:
    """Say where the outputs are and what failed; the exit status (1 if anything failed)."""
    failed = [c["name"] for c in results.checks if not c["ok"]]
    results.reports["sidebyside"].progress(
        f"wrote {plan.out}/table.txt, report.json, chart.png in "
        f"{time.perf_counter() - plan.started:.1f} s"
        + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def workers_line(workers: dict) -> str:
    if workers["flag"]:
        return f"edgehost: serve --workers {workers['count']}"
    return (f"edgehost: one process (this host's serve has no --workers; {workers['requested']} "
            "would have been asked)")


def summary_report(figures: dict[str, Figure], texts: dict[str, str],
                   peer_reason: str | None) -> tuple[Report, list[dict]]:
    """The summary rows as figures of their own (same values, the summary's labels), and the
    rows for report.json. A compared row showing edgehost's own figure (the peer was not
    measured) marks that figure's peer as not measured, in `figures` too."""
    summary, rows, shown = Report(), [], set()
    for section, specs in SUMMARY:
        heading = section.format(**texts)
        for keys, label in specs:
            key = next((k for k in keys if k in figures), None)
            if key is None or key in shown:  # a fallback already shown under another heading
                continue
            shown.add(key)
            figure = figures[key]
            if math.isnan(figure.value) and figure.status is None:
                continue
            if keys[0].startswith(SIDE_BY_SIDE) and key != keys[0]:
                figure = figures[key] = replace(figure,
                                                peer_status=f"not measured ({peer_reason})")
            summary.figures.append(replace(figure, section=heading, label=label))
            rows.append({"section": heading, "key": key, "label": label,
                         **({"peer_status": figure.peer_status} if figure.peer_status else {})})
    return summary, rows


if __name__ == "__main__":
    raise SystemExit(main())
