"""Metrics rendered in the Prometheus text exposition format (version 0.0.4), read back by a
strict parser of that format written here: one HELP and one TYPE line per family, before its
samples, every sample of a family in one group, label values escaped (backslash, double quote,
newline), and sample values exactly the counts and gauges the host holds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from edgehost.metrics import HELP, Metrics

METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
SAMPLE = re.compile(rf"({METRIC_NAME})(?:\{{(.*)\}})? (\S+)")
COMMENT = re.compile(rf"# (HELP|TYPE) ({METRIC_NAME}) (.*)")
TYPES = {"counter", "gauge", "summary", "histogram", "untyped"}
UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


@dataclass
class Family:
    help: str | None = None
    type: str | None = None
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)


def parse(text: str) -> dict[str, Family]:
    """Families by name, failing on anything the exposition format does not allow."""
    assert text.endswith("\n"), "the last line must end with a newline"
    families: dict[str, Family] = {}
    finished: set[str] = set()  # families whose group of lines has ended
    current: str | None = None

    def enter(name: str) -> Family:
        nonlocal current
        if name != current:
            assert name not in finished, f"{name}: its lines are not one group"
            if current is not None:
                finished.add(current)
            current = name
        return families.setdefault(name, Family())

    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            comment = COMMENT.fullmatch(line)
            assert comment, f"malformed comment line {line!r}"
            kind, name, rest = comment.groups()
            family = enter(name)
            assert family.samples == {}, f"{name}: {kind} after its first sample"
            if kind == "HELP":
                assert family.help is None, f"{name}: a second HELP line"
                assert re.fullmatch(r"(?:[^\\\n]|\\[\\n])*", rest), f"{name}: HELP not escaped"
                family.help = rest
            else:
                assert family.type is None, f"{name}: a second TYPE line"
                assert rest in TYPES, f"{name}: unknown type {rest!r}"
                family.type = rest
            continue
        sample = SAMPLE.fullmatch(line)
        assert sample, f"malformed sample line {line!r}"
        name, labels_text, value = sample.groups()
        family_name = name
        if name not in families or families[name].type is None:
            for suffix in ("_count", "_sum"):
                base = name.removesuffix(suffix)
                if name.endswith(suffix) and families.get(base, Family()).type == "summary":
                    family_name = base
        family = enter(family_name)
        labels: list[tuple[str, str]] = []
        if labels_text:
            matches = list(LABEL.finditer(labels_text))
            assert ",".join(m.group(0) for m in matches) == labels_text, \
                f"malformed labels {labels_text!r}"
            labels = [(m.group(1), re.sub(r'\\[\\"n]', lambda e: UNESCAPE[e.group()],
                                          m.group(2))) for m in matches]
            assert len({k for k, _ in labels}) == len(labels), f"repeated label in {line!r}"
        key = (name, tuple(sorted(labels)))
        assert key not in family.samples, f"{line!r}: the same series twice"
        family.samples[key] = float(value)
    return families


def sample(families: dict[str, Family], family: str, name: str | None = None,
           **labels: str) -> float:
    return families[family].samples[(name or family, tuple(sorted(labels.items())))]


# ------------------------------------------------------------------ counters

def test_nothing_recorded_renders_no_samples():
    assert parse(Metrics().render()) == {}


def test_a_counter_has_its_help_and_type_then_its_samples():
    metrics = Metrics()
    metrics.inc("edgehost_requests_total", {"outcome": "ok"})
    metrics.inc("edgehost_requests_total", {"outcome": "ok"})
    metrics.inc("edgehost_requests_total", {"outcome": "timeout"}, by=3)
    text = metrics.render()
    assert text.splitlines()[:2] == [
        f"# HELP edgehost_requests_total {HELP['edgehost_requests_total']}",
        "# TYPE edgehost_requests_total counter"]
    families = parse(text)
    assert families["edgehost_requests_total"].samples == {
        ("edgehost_requests_total", (("outcome", "ok"),)): 2.0,
        ("edgehost_requests_total", (("outcome", "timeout"),)): 3.0}


def test_a_counter_without_labels_and_one_without_help_text():
    metrics = Metrics()
    metrics.inc("edgehost_ships_total")
    metrics.inc("made_up_total", by=0.5)
    metrics.inc("made_up_total", by=0.25)
    families = parse(metrics.render())
    assert sample(families, "edgehost_ships_total") == 1
    assert sample(families, "made_up_total") == 0.75
    assert families["made_up_total"].help == "made_up_total"  # the name, when no text is known
    assert families["made_up_total"].type == "counter"


def test_labels_given_in_any_order_are_one_series():
    metrics = Metrics()
    metrics.inc("edgehost_actor_calls_total", {"outcome": "ok", "account": "a"})
    metrics.inc("edgehost_actor_calls_total", {"account": "a", "outcome": "ok"})
    assert parse(metrics.render())["edgehost_actor_calls_total"].samples == {
        ("edgehost_actor_calls_total", (("account", "a"), ("outcome", "ok"))): 2.0}


@pytest.mark.parametrize("value", ['back\\slash', 'double"quote', "new\nline", "all\\\"\n\\n",
                                   "\\n", "caf\u00e9 \u2713", "", "tab\tand } { , ="])
def test_label_values_are_escaped_and_read_back_unchanged(value: str):
    metrics = Metrics()
    metrics.inc("edgehost_requests_total", {"outcome": value})
    text = metrics.render()
    assert len(text.splitlines()) == 3, "a label value never breaks its line"
    assert sample(parse(text), "edgehost_requests_total", outcome=value) == 1


def test_each_metrics_object_counts_on_its_own():
    first, second = Metrics(), Metrics()
    first.inc("edgehost_ships_total", {"result": "ok"})
    assert "edgehost_ships_total" not in parse(second.render())


@pytest.mark.parametrize("count", [999_999, 1_000_001, 1_234_567, 2**31 + 3, 10**15 + 1])
def test_large_counts_render_exactly(count: int):
    # A busy host passes a million requests in hours; a rounded sample would make rate()
    # and increase() report changes that never happened (or miss those that did).
    metrics = Metrics()
    metrics.inc("edgehost_requests_total", {"outcome": "ok"}, by=count)
    metrics.gauge("edgehost_actor_activation_memory_bytes", lambda: count)
    families = parse(metrics.render())
    assert sample(families, "edgehost_requests_total", outcome="ok") == count
    assert sample(families, "edgehost_actor_activation_memory_bytes") == count


# ------------------------------------------------------------------ gauges

def test_a_gauge_is_read_each_time_metrics_are_rendered():
    metrics = Metrics()
    live = [3]
    metrics.gauge("edgehost_actor_live_activations", lambda: live[0])
    families = parse(metrics.render())
    assert families["edgehost_actor_live_activations"].type == "gauge"
    assert sample(families, "edgehost_actor_live_activations") == 3
    live[0] = 0
    assert sample(parse(metrics.render()), "edgehost_actor_live_activations") == 0


def test_a_gauge_family_has_one_sample_per_label_value_read_at_render():
    metrics = Metrics()
    queued = {"acct-b": 2, 'acct"a\\': 5, "acct\nc": 1}
    metrics.gauge_family("edgehost_account_queued_invocations", "account", lambda: dict(queued))
    families = parse(metrics.render())
    family = families["edgehost_account_queued_invocations"]
    assert family.type == "gauge"
    assert family.help == HELP["edgehost_account_queued_invocations"]
    assert family.samples == {("edgehost_account_queued_invocations", (("account", a),)): n
                              for a, n in queued.items()}
    queued.clear()
    assert parse(metrics.render())["edgehost_account_queued_invocations"].samples == {}


# ------------------------------------------------------------------ summaries

def test_a_summary_renders_its_count_and_sum():
    metrics = Metrics()
    metrics.observe("edgehost_request_seconds", 0.25)
    metrics.observe("edgehost_request_seconds", 0.5)
    metrics.observe("edgehost_module_compile_seconds", 1.5, {"result": "ok"})
    families = parse(metrics.render())
    assert families["edgehost_request_seconds"].type == "summary"
    assert families["edgehost_request_seconds"].samples == {
        ("edgehost_request_seconds_count", ()): 2, ("edgehost_request_seconds_sum", ()): 0.75}
    assert sample(families, "edgehost_module_compile_seconds",
                  "edgehost_module_compile_seconds_sum", result="ok") == 1.5


def test_a_summary_sum_keeps_microseconds():
    metrics = Metrics()
    metrics.observe("edgehost_request_seconds", 0.000123)
    families = parse(metrics.render())
    assert sample(families, "edgehost_request_seconds", "edgehost_request_seconds_sum") == \
        pytest.approx(0.000123, abs=1e-6)


# ------------------------------------------------------------------ a whole exposition

def test_a_host_sized_exposition_parses_with_every_family_in_one_group():
    metrics = Metrics()
    for outcome in ("ok", "timeout", "trap", "bad_response"):
        metrics.inc("edgehost_requests_total", {"outcome": outcome})
        metrics.observe("edgehost_request_seconds", 0.01, {"outcome": outcome})
    metrics.inc("edgehost_modules_compiled_total")
    metrics.inc("edgehost_actor_evictions_total", {"reason": "memory"})
    metrics.inc("edgehost_actor_evictions_total", {"reason": "idle"})
    metrics.gauge("edgehost_guest_tasks", lambda: 4)
    metrics.gauge("edgehost_guest_stores", lambda: 9)
    metrics.gauge_family("edgehost_account_inflight_invocations", "account",
                         lambda: {"a": 1, "b": 2})
    metrics.gauge_family("edgehost_account_runnable_guests", "account", lambda: {})
    families = parse(metrics.render())
    assert {name: f.type for name, f in families.items()} == {
        "edgehost_requests_total": "counter", "edgehost_request_seconds": "summary",
        "edgehost_modules_compiled_total": "counter",
        "edgehost_actor_evictions_total": "counter", "edgehost_guest_tasks": "gauge",
        "edgehost_guest_stores": "gauge", "edgehost_account_inflight_invocations": "gauge",
        "edgehost_account_runnable_guests": "gauge"}
    assert all(f.help == HELP[name] for name, f in families.items())
    assert len(families["edgehost_request_seconds"].samples) == 8
