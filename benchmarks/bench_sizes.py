"""Bundle sizes of every example: raw and gzip, owner vs reference (the peer's beside them).

    .venv/bin/python benchmarks/bench_sizes.py [--json PATH] [--peer-dir DIR]

Needs the built examples (scripts/setup or `npm run build:examples`). `run.py` reports the same
figures through `add_figures`. The peer's sizes are those of its scripts in the peer harness
(peer.py; `<repo>/../shared/peer/workerd` unless `--peer-dir`), read now: when the harness is
not there, the peer column says "not measured" and why.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

import peer

ROOT = Path(__file__).resolve().parent.parent
PEER_SOURCE = ("workerd JavaScript scripts of the same functions in the peer harness "
               "(src/bank.js, src/reference.js), raw bytes")
TARGET_BYTES = {"account": 12 * 1024, "account-readonly": 3 * 1024}
SECTION = "bundle size (build/<name>.wasm; gzip -9)"


def example_folders() -> list[Path]:
    return sorted(p for p in (ROOT / "examples").iterdir() if (p / "telnyx.toml").exists())


def missing_modules() -> list[Path]:
    """The built modules this benchmark needs that are not there."""
    modules = (folder / "build" / f"{folder.name}.wasm" for folder in example_folders())
    return [m for m in modules if not m.is_file()]


def measure(peer_dir: Path | None = None) -> list[dict]:
    """A row per example; `peer_dir`: the peer harness (None: its default place)."""
    peer_sizes = peer.script_sizes(peer_dir)
    rows = []
    for folder in example_folders():
        module = folder / "build" / f"{folder.name}.wasm"
        if not module.exists():
            raise FileNotFoundError(f"bench_sizes: {module} is missing; run scripts/setup first")
        data = module.read_bytes()
        rows.append({"example": folder.name, "raw_bytes": len(data),
                     "gzip_bytes": len(gzip.compress(data, compresslevel=9)),
                     "target_bytes": TARGET_BYTES.get(folder.name),
                     **peer_columns(folder.name, peer_sizes)})
    return rows


def peer_columns(example: str, peer_sizes: dict[str, int] | str) -> dict:
    """`peer_bytes` of an example the peer has a script for, or `peer_status` saying why not."""
    if example not in peer.SCRIPTS:
        return {"peer_bytes": None}
    if isinstance(peer_sizes, str):
        return {"peer_bytes": None, "peer_status": f"not measured ({peer_sizes})"}
    return {"peer_bytes": peer_sizes[example]}


def add_figures(report, rows: list[dict]) -> None:
    """The sizes as figures of a common.Report (keys `<example>_raw_bytes`, `_gzip_bytes`)."""
    for r in rows:
        name, target = r["example"], r["target_bytes"]
        note = ""
        if target:
            verdict = "within" if r["raw_bytes"] <= target else "OVER"
            note = f"target {target:,} bytes ({target // 1024} KiB): {verdict}"
        report.add(f"{name}_raw_bytes", SECTION, f"{name}: raw", r["raw_bytes"], "bytes",
                   better="lower", note=note, peer=r["peer_bytes"],
                   peer_status=r.get("peer_status"))
        report.add(f"{name}_gzip_bytes", SECTION, f"{name}: gzip", r["gzip_bytes"], "bytes",
                   better="lower",
                   note=f"{r['gzip_bytes'] / r['raw_bytes']:.2f} of raw")
    sizes = {r["example"]: r for r in rows}
    if "account" in sizes and "account-readonly" in sizes:
        owner, reference = sizes["account"], sizes["account-readonly"]
        measured = owner["peer_bytes"] and reference["peer_bytes"]
        report.add("reference_vs_owner", SECTION, "reference / owner (raw)",
                   reference["raw_bytes"] / owner["raw_bytes"], "x", better="lower",
                   note="account-readonly / account",
                   peer=reference["peer_bytes"] / owner["peer_bytes"] if measured else None,
                   peer_status=None if measured else owner.get("peer_status"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--peer-dir", type=Path, metavar="DIR",
                        help=f"the peer harness [{peer.DEFAULT_PEER_DIR}]")
    args = parser.parse_args(argv)
    try:
        rows = measure(args.peer_dir)
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
