"""Counters and summaries, rendered in the Prometheus text exposition format.

One `Metrics` object per host (made in `build_host`), so tests and hosts never share counts.
A summary recorded on a hot path is bound once (`Metrics.summary`) where it is recorded;
its `observe` is then a lock and two additions: no name lookup, no labels tuple.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable

Labels = tuple[tuple[str, str], ...]

HELP = {
    "edgehost_modules_compiled_total": "Wasm modules compiled (ship, or cache miss on load).",
    "edgehost_modules_loaded_from_cache_total": "Compiled modules deserialized from disk.",
    "edgehost_module_compile_seconds": "Time to compile one module.",
    "edgehost_module_load_seconds": "Time to deserialize one compiled module.",
    "edgehost_requests_total": "Function requests answered, by outcome.",
    "edgehost_request_seconds": "Time from request received to response ready.",
    "edgehost_ships_total": "Bundles shipped, by result.",
    "edgehost_actor_calls_total": "Actor calls, by outcome (ok or the error name).",
    "edgehost_actor_activations_total": "Actor activations created (init turns run).",
    "edgehost_actor_activation_seconds":
        "Time to activate an actor: new store, instantiate, init turn (failed ones too).",
    "edgehost_actor_init_seconds":
        "Time of an activation's init turn, from its new store on: instantiate, the "
        "constructor, its writes handed to the committer, its log entry.",
    "edgehost_guest_store_seconds": "Time to make a guest store (Store, limits, fuel).",
    "edgehost_guest_instantiate_seconds":
        "Time to instantiate a guest in its new store (requests and activations).",
    "edgehost_actor_evictions_total": "Activations dropped, by reason.",
    "edgehost_actor_live_activations": "Activations currently in memory.",
    "edgehost_actor_activation_memory_bytes": "Linear memory kept by live activations.",
    "edgehost_account_inflight_invocations": "Function requests running, by account.",
    "edgehost_account_queued_invocations": "Function requests waiting to run, by account.",
    "edgehost_account_runnable_guests": "Guest tasks ready to run, by account.",
    "edgehost_guest_tasks": "Guest runs started and not finished (running or waiting).",
    "edgehost_guest_stores": "Guest stores open: requests running, and live activations.",
    "edgehost_storage_commit_failures_total": "Durable commits that failed.",
    "edgehost_function_log_entries_dropped_total":
        "Function log entries dropped because the log writer was too far behind.",
    "edgehost_storage_commits_total": "Durable storage transactions (one fsync each).",
    "edgehost_storage_committed_turns_total": "Actor turns committed (group commit shares fsyncs).",
}


class Summary:
    """One summary series: how many values were observed, and their sum (seconds)."""

    __slots__ = ("count", "sum", "_lock")

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock  # the Metrics object's, so a rendering sees count and sum together
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        with self._lock:
            self.count += 1
            self.sum += value

    def read(self) -> tuple[int, float]:
        """(count, sum) as of now."""
        with self._lock:
            return self.count, self.sum


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, Labels], float] = defaultdict(float)
        self._summaries: dict[tuple[str, Labels], Summary] = {}
        self._gauges: dict[str, Callable[[], float]] = {}
        self._gauge_families: dict[str, tuple[str, Callable[[], dict[str, float]]]] = {}

    def gauge(self, name: str, read: Callable[[], float]) -> None:
        """A value read when metrics are rendered (e.g. the number of live activations)."""
        self._gauges[name] = read

    def gauge_family(self, name: str, label: str, read: Callable[[], dict[str, float]]) -> None:
        """Values by one label, read when rendered (e.g. queued requests by account)."""
        self._gauge_families[name] = (label, read)

    @staticmethod
    def _key(name: str, labels: dict[str, str] | None) -> tuple[str, Labels]:
        return name, tuple(sorted((labels or {}).items()))

    def inc(self, name: str, labels: dict[str, str] | None = None, by: float = 1) -> None:
        with self._lock:
            self._counters[self._key(name, labels)] += by

    def summary(self, name: str, labels: dict[str, str] | None = None) -> Summary:
        """The summary series `name` (with `labels`), made on first use. Rendered from then
        on, with count 0 until something is observed."""
        key = self._key(name, labels)
        with self._lock:
            series = self._summaries.get(key)
            if series is None:
                series = self._summaries[key] = Summary(self._lock)
            return series

    def observe(self, name: str, value: float, labels: dict[str, str] | None = None) -> None:
        self.summary(name, labels).observe(value)

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        with self._lock:
            return self._counters.get(self._key(name, labels), 0)

    def render(self) -> str:
        with self._lock:
            counters = dict(self._counters)
            summaries = {k: (v.count, v.sum) for k, v in self._summaries.items()}
        lines: list[str] = []
        seen: set[str] = set()

        def header(name: str, kind: str) -> None:
            if name not in seen:
                seen.add(name)
                lines.append(f"# HELP {name} {HELP.get(name, name)}")
                lines.append(f"# TYPE {name} {kind}")

        for (name, labels), value in sorted(counters.items()):
            header(name, "counter")
            lines.append(f"{name}{_fmt(labels)} {_number(value)}")
        for name, read in sorted(self._gauges.items()):
            header(name, "gauge")
            lines.append(f"{name} {_number(read())}")
        for name, (label, read_family) in sorted(self._gauge_families.items()):
            header(name, "gauge")
            for value_label, value in sorted(read_family().items()):
                lines.append(f"{name}{_fmt(((label, value_label),))} {_number(value)}")
        for (name, labels), (count, total) in sorted(summaries.items()):
            header(name, "summary")
            lines.append(f"{name}_count{_fmt(labels)} {_number(count)}")
            lines.append(f"{name}_sum{_fmt(labels)} {total:.6f}")
        return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    """A sample value, exact: whole numbers in full (`{:g}` would turn 1,234,567 into
    1.23457e+06), others as Python's shortest round-trip form, infinities as Prometheus
    spells them."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _fmt(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
