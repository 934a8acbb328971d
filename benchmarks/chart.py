"""Draw chart.png from a run.py report.json (matplotlib, Agg backend: no display needed).

    .venv/bin/python benchmarks/chart.py REPORT.json [OUT.png]   # default: chart.png beside it

Seven panels: cold-start phases (horizontal bars, log scale), throughput and latency of each
load run beside the peer's (measured in the same run, when it was), bundle sizes against their
targets and the peer, memory, a bystander tenant's latency beside runaway guests, and the
per-request cost by export count. Figures a run does not have (a benchmark that failed or was
skipped) are left out of their panel.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

OURS, OURS_LIGHT, PEER, TARGET = "#2b6cb0", "#90cdf4", "#dd6b20", "#c53030"

# Cold-start panel rows, top to bottom: (figure keys, label), the first key the report has is
# drawn (the side-by-side figure, with the peer's, before edgehost's own); a line is drawn
# above the rows whose label is in COLD_GROUPS.
COLD_GROUPS = ("compile at ship", "first actor activation (instantiate + init)",
               "ship request (hello)", "process start -> first 200")
COLD_ROWS = (
    (("hello.compile_ms",), "compile at ship"),
    (("hello.load_ms",), "load compiled module after restart"),
    (("hello.store_instantiate_us",), "instantiate (Store + InstancePre)"),
    (("hello.first_request_ms",), "first fetch after restart (HTTP)"),
    (("hello.warm_request_ms",), "warm fetch (HTTP), for comparison"),
    (("cold.activation_ms",), "first actor activation (instantiate + init)"),
    (("cold.first_call_ms",), "first call to a new actor (in-process)"),
    (("sidebyside.first_touch_ms", "actors.first_touch_ms"),
     "first deposit to a new actor (HTTP)"),
    (("cold.ship_hello_ms",), "ship request (hello)"),
    (("cold.ship_to_200_hello_ms",), "ship returned -> first 200 (hello)"),
    (("cold.ship_to_200_account_ms",), "ship returned -> first 200 (new actor)"),
    (("sidebyside.start_to_first_200_ms", "hello.start_to_first_200_ms"),
     "process start -> first 200"),
)
# Load runs: (key prefixes, the first the report has is drawn; label).
LOADS = (
    (("sidebyside.fetch", "hello.hello"), "plain fetch"),
    (("sidebyside.hot", "actors.hot"), "deposits,\none hot actor"),
    (("sidebyside.spread", "actors.spread"), "deposits over\n1,000 names"),
    (("actors.reads",), "balance via\nreference"),
    (("hello.health",), "host's own route\n(no guest)"),
)


def draw(document: dict, path: Path) -> None:
    figures = document["figures"]
    fig = plt.figure(figsize=(15, 21), layout="constrained")
    grid = fig.add_gridspec(4, 2, height_ratios=[1.15, 1, 1, 1])
    _cold_start(fig.add_subplot(grid[0, :]), figures)
    _throughput(fig.add_subplot(grid[1, 0]), figures)
    _latency(fig.add_subplot(grid[1, 1]), figures)
    _sizes(fig.add_subplot(grid[2, 0]), document.get("sizes", []))
    _memory(fig.add_subplot(grid[2, 1]), figures)
    _bystander(fig.add_subplot(grid[3, 0]), figures)
    _exports(fig.add_subplot(grid[3, 1]), figures)
    machine = document["machine"]
    failed = [c["name"] for c in document.get("checks", []) if not c["ok"]]
    settings = document.get("settings", {})
    peer = document.get("peer", {})
    peer_text = ("peer: workerd, measured in this run, interleaved" if peer.get("measured")
                 else f"peer: not measured ({peer.get('reason') or 'no live peer in this report'})")
    workers = document.get("workers", {}).get("count", 1)
    fig.suptitle(
        f"edgehost benchmarks: {document['mode']} run, {document.get('created', '')}\n"
        f"{machine['cores']} cores ({machine.get('cpu_model') or '?'}), Python "
        f"{machine['python']}, wasmtime {machine['wasmtime']}; edgehost worker processes: "
        f"{workers}; load: {document['generator']['name']}, "
        f"{settings.get('connections', '?')} connections, {settings.get('duration_s', '?')} s "
        f"runs on 127.0.0.1\n{peer_text}"
        + (f"\nFAILED: {', '.join(failed)}" if failed else ""),
        fontsize=13, color=TARGET if failed else "black")
    fig.savefig(path, dpi=100, bbox_inches="tight", pad_inches=0.25)
    plt.close(fig)


def _value(figures: dict, key: str) -> float | None:
    figure = figures.get(key)
    if figure is None or figure["value"] is None or math.isnan(figure["value"]):
        return None
    return figure["value"]


def _ms(figures: dict, key: str) -> tuple[float | None, float | None]:
    """A figure and its peer, in ms (us figures converted)."""
    figure = figures.get(key)
    if figure is None or figure["value"] is None:
        return None, None
    scale = 1e-3 if figure["unit"] == "us" else 1.0
    peer = figure.get("peer")
    return figure["value"] * scale, None if peer is None else peer * scale


def _fmt_ms(ms: float) -> str:
    if ms < 1:
        return f"{ms * 1000:.0f} us"
    return f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"


def _first(figures: dict, keys: tuple[str, ...], suffix: str = "") -> str:
    """The first of `keys` (each + suffix) the report has; the first one when it has none."""
    return next((k + suffix for k in keys if k + suffix in figures), keys[0] + suffix)


def _cold_start(ax, figures: dict) -> None:
    rows = [(label, *_ms(figures, _first(figures, keys)), label) for keys, label in COLD_ROWS]
    rows = [r for r in rows if r[1] is not None]
    labels = [r[0] for r in rows]
    ys = range(len(rows))
    height = 0.38
    ours = [r[1] for r in rows]
    ax.barh([y - height / 2 for y in ys], ours, height, color=OURS, label="edgehost (median)")
    peers = [(y, r[2]) for y, r in zip(ys, rows, strict=True) if r[2] is not None]
    ax.barh([y + height / 2 for y, _ in peers], [p for _, p in peers], height, color=PEER,
            label="workerd (peer, this run)")
    for y, value in zip(ys, ours, strict=True):
        ax.text(value * 1.08, y - height / 2, _fmt_ms(value), va="center", fontsize=9)
    for y, value in peers:
        ax.text(value * 1.08, y + height / 2, _fmt_ms(value), va="center", fontsize=9,
                color=PEER)
    for y, row in zip(ys, rows, strict=True):
        if row[3] in COLD_GROUPS and y > 0:
            ax.axhline(y - 0.5, color="grey", linewidth=0.8, alpha=0.6)
    ax.set_yticks(list(ys), labels, fontsize=10)
    ax.invert_yaxis()  # in phase order, top to bottom
    ax.set_xscale("log")
    values = ours + [p for _, p in peers]
    if values:
        ax.set_xlim(min(values) / 2, max(values) * 4)
    ax.set_xlabel("milliseconds (log scale)")
    ax.set_title("Cold start by phase (hello unless named; in-process unless HTTP)",
                 loc="left", fontweight="bold")
    ax.grid(axis="x", which="major", alpha=0.3)
    ax.legend(loc="upper right")


def _grouped(ax, labels: list[str], series: list[tuple[str, str, list[float | None]]],
             fmt: str) -> None:
    """Vertical bars: one group per label, one bar per series (missing values skipped)."""
    width = 0.8 / len(series)
    for i, (name, color, values) in enumerate(series):
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
        present = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
        if not present:
            continue
        bars = ax.bar([x for x, _ in present], [v for _, v in present], width, color=color,
                      label=name)
        ax.bar_label(bars, [fmt.format(v) for _, v in present], fontsize=8, padding=2,
                     bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "alpha": 0.8,
                           "edgecolor": "none"})
    ax.set_xticks(range(len(labels)), labels, fontsize=9)
    ax.margins(y=0.15)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=9)


def _loads(figures: dict, suffix: str) -> list[str]:
    """The key of each load's figure `suffix`: side by side when the report has it."""
    return [_first(figures, keys, suffix) for keys, _ in LOADS]


