"""Guest build errors and the dev loop, through the CLI as a user runs it."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.conftest import LiveHost


def _env(live_host: LiveHost, tmp_path: Path) -> dict:
    return {**os.environ, "EDGEHOST_URL": live_host.base_url, "EDGEHOST_API_KEY": live_host.key,
            "EDGEHOST_CONFIG": str(tmp_path / "cfg.json")}


def _cli(env: dict, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgehost", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_a_guest_build_error_is_one_line_naming_the_file_and_nothing_ships(
        live_host: LiveHost, tmp_path: Path):
    env = _env(live_host, tmp_path)
    assert _cli(env, "new-func", "--name=broken", cwd=tmp_path).returncode == 0
    project = tmp_path / "broken"
    index = project / "src" / "index.ts"
    index.write_text(index.read_text() + "\nconst oops: i32 = \"not a number\";\n")
    r = _cli(env, "ship", cwd=project)
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("edgehost: build failed") and "src/index.ts:" in last, r.stderr
    func = json.loads(_cli(env, "inspect", "broken", "--json", cwd=tmp_path).stdout)
    assert func["current_revision"] is None, "a revision was shipped despite the build error"


def test_dev_rebuilds_on_save_and_state_survives_reloads(live_host: LiveHost, tmp_path: Path):
    env = _env(live_host, tmp_path)
    assert _cli(env, "new-func", "--actor", "--name=tally", cwd=tmp_path).returncode == 0
    project = tmp_path / "tally"
    dev = subprocess.Popen([sys.executable, "-m", "edgehost", "dev", "-f", str(project),
                            "--port", "0", "--poll", "0.2"], cwd=tmp_path, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in dev.stdout], daemon=True).start()

    def wait_for(pattern: str, timeout: float = 180) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if m := re.search(pattern, line):
                return m
        raise AssertionError(f"dev never printed {pattern!r}")

    try:
        url = wait_for(r"tally: revision 1 live at (\S+)").group(1)
        parts = urlsplit(url)

        def call(method: str, path: str) -> httpx.Response:
            with httpx.Client(base_url=f"http://127.0.0.1:{parts.port}", timeout=30) as c:
                return c.request(method, path, headers={"host": parts.netloc})

        for _ in range(3):
            assert call("POST", "/tally/t1/increment").status_code == 200
        assert call("GET", "/tally/t1").json()["count"] == 3
        time.sleep(0.3)  # mtime granularity: make the save a visible change
        index = project / "src" / "index.ts"
        index.write_text(index.read_text() + "\n// saved again\n")
        wait_for(r"tally: revision 2 live at")
        assert call("GET", "/tally/t1").json()["count"] == 3, "state was lost on reload"
    finally:
        dev.send_signal(signal.SIGINT)
        dev.wait(timeout=30)
        dev.stdout.close()
    assert (project / ".edgehost-dev").is_dir()
