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
runs: under a minute on 2 quiet cores without the peer. Only 127.0.0.1 is ever loaded; every load run
stops by itself.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import traceback
from dataclasses import asdict, replace
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
    BENCH_DIR, REPO, Figure, Report, add_load_options, checked_duration, figure_json,
    format_table, generator_description, machine_info, pick_generator, table_header,
    worker_settings, workers_flag)

JSON_SCHEMA = "edgehost-bench-run/2"
BENCHMARKS = ("sizes", "cold", "hello", "actors", "tenants", "sidebyside")  # the order they run in
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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import chart  # matplotlib; checked now rather than after a whole run
    except ImportError as e:
        print(f"run.py: {e}: install the test extra (pip install -e '.[test]') or matplotlib",
              file=sys.stderr)
        return 2
    missing = sorted({*bench_sizes.missing_modules(), *bench_cold.missing_modules(),
                      *bench_hello.missing_modules(), *bench_actors.missing_modules(),
                      *bench_tenants.missing_modules(), *bench_sidebyside.missing_modules()})
    if missing:
        print("run.py: not built: " + ", ".join(map(str, missing))
              + f"; run `npm run build:examples` in {REPO}", file=sys.stderr)
        return 2

    started = time.perf_counter()
    created = datetime.now()
    out = args.out or BENCH_DIR / "results" / created.strftime("%Y-%m-%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    generator = pick_generator(args.generator)
    generator_text = generator_description(generator, args.connections)
    machine = machine_info(generator, generator_text)
    workers = worker_settings(args.workers)
    flag = workers_flag(workers)
    peer_setup = peer.find_peer(args.peer_dir)
    peer_reason = peer_setup if isinstance(peer_setup, str) else None
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
    reports = {name: Report(started=started) for name in BENCHMARKS}
    reports["sizes"].progress(
        f"{'quick' if args.quick else 'full'} run of {', '.join(BENCHMARKS)}; load generator: "
        f"{generator_text}; edgehost workers: {workers['count']}; peer: "
        + (f"not measured ({peer_reason})" if peer_reason else str(peer_setup.directory))
        + f"; results in {out}")

    checks: list[dict] = []
    runs: dict[str, dict] = {}
    size_rows: list[dict] = []
    peer_details: dict = {}
    for name in BENCHMARKS:
        report, bench_started = reports[name], time.perf_counter()
        if name == "sidebyside" and peer_reason:
            report.progress(f"== {name}: skipped, the peer is not measured ({peer_reason})")
            checks.append({"name": f"{name}.ran", "ok": True,
                           "detail": f"skipped: peer not measured ({peer_reason})"})
            runs[name] = {"elapsed_s": 0.0, "error": None, "skipped": peer_reason}
            continue
        report.progress(f"== {name}")
        try:
            if name == "sizes":
                size_rows = bench_sizes.measure(args.peer_dir)
                bench_sizes.add_figures(report, size_rows)
            elif name == "cold":
                bench_cold.run(report, settings["cold"])
            elif name == "hello":
                bench_hello.run(report, settings["hello"], generator)
            elif name == "actors":
                checks += [{"name": f"actors.{c.name}", "ok": c.ok, "detail": c.detail}
                           for c in bench_actors.run(report, settings["actors"], generator)]
            elif name == "tenants":
                checks += [{"name": f"tenants.{c.name}", "ok": c.ok, "detail": c.detail}
                           for c in bench_tenants.run(report, settings["tenants"])]
            else:
                side_checks, peer_details = bench_sidebyside.run(report, settings["sidebyside"],
                                                                 peer_setup)
                checks += [{"name": f"sidebyside.{c.name}", "ok": c.ok, "detail": c.detail}
                           for c in side_checks]
            error = None
        except Exception as e:  # noqa: BLE001 - report it, then run the other benchmarks
            traceback.print_exc()
            error = f"{type(e).__name__}: {e}".splitlines()[0]
            report.progress(f"FAILED: {name}: {error}")
        checks.append({"name": f"{name}.ran", "ok": error is None,
                       "detail": error or f"{len(report.figures)} figures"})
        runs[name] = {"elapsed_s": time.perf_counter() - bench_started, "error": error}
    if not peer_reason and runs["sidebyside"]["error"]:
        peer_reason = f"the side-by-side benchmark failed: {runs['sidebyside']['error']}"

    elapsed = time.perf_counter() - started
    figures = {f"{name}.{f.key}": replace(f, key=f"{name}.{f.key}",
                                          section=f"{name} {f.section}")
               for name in BENCHMARKS for f in reports[name].figures}
    side = settings["sidebyside"]
    load = (f"{'wrk' if generator == 'wrk' else 'Python loadgen.py'}, {args.connections} "
            f"connections, {args.duration:g} s runs, 127.0.0.1")
    texts = {"load": load, "sidebyside": (
        f"peer not measured: {peer_reason}; edgehost alone: {load}" if peer_reason else
        f"the peer's wrk.lua, wrk -t{side.threads} -c{side.connections} -d{side.duration_s:g}s, "
        f"median of {side.rounds} interleaved round{'s' if side.rounds > 1 else ''}; plain "
        f"fetch: GET {peer.LIVENESS_PATH} of the owner on both")}
    peer_line = (f"peer: not measured ({peer_reason})" if peer_reason else
                 f"peer: {peer_details['workerd']} ({peer_details['directory']}), measured in "
                 "this run, interleaved with edgehost; /peer = edgehost / workerd (req/s: "
                 "higher is better; ms, bytes and MiB: lower is better)")
    header = table_header(
        "edgehost benchmarks", quick=args.quick, elapsed_s=elapsed, machine=machine,
        generator_text=generator_text,
        extra=[f"run {created:%Y-%m-%d %H:%M:%S}, git {(machine['git'].get('commit') or '?')[:10]}"
               f"{' (host/ modified)' if machine['git'].get('dirty') else ''}",
               workers_line(workers), peer_line])
    summary, summary_rows = summary_report(figures, texts, peer_reason)
    table = "\n".join([
        format_table(summary, header) if summary.figures else "\n".join(header),
        "", "", "All figures, by benchmark (keys in report.json: <benchmark>.<key>)",
        format_table(Report(list(figures.values())), []),
        "", *(f"check {c['name']}: {'ok' if c['ok'] else 'FAILED'}: {c['detail']}"
              for c in checks)])
    print(table)
    (out / "table.txt").write_text(table + "\n")

    document = {
        "schema": JSON_SCHEMA, "created_unix": created.timestamp(),
        "created": created.isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full", "elapsed_s": elapsed,
        "settings": {"duration_s": args.duration, "connections": args.connections,
                     "generator": args.generator,
                     "benchmarks": {k: asdict(v) if v else None for k, v in settings.items()}},
        "machine": machine,
        "generator": {"name": generator, "detail": generator_text},
        "workers": workers,
        "peer": {"measured": peer_reason is None, "reason": peer_reason,
                 "source": {"harness": str(args.peer_dir or peer.DEFAULT_PEER_DIR),
                            "sizes": bench_sizes.PEER_SOURCE, "load": texts["sidebyside"],
                            **{k: v for k, v in peer_details.items() if k != "runs"}},
                 "runs": peer_details.get("runs", []),
                 "figures": {k: f.peer for k, f in figures.items() if f.peer is not None}},
        "checks": checks,
        "benchmarks": runs,
        "summary": summary_rows,
        "sizes": size_rows,
        "figures": {k: figure_json(f) for k, f in figures.items()},
    }
    (out / "report.json").write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    chart.draw(document, out / "chart.png")
    failed = [c["name"] for c in checks if not c["ok"]]
    reports["sidebyside"].progress(f"wrote {out}/table.txt, report.json, chart.png in "
                                   f"{time.perf_counter() - started:.1f} s"
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