def _throughput(ax, figures: dict) -> None:
    keys = _loads(figures, "_rps")
    ours = [_value(figures, key) for key in keys]
    peers = [(figures.get(key) or {}).get("peer") for key in keys]
    _grouped(ax, [label for _, label in LOADS],
             [("edgehost", OURS, ours), ("workerd (peer)", PEER, peers)], "{:,.0f}")
    ax.set_yscale("log")
    ax.set_ylabel("requests/s (log scale)")
    ax.set_title("Throughput (higher is better)", loc="left", fontweight="bold")


def _latency(ax, figures: dict) -> None:
    p50 = [_value(figures, key) for key in _loads(figures, "_p50_ms")]
    p99 = [_value(figures, key) for key in _loads(figures, "_p99_ms")]
    peer99 = [(figures.get(key) or {}).get("peer") for key in _loads(figures, "_p99_ms")]
    _grouped(ax, [label for _, label in LOADS],
             [("edgehost p50", OURS_LIGHT, p50), ("edgehost p99", OURS, p99),
              ("workerd p99 (peer)", PEER, peer99)], "{:.0f}")
    ax.set_ylabel("milliseconds")
    ax.set_title("Latency under load (lower is better)", loc="left", fontweight="bold")


def _sizes(ax, rows: list[dict]) -> None:
    labels = [r["example"] for r in rows]
    kb = 1 / 1000
    _grouped(ax, labels, [
        ("raw", OURS, [r["raw_bytes"] * kb for r in rows]),
        ("gzip -9", OURS_LIGHT, [r["gzip_bytes"] * kb for r in rows]),
        ("workerd script (peer)", PEER,
         [r["peer_bytes"] * kb if r.get("peer_bytes") else None for r in rows]),
    ], "{:.1f}")
    targets = [(x, r["target_bytes"] * kb) for x, r in enumerate(rows) if r.get("target_bytes")]
    for i, (x, target) in enumerate(targets):
        ax.hlines(target, x - 0.45, x + 0.45, colors=TARGET, linestyles="--", linewidth=2,
                  label="target (raw)" if i == 0 else None)
        ax.text(x + 0.45, target, f" {target:.1f}", color=TARGET, va="bottom", ha="right",
                fontsize=8)
    if targets:
        ax.legend(fontsize=9)
    ax.set_ylabel("KB (1,000 bytes)")
    ax.set_title("Bundle size: owner (account) vs reference (account-readonly)", loc="left",
                 fontweight="bold")


