"""`edgehost` command line: argument parsing and dispatch to one function per command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edgehost import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgehost",
        description="Self-hosted, WebAssembly-sandboxed function host with stateful actors.")
    parser.add_argument("--version", action="version", version=f"edgehost {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve", help="run the host",
        description="Run the host: the admin API and function traffic on one HTTP port.")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from edgehost.cli.serve import serve

        return serve(args)
    return 2  # unreachable: argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
