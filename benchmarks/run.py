"""Run every benchmark: cold start by phase, bundle sizes, throughput and latency.

    .venv/bin/python benchmarks/run.py [--quick] [--out DIR] [--generator auto|wrk|python]
                                       [--duration S] [--connections N]

Runs, in this process and one after the other, bench_sizes, bench_cold, bench_hello and
bench_actors (each also runs on its own; see benchmarks/README.md), then writes to DIR
(default benchmarks/results/<YYYY-MM-DD-HHMMSS>/):

    table.txt    the table printed on stdout: a summary by the issue's headings, then every figure
    report.json  every figure (unit, direction, samples, peer), machine info, generator, checks
    chart.png    cold-start phases, req/s and latency vs the peer, bundle sizes, memory

Progress goes to stderr. The exit status is 0 when every benchmark ran and every correctness
check passed, 1 otherwise (the outputs are still written, with what was measured), 2 when a
prerequisite is missing (built examples, matplotlib). `--quick` takes fewer samples and 2 s load
runs: under a minute on 2 cores. Only 127.0.0.1 is ever loaded; every load run stops by itself.
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
import bench_sizes
from common import (
    BENCH_DIR, REPO, Figure, Report, add_load_options, checked_duration, figure_json,
    format_table, generator_description, machine_info, pick_generator, table_header)

JSON_SCHEMA = "edgehost-bench-run/1"
BENCHMARKS = ("sizes", "cold", "hello", "actors")  # the order they run in
TOOLCHAIN_NOTES = "/work/shared/notes/toolchain.md, \"The peer to beat\""

# The summary table: the headings, each row a figure of one benchmark (benchmark.key).
SUMMARY: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("cold start, by phase (hello unless named)", (
        ("hello.compile_ms", "compile at ship (Sandbox.compile)"),
        ("hello.load_ms", "load of the compiled module after a restart"),
        ("hello.store_instantiate_us", "instantiate (new Store + InstancePre.instantiate)"),
        ("hello.first_request_ms", "first fetch after a restart (HTTP)"),
        ("hello.warm_request_ms", "  warm fetch, for comparison (HTTP)"),
        ("cold.activation_ms", "first actor activation: instantiate + init turn"),
        ("cold.first_call_ms", "first call to a new actor, whole (in-process)"),
        ("actors.first_touch_ms", "first deposit to a new actor (HTTP)"),
        ("cold.ship_hello_ms", "ship hello: POST bundle -> 201"),
        ("cold.ship_to_200_hello_ms", "ship returned -> first 200, hello"),
        ("cold.ship_to_200_account_ms", "ship returned -> first 200, account (new actor)"),
        ("hello.start_to_first_200_ms", "host process start -> first 200"),
    )),
    ("bundle size, raw and gzip (peer: workerd JavaScript)", (
        ("sizes.account_raw_bytes", "owner (account): raw"),
        ("sizes.account_gzip_bytes", "owner (account): gzip"),
        ("sizes.account-readonly_raw_bytes", "reference (account-readonly): raw"),
        ("sizes.account-readonly_gzip_bytes", "reference (account-readonly): gzip"),
        ("sizes.hello_raw_bytes", "hello: raw"),
        ("sizes.hello_gzip_bytes", "hello: gzip"),
    )),
    ("throughput and latency ({load})", (
        ("hello.hello_rps", "plain fetch (hello GET /): req/s"),
        ("hello.hello_p50_ms", "  p50"),
        ("hello.hello_p99_ms", "  p99"),
        ("actors.hot_rps", "deposits to one hot actor: req/s"),
        ("actors.hot_p50_ms", "  p50"),
        ("actors.hot_p99_ms", "  p99"),
        ("actors.spread_rps", "deposits over 1,000 names: req/s"),
        ("actors.spread_p50_ms", "  p50"),
        ("actors.spread_p99_ms", "  p99"),
        ("actors.reads_rps", "balance via the reference, 1,000 names: req/s"),
        ("actors.reads_p50_ms", "  p50"),
        ("actors.reads_p99_ms", "  p99"),
        ("hello.throughput_rss_mib", "host RSS after the plain-fetch runs"),
        ("actors.rss_after_spread_mib", "host RSS with ~1,000 live actors"),
        ("actors.rss_per_actor_mib", "RSS per live actor"),
    )),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run every edgehost benchmark; write table.txt, report.json and chart.png. "
                    "See benchmarks/README.md.")
    add_load_options(parser, "fewer samples and 2 s load runs (under a minute)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="results folder [benchmarks/results/<YYYY-MM-DD-HHMMSS>]")
    args = parser.parse_args(argv)
    if args.json is not None:
        parser.error("--json is for the single benchmarks; run.py writes DIR/report.json")
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
                      *bench_hello.missing_modules(), *bench_actors.missing_modules()})
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
    settings = {
        "sizes": None,
        "cold": bench_cold.settings_for(args.quick),
        "hello": bench_hello.settings_for(args.quick, args.duration, args.connections,
                                          args.generator),
        "actors": bench_actors.settings_for(args.quick, args.duration, args.connections,
                                            args.generator),
    }
    reports = {name: Report(started=started) for name in BENCHMARKS}
    reports["sizes"].progress(f"{'quick' if args.quick else 'full'} run of "
                              f"{', '.join(BENCHMARKS)}; load generator: {generator_text}; "
                              f"results in {out}")

    checks: list[dict] = []
    runs: dict[str, dict] = {}
    size_rows: list[dict] = []
    for name in BENCHMARKS:
        report, bench_started = reports[name], time.perf_counter()
        report.progress(f"== {name}")
        try:
            if name == "sizes":
                size_rows = bench_sizes.measure()
                bench_sizes.add_figures(report, size_rows)
            elif name == "cold":
                bench_cold.run(report, settings["cold"])
            elif name == "hello":
                bench_hello.run(report, settings["hello"], generator)
            else:
                checks += [{"name": f"actors.{c.name}", "ok": c.ok, "detail": c.detail}
                           for c in bench_actors.run(report, settings["actors"], generator)]
            error = None
        except Exception as e:  # noqa: BLE001 - report it, then run the other benchmarks
            traceback.print_exc()
            error = f"{type(e).__name__}: {e}".splitlines()[0]
            report.progress(f"FAILED: {name}: {error}")
        checks.append({"name": f"{name}.ran", "ok": error is None,
                       "detail": error or f"{len(report.figures)} figures"})
        runs[name] = {"elapsed_s": time.perf_counter() - bench_started, "error": error}

    elapsed = time.perf_counter() - started
    figures = {f"{name}.{f.key}": replace(f, key=f"{name}.{f.key}",
                                          section=f"{name} {f.section}")
               for name in BENCHMARKS for f in reports[name].figures}
    header = table_header(
        "edgehost benchmarks", quick=args.quick, elapsed_s=elapsed, machine=machine,
        generator_text=generator_text,
        extra=[f"run {created:%Y-%m-%d %H:%M:%S}, git {(machine['git'].get('commit') or '?')[:10]}"
               f"{' (host/ modified)' if machine['git'].get('dirty') else ''}",
               f"peer: workerd on this kind of machine ({TOOLCHAIN_NOTES}); /peer = ours / "
               "peer's (req/s: higher is better; ms, bytes and MiB: lower is better)"])
    load = (f"{'wrk' if generator == 'wrk' else 'Python loadgen.py'}, {args.connections} "
            f"connections, {args.duration:g} s runs, 127.0.0.1")
    summary = summary_report(figures, load)
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
        "peer": {"source": {"notes": TOOLCHAIN_NOTES, "hello": bench_hello.PEER_SOURCE,
                            "actors": bench_actors.PEER_SOURCE,
                            "sizes": bench_sizes.PEER_SOURCE},
                 "figures": {k: f.peer for k, f in figures.items() if f.peer is not None}},
        "checks": checks,
        "benchmarks": runs,
        "summary": [{"section": section.format(load=load), "key": key, "label": label}
                    for section, rows in SUMMARY for key, label in rows if key in figures],
        "sizes": size_rows,
        "figures": {k: figure_json(f) for k, f in figures.items()},
    }
    (out / "report.json").write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    chart.draw(document, out / "chart.png")
    failed = [c["name"] for c in checks if not c["ok"]]
    reports["actors"].progress(f"wrote {out}/table.txt, report.json, chart.png in "
                               f"{time.perf_counter() - started:.1f} s"
                               + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def summary_report(figures: dict[str, Figure], load: str) -> Report:
    """The summary rows as figures of their own (same values, the summary's labels)."""
    summary = Report()
    for section, rows in SUMMARY:
        for key, label in rows:
            figure = figures.get(key)
            if figure is not None and not math.isnan(figure.value):
                summary.figures.append(replace(figure, section=section.format(load=load),
                                               label=label))
    return summary


if __name__ == "__main__":
    raise SystemExit(main())
