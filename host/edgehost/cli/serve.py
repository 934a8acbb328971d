"""`edgehost serve`: build the host, optionally ship project folders, run uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from pathlib import Path

import uvicorn

from edgehost.app import Host, build_host, create_app
from edgehost.cli.commands import Command
from edgehost.config import HostConfig
from edgehost.data_dir_lock import DataDirInUse, DataDirLock
from edgehost.errors import EdgehostError
from edgehost.http.server import uvicorn_config
from edgehost.logs_setup import configure_logging
from edgehost.projects import Project, ProjectError, load_project
from edgehost.registry.functions import function_urls
from edgehost.sandbox.engine import module_hash

log = logging.getLogger("edgehost")


def add_serve_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--host", default="127.0.0.1", help="address to bind [127.0.0.1]")
    serve.add_argument("--port", type=int, default=8787,
                       help="port to bind; 0 picks a free one [8787]")
    serve.add_argument("--data-dir", type=Path, default=Path(".edgehost"),
                       help="where LMDB, bundles, compiled modules and logs live [.edgehost]")
    serve.add_argument("--base-domain", default="localhost",
                       help="functions answer at {name}-{id10}.BASE_DOMAIN [localhost]")
    serve.add_argument("--ship", type=Path, action="append", default=[], metavar="DIR",
                       help="a built project folder to ship to the default account at start "
                            "(repeatable)")
    serve.add_argument("--log-level", default="info",
                       choices=["debug", "info", "warning", "error"], help="[info]")
    serve.add_argument("--access-log", action="store_true", help="log every HTTP request")
    serve.add_argument("--workers", type=int, default=None, metavar="N",
                       help="worker processes behind the one port; each actor instance lives "
                            "on one of them [the number of cores]")


# No handler: main runs `serve(args)` itself, since the host needs no Target and reports its
# own errors.
COMMAND = Command("serve", "run the host", None, add_serve_arguments,
                  "Run the host: the admin API and function traffic on one HTTP port.")


def serve(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    data_dir = args.data_dir.resolve()
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        print(f"edgehost: --workers {workers}: must be at least 1", file=sys.stderr)
        return 2
    if workers > 1:
        from edgehost.workers.supervisor import supervise

        return supervise(host=args.host, port=args.port, data_dir=data_dir,
                         shown_data_dir=str(args.data_dir), count=workers,
                         worker_args={"base_domain": args.base_domain,
                                      "log_level": args.log_level,
                                      "access_log": args.access_log,
                                      "ship": [str(p) for p in args.ship]})
    lock = DataDirLock(data_dir)
    try:
        lock.acquire(str(args.data_dir))
    except DataDirInUse as e:
        print(f"edgehost: {e}", file=sys.stderr)
        return 1
    config = host_config(data_dir, args.host, args.port, args.base_domain)
    # Bind before anything else so `--port 0` works and the printed URLs use the real port.
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as e:
        print(f"edgehost: cannot listen on {args.host}:{args.port}: {e.strerror}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    host = build_host(config, os.environ.get("EDGEHOST_API_KEY"))
    print(f"edgehost listening on http://{args.host}:{port}  (data: {config.data_dir})")
    if not announce(host, config, args.ship, args.host, port, sys.stdout):
        host.close()
        return 1
    sys.stdout.flush()
    uvicorn_server(create_app(config, host), config, args.log_level, args.access_log).run(
        sockets=[sock])
    return 0


def host_config(data_dir: Path, host: str, port: int, base_domain: str) -> HostConfig:
    return HostConfig(data_dir=data_dir, host=host, port=port, base_domain=base_domain)


def announce(host: Host, config: HostConfig, ship: list[Path], bind_host: str, port: int,
             out) -> bool:
    """Print the admin key's whereabouts, ship each `--ship` folder and print its URLs.
    False (after printing why) when a folder cannot be shipped."""
    default = host.default_account
    if default.key_from_env:
        print("admin key: EDGEHOST_API_KEY", file=out)
    else:
        print(f"admin key file: {default.key_file}", file=out)
    for folder in ship:
        try:
            project = load_project(folder)
            record, status = ship_project(host, project)
        except (ProjectError, EdgehostError) as e:
            details = "".join(f"\n  - {d}" for d in getattr(e, "details", []))
            print(f"edgehost: cannot ship {folder}: {e}{details}", file=sys.stderr)
            return False
        urls = function_urls(record, config.base_domain, bind_host, port)
        print(f"  {record.name:<20} {urls['url']}  (or {urls['path_url']})  [{status}]",
              file=out)
    return True


def uvicorn_server(app, config: HostConfig, log_level: str, access_log: bool) -> uvicorn.Server:
    return uvicorn.Server(uvicorn_config(app, config, log_level=log_level, access_log=access_log))


def ship_project(host: Host, project: Project):
    """Ship a built project folder to the default account; skip it if nothing changed."""
    account = host.default_account.account
    functions = host.functions
    record = next((f for f in functions.of_account(account) if f.name == project.name), None)
    if record is None:
        record = functions.create(account, project.name)
    wasm = project.read_module()
    if record.current_revision is not None:
        current = functions.revision(record, record.current_revision)
        if current and current.module_hash == module_hash(wasm) and \
                current.manifest_text == project.manifest_text:
            return record, f"unchanged, revision {current.number}"
    revision = functions.ship(account, record.func_id, wasm, project.manifest_text)
    record = functions.owned(account, record.func_id)
    return record, f"shipped revision {revision.number}"
