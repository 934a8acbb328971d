"""A host restart keeps every function and answers without recompiling."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import EXAMPLES
from tests.process_host import ProcessHost

KEY = "ehk_restart_test_key"


def metric(text: str, name: str) -> float:
    m = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def test_restart_serves_from_the_compiled_cache(tmp_path):
    hello = EXAMPLES / "hello"
    module = (hello / "build" / "hello.wasm").read_bytes()
    host = ProcessHost(tmp_path / "data", KEY).start()
    try:
        with host.client() as c:
            func = c.post("/__edgehost/v1/functions", json={"name": "hello"}).json()
            r = c.post(f"/__edgehost/v1/functions/{func['func_id']}/revisions",
                       files={"module": ("hello.wasm", module),
                              "manifest": ("telnyx.toml", (hello / "telnyx.toml").read_text())})
            assert r.status_code == 201, r.text
            assert c.get(f"/fn/{func['slug']}/").text == "hello from edgehost\n"
            assert metric(c.get("/__edgehost/metrics").text,
                          "edgehost_modules_compiled_total") == 1
    finally:
        host.stop()

    host = ProcessHost(tmp_path / "data", KEY).start()
    try:
        with host.client() as c:
            listed = c.get("/__edgehost/v1/functions").json()["functions"]
            assert [f["func_id"] for f in listed] == [func["func_id"]]
            r = c.get("/", headers={"host": f"{func['slug']}.localhost"})
            assert r.status_code == 200 and r.text == "hello from edgehost\n"
            metrics = c.get("/__edgehost/metrics").text
            assert metric(metrics, "edgehost_modules_compiled_total") == 0, metrics
            assert metric(metrics, "edgehost_modules_loaded_from_cache_total") == 1, metrics
    finally:
        host.stop()


def test_default_account_key_file_is_owner_only_when_no_env_key(tmp_path):
    import os
    import stat
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "EDGEHOST_API_KEY"}
    proc = subprocess.Popen([sys.executable, "-m", "edgehost", "serve", "--port", "0",
                             "--data-dir", str(tmp_path / "d")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    with proc:
        try:
            lines = [proc.stdout.readline() for _ in range(2)]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    key_line = next(line for line in lines if line.startswith("admin key file:"))
    path = Path(key_line.split(":", 1)[1].strip())
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600
    assert path.read_text().strip().startswith("ehk_")
