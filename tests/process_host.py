"""A host running as its own processes (`python -m edgehost serve`), for restart and kill tests.

With more than one core, `serve` runs a supervisor and one worker per core (unless
`--workers` says otherwise), so these tests cover the multi-worker host.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

LISTENING = re.compile(r"edgehost listening on http://127\.0\.0\.1:(\d+)")


class ProcessHost:
    def __init__(self, data_dir: Path, key: str, *extra_args: str) -> None:
        self.data_dir = data_dir
        self.key = key
        self.extra_args = extra_args
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.output: list[str] = []

    def start(self, timeout: float = 20.0) -> ProcessHost:
        env = {**os.environ, "EDGEHOST_API_KEY": self.key, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edgehost", "serve", "--port", "0", "--data-dir",
             str(self.data_dir), "--log-level", "warning", *self.extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
            start_new_session=True)  # its own process group: kill9 reaches every worker
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("host exited during start:\n" + "".join(self.output))
            self.output.append(line)
            if m := LISTENING.search(line):
                self.port = int(m.group(1))
                break
        else:
            raise RuntimeError("host did not report its port")
        # The port is bound before uvicorn starts serving: wait until health answers.
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/__edgehost/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.02)
        raise RuntimeError("host did not become healthy")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30,
                            headers={"authorization": f"Bearer {self.key}"})

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close_output()

    def kill9(self) -> None:
        """kill -9 the whole host (supervisor and workers), and wait until it is gone."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._close_output()
        _wait_for_lock_release(self.data_dir)

    def _close_output(self) -> None:
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()


def _wait_for_lock_release(data_dir: Path, timeout: float = 10.0) -> None:
    """The data dir's lock goes when the last worker process has exited."""
    path = data_dir / "serve.lock"
    deadline = time.monotonic() + timeout
    while path.exists() and time.monotonic() < deadline:
        with open(path, "a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                time.sleep(0.02)
                continue
            fcntl.flock(f, fcntl.LOCK_UN)
            return
