"""One worker process: `python -m edgehost.workers.process SPEC` (started by the supervisor).

SPEC is JSON: the worker's index and the count, the inherited file descriptors (its ends of
the peer links, the data dir lock, the pipe to report readiness on), and the serve options.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sys
from pathlib import Path

from edgehost.workers.supervisor import READY

_PR_SET_PDEATHSIG = 1


def main(spec: dict) -> int:
    _die_with_parent()
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


def _die_with_parent() -> None:
    """If the supervisor dies (even by kill -9), the kernel kills this worker too: no worker
    may outlive the lock holder and keep serving a data dir it no longer owns."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the supervisor's own shutdown still stops the workers
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
