"""Compare two benchmark reports: two `report.json` of run.py, or two `--json` reports of one
single benchmark (bench_hello.py, bench_actors.py, bench_cold.py, bench_tenants.py or
bench_sidebyside.py).

    python benchmarks/compare.py BEFORE.json AFTER.json
    python benchmarks/compare.py benchmarks/results/A/report.json benchmarks/results/B  # a folder

For every figure both runs have, prints both values and AFTER/BEFORE, and says whether the
change is for the better (per the figure's `better` field). Ratio figures (unit `x`) are
computed within one run, so they compare best between runs; absolute figures on a noisy
machine move by tens of percent between identical runs, which is what the threshold is for.
Figures measured side by side with the peer also have edgehost/peer ratios, measured seconds
apart within each run: a second table compares those ratios, the steadiest figures there are.
Standard library only, so it runs with any Python 3.9+.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

# run.py: figure keys are <benchmark>.<key>. Version 2 measures the peer live (per-figure
# `peer_status`, the `peer` block, `workers`); figure keys did not change, so both compare.
RUN_SCHEMAS = ("edgehost-bench-run/1", "edgehost-bench-run/2")
SCHEMAS = (*RUN_SCHEMAS, "edgehost-bench-hello/1", "edgehost-bench-actors/1",
           "edgehost-bench-cold/1", "edgehost-bench-tenants/1", "edgehost-bench-sidebyside/1")


def load(path: str) -> dict:
    if os.path.isdir(path):  # a run.py results folder
        path = os.path.join(path, "report.json")
    with open(path, encoding="utf-8") as f:
        document = json.load(f)
    if document.get("schema") not in SCHEMAS:
        raise SystemExit(f"{path}: not a benchmark report (schema {document.get('schema')})")
    return document


def verdict(before: float, after: float, better: str | None, threshold: float) -> str:
    if better is None or math.isnan(before) or math.isnan(after):
        return ""
    if before == 0:  # error counts: anything appearing where there was none is news
        return "~ same" if after == 0 else ("WORSE" if better == "lower" else "better")
    change = after / before - 1
    if abs(change) < threshold:
        return "~ same"
    improved = change < 0 if better == "lower" else change > 0
    return "better" if improved else "WORSE"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare two JSON reports of one benchmark.")
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--threshold", type=float, default=0.15,
                        help="relative change below which a figure counts as unchanged [0.15]")
    args = parser.parse_args(argv)
    a, b = aligned(load(args.before), load(args.after))
    for key in ("cores", "python", "wasmtime", "generator"):
        if key == "generator" and "none" in (a["machine"].get(key), b["machine"].get(key)):
            continue  # bench_cold alone runs no load
        if a["machine"].get(key) != b["machine"].get(key):
            print(f"note: {key} differs: {a['machine'].get(key)} vs {b['machine'].get(key)}; "
                  "absolute figures are not comparable", file=sys.stderr)
    if a["mode"] != b["mode"]:
        print(f"note: comparing a {a['mode']} run with a {b['mode']} run", file=sys.stderr)
    workers = [d.get("workers", {}).get("count", 1) for d in (a, b)]
    if workers[0] != workers[1]:
        print(f"note: edgehost ran with {workers[0]} vs {workers[1]} worker processes",
              file=sys.stderr)
    measured = [d.get("peer", {}).get("measured") for d in (a, b)]
    if measured[0] != measured[1]:
        print("note: the peer was measured in only one of the runs: compare the ratios to "
              "the peer only where both have them", file=sys.stderr)

    for document, name in ((a, args.before), (b, args.after)):
        failed = [c["name"] for c in document.get("checks", []) if not c.get("ok")]
        if failed:
            print(f"note: {name}: failed checks: {', '.join(failed)}", file=sys.stderr)

    common = [k for k in a["figures"] if k in b["figures"]]
    labels = {k: label(k, a["figures"][k], a["schema"]) for k in common}
    width = max((len(text) for text in labels.values()), default=6)
    print(f"{'figure':<{width}}  {'before':>10}  {'after':>10}  {'unit':<6} {'after/before':>12}")
    for key in common:
        fa, fb = a["figures"][key], b["figures"][key]
        va = math.nan if fa["value"] is None else fa["value"]
        vb = math.nan if fb["value"] is None else fb["value"]
        rel = "-" if not va or math.isnan(va) or math.isnan(vb) else f"{vb / va:.2f}"
        print(f"{labels[key]:<{width}}  {number(va):>10}  {number(vb):>10}  {fa['unit']:<6} "
              f"{rel:>12}  {verdict(va, vb, fa.get('better'), args.threshold)}")
    both_peer = [k for k in common if a["figures"][k].get("vs_peer") is not None
                 and b["figures"][k].get("vs_peer") is not None]
    if both_peer:
        print(f"\n{'edgehost/peer':<{width}}  {'before':>10}  {'after':>10}  {'':<6} "
              f"{'after/before':>12}")
        for key in both_peer:
            ra, rb = a["figures"][key]["vs_peer"], b["figures"][key]["vs_peer"]
            print(f"{labels[key]:<{width}}  {number(ra):>10}  {number(rb):>10}  {'x':<6} "
                  f"{rb / ra if ra else math.nan:>12.2f}  "
                  f"{verdict(ra, rb, a['figures'][key].get('better'), args.threshold)}")
    only = sorted(set(a["figures"]) ^ set(b["figures"]))
    if only:
        print(f"\nin one run only: {', '.join(only)}")
    return 0


def aligned(a: dict, b: dict) -> tuple[dict, dict]:
    """The two reports with comparable figure keys.

    Two reports of one schema compare as they are. A run.py report and a single benchmark's
    report compare on that benchmark's figures (run.py's `hello.compile_ms` is bench_hello's
    `compile_ms`). Anything else is refused.
    """
    if a["schema"] == b["schema"] or {a["schema"], b["schema"]} <= set(RUN_SCHEMAS):
        return a, b
    single = {s: s.split("-")[-1].split("/")[0] for s in SCHEMAS if s not in RUN_SCHEMAS}
    if a["schema"] in RUN_SCHEMAS and b["schema"] in single:
        return _only(a, single[b["schema"]], b["schema"]), b
    if b["schema"] in RUN_SCHEMAS and a["schema"] in single:
        return a, _only(b, single[a["schema"]], a["schema"])
    raise SystemExit(f"the reports come from different benchmarks: {a['schema']} vs "
                     f"{b['schema']}")


def _only(run: dict, benchmark: str, schema: str) -> dict:
    """A run.py report cut down to one benchmark's figures, keyed as that benchmark keys them."""
    prefix = benchmark + "."
    print(f"note: comparing only the {benchmark} figures of the run.py report",
          file=sys.stderr)
    return {**run, "schema": schema,
            "checks": [c for c in run.get("checks", []) if c["name"].startswith(prefix)],
            "figures": {k[len(prefix):]: f for k, f in run["figures"].items()
                        if k.startswith(prefix)}}


def number(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def label(key: str, figure: dict, schema: str) -> str:
    """A figure's label; in a run.py report, prefixed with its benchmark (labels repeat)."""
    text = figure["label"].strip()
    return f"{key.split('.', 1)[0]}: {text}" if schema in RUN_SCHEMAS else text


if __name__ == "__main__":
    raise SystemExit(main())
