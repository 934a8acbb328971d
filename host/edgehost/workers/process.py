"""One worker process, forked by the supervisor, and the supervisor's handle on it.

The worker's spec says its index and the count, its inherited file descriptors (its ends of
the peer links, the data dir lock, the pipe to report readiness on), and the serve options.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

READY = b"ready\n"
_PR_SET_PDEATHSIG = 1

# The worker's spec, by key: index, count, supervisor_pid; peer_fds (peer index -> fd),
# lock_fd, ready_fd; host, port, data_dir, base_domain, ship, log_level, access_log.
WorkerSpec = dict[str, Any]


class WorkerProcess:
    """A forked worker, with the part of `subprocess.Popen`'s interface the supervisor uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"worker pid {self.pid} still running after {timeout} s")
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def fork_worker(spec: WorkerSpec, close: list[socket.socket | int]) -> WorkerProcess:
    """Fork a worker running `main(spec)`. `close`: sockets and fds the worker must not keep.

    The supervisor runs no thread, so forking it is safe; the child never returns into the
    supervisor's code."""
    sys.stdout.flush()
    sys.stderr.flush()
    spec = {**spec, "supervisor_pid": os.getpid()}
    pid = os.fork()
    if pid:
        return WorkerProcess(pid)
    code = 1
    try:
        # The supervisor's handlers would signal the child's siblings: restore the defaults
        # until uvicorn installs its own.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        for item in close:
            item.close() if isinstance(item, socket.socket) else os.close(item)
        code = main(spec)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main(spec: WorkerSpec) -> int:
    _die_with_parent(spec["supervisor_pid"])
    from edgehost.app import build_host, create_app
    from edgehost.cli.serve import announce, host_config, uvicorn_server
    from edgehost.logs_setup import configure_logging
    from edgehost.workers.cluster import Cluster
    from edgehost.workers.peers import Peers

    configure_logging(spec["log_level"])
    index, count = spec["index"], spec["count"]
    config = host_config(Path(spec["data_dir"]), spec["host"], spec["port"],
                         spec["base_domain"])
    sock = socket.socket(socket.AF_INET6 if ":" in spec["host"] else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((spec["host"], spec["port"]))
    peers = Peers(index, count, {int(peer): socket.socket(fileno=fd)
                                 for peer, fd in spec["peer_fds"].items()})
    host = build_host(config, os.environ.get("EDGEHOST_API_KEY"), Cluster(index, count, peers))
    if index == 0 and not announce(host, config, [Path(p) for p in spec["ship"]],
                                   spec["host"], spec["port"], sys.stdout):
        host.close()
        return 1
    sys.stdout.flush()
    try:
        os.write(spec["ready_fd"], READY)
    except BrokenPipeError:
        pass  # only the primary's readiness is waited for
    os.close(spec["ready_fd"])
    uvicorn_server(create_app(config, host), config, spec["log_level"],
                   spec["access_log"]).run(sockets=[sock])
    return 0


def _die_with_parent(supervisor_pid: int) -> None:
    """If the supervisor dies (even by kill -9), the kernel kills this worker too: no worker
    may outlive the lock holder and keep serving a data dir it no longer owns."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the supervisor's own shutdown still stops the workers
    if os.getppid() != supervisor_pid:  # the supervisor died before prctl took effect
        os._exit(1)
