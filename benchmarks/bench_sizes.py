"""Bundle sizes of every example: raw and gzip, owner vs reference (the peer's beside them).

    .venv/bin/python benchmarks/bench_sizes.py [--json PATH]

Needs the built examples (scripts/setup or `npm run build:examples`). `run.py` reports the same
figures through `add_figures`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The peer's scripts for the same functions (toolchain.md): workerd JavaScript, bytes.
PEER_SOURCE = "workerd JavaScript scripts of the same functions (toolchain notes), raw bytes"
PEER_BYTES = {"account": 3200, "account-readonly": 900}
TARGET_BYTES = {"account": 12 * 1024, "account-readonly": 3 * 1024}
SECTION = "bundle size (build/<name>.wasm; gzip -9)"


def example_folders() -> list[Path]:
    return sorted(p for p in (ROOT / "examples").iterdir() if (p / "telnyx.toml").exists())


def missing_modules() -> list[Path]:
    """The built modules this benchmark needs that are not there."""
    modules = (folder / "build" / f"{folder.name}.wasm" for folder in example_folders())
    return [m for m in modules if not m.is_file()]


def measure() -> list[dict]:
    rows = []
    for folder in example_folders():
        module = folder / "build" / f"{folder.name}.wasm"
        if not module.exists():
            raise FileNotFoundError(f"bench_sizes: {module} is missing; run scripts/setup first")
        data = module.read_bytes()
        rows.append({"example": folder.name, "raw_bytes": len(data),
                     "gzip_bytes": len(gzip.compress(data, compresslevel=9)),
                     "target_bytes": TARGET_BYTES.get(folder.name),
                     "peer_bytes": PEER_BYTES.get(folder.name)})
    return rows


def add_figures(report, rows: list[dict]) -> None:
    """The sizes as figures of a common.Report (keys `<example>_raw_bytes`, `_gzip_bytes`)."""
    for r in rows:
        name, target = r["example"], r["target_bytes"]
        note = ""
        if target:
            verdict = "within" if r["raw_bytes"] <= target else "OVER"
            note = f"target {target:,} bytes ({target // 1024} KiB): {verdict}"
        report.add(f"{name}_raw_bytes", SECTION, f"{name}: raw", r["raw_bytes"], "bytes",
                   better="lower", note=note, peer=r["peer_bytes"])
        report.add(f"{name}_gzip_bytes", SECTION, f"{name}: gzip", r["gzip_bytes"], "bytes",
                   better="lower",
                   note=f"{r['gzip_bytes'] / r['raw_bytes']:.2f} of raw")
    sizes = {r["example"]: r for r in rows}
    if "account" in sizes and "account-readonly" in sizes:
        owner, reference = sizes["account"], sizes["account-readonly"]
        report.add("reference_vs_owner", SECTION, "reference / owner (raw)",
                   reference["raw_bytes"] / owner["raw_bytes"], "x", better="lower",
                   note="account-readonly / account",
                   peer=PEER_BYTES["account-readonly"] / PEER_BYTES["account"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    try:
        rows = measure()
    except FileNotFoundError as e:
        print(e, file=sys.stderr)
        return 2
    print(f"{'example':<18} {'raw':>8} {'gzip':>8} {'target':>8} {'peer':>8} {'raw/peer':>9}")
    for r in rows:
        ratio = f"{r['raw_bytes'] / r['peer_bytes']:.1f}x" if r["peer_bytes"] else "-"
        print(f"{r['example']:<18} {r['raw_bytes']:>8} {r['gzip_bytes']:>8} "
              f"{r['target_bytes'] or '-':>8} {r['peer_bytes'] or '-':>8} {ratio:>9}")
    sizes = {r["example"]: r["raw_bytes"] for r in rows}
    if "account" in sizes and "account-readonly" in sizes:
        print(f"reference / owner: {sizes['account-readonly'] / sizes['account']:.2f}x")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"schema": "edgehost-bench-sizes/1", "sizes": rows},
                                        indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