def _memory(ax, figures: dict) -> None:
    bars = [(label, _value(figures, key)) for key, label in (
        ("actors.rss_before_load_mib", "serving,\nno request yet"),
        ("actors.rss_before_spread_mib", "after the hot-\nactor runs"),
        ("actors.rss_after_spread_mib", "with ~1,000\nlive actors"),
        ("hello.throughput_rss_mib", "hello host after\nplain-fetch load"),
    )]
    bars = [(label, v) for label, v in bars if v is not None]
    drawn = ax.bar(range(len(bars)), [v for _, v in bars], 0.6, color=OURS)
    ax.bar_label(drawn, [f"{v:.1f}" for _, v in bars], fontsize=9, padding=2)
    ax.set_xticks(range(len(bars)), [label for label, _ in bars], fontsize=9)
    ax.set_ylabel("host RSS, MiB")
    ax.margins(y=0.3)
    ax.grid(axis="y", alpha=0.3)
    per_actor = figures.get(_first(figures, ("sidebyside.rss_per_actor_mib",
                                             "actors.rss_per_actor_mib")))
    if per_actor and per_actor["value"] is not None:
        text = f"RSS per live actor: {per_actor['value'] * 1024:.0f} KiB"
        if per_actor.get("peer"):
            text += f"\nworkerd (peer): {per_actor['peer'] * 1024:.0f} KiB"
        ax.text(0.02, 0.97, text, transform=ax.transAxes, va="top", fontsize=10,
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "grey"})
    ax.set_title("Host memory (VmRSS of the edgehost process)", loc="left", fontweight="bold")


def _bystander(ax, figures: dict) -> None:
    idle = [_value(figures, f"tenants.bystander_idle_{q}_ms") for q in ("p50", "p99")]
    loaded = [_value(figures, f"tenants.bystander_loaded_{q}_ms") for q in ("p50", "p99")]
    if any(v is not None for v in idle + loaded):
        _grouped(ax, ["p50", "p99"], [("idle", OURS_LIGHT, idle),
                                      ("another account's runaways running", OURS, loaded)],
                 "{:,.1f}")
        ax.set_yscale("log")
        low, high = ax.get_ylim()
        ax.set_ylim(low, high * 30)  # room above the bars for the legend
    # The two figures with targets go under the title, where no bar or legend can hide them.
    lines = ["A bystander tenant beside runaway guests (lower is better)"]
    slowdown = _value(figures, "tenants.bystander_slowdown")
    if slowdown is not None:
        lines.append(f"p50 with runaways / idle: {slowdown:,.1f}x (target <= 3x)")
    threads = _value(figures, "tenants.mailbox_threads")
    if threads is not None:
        lines.append(f"threads, 1,000 calls waiting on an actor: {threads:,.0f} (target <= 50)")
    ax.set_ylabel("bystander hello latency, ms (log scale)")
    ax.set_title("\n".join(lines), loc="left", fontweight="bold")


def _exports(ax, figures: dict) -> None:
    rows = sorted((int(key.split("_")[1]), figure) for key, figure in figures.items()
                  if key.startswith("tenants.exports_") and key.endswith("_request_ms"))
    labels = [f"{count:,}" for count, _ in rows]
    values = [None if f.get("status") else f["value"] for _, f in rows]
    _grouped(ax, labels, [("per request (median)", OURS, values)], "{:,.2f}")
    for x, (_, figure) in enumerate(rows):
        if figure.get("status"):
            ax.text(x, 0.5, figure["status"].split(":")[0], transform=ax.get_xaxis_transform(),
                    ha="center", color=TARGET, fontsize=10, fontweight="bold")
    if any(v is not None for v in values):
        ax.set_yscale("log")
    ax.set_xlabel("extra exports of a hello-like guest")
    ax.set_ylabel("ms per request (log scale)")
    ax.set_title("Per-request cost vs a module's export count (flat is right)", loc="left",
                 fontweight="bold")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    report = Path(args[0])
    out = Path(args[1]) if len(args) == 2 else report.with_name("chart.png")
    draw(json.loads(report.read_text()), out)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
