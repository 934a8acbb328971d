"""Every benchmark runs, in `--quick` mode, so none of them can rot.

One `benchmarks/run.py --quick` (sizes, cold start, hello, actors, tenants, and side by side
with the peer when the peer can run here; ~40-80 s without it) into a temp folder; then its
outputs are checked for shape: every expected figure is there and sane, the table and the
chart were written, every correctness check passed, and the peer is either measured (its
figures beside ours) or said to be not measured, with the reason. No time is asserted:
figures from a shared machine say nothing about correctness. The load generator is `auto`
(wrk if installed, else benchmarks/loadgen.py), so the test needs neither wrk nor the peer.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "run.py"
COMPARE = ROOT / "benchmarks" / "compare.py"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Figures that must be there with a value > 0 (keys: <benchmark>.<figure key>).
POSITIVE = (
    # cold start, by phase
    "hello.compile_ms", "hello.load_ms", "hello.store_instantiate_us", "hello.invoke_us",
    "hello.first_request_ms", "hello.warm_request_ms", "hello.start_to_serving_ms",
    "hello.start_to_first_200_ms", "hello.first_request_nocache_ms",
    "cold.first_call_ms", "cold.activation_ms", "cold.activation_store_us",
    "cold.activation_instantiate_us", "cold.activation_init_ms", "cold.warm_call_ms",
    "cold.ship_hello_ms", "cold.ship_to_200_hello_ms", "cold.ship_account_ms",
    "cold.ship_to_200_account_ms", "actors.first_touch_ms", "actors.warm_call_ms",
    # bundle sizes
    *(f"sizes.{example}_{kind}_bytes" for example in ("hello", "account", "account-readonly")
      for kind in ("raw", "gzip")),
    "sizes.reference_vs_owner",
    # throughput and latency
    *(f"{bench}.{load}_{what}" for bench, load in (("hello", "hello"), ("hello", "health"),
                                                   ("actors", "hot"), ("actors", "spread"),
                                                   ("actors", "reads"))
      for what in ("rps", "p50_ms", "p99_ms")),
    "actors.hot_host_cpu_ms", "actors.hot_turns_per_fsync", "actors.spread_turns_per_fsync",
    "actors.hot_balance_gain",
    # memory
    "hello.throughput_rss_mib", "actors.rss_before_load_mib", "actors.rss_before_spread_mib",
    "actors.rss_after_spread_mib",
    # many tenants on one host
    "tenants.bystander_idle_p50_ms", "tenants.bystander_idle_p99_ms",
    "tenants.bystander_loaded_p50_ms", "tenants.bystander_loaded_p99_ms",
    "tenants.bystander_slowdown", "tenants.runaway_answers", "tenants.mailbox_threads",
    "tenants.mailbox_threads_idle", "tenants.exports_10_request_ms",
    "tenants.exports_10_ship_ms",
)
# Figures that must be there and may be zero or negative (error counts; RSS per actor can be
# <= 0 when the allocator had room left).
PRESENT = (
    "hello.hello_errors", "hello.health_errors", "actors.hot_errors", "actors.spread_errors",
    "actors.reads_errors", "actors.rss_per_actor_mib", "cold.first_method_turn_ms",
    "tenants.bystander_failures", "tenants.mailbox_callers_ok", "tenants.mailbox_callers_not_ok",
)
# Figures that are there with a value > 0, or with no value and a status saying why: a module
# with many exports may take longer than its bound ("timed out") or be refused at ship.
MEASURED_OR_STATUS = (
    "tenants.exports_990_request_ms", "tenants.exports_16000_request_ms",
    "tenants.exports_990_vs_10",
)
STATUSES = ("timed out", "refused at ship")
# Measured side by side with the peer: edgehost's value, and the peer's beside it.
SIDE_BY_SIDE = (
    *(f"sidebyside.{load}_{what}" for load in ("fetch", "hot", "spread")
      for what in ("rps", "p50_ms", "p99_ms", "cpu_ms")),
    "sidebyside.start_to_first_200_ms", "sidebyside.first_touch_ms", "sidebyside.warm_call_ms",
)
# What the summary shows for those when the peer was not measured: edgehost's own figures.
FALLBACKS = ("hello.hello_rps", "actors.hot_rps", "actors.spread_rps",
             "hello.start_to_first_200_ms", "actors.first_touch_ms")
FIGURE_FIELDS = {"section", "label", "value", "unit", "better", "note", "stats"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "results"
    done = subprocess.run([sys.executable, str(RUN), "--quick", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (f"run.py --quick exited {done.returncode}\n"
                                  f"--- stderr (tail) ---\n{done.stderr[-5000:]}\n"
                                  f"--- stdout (tail) ---\n{done.stdout[-3000:]}")
    (out / "stdout.txt").write_text(done.stdout)
    return out


def test_report_has_every_figure(quick_run: Path) -> None:
    report = json.loads((quick_run / "report.json").read_text())
    assert report["schema"] == "edgehost-bench-run/2"
    assert report["mode"] == "quick"
    figures = report["figures"]
    missing = [k for k in (*POSITIVE, *PRESENT) if k not in figures]
    assert not missing, f"figures missing from report.json: {missing}"
    for key in PRESENT:
        value = figures[key]["value"]
        assert isinstance(value, (int, float)) and math.isfinite(value), (key, value)
    not_positive = {k: figures[k]["value"] for k in POSITIVE
                    if not (isinstance(figures[k]["value"], (int, float))
                            and figures[k]["value"] > 0)}
    assert not not_positive, f"figures that must be > 0: {not_positive}"
    for key, figure in figures.items():
        assert FIGURE_FIELDS <= figure.keys(), (key, figure)
    for key in MEASURED_OR_STATUS:
        figure = figures[key]
        if figure.get("status") is None:
            assert isinstance(figure["value"], (int, float)) and figure["value"] > 0, (key, figure)
        else:
            assert figure["value"] is None and figure["status"].startswith(STATUSES), (key, figure)
    # Every caller queued on the held actor got an answer (a 503 from a host bounding waiting
    # calls would be one), and some waited their turn.
    answered = figures["tenants.mailbox_callers_ok"]["value"] + \
        figures["tenants.mailbox_callers_not_ok"]["value"]
    assert answered == 1000 and figures["tenants.mailbox_callers_ok"]["value"] > 0, answered
    # Errors during load would make the throughput figures meaningless.
    errors = {k: f["value"] for k, f in figures.items() if k.endswith("_errors") and f["value"]}
    assert not errors, f"failed requests during the load runs: {errors}"


def test_report_describes_the_run(quick_run: Path) -> None:
    report = json.loads((quick_run / "report.json").read_text())
    assert report["machine"]["cores"] >= 1
    assert report["generator"]["name"] in ("wrk", "python")
    workers = report["workers"]
    assert workers["requested"] >= 1 and workers["count"] == (
        workers["requested"] if workers["flag"] else 1), workers
    assert set(report["benchmarks"]) == {"sizes", "cold", "hello", "actors", "tenants",
                                         "sidebyside"}
    assert all(b["error"] is None for b in report["benchmarks"].values()), report["benchmarks"]
    failed = [c for c in report["checks"] if not c["ok"]]
    assert not failed, failed
    names = {c["name"] for c in report["checks"]}
    assert {"actors.hot_balance", "tenants.runaways_ran", "sidebyside.ran"} <= names, names


def test_peer_is_measured_or_says_why(quick_run: Path) -> None:
    report = json.loads((quick_run / "report.json").read_text())
    peer, figures = report["peer"], report["figures"]
    assert {"measured", "reason", "source", "runs", "figures"} <= peer.keys()
    table = (quick_run / "table.txt").read_text()
    if peer["measured"]:
        assert peer["reason"] is None and report["benchmarks"]["sidebyside"].get("skipped") is None
        for key in SIDE_BY_SIDE:
            assert figures[key]["value"] > 0 and figures[key]["peer"] > 0, (key, figures[key])
            assert figures[key]["vs_peer"] == pytest.approx(
                figures[key]["value"] / figures[key]["peer"]), key
            assert peer["figures"][key] == figures[key]["peer"]
        assert "sidebyside.hot_balance" in {c["name"] for c in report["checks"]}
        sides = {(r["workload"], r["side"]) for r in peer["runs"] if r["round"] > 0}
        assert sides == {(w, s) for w in ("fetch", "hot", "spread")
                         for s in ("workerd", "edgehost")}, sides
        assert f"peer: {peer['source']['workerd']}" in table
    else:
        assert isinstance(peer["reason"], str) and peer["reason"], peer
        assert not any(k.startswith("sidebyside.") for k in figures)
        assert report["benchmarks"]["sidebyside"]["skipped"] == peer["reason"]
        # The summary shows edgehost's own figures there, each saying the peer was not measured.
        shown = {row["key"]: row for row in report["summary"]}
        for key in FALLBACKS:
            expected = f"not measured ({peer['reason']})"
            assert shown[key]["peer_status"] == expected, shown[key]
            assert figures[key]["peer_status"] == expected, figures[key]
            assert "peer" not in figures[key]
        assert f"peer: not measured ({peer['reason']})" in table
        assert "not measured" in table
    assert {r["example"] for r in report["sizes"]} >= {"hello", "account", "account-readonly"}
    assert [s["key"] for s in report["summary"]], "the summary table is empty"
    assert all(s["key"] in report["figures"] for s in report["summary"])


def test_table_and_chart_are_written(quick_run: Path) -> None:
    table = (quick_run / "table.txt").read_text()
    assert table.strip() == (quick_run / "stdout.txt").read_text().strip()
    for heading in ("cold start, by phase", "bundle size", "throughput and latency",
                    "many tenants on one host", "check actors.hot_balance: ok",
                    "check tenants.runaways_ran: ok"):
        assert heading in table, heading
    chart = (quick_run / "chart.png").read_bytes()
    assert chart.startswith(PNG_MAGIC)
    assert len(chart) > 10_000  # seven panels of bars, not an empty canvas


def test_compare_reads_run_reports(quick_run: Path) -> None:
    report = quick_run / "report.json"
    done = subprocess.run([sys.executable, str(COMPARE), str(report), str(quick_run)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "hello: compile at ship" in done.stdout
    assert "~ same" in done.stdout and "WORSE" not in done.stdout
