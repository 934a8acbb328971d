"""`edgehost serve --workers N`: N worker processes behind one port, one owner of the data dir.

The supervisor is small on purpose: it takes the data dir's lock, reserves the port, makes
one socket pair per pair of workers, starts the workers and watches them. Each worker is a
whole host (its own event loop, scheduler, sandbox and group committer) on the shared LMDB
environment, listening on the same port with SO_REUSEPORT, so the kernel spreads connections
over them. Worker 0, the primary, starts first: it creates the default account and ships
`--ship` folders before the others start, and it runs the admin API. If a worker dies, the
supervisor stops the others and exits non-zero (a process manager restarts the whole host);
if the supervisor dies, the kernel kills the workers (PR_SET_PDEATHSIG).

Workers are forked from the supervisor, which has already imported the host's code (and runs
no thread): a worker starts in milliseconds instead of paying a Python start and every import
again (~0.3-0.5 s each), which is most of what a multi-worker start used to cost before the
first 200.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from edgehost.data_dir_lock import DataDirInUse, DataDirLock
from edgehost.workers.process import READY, WorkerProcess, WorkerSpec, fork_worker


def supervise(*, host: str, port: int, data_dir: Path, shown_data_dir: str, count: int,
              worker_args: dict[str, Any]) -> int:
    lock = DataDirLock(data_dir)
    try:
        lock.acquire(shown_data_dir)
    except DataDirInUse as e:
        print(f"edgehost: {e}", file=sys.stderr)
        return 1
    # Reserve the port (and resolve --port 0): bound but never listening, so no connection
    # is ever queued here; the workers bind the same port and listen.
    reservation = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        reservation.bind((host, port))
    except OSError as e:
        print(f"edgehost: cannot listen on {host}:{port}: {e.strerror}", file=sys.stderr)
        return 1
    port = reservation.getsockname()[1]
    print(f"edgehost listening on http://{host}:{port}  (data: {data_dir}; {count} workers)",
          flush=True)
    links = _socket_pairs(count)
    workers: list[WorkerProcess] = []
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for proc in workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    spec: WorkerSpec = {**worker_args, "host": host, "port": port, "data_dir": str(data_dir),
                        "count": count, "lock_fd": lock.fd}
    try:
        for index in range(count):
            if stopping:  # told to stop while starting: start no more
                break
            proc, ready = _start_worker(index, spec, links, reservation)
            workers.append(proc)
            if index == 0:  # the primary bootstraps before the others start
                if not _wait_ready(proc, ready):
                    if stopping:  # told to stop during start-up
                        _stop_all(workers)
                        return 0
                    return proc.wait() or 1  # it failed to start (and said why)
            else:
                os.close(ready)
        for pair in links.values():
            pair.close()
        return _watch(workers, lambda: stopping)
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        lock.release()


def _socket_pairs(count: int) -> dict[tuple[int, int], socket.socket]:
    """(i, j) -> worker i's end of the link to worker j, for every i != j."""
    links: dict[tuple[int, int], socket.socket] = {}
    for i in range(count):
        for j in range(i + 1, count):
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            links[(i, j)], links[(j, i)] = a, b
    return links


def _start_worker(index: int, spec: WorkerSpec, links: dict[tuple[int, int], socket.socket],
                  reservation: socket.socket) -> tuple[WorkerProcess, int]:
    ready_read, ready_write = os.pipe()
    own = {j: sock for (i, j), sock in links.items() if i == index}
    others = [sock for (i, _j), sock in links.items() if i != index]
    worker_spec = {**spec, "index": index, "peer_fds": {j: s.fileno() for j, s in own.items()},
                   "ready_fd": ready_write}
    # The worker keeps only its own ends: a sibling holding another pair's end would keep
    # that link open after its worker died.
    proc = fork_worker(worker_spec, close=[*others, reservation, ready_read])
    os.close(ready_write)
    return proc, ready_read


def _wait_ready(proc: WorkerProcess, ready: int) -> bool:
    """Block until the worker reports ready (True) or exits (False)."""
    with os.fdopen(ready, "rb") as pipe:
        line = pipe.readline()  # empty when the worker exited before reporting
    return line == READY and proc.poll() is None


def _watch(workers: list[WorkerProcess], stopping: Callable[[], bool]) -> int:
    """Wait until told to stop (0) or until a worker exits on its own (1); either way stop
    every worker before returning."""
    while True:
        if stopping():
            _stop_all(workers)
            return 0
        for index, proc in enumerate(workers):
            code = proc.poll()
            if code is not None:
                print(f"edgehost: worker {index} exited with status {code}; stopping the host",
                      file=sys.stderr, flush=True)
                _stop_all(workers)
                return 1
        time.sleep(0.2)


def _stop_all(workers: list[WorkerProcess], grace_s: float = 10.0) -> None:
    """SIGTERM every worker still running (each finishes its requests and commits), then
    SIGKILL whatever has not exited after the grace period."""
    for proc in workers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for proc in workers:
        try:
            proc.wait(max(deadline - time.monotonic(), 0.1))
        except TimeoutError:
            proc.kill()
            proc.wait()
