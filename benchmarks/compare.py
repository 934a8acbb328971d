"""Compare two JSON reports written by `bench_hello.py --json` (or two by `bench_actors.py`).

    python benchmarks/compare.py BEFORE.json AFTER.json

For every figure both runs have, prints both values and AFTER/BEFORE, and says whether the
change is for the better (per the figure's `better` field). Ratio figures (unit `x`) are
computed within one run, so they compare best between runs; absolute figures on a noisy
machine move by tens of percent between identical runs, which is what the threshold is for.
Standard library only, so it runs with any Python 3.9+.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

SCHEMAS = ("edgehost-bench-hello/1", "edgehost-bench-actors/1")


def load(path: str) -> dict:
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
    a, b = load(args.before), load(args.after)
    if a["schema"] != b["schema"]:
        raise SystemExit(f"the reports come from different benchmarks: {a['schema']} vs "
                         f"{b['schema']}")
    for key in ("cores", "python", "wasmtime", "generator"):
        if a["machine"].get(key) != b["machine"].get(key):
            print(f"note: {key} differs: {a['machine'].get(key)} vs {b['machine'].get(key)}; "
                  "absolute figures are not comparable", file=sys.stderr)
    if a["mode"] != b["mode"]:
        print(f"note: comparing a {a['mode']} run with a {b['mode']} run", file=sys.stderr)

    common = [k for k in a["figures"] if k in b["figures"]]
    width = max(len(a["figures"][k]["label"].strip()) for k in common)
    print(f"{'figure':<{width}}  {'before':>10}  {'after':>10}  {'unit':<6} {'after/before':>12}")
    for key in common:
        fa, fb = a["figures"][key], b["figures"][key]
        va = math.nan if fa["value"] is None else fa["value"]
        vb = math.nan if fb["value"] is None else fb["value"]
        rel = f"{vb / va:.2f}" if va else "-"
        print(f"{fa['label'].strip():<{width}}  {va:>10.4g}  {vb:>10.4g}  {fa['unit']:<6} "
              f"{rel:>12}  {verdict(va, vb, fa.get('better'), args.threshold)}")
    only = sorted(set(a["figures"]) ^ set(b["figures"]))
    if only:
        print(f"\nin one run only: {', '.join(only)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
