"""Admin GETs read what the registry stores and never load or compile a module: after a
restart with the compiled cache and the shipped modules deleted, inspect, list and the actor
views answer as before, and the host has loaded and compiled nothing."""

from __future__ import annotations

import re
from pathlib import Path

from tests import conftest
from tests.conftest import deploy_counter, serve_host

LOADING_METRICS = ("edgehost_modules_loaded_from_cache_total", "edgehost_modules_compiled_total",
                   "edgehost_module_load_seconds_count")


def admin_views(live, app) -> dict[str, object]:
    """Every admin GET over functions and actor types, without what differs between two runs
    of one host (which activations are live, the port in URLs)."""
    views: dict[str, object] = {}
    for path in ("/functions", f"/functions/{app.owner['func_id']}",
                 f"/functions/{app.caller['func_id']}", "/actors", "/actors/Counter",
                 "/actors/Counter/instances"):
        r = live.admin("GET", path)
        assert r.status_code == 200, (path, r.text)
        body = r.json()
        body.pop("live_activations", None)
        for instance in body.get("instances", []):
            instance.pop("live")
        for function in [body, *body.get("functions", [])]:
            function.pop("url", None)
            function.pop("path_url", None)
        views[path] = body
    return views


def loads(metrics_text: str) -> dict[str, float]:
    return {name: float(m.group(1)) for name in LOADING_METRICS
            if (m := re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", metrics_text, re.M))}


def test_admin_reads_answer_without_loading_any_module(tmp_path: Path):
    config = conftest.test_config(tmp_path / "data")
    with serve_host(config) as live:
        app = deploy_counter(live)
        assert app.call(live, "alice", "incr").json() == 1  # an instance that stores a key
        before = admin_views(live, app)
    assert before["/actors/Counter"]["owner"]["name"] == "counter"
    assert "incr" in before["/actors/Counter"]["methods"]
    assert [b["resolved"] for b in before[f"/functions/{app.caller['func_id']}"]["bindings"]] \
        == [True, True]
    assert before["/actors/Counter/instances"]["instances"] == [{"name": "alice"}]

    # Nothing left to load a module from: any load would fail (or compile, and be counted).
    removed = [*(config.data_dir / "compiled").iterdir(), *(config.data_dir / "bundles").iterdir()]
    assert len(removed) >= 2
    for path in removed:
        path.unlink()

    with serve_host(config) as live:
        assert admin_views(live, app) == before
        assert loads(live.client.get("/__edgehost/metrics").text) == {}
        # The control: serving the function does need its module, which is gone.
        assert live.call(app.caller["slug"]).status_code != 200
