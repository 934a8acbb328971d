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
from edgehost.config import HostConfig
from edgehost.errors import EdgehostError
from edgehost.http.server import uvicorn_config
from edgehost.logs_setup import configure_logging
from edgehost.registry.functions import function_urls
from edgehost.projects import Project, ProjectError, load_project
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


def serve(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    config = HostConfig(data_dir=args.data_dir.resolve(), host=args.host, port=args.port,
                        base_domain=args.base_domain)
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
    out = sys.stdout
    print(f"edgehost listening on http://{args.host}:{port}  (data: {config.data_dir})", file=out)
    default = host.default_account
    if default.key_from_env:
        print("admin key: EDGEHOST_API_KEY", file=out)
    else:
        print(f"admin key file: {default.key_file}", file=out)
    for folder in args.ship:
        try:
            project = load_project(folder)
            record, status = ship_project(host, project)
        except (ProjectError, EdgehostError) as e:
            details = "".join(f"\n  - {d}" for d in getattr(e, "details", []))
            print(f"edgehost: cannot ship {folder}: {e}{details}", file=sys.stderr)
            host.close()
            return 1
        urls = function_urls(record, config.base_domain, args.host, port)
        print(f"  {record.name:<20} {urls['url']}  (or {urls['path_url']})  [{status}]",
              file=out)
    out.flush()
    app = create_app(config, host)
    server = uvicorn.Server(uvicorn_config(app, config, log_level=args.log_level,
                                           access_log=args.access_log))
    server.run(sockets=[sock])
    return 0


def ship_project(host: Host, project: Project):
    """Ship a built project folder to the default account; skip it if nothing changed."""
    account = host.default_account.account
    functions = host.functions
    record = next((f for f in functions.list(account) if f.name == project.name), None)
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
